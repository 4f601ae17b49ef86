"""Recurring activities: one new activity repeated weekly or monthly until a day, as ordinary activities.

"Member day every Wednesday": the occurrences start on the first one's weekday (weekly) or day of the
month (monthly; a month without that day, the 31st in April, has none) up to `until`, at most
MAX_OCCURRENCES. Each is the first one moved by whole days (its last day, a post's publish time and a
sign-up deadline with it) and checked as that activity on its own would be; the series is created all or
nothing, the first refused day named. Each is edited on its own afterwards.
"""

from __future__ import annotations

from copy import copy
from datetime import date, datetime, timedelta
from itertools import islice

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.db import transaction

from .activity_forms import out_of_reach
from .activity_templates import copy_checklist
from .models import Activity, ActivityKind, ActivitySeries, ActivityStatus

MAX_OCCURRENCES = 52


def occurrence_days(first: date, repeat: str, until: date) -> list[date]:
    """The first days of the occurrences, `first` included; ValidationError when there would be too many."""
    if until < first:
        raise ValidationError(f"The series ends ({until:%Y-%m-%d}) before its first day ({first:%Y-%m-%d}).")
    freq = WEEKLY if repeat == ActivitySeries.Repeat.WEEKLY else MONTHLY
    days = [d.date() for d in islice(rrule(freq, dtstart=first, until=until), MAX_OCCURRENCES + 1)]
    if len(days) > MAX_OCCURRENCES:
        raise ValidationError(f"A series has at most {MAX_OCCURRENCES} activities; pick an earlier last day "
                              f"(the {MAX_OCCURRENCES}th starts on {days[MAX_OCCURRENCES - 1]:%Y-%m-%d}).")
    return days


def _moved(first: Activity, days: int) -> Activity:
    occurrence = copy(first)
    occurrence.pk = occurrence.id = None
    occurrence._state = copy(first._state)
    step = timedelta(days=days)
    occurrence.start_date, occurrence.end_date = first.start_date + step, first.end_date + step
    if first.signup_deadline:
        occurrence.signup_deadline = first.signup_deadline + step
    if first.kind == ActivityKind.CONTENT and first.details.get("publish_at"):
        moved = datetime.fromisoformat(first.details["publish_at"]) + step  # naive: the wall time stays
        occurrence.details = {**first.details, "publish_at": moved.isoformat(timespec="minutes")}
    return occurrence


@transaction.atomic
def create_series(first: Activity, repeat: str, until: date, *, products=(), user=None) -> list[Activity]:
    """Save `first` (valid, unsaved, as the New activity form made it) and its repeats up to `until`, linked
    to a new ActivitySeries; ValidationError naming the first day that cannot be, and nothing saved."""
    starts = occurrence_days(first.start_date, repeat, until)
    today = first.store.today()
    occurrences = []
    for start in starts:
        occurrence = _moved(first, (start - first.start_date).days)
        try:
            for day in (occurrence.start_date, occurrence.end_date):
                if why := out_of_reach(day, today):
                    raise ValidationError(why)
            occurrence.full_clean()
        except ValidationError as exc:
            raise ValidationError(f"The occurrence on {start:%a %-d %b %Y} cannot be: {' '.join(exc.messages)} "
                                  f"Nothing was created.") from None
        occurrences.append(occurrence)
    series = ActivitySeries.objects.create(store=first.store, repeat=repeat, first_day=first.start_date,
                                           until=until, created_by=user)
    for occurrence in occurrences:
        occurrence.series = series
        occurrence.save()
        occurrence.products.set(products)
        if occurrence.template:
            copy_checklist(occurrence, occurrence.template)
    return occurrences


@transaction.atomic
def delete_future(activity: Activity) -> tuple[int, int]:
    """Delete the occurrences of `activity`'s series that start after the store's today and have not gone
    ahead (idea or planned); returns (deleted, kept: later ones already running or over)."""
    later = list(Activity.objects.select_for_update().filter(series=activity.series_id,
                                                             start_date__gt=activity.store.today()))
    waiting = [a.pk for a in later if a.status in (ActivityStatus.IDEA, ActivityStatus.PLANNED)]
    Activity.objects.filter(pk__in=waiting).delete()
    return len(waiting), len(later) - len(waiting)
