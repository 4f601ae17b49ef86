"""Paid-promotion pages: ad plans of the user's stores with their spend and sales."""

from django.db.models import Sum
from django.shortcuts import render

from opsdesk.tenancy import scope

from ..models import AdPlan


def ads(request):
    plans = scope(AdPlan.objects.select_related("store"), request.user).annotate(
        spend=Sum("daily__spend"), sales=Sum("daily__sales")
    )
    return render(request, "campaigns/ads.html", {"plans": plans})
