"""What the activities side puts on the desk: sign-up deadlines and starts in the next 7 days,
and finished activities waiting for their review."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from opsdesk.desk import DeskItem

from . import ads_desk
from .models import Activity, ActivityKind, ActivityStatus

SOON = timedelta(days=7)
OPEN = [ActivityStatus.IDEA, ActivityStatus.PLANNED]


def upcoming(store, today):
    """(sign-up deadlines, starts) of the store's open activities within the next 7 days, soonest first."""
    deadlines = (Activity.objects.filter(store=store, kind=ActivityKind.PLATFORM_EVENT, status__in=OPEN,
                                         signup_deadline__gte=today, signup_deadline__lte=today + SOON)
                 .exclude(details__signup_status__in=["submitted", "approved"]).order_by("signup_deadline"))
    starts = Activity.objects.filter(store=store, status__in=OPEN, start_date__gte=today,
                                     start_date__lte=today + SOON).order_by("start_date")
    return list(deadlines), list(starts)


def open_items(store, user) -> list[DeskItem]:
    today = store.today()
    deadlines, starts = upcoming(store, today)
    url = reverse("campaigns:activities") + f"?store={store.slug}&soon=1"
    items = []
    if deadlines:
        closest = (deadlines[0].signup_deadline - today).days
        when = "today" if closest == 0 else f"in {closest} day{'s' if closest != 1 else ''}"
        items.append(DeskItem(f"Event sign-up deadlines (first {when})", len(deadlines), url,
                              "danger" if closest <= 2 else "warning"))
    items.append(DeskItem("Activities starting within 7 days", len(starts), url, "info"))
    to_review = Activity.objects.filter(store=store, status=ActivityStatus.DONE).count()
    items.append(DeskItem("Finished activities to review", to_review,
                          reverse("campaigns:activities") + f"?store={store.slug}&status=done", "info"))
    return items + ads_desk.open_items(store, user)
