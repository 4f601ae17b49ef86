"""Recurring activities: one new activity repeated weekly or monthly until a day, as ordinary activities.

"Member day every Wednesday": the occurrences start on the first one's weekday (weekly) or day of the
month (monthly; a month without that day, the 31st in April, has none) up to `until`, at most
MAX_OCCURRENCES. Each is the first one moved by whole days (its last day, a post's publish time and a
sign-up deadline with it) and checked as that activity on its own would be; the series is created all or
nothing, the first refused day named. Each is edited on its own afterwards; the rule can be changed for
the occurrences still to come (`change_rule`, previewed by `preview_rule`), its first day (weekday or day of
the month) moved with them, or they can be deleted (`delete_future`).
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
    _shift(occurrence, days)
    return occurrence


def _shift(activity: Activity, days: int) -> None:
    """Move `activity` (in memory) by whole days: its last day, sign-up deadline and a post's publish time too."""
    step = timedelta(days=days)
    activity.start_date, activity.end_date = activity.start_date + step, activity.end_date + step
    if activity.signup_deadline:
        activity.signup_deadline += step
    if activity.kind == ActivityKind.CONTENT and activity.details.get("publish_at"):
        moved = datetime.fromisoformat(activity.details["publish_at"]) + step  # naive: the wall time stays
        activity.details = {**activity.details, "publish_at": moved.isoformat(timespec="minutes")}


def _check(occurrence: Activity, today: date, outcome: str) -> None:
    """`occurrence` (on its new days) checked as that activity on its own would be; ValidationError naming its
    first day, ending with `outcome` ("Nothing was created.")."""
    try:
        for day in (occurrence.start_date, occurrence.end_date, occurrence.signup_deadline):
            if why := out_of_reach(day, today):
                raise ValidationError(why)
        if occurrence.signup_deadline and occurrence.signup_deadline < today:
            raise ValidationError(f"Its sign-up deadline {occurrence.signup_deadline:%Y-%m-%d} would have passed "
                                  f"(today is {today:%Y-%m-%d}).")
        occurrence.full_clean()
    except ValidationError as exc:
        raise ValidationError(f"The occurrence on {occurrence.start_date:%a %-d %b %Y} cannot be: "
                              f"{' '.join(exc.messages)} {outcome}") from None


