"""The activity calendar: a month or a week of the user's stores' activities and sign-up deadlines."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.tenancy import OPERATOR, get_scoped_object, scope, stores_for

from ..activity_forms import out_of_reach
from ..activity_moves import move_activity, steps_moved
from ..models import Activity, ActivityKind


def _todays(stores) -> set[date]:
    """Each shown store's own local today: two days at once when their zones lie either side of midnight."""
    return {store.today() for store in stores} or {timezone.localdate()}


def _parse_day(text: str | None, today: date) -> date:
    """The ?date= asked for, or today when it is missing, not a date, or too far off to page around."""
    try:
        day = date.fromisoformat(text) if text else today
    except ValueError:
        return today
    return today if out_of_reach(day, today) else day


def calendar(request):
    view = "week" if request.GET.get("view") == "week" else "month"
    store_slug = request.GET.get("store", "")
    stores = stores_for(request.user)
    todays = _todays(stores.filter(slug=store_slug) if store_slug else stores)
    anchor = _parse_day(request.GET.get("date"), max(todays))  # opens on the month a new day has reached
    if view == "month":
        first_of_month = anchor.replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        last_of_month = anchor.replace(day=pycalendar.monthrange(anchor.year, anchor.month)[1])
        last = last_of_month + timedelta(days=6 - last_of_month.weekday())
        prev_anchor = (first_of_month - timedelta(days=1)).replace(day=1)
        next_anchor = last_of_month + timedelta(days=1)
        title = f"{anchor:%B %Y}"
    else:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        prev_anchor, next_anchor = first - timedelta(days=7), first + timedelta(days=7)
        title = f"Week of {first.day} {first:%b %Y}"
    items = scope(Activity.objects.select_related("store"), request.user).filter(
        Q(start_date__lte=last, end_date__gte=first) | Q(signup_deadline__gte=first, signup_deadline__lte=last))
    if store_slug:
        items = items.filter(store__slug=store_slug)
    items = list(items.order_by("start_date", "name"))
    days = []
    day = first
    while day <= last:
        days.append({
            "date": day, "today": day in todays, "outside": view == "month" and day.month != anchor.month,
            "activities": [a for a in items if a.start_date <= day <= a.end_date],
            "deadlines": [a for a in items if a.signup_deadline == day],
        })
        day += timedelta(days=1)
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]
    return render(request, "campaigns/calendar.html", {
        "view": view, "title": title, "weeks": weeks, "anchor": anchor, "prev": prev_anchor, "next": next_anchor,
        "stores": stores, "store_slug": store_slug, "kinds": ActivityKind.choices,
        # Two stores' "Double 11" read the same: each entry names its store when more than one is shown.
        "several_stores": not store_slug and len(stores) > 1,
        "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]})


def _posted_day(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.POST.get(name, ""))
    except ValueError:
        return None


@require_POST
def activity_move(request, pk):
    """A drag on the calendar: the activity dragged from day `from` to day `to` moves by the days between
    them (`start`: its first day as the page showed it). JSON: the new days and a message, or the error."""
    # Whoever may edit the activity may move it (the edit page's rule: a member of its store).
    activity = get_scoped_object(Activity.objects.all(), request.user, role=OPERATOR, pk=pk)
    dragged_from, dropped_on = _posted_day(request, "from"), _posted_day(request, "to")
    if dragged_from is None or dropped_on is None:
        return JsonResponse({"error": "Say the day it was dragged from and the day it was dropped on."}, status=400)
    try:
        moved, steps = move_activity(activity, (dropped_on - dragged_from).days,
                                     shown_start=_posted_day(request, "start"), user=request.user)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    days = f"{moved.start_date:%a %-d %b}" + (f" to {moved.end_date:%a %-d %b}" if moved.days > 1 else "")
    return JsonResponse({"start_date": moved.start_date.isoformat(), "end_date": moved.end_date.isoformat(),
                         "message": f"Moved “{moved.name}” to {days}.{steps_moved(steps)}"})
