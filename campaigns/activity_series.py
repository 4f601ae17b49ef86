"""Recurring activities: one new activity repeated weekly or monthly until a day, as ordinary activities.

"Member day every Wednesday": the occurrences start on the first one's weekday (weekly) or day of the
month (monthly; a month without that day, the 31st in April, has none) up to `until`, at most
MAX_OCCURRENCES. Each is the first one moved by whole days (its last day, a post's publish time and a
sign-up deadline with it) and checked as that activity on its own would be; the series is created all or
nothing, the first refused day named. Each is edited on its own afterwards; the rule can be changed for
the occurrences still to come (`change_rule`) or they can be deleted (`delete_future`).
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.db import transaction

from . import activity_history
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
    """A new, unsaved copy of `first` moved by `days`; a saved `first` (a series' first occurrence) gives a
    fresh idea: not its status, sign-up status or prefetched products."""
    occurrence = copy(first)
    occurrence.pk = occurrence.id = None
    occurrence._state = copy(first._state)
    occurrence._state.adding, occurrence._state.fields_cache = True, dict(first._state.fields_cache)
    for saved in ("_saved_status", "_saved_days", "_prefetched_objects_cache"):
        occurrence.__dict__.pop(saved, None)
    occurrence.details = dict(first.details)
    if first.pk:
        occurrence.status = ActivityStatus.IDEA
        if "signup_status" in occurrence.details:
            occurrence.details["signup_status"] = "not_started"
    step = timedelta(days=days)
    occurrence.start_date, occurrence.end_date = first.start_date + step, first.end_date + step
    if first.signup_deadline:
        occurrence.signup_deadline = first.signup_deadline + step
    if first.kind == ActivityKind.CONTENT and first.details.get("publish_at"):
        moved = datetime.fromisoformat(first.details["publish_at"]) + step  # naive: the wall time stays
        occurrence.details["publish_at"] = moved.isoformat(timespec="minutes")
    return occurrence


def _checked(first: Activity, starts: list[date], outcome: str) -> list[Activity]:
    """`first` moved to each of `starts`, each checked as that activity on its own would be; ValidationError
    naming the first day that cannot be, ending with `outcome` ("Nothing was created.")."""
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
                                  f"{outcome}") from None
        occurrences.append(occurrence)
    return occurrences


def _save(occurrences: list[Activity], series: ActivitySeries, products, *, user=None, note: str = "") -> None:
    for occurrence in occurrences:
        occurrence.series = series
        occurrence.save()
        occurrence.products.set(products)
        if occurrence.template:
            copy_checklist(occurrence, occurrence.template)
        activity_history.record_created(occurrence, user=user, note=note)


@transaction.atomic
def create_series(first: Activity, repeat: str, until: date, *, products=(), user=None) -> list[Activity]:
    """Save `first` (valid, unsaved, as the New activity form made it) and its repeats up to `until`, linked
    to a new ActivitySeries; ValidationError naming the first day that cannot be, and nothing saved."""
    starts = occurrence_days(first.start_date, repeat, until)
    occurrences = _checked(first, starts, "Nothing was created.")
    series = ActivitySeries.objects.create(store=first.store, repeat=repeat, first_day=first.start_date,
                                           until=until, created_by=user)
    _save(occurrences, series, products, user=user, note=f"repeating {series.describe()}")
    return occurrences


@dataclass(frozen=True)
class RuleChange:
    created: int
    deleted: int
    kept: int  # occurrences the new rule no longer makes that stay: already running or over


@transaction.atomic
def change_rule(activity: Activity, repeat: str, until: date, *, user=None) -> RuleChange:
    """Give `activity`'s series a new repeat and last day, for the occurrences after the store's today.

    Those starting after `until` or on a day only the old rule made are deleted while still ideas or
    plans (as `delete_future` does); a day only the new rule makes gets a copy of the series' first
    occurrence (as `create_series` makes them); a day both make keeps its activity untouched. A day the old
    rule made whose occurrence was deleted or moved by hand, before the series' last remaining one, is not
    made again. All or nothing: ValidationError naming the first day that cannot be, and nothing changed.
    Each occurrence that remains records the new rule in its history, by `user`; each new one its creation."""
    series = ActivitySeries.objects.select_for_update().get(pk=activity.series_id)
    today = activity.store.today()
    new_days = occurrence_days(series.first_day, repeat, until)
    occurrences = list(Activity.objects.select_for_update().filter(series=series).order_by("pk"))
    last_start = max(a.start_date for a in occurrences)
    old_days = {d for d in occurrence_days(series.first_day, series.repeat, series.until) if d <= last_start}
    starts = {a.start_date for a in occurrences}
    dropped = [a for a in occurrences if a.start_date > today and a.start_date not in new_days
               and (a.start_date > until or a.start_date in old_days)]
    waiting = [a.pk for a in dropped if a.status in (ActivityStatus.IDEA, ActivityStatus.PLANNED)]
    first = occurrences[0]
    added = _checked(first, [d for d in new_days if d > today and d not in starts and d not in old_days],
                     "Nothing was changed.")
    Activity.objects.filter(pk__in=waiting).delete()
    old_rule = series.describe()
    series.repeat, series.until = repeat, until
    series.save(update_fields=["repeat", "until"])
    for occurrence in occurrences:
        if occurrence.pk not in waiting:
            activity_history.record(occurrence, {"series": old_rule}, after={"series": series.describe()},
                                    user=user)
    _save(added, series, list(first.products.all()), user=user, note=f"by the series' new rule, {series.describe()}")
    return RuleChange(created=len(added), deleted=len(waiting), kept=len(dropped) - len(waiting))


@transaction.atomic
def delete_future(activity: Activity) -> tuple[int, int]:
    """Delete the occurrences of `activity`'s series that start after the store's today and have not gone
    ahead (idea or planned); returns (deleted, kept: later ones already running or over)."""
    later = list(Activity.objects.select_for_update().filter(series=activity.series_id,
                                                             start_date__gt=activity.store.today()))
    waiting = [a.pk for a in later if a.status in (ActivityStatus.IDEA, ActivityStatus.PLANNED)]
    Activity.objects.filter(pk__in=waiting).delete()
    return len(waiting), len(later) - len(waiting)
