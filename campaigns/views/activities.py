"""Activity pages: the activities of the user's stores."""

from django.shortcuts import render

from opsdesk.tenancy import scope

from ..models import Activity


def activities(request):
    items = scope(Activity.objects.select_related("store"), request.user)
    return render(request, "campaigns/activities.html", {"activities": items[:200]})

