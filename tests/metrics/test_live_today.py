"""Today's finished hours are read once and kept; the last stretch is read every time; nothing shows stale."""

import itertools
from datetime import UTC, datetime

import pytest

from metrics import live, live_today
from metrics.models import TrafficEvent
from tests.factories import ProductFactory, StoreFactory
from tests.marks import postgres_only

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)  # 12:00 in a UTC store: hours before 11:00 are kept
_ids = itertools.count()


def at(hour, minute=0, day=5):
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)


def event(store, type, ts, session, visitor="", source="", product=None):
    return TrafficEvent.objects.create(store=store, event_id=f"t{next(_ids)}", type=type, ts=ts, session_id=session,
                                       visitor_id=visitor, source=source, product=product)


@pytest.fixture
def store(db):
    store = StoreFactory(timezone="UTC")
    tea = ProductFactory(store=store, title="Tea")
    event(store, "session_start", at(9), "s1", visitor="ann", source="direct")
    event(store, "product_view", at(9, 5), "s1", product=tea)
    event(store, "add_to_cart", at(11, 40), "s1", product=tea)  # after the kept hours: same session
    event(store, "session_start", at(10, 55), "s2", visitor="bob", source="paid_search")
    event(store, "product_view", at(11, 5), "s2", product=tea)
    event(store, "session_start", at(23, 50, day=4), "s3", visitor="cat", source="organic_search")
    event(store, "product_view", at(0, 10), "s3", product=tea)  # a session from yesterday: not today's funnel
    event(store, "session_start", at(11, 45), "s4", visitor="ann", source="social")
    live_today.clear()
    return store


def numbers(store, now=NOW):
    data = live.snapshot(store, now)
    funnel = {row["source"]: (row["sessions"], row["viewed"], row["carted"], row["views"], row["carts"])
              for row in data["funnel"]}
    products = {row["title"]: (row["views"], row["carts"]) for row in data["top_products"]}
    today = data["kpis"]["today"]
    return (today["sessions"], today["visitors"]), funnel, products, data["hourly"]["today"]["sessions"]


def recount(store, now=NOW):
    """The same numbers read from the events, with nothing kept."""
    live_today.clear()
    return numbers(store, now)


@pytest.fixture
def reads(monkeypatch):
    """The stretches of today read from the events, in order."""
    seen = []
    read = live_today._read

    def spy(store, start, end):
        seen.append((start, end))
        return read(store, start, end)

    monkeypatch.setattr(live_today, "_read", spy)
    return seen


def test_numbers_counted_by_hand_across_the_kept_boundary(store):
    kpis, funnel, products, hourly = numbers(store)
    assert kpis == (3, 2)  # s1, s2, s4; ann twice
    assert funnel == {"direct": (1, 1, 1, 1, 1), "paid_search": (1, 1, 0, 1, 0), "social": (1, 0, 0, 0, 0)}
    assert products == {"Tea": (3, 1)}
    assert hourly == [0] * 9 + [1, 1, 1] + [0] * 12


@postgres_only
def test_kept_hours_are_not_read_again(store, reads):
    first = numbers(store)
    assert reads == [(at(0), at(11)), (at(11), NOW)]
    reads.clear()
    assert numbers(store) == first
    assert reads == [(at(11), NOW)]


@postgres_only
def test_the_kept_part_moves_on_hour_by_hour(store, reads):
    numbers(store)
    event(store, "add_to_cart", at(12, 20), "s2")
    event(store, "session_start", at(12, 30), "s5", visitor="dan", source="direct")
    reads.clear()
    later = at(13, 35)
    assert numbers(store, later) == recount(store, later)
    assert reads[:2] == [(at(11), at(13)), (at(13), later)]
    assert numbers(store, later)[1]["paid_search"] == (1, 1, 1, 1, 1)


@postgres_only
def test_a_late_event_in_a_kept_hour_shows_at_once(store, reads):
    numbers(store)
    event(store, "session_start", at(9, 30), "s6", visitor="eve", source="social")
    event(store, "add_to_cart", at(10, 0), "s4")  # s4 started at 11:45: its cart in a kept hour still counts
    assert numbers(store) == recount(store)
    assert numbers(store)[0] == (4, 3)


@postgres_only
def test_moved_and_deleted_events_in_kept_hours_show_at_once(store):
    numbers(store)
    TrafficEvent.objects.filter(store=store, session_id="s1", type="product_view").update(ts=at(13))
    assert numbers(store)[1]["direct"] == (1, 0, 1, 0, 1)
    TrafficEvent.objects.filter(store=store, session_id="s1", type="session_start").delete()
    assert numbers(store) == recount(store)
    assert "direct" not in numbers(store)[1]


def test_early_in_the_day_nothing_is_kept(store, reads):
    early = at(0, 20)
    numbers(store, early)
    numbers(store, early)
    assert reads == [(at(0), early), (at(0), early)]
