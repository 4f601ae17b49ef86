"""Moving an activity to other days, as a drag on the calendar does: every day of it by the same number.

The first and last day move together; a content post's publish time keeps its time of day (a store-local
wall time without zone, so a daylight-saving change in between does not shift it by an hour), and the
checklist's steps not done yet keep their lead time (`Activity.follow_days`). The sign-up deadline is the
platform's and stays. The move is checked as the edit form checks the same change (days within reach, the
model's clean(): a finished activity keeps its days, a sign-up deadline after the new first day is
refused ...) and is all or nothing. The Edit form saves through `save_edited`, so its checklist moves alike.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import ModelForm

from . import activity_history
from .activity_forms import out_of_reach
from .models import Activity, ActivityKind


@transaction.atomic
def move_activity(activity: Activity, days: int, *, shown_start: date | None = None,
                  user=None) -> tuple[Activity, int]:
    """Move `activity` by `days` days; return it saved and how many checklist steps moved with it, or raise
    ValidationError (nothing saved, no step moved) with the reason when the move is refused. `shown_start` is
    the first day the operator saw: when a colleague moved the activity meanwhile, the drag's distance was
    measured from days it no longer has, so it is refused. The move is recorded in its history, by `user`."""
    current = Activity.objects.select_for_update().select_related("store").get(pk=activity.pk)
    if shown_start is not None and current.start_date != shown_start:
        raise ValidationError(f"“{current.name}” was moved meanwhile; it now starts on "
                              f"{current.start_date:%Y-%m-%d}. Reload the calendar and try again.")
    if days == 0:
        return current, 0
    today = current.store.today()
    before = activity_history.snapshot(current)
    try:
        current.start_date += timedelta(days=days)
        current.end_date += timedelta(days=days)
    except OverflowError:  # past the last (or first) day Python knows: far out of reach
        raise ValidationError(out_of_reach(date.max if days > 0 else date.min, today)) from None
    for day in (current.start_date, current.end_date):
        if why := out_of_reach(day, today):
            raise ValidationError(why)
    publish_at = current.details.get("publish_at") if current.kind == ActivityKind.CONTENT else None
    if publish_at:
        moved = datetime.fromisoformat(publish_at) + timedelta(days=days)  # naive: the wall time stays
        current.details = {**current.details, "publish_at": moved.isoformat(timespec="minutes")}
    current.full_clean()
    current.save()
    steps = current.follow_days(days)
    activity_history.record(current, before, user=user, steps_moved=steps)
    return current, steps


@transaction.atomic
def save_edited(form: ModelForm, *, user=None) -> tuple[Activity, int]:
    """Save the valid Edit form of an activity; its checklist follows the new days as on a calendar move.
    Returns the activity and how many checklist steps moved with its first day; what changed is recorded in
    its history, by `user` (nothing when the form changed nothing)."""
    # The distance and the history's "before" are measured from the row stored now (locked), not the one the
    # form was loaded with: a colleague's change in between was already recorded, with its checklist moved.
    stored = Activity.objects.select_for_update(of=("self",)).select_related("store", "owner").get(
        pk=form.instance.pk)
    before = activity_history.snapshot(stored)
    activity = form.save()
    steps = activity.follow_days((activity.start_date - stored.start_date).days)
    activity_history.record(activity, before, user=user, steps_moved=steps)
    return activity, steps


def steps_moved(count: int) -> str:
    """The message's note on the checklist: " 4 checklist steps moved with it." (nothing when none did)."""
    if not count:
        return ""
    return f" {count} checklist step{'s' if count != 1 else ''} moved with it."
