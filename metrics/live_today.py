"""Today's traffic for the live view: finished hours kept in this process, only the last stretch read.

The live page refreshes every few seconds, and most of what it shows from events (sessions,
visitors, the funnel by source, product views and carts, sessions per hour) comes from hours of
today that are over. So today's events are split at a UTC hour boundary `B`, at least CACHE_AFTER
before now: [midnight, B) is read once into a `TodayEvents` kept per (store, day) and extended hour
by hour as `B` moves on; [B, now) — under 90 minutes of events — is read on every request and
merged in. The state is per session, not per hour: a session that started at 10:55 and carted at
11:05 is one session that carted, whichever side of `B` its events fall.

The kept part is trusted on the same terms as the past days in `live_history`: the EventChange
notes of its hours (count and sum of ids, read before the events) must be those seen when it was
read, so an event of a kept hour inserted late, moved or deleted, by any writer, makes the next
request read the day again. Only on Postgres (the trigger is Postgres-only); elsewhere the whole of
today is read on every request, through the same code.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection

from stores.models import Store

from .live_history import CACHE_AFTER, change_notes, micros
from .models import BROWSING, EventType

START, VIEW, CART = EventType.SESSION_START.value, EventType.PRODUCT_VIEW.value, EventType.ADD_TO_CART.value
STEPS = set(BROWSING)  # the funnel's events and the only ones that make a visitor
MAX_STORES = 256  # (store, day) entries kept per process
HOUR_US = 3_600_000_000


@dataclass
class TodayEvents:
    """Today's traffic events of one store over a stretch of time, aggregated per session.

    `per_session` maps a session id to (source, started, viewed, carted, views, carts); tuples, so a
    copy of the dict can be extended without touching the original. `funnel` maps a source to
    [sessions, viewed, carted, views, carts] over the sessions that started today.
    """

    sessions: int = 0
    visitors: set = field(default_factory=set)
    per_session: dict = field(default_factory=dict)
    funnel: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)  # product id -> [views, carts]
    hourly: list = field(default_factory=lambda: [0] * 24)  # session starts per local hour

    @classmethod
    def from_rows(cls, rows) -> TodayEvents:
        """From (type, session_id, visitor_id, source, product_id, local hour) rows of events of any type."""
        out = cls()
        per_session = out.per_session
        for kind, session_id, visitor, source, product_id, hour in rows:
            if kind not in STEPS:
                continue  # orders and refunds: counted from the orders, never as visits
            if visitor:
                out.visitors.add(visitor)  # of any browsing event, as the daily rollup counts them
            started = kind == START
            if started:
                out.sessions += 1
                out.hourly[hour] += 1
            elif product_id is not None:
                counts = out.products.setdefault(product_id, [0, 0])
                counts[kind == CART] += 1
            if session_id:
                entry = (source if started else None, started, kind == VIEW, kind == CART, kind == VIEW,
                         kind == CART)
                old = per_session.get(session_id)
                per_session[session_id] = _merge(old, entry) if old else entry
        for entry in per_session.values():
            _count(out.funnel, entry, 1)
        return out

    def copy(self) -> TodayEvents:
        return TodayEvents(self.sessions, set(self.visitors), dict(self.per_session),
                           {k: list(v) for k, v in self.funnel.items()},
                           {k: list(v) for k, v in self.products.items()}, list(self.hourly))

    def absorb(self, later: TodayEvents) -> TodayEvents:
        """Add a later stretch's events to this one, in place; returns self."""
        self.sessions += later.sessions
        self.visitors |= later.visitors
        for session_id, entry in later.per_session.items():
            old = self.per_session.get(session_id)
            if old:
                _count(self.funnel, old, -1)
                entry = _merge(old, entry)
            self.per_session[session_id] = entry
            _count(self.funnel, entry, 1)
        for product_id, (views, carts) in later.products.items():
            counts = self.products.setdefault(product_id, [0, 0])
            counts[0] += views
            counts[1] += carts
        self.hourly = [a + b for a, b in zip(self.hourly, later.hourly, strict=True)]
        return self


def _merge(a: tuple, b: tuple) -> tuple:
    source = a[0] if b[0] is None else b[0] if a[0] is None else max(a[0], b[0])
    return (source, a[1] or b[1], a[2] or b[2], a[3] or b[3], a[4] + b[4], a[5] + b[5])


def _count(funnel: dict, entry: tuple, sign: int) -> None:
    source, started, viewed, carted, views, carts = entry
    if not started:
        return  # a session that started before today: its steps are not today's funnel
    row = funnel.setdefault(source or "", [0, 0, 0, 0, 0])
    for i, value in enumerate((1, viewed, carted, views, carts)):
        row[i] += sign * value


@dataclass
class _Kept:
    until: datetime       # the kept stretch is [midnight, until)
    notes: tuple          # EventChange notes of its hours when it was read
    events: TodayEvents


_cache: OrderedDict[tuple, _Kept] = OrderedDict()
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _cache.clear()


def _read(store: Store, start: datetime, end: datetime) -> TodayEvents:
    if end <= start:
        return TodayEvents()
    adapt = connection.ops.adapt_datetimefield_value
    where = "FROM metrics_trafficevent WHERE store_id = %s AND ts >= %s AND ts < %s"
    bounds = [store.pk, adapt(start), adapt(end)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT type, session_id, visitor_id, source, product_id, "  # noqa: S608
                           f"EXTRACT(HOUR FROM ts AT TIME ZONE %s)::int {where}", [store.timezone, *bounds])
            return TodayEvents.from_rows(cursor.fetchall())
        cursor.execute(f"SELECT type, session_id, visitor_id, source, product_id, ts {where}", bounds)  # noqa: S608
        zone = store.zone
        return TodayEvents.from_rows((*row[:5], row[5].replace(tzinfo=UTC).astimezone(zone).hour)
                                     for row in cursor.fetchall())  # SQLite hands back naive UTC


def _boundary(now: datetime) -> datetime:
    """The latest UTC hour boundary at least CACHE_AFTER before now (may fall before today's start)."""
    cut = micros(now - CACHE_AFTER) // HOUR_US * HOUR_US
    return datetime.fromtimestamp(cut / 1_000_000, UTC)


def today_so_far(store: Store, start: datetime, now: datetime) -> TodayEvents:
    """Today's events of `store` from local midnight `start` up to `now`, from the kept part when valid."""
    boundary = _boundary(now)
    if connection.vendor != "postgresql" or boundary <= start:
        return _read(store, start, now)
    key = (store.pk, store.timezone, start)
    with _lock:
        kept = _cache.get(key)
    # Notes first, events after: a change committed in between shows in the next request's notes.
    spans = [(start, boundary)] + ([(start, kept.until)] if kept and kept.until <= boundary else [])
    notes = change_notes(store, spans)
    if not kept or kept.until > boundary or (kept.until > start and notes[1] != kept.notes):
        kept = _Kept(start, (0, 0), TodayEvents())
    if kept.until < boundary:
        kept = _Kept(boundary, notes[0], kept.events.copy().absorb(_read(store, kept.until, boundary)))
        with _lock:
            _cache[key] = kept
            _cache.move_to_end(key)
            while len(_cache) > MAX_STORES:
                _cache.popitem(last=False)
    return kept.events.copy().absorb(_read(store, boundary, now))
