"""The one way to compute a store's local day and its bounds in UTC (DST-safe).

A local day runs from local midnight to the next local midnight, so it lasts 23 or 25 hours on
the days the clocks change. Both bounds are aware UTC datetimes; filter with `ts >= start, ts < end`.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # zoneinfo resolves a midnight that does not exist (a spring-forward at 00:00) to the later
    # wall time; fold=0 keeps the first instance of a repeated midnight.
    return datetime.combine(day, time.min, tzinfo=tz)


def at_clock(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`day` at wall-clock time `clock` in `tz`, as "everything before it on that day's clock" means it.

    A clock time skipped by a spring-forward (02:30 in a night that jumped from 02:00 to 03:00) is the
    instant of the jump: on that day's clock everything before 02:30 is everything before the jump
    (Python would put it an hour on, at 03:30). A repeated time (fall-back) is its first occurrence.
    """
    naive = datetime.combine(day, clock).replace(fold=0)
    moment = naive.replace(tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return moment
    # Skipped: find the jump, the first instant whose wall clock is at or past `clock`. It lies between the
    # two readings of the skipped time (offset after the jump, offset before); transitions fall on whole seconds.
    lo, hi = moment.replace(fold=1).astimezone(UTC), moment.astimezone(UTC)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid -= timedelta(microseconds=mid.microsecond)
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.astimezone(tz)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of `day` in zone `tz`, as UTC datetimes.

    In UTC so that `end - start` is the real length (Python subtracts two datetimes of the same
    zone by wall clock, which would call every day 24 hours long).
    """
    return local_midnight(day, tz).astimezone(UTC), local_midnight(day + timedelta(days=1), tz).astimezone(UTC)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tz).date()


def local_now(tz: ZoneInfo, now: datetime | None = None) -> datetime:
    return (now or timezone.now()).astimezone(tz)


def hours_words(span: timedelta) -> str:
    """A span as the desk's waits say it (orders waiting to ship, ad plans without spend): '35 min', '4 h 20 min',
    '61 h' (minutes dropped from 10 h)."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    if hours >= 10 or not minutes:
        return f"{hours} h"
    return f"{hours} h {minutes} min"
