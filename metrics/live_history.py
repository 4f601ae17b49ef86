"""Past local days for the live view: read once, kept in this process, checked on every use.

The live view compares today so far with yesterday and last week up to the same clock time, and
draws the whole of yesterday per hour. Those past days hardly ever change, yet reading them raw
is most of a snapshot's SQL (COUNT DISTINCT visitors over ~10 k sessions per window). So a past
day is read once into a `PastDay`: the sorted session start times and each visitor's first
event time, from which "sessions / visitors up to clock time T" is a binary search.

Correctness rests on `EventChange` (a Postgres trigger appends a note for every (store, UTC hour)
whose events change, whoever writes them): a cached day is used only while the notes of its hours
are the ones seen when the day was read (count and sum of their ids: notes are only ever added,
and the notes are read before the events, so a change committed in between makes the next
request read the day again). Inserts of events less than 10 minutes old leave no note (live
traffic: nothing to note for a past day), so a day is cached only once it ended more than
CACHE_AFTER ago: an event of that day inserted without a note would have had to sit in an open
transaction for 20 minutes. Today is never cached. Only on Postgres (the
trigger is Postgres-only); elsewhere every day is read each time.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from stores.models import Store

from .models import BROWSING, EventType

CACHE_AFTER = timedelta(minutes=30)
KEEP_NOTES = timedelta(days=10)  # the live view's oldest window (last week) plus time-zone slack
MAX_DAYS = 256  # (store, day) entries kept per process: ~16 bytes a session, ~0.5 MB at 30 k sessions a day
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exact (comparisons at window bounds must not round)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class PastDay:
    """The session starts and visitors of one local day of one store."""

    starts: array           # session_start times, sorted (µs since the epoch, int64)
    first_seen: array       # per non-empty visitor_id, its first browsing event that day, sorted
    hourly: list[int]       # session starts per local hour 0-23

    def sessions_before(self, end: datetime) -> int:
        return bisect_left(self.starts, micros(end))

    def visitors_before(self, end: datetime) -> int:
        return bisect_left(self.first_seen, micros(end))


_cache: OrderedDict[tuple, tuple[tuple, PastDay]] = OrderedDict()
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _cache.clear()


def _hours(start: datetime, end: datetime) -> tuple[int, int]:
    """The UTC hours (as EventChange.hour) that [start, end) touches."""
    return micros(start) // 3_600_000_000, (micros(end) - 1) // 3_600_000_000 + 1


def change_notes(store: Store, days: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """(count, sum of ids) of the EventChange notes of each (start, end) span's hours, in one query."""
    spans = [_hours(start, end) for start, end in days]
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    with connection.cursor() as cursor:
        cursor.execute("SELECT hour, id FROM metrics_eventchange WHERE store_id = %s AND hour >= %s AND hour < %s",
                       [store.pk, lo, hi])
        rows = cursor.fetchall()
    return [(sum(1 for hour, _ in rows if s <= hour < e), sum(pk for hour, pk in rows if s <= hour < e))
            for s, e in spans]


def _read(store: Store, start: datetime, end: datetime) -> PastDay:
    adapt = connection.ops.adapt_datetimefield_value
    span = [store.pk, adapt(start), adapt(end)]
    where = "FROM metrics_trafficevent WHERE store_id = %s AND ts >= %s AND ts < %s"
    starts_where = f"{where} AND type = %s ORDER BY ts"
    # Visitors are those of browsing events, as the daily rollup counts them (its conversion is orders / visitors).
    browsing = ", ".join(f"'{t}'" for t in BROWSING)
    visitors_where = f"{where} AND visitor_id <> '' AND type IN ({browsing})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Integers, not time stamps: parsing ~10 k datetimes in Python was most of a day's read.
            cursor.execute("SELECT (EXTRACT(EPOCH FROM ts) * 1000000)::bigint, "  # noqa: S608
                           f"EXTRACT(HOUR FROM ts AT TIME ZONE %s)::int {starts_where}",
                           [store.timezone, *span, EventType.SESSION_START.value])
            rows = cursor.fetchall()
            cursor.execute(f"SELECT (EXTRACT(EPOCH FROM MIN(ts)) * 1000000)::bigint {visitors_where} "  # noqa: S608
                           "GROUP BY visitor_id", span)
            first = [moment for (moment,) in cursor.fetchall()]
        else:
            zone = store.zone
            cursor.execute(f"SELECT ts {starts_where}", [*span, EventType.SESSION_START.value])  # noqa: S608
            rows = [(micros(ts.replace(tzinfo=UTC)), ts.replace(tzinfo=UTC).astimezone(zone).hour)
                    for (ts,) in cursor.fetchall()]  # SQLite hands back naive UTC
            cursor.execute(f"SELECT visitor_id, ts {visitors_where}", span)  # noqa: S608
            seen: dict[str, int] = {}
            for visitor, ts in cursor.fetchall():
                moment = micros(ts.replace(tzinfo=UTC))
                seen[visitor] = min(moment, seen.get(visitor, moment))
            first = list(seen.values())
    starts, hourly = array("q"), [0] * 24
    for moment, hour in rows:
        starts.append(moment)
        hourly[hour] += 1
    return PastDay(starts, array("q", sorted(first)), hourly)


def prune_notes(now: datetime, keep: timedelta = KEEP_NOTES) -> int:
    """Delete EventChange notes of hours the live view no longer shows; returns how many went.

    The live view looks back a week at most, so older notes guard nothing. A kept day whose notes
    were pruned only compares unequal and is read again: pruning can cause a re-read, never a
    stale number."""
    from .models import EventChange

    return EventChange.objects.filter(hour__lt=micros(now - keep) // 3_600_000_000).delete()[0]


def past_days(store: Store, days: list[date], now: datetime) -> dict[date, PastDay]:
    """PastDay for each of `days` (local days of `store` before today), from the cache when still valid."""
    bounds = {day: store.day_bounds(day) for day in days}
    cacheable = connection.vendor == "postgresql"
    notes = dict(zip(days, change_notes(store, list(bounds.values())), strict=True)) if cacheable else {}
    result = {}
    for day, (start, end) in bounds.items():
        key = (store.pk, store.timezone, day)
        use_cache = cacheable and end + CACHE_AFTER <= now
        if use_cache:
            with _lock:
                hit = _cache.get(key)
                if hit and hit[0] == notes[day]:
                    _cache.move_to_end(key)
                    result[day] = hit[1]
                    continue
        result[day] = _read(store, start, end)
        if use_cache:
            with _lock:
                _cache[key] = (notes[day], result[day])
                while len(_cache) > MAX_DAYS:
                    _cache.popitem(last=False)
    return result
