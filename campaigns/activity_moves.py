"""Moving an activity to other days, as a drag on the calendar does: every day of it by the same number.

The first and last day move together; a content post's publish time keeps its time of day (a store-local
wall time without zone, so a daylight-saving change in between does not shift it by an hour). The
sign-up deadline is the platform's and stays. The move is checked as the edit form checks the same
change (days within reach, the model's clean(): a finished activity keeps its days, a sign-up deadline
after the new first day is refused ...) and is all or nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from .activity_forms import out_of_reach
from .models import Activity, ActivityKind


@transaction.atomic
def move_activity(activity: Activity, days: int, *, shown_start: date | None = None) -> Activity:
    """Move `activity` by `days` days and return it saved; ValidationError (nothing saved) with the reason
    when the move is refused. `shown_start` is the first day the operator saw: when a colleague moved the
    activity meanwhile, the drag's distance was measured from days it no longer has, so it is refused."""
    current = Activity.objects.select_for_update().select_related("store").get(pk=activity.pk)
    if shown_start is not None and current.start_date != shown_start:
        raise ValidationError(f"“{current.name}” was moved meanwhile; it now starts on "
                              f"{current.start_date:%Y-%m-%d}. Reload the calendar and try again.")
    if days == 0:
        return current
    today = current.store.today()
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
    return current
