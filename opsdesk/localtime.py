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