def _checked(first: Activity, starts: list[date], outcome: str) -> list[Activity]:
    """`first` moved to each of `starts`, each checked as that activity on its own would be; ValidationError
    naming the first day that cannot be, ending with `outcome` ("Nothing was created.")."""
    today = first.store.today()
    occurrences = []
    for start in starts:
        occurrence = _moved(first, (start - first.start_date).days)
        _check(occurrence, today, outcome)
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
    to a new ActivitySeries, whose history starts with its creation; ValidationError naming the first day that
    cannot be, and nothing saved."""
    starts = occurrence_days(first.start_date, repeat, until)
    occurrences = _checked(first, starts, "Nothing was created.")
    series = ActivitySeries.objects.create(store=first.store, repeat=repeat, first_day=first.start_date,
                                           until=until, created_by=user)
    _save(occurrences, series, products, user=user, note=f"repeating {series.describe()}")
    activity_history.record_series_created(series, occurrences, user=user)
    return occurrences


WAITING = (ActivityStatus.IDEA, ActivityStatus.PLANNED)


@dataclass(frozen=True)
class RuleChange:
    """What a new rule does to a series' occurrences after the store's today: shown as the preview, then saved."""

    repeat: str
    until: date
    first_day: date
    moved: list[tuple[Activity, date, date]]  # (occurrence, old first day, new first day)
    created: list[Activity]  # unsaved, checked copies of the series' first occurrence
    deleted: list[Activity]  # ideas or plans the new rule no longer makes
    kept: list[Activity]  # those the new rule no longer makes (or moves) that stay: already running or over
    own_days: list[Activity]  # moved by hand off the rule: left on their own days

    def key(self) -> str:
        """What the change does, in one string: a confirmation of a preview whose key differs is refused."""
        return " ".join([f"r{self.repeat}:{self.until}:{self.first_day}",
                         *(f"m{a.pk}:{new}" for a, _, new in self.moved), *(f"c{a.start_date}" for a in self.created),
                         *(f"d{a.pk}" for a in self.deleted), *(f"k{a.pk}" for a in self.kept)])

    def counts(self) -> str:
        """"moved 4, created 0, deleted 1 future activity; 1 already under way stays; 1 keeps its own day"."""
        def plural(n, one, many):
            return one if n == 1 else many

        words = f"moved {len(self.moved)}, " if self.moved else ""
        deleted = len(self.deleted)
        words += f"created {len(self.created)}, deleted {deleted} future activit{plural(deleted, 'y', 'ies')}"
        if self.kept:
            words += f"; {len(self.kept)} already under way stay"
        if own := len(self.own_days):
            words += (f"; {own} moved by hand keep{plural(own, 's', '')} {plural(own, 'its', 'their')} "
                      f"own day{plural(own, '', 's')}")
        return words


def _locked_occurrences(series: ActivitySeries) -> list[Activity]:
    return list(Activity.objects.select_for_update(of=("self",)).select_related("store", "owner")
                .filter(series=series).order_by("pk"))


def pair_days(slots: list[date], days: list[date]) -> dict[date, date]:
    """The old rule's days still to come (`slots`) paired with the new rule's (`days`), both in order: the k-th
    slot with the (k + shift)-th day, for the shift that moves the occurrences least, counting each slot or day
    left unpaired (an occurrence deleted, a copy made) as half the rule's step; ties to the smaller shift.

    So Mondays moved to the Tuesday a week later than meant move each by its one day (the first Monday left
    without one), not every one by eight; but monthly on the 15th moved to the 1st moves each to the next 1st,
    none deleted and copied instead."""
    if not slots or not days:
        return {}
    steps = sorted((b - a).days for run in (days, slots) for a, b in zip(run, run[1:], strict=False))
    unpaired = (steps[len(steps) // 2] if steps else 7) / 2
    best: tuple[tuple[float, int, int], list[tuple[date, date]]] | None = None
    for shift in range(1 - len(slots), len(days)):
        pairs = [(slot, days[k + shift]) for k, slot in enumerate(slots) if 0 <= k + shift < len(days)]
        cost = sum(abs((day - slot).days) for slot, day in pairs) + unpaired * (len(slots) + len(days) - 2 * len(pairs))
        if best is None or (cost, abs(shift), shift) < best[0]:
            best = ((cost, abs(shift), shift), pairs)
    return dict(best[1])


def plan_rule(series: ActivitySeries, occurrences: list[Activity], repeat: str, until: date,
              first_day: date | None = None) -> RuleChange:
    """What `change_rule` would do, checked, nothing saved; ValidationError naming the first day that cannot be.

    Without a new first day (or with the one in force) the rule keeps its weekday or day of the month: a day
    both rules make keeps its activity, a day only the new one makes gets a copy of the first occurrence, a day
    only the old one made loses its occurrence (if still an idea or planned). With a new first day (after
    today) the occurrences still to come take the new rule's days in order from the shift that moves them least
    (`pair_days`): each is moved, not
    copied, so it keeps its edits and ticked steps and its checklist follows it; one left without a day is
    deleted (if still an idea or planned), a new day left without an occurrence gets a copy."""
    today = series.store.today()
    anchor_moves = first_day is not None and first_day != series.first_day
    if anchor_moves and first_day <= today:
        raise ValidationError(f"The new first day ({first_day:%Y-%m-%d}) must be after today ({today:%Y-%m-%d} in "
                              f"{series.store.name}): only occurrences still to come move. Nothing was changed.")
    anchor = first_day if anchor_moves else series.first_day
    new_days = occurrence_days(anchor, repeat, until)
    last_start = max(a.start_date for a in occurrences)
    old_rule = occurrence_days(series.first_day, series.repeat, series.until)
    future = sorted((a for a in occurrences if a.start_date > today), key=lambda a: (a.start_date, a.pk))
    on_rule: dict[date, Activity] = {}
    for a in future:
        if a.start_date in old_rule:
            on_rule.setdefault(a.start_date, a)
    moved, created_days, deleted, kept = [], [], [], []

    def drop(a: Activity) -> None:
        (deleted if a.status in WAITING else kept).append(a)

    if anchor_moves:
        slots = [d for d in old_rule if d > today]
        pairs = pair_days(slots, new_days)
        for old in slots:
            new = pairs.get(old)
            a = on_rule.get(old)
            if a is None:  # deleted or moved by hand: not made again, unless after the last one left
                if old > last_start and new:
                    created_days.append(new)
            elif new is None or a.status not in WAITING:
                drop(a)
            elif new != old:
                moved.append((a, old, new))
        taken_days = set(pairs.values())
        created_days = sorted(created_days + [d for d in new_days if d not in taken_days])
    else:
        old_days = {d for d in old_rule if d <= last_start}
        starts = {a.start_date for a in occurrences}
        for a in future:
            if a.start_date in old_rule and a.start_date not in new_days:
                drop(a)
        created_days = [d for d in new_days if d > today and d not in starts and d not in old_days]
    taken = set(on_rule.values()) if anchor_moves else {a for a in future if a.start_date in old_rule}
    others = [a for a in future if a not in taken]
    for a in others:
        if a.start_date > until:
            drop(a)
    own_days = [a for a in others if a.start_date <= until and a.start_date not in new_days]

    outcome = "Nothing was changed."
    first = occurrences[0]
    created = [_moved(first, (day - first.start_date).days) for day in created_days]
    checks = [*created]
    for a, old, new in moved:
        check = copy(a)
        check.details = dict(a.details)
        _shift(check, (new - old).days)
        checks.append(check)
    for occurrence in sorted(checks, key=lambda o: o.start_date):  # the first day that cannot be is named
        _check(occurrence, today, outcome)
    return RuleChange(repeat=repeat, until=until, first_day=anchor, moved=moved, created=created, deleted=deleted,
                      kept=kept, own_days=own_days)


def preview_rule(activity: Activity, repeat: str, until: date, first_day: date | None = None) -> RuleChange:
    """What a new rule for `activity`'s series would do (the page's preview); nothing is saved."""
    series = ActivitySeries.objects.select_related("store").get(pk=activity.series_id)
    occurrences = list(Activity.objects.select_related("store", "owner").filter(series=series).order_by("pk"))
    return plan_rule(series, occurrences, repeat, until, first_day)


@transaction.atomic
def change_rule(activity: Activity, repeat: str, until: date, *, first_day: date | None = None, user=None,
                expected: str | None = None) -> RuleChange:
    """Give `activity`'s series a new repeat, last day and perhaps first day, for the occurrences after the
    store's today, as `plan_rule` says. All or nothing: ValidationError naming the first day that cannot be,
    and nothing changed; with `expected` (the key of the preview the operator confirmed) a change that now
    differs from it is refused too (code "stale"). The series records the change in its own history, by `user`;
    a moved occurrence takes its checklist along and records the move and the new rule in its history; every
    other that remains records the new rule, each new one its creation."""
    series = ActivitySeries.objects.select_for_update().select_related("store").get(pk=activity.series_id)
    occurrences = _locked_occurrences(series)
    change = plan_rule(series, occurrences, repeat, until, first_day)
    if expected is not None and change.key() != expected:
        raise ValidationError("The series or the form changed since the preview; check this preview and confirm "
                              "again. Nothing was changed.", code="stale")
    first = occurrences[0]
    products = list(first.products.all())  # read before the deletes: the first occurrence may be among them
    gone = {a.pk for a in change.deleted}
    Activity.objects.filter(pk__in=gone).delete()
    old_rule, old_first_day = series.describe(), series.first_day
    series.repeat, series.until, series.first_day = repeat, until, change.first_day
    series.save(update_fields=["repeat", "until", "first_day"])
    new_rule = series.describe()
    done = change.counts() if change.moved or change.created or change.deleted else ""
    activity_history.record_series(series, old_rule, old_first_day, done=done, user=user)
    moves = {a.pk: (old, new) for a, old, new in change.moved}
    for occurrence in occurrences:
        if occurrence.pk in gone:
            continue
        if occurrence.pk not in moves:
            activity_history.record(occurrence, {"series": old_rule}, after={"series": new_rule}, user=user)
            continue
        before = {**activity_history.snapshot(occurrence), "series": old_rule}
        old, new = moves[occurrence.pk]
        _shift(occurrence, (new - old).days)
        occurrence.save()
        steps = occurrence.follow_days((new - old).days)
        activity_history.record(occurrence, before, after={**activity_history.snapshot(occurrence),
                                                           "series": new_rule}, steps_moved=steps, user=user)
    _save(change.created, series, products, user=user, note=f"by the series' new rule, {new_rule}")
    return change


@transaction.atomic
def delete_future(activity: Activity) -> tuple[int, int]:
    """Delete the occurrences of `activity`'s series that start after the store's today and have not gone
    ahead (idea or planned); returns (deleted, kept: later ones already running or over)."""
    later = list(Activity.objects.select_for_update().filter(series=activity.series_id,
                                                             start_date__gt=activity.store.today()))
    waiting = [a.pk for a in later if a.status in (ActivityStatus.IDEA, ActivityStatus.PLANNED)]
    Activity.objects.filter(pk__in=waiting).delete()
    return len(waiting), len(later) - len(waiting)
