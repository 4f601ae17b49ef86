"""What the activities side puts on the desk: sign-up deadlines and starts in the next 7 days,
and finished activities waiting for their review."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse

from opsdesk.desk import DeskItem, counts_by_store

from . import ads_desk
from .models import Activity, ActivityKind, ActivityStatus

SOON = timedelta(days=7)
OPEN = [ActivityStatus.IDEA, ActivityStatus.PLANNED]


def upcoming(store, today):
    """(sign-up deadlines, starts) of the store's open activities within the next 7 days, soonest first."""
    return upcoming_by_store([store], {store.pk: today})[store.pk]


def upcoming_by_store(stores, todays: dict[int, date]) -> dict[int, tuple[list, list]]:
    """`upcoming` of each of `stores` on its own today (`todays`, by store id), two queries for all of them."""
    found = {store.pk: ([], []) for store in stores}
    if not found:
        return found
    first, last = min(todays.values()), max(todays.values()) + SOON
    deadlines = (Activity.objects.filter(store__in=stores, kind=ActivityKind.PLATFORM_EVENT, status__in=OPEN,
                                         signup_deadline__gte=first, signup_deadline__lte=last)
                 .exclude(details__signup_status__in=["submitted", "approved"]).order_by("signup_deadline"))
    starts = Activity.objects.filter(store__in=stores, status__in=OPEN, start_date__gte=first,
                                     start_date__lte=last).order_by("start_date")
    for activity in deadlines:
        if todays[activity.store_id] <= activity.signup_deadline <= todays[activity.store_id] + SOON:
            found[activity.store_id][0].append(activity)
    for activity in starts:
        if todays[activity.store_id] <= activity.start_date <= todays[activity.store_id] + SOON:
            found[activity.store_id][1].append(activity)
    return found


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    todays = {store.pk: store.today() for store in stores}
    soon = upcoming_by_store(stores, todays)
    to_review = counts_by_store(Activity.objects.filter(store__in=stores, status=ActivityStatus.DONE))
    ads = ads_desk.open_items_by_store(stores, user)
    items = {}
    for store in stores:
        today, (deadlines, starts) = todays[store.pk], soon[store.pk]
        url = reverse("campaigns:activities") + f"?store={store.slug}&soon=1"
        found = []
        if deadlines:
            closest = (deadlines[0].signup_deadline - today).days
            when = "today" if closest == 0 else f"in {closest} day{'s' if closest != 1 else ''}"
            found.append(DeskItem(f"Event sign-up deadlines (first {when})", len(deadlines), url,
                                  "danger" if closest <= 2 else "warning"))
        found.append(DeskItem("Activities starting within 7 days", len(starts), url, "info"))
        found.append(DeskItem("Finished activities to review", to_review.get(store.pk, 0),
                              reverse("campaigns:activities") + f"?store={store.slug}&status=done", "info"))
        items[store.pk] = found + ads[store.pk]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
