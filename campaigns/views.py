"""Campaign pages: activities and ad plans of the user's stores."""

from django.db.models import Sum
from django.shortcuts import render

from opsdesk.tenancy import scope

from .models import Activity, AdPlan


def activities(request):
    items = scope(Activity.objects.select_related("store"), request.user)
    return render(request, "campaigns/activities.html", {"activities": items[:200]})


def ads(request):
    plans = scope(AdPlan.objects.select_related("store"), request.user).annotate(
        spend=Sum("daily__spend"), sales=Sum("daily__sales")
    )
    return render(request, "campaigns/ads.html", {"plans": plans})
