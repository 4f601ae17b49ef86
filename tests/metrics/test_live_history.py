"""Past days in the live view are read once and kept, but never shown stale: whoever changes their events."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import ingest, live, live_history
from metrics.models import EventChange, TrafficEvent
from tests.factories import StoreFactory
from tests.marks import postgres_only

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)  # 12:00 in a UTC store; the database clock is the real one
_ids = itertools.count()


def session(store, ts, visitor=None):
    n = next(_ids)
    return TrafficEvent.objects.create(store=store, event_id=f"h{n}", type="session_start", ts=ts,
                                       session_id=f"s{n}", visitor_id=visitor or f"v{n}", source="direct")


def past_numbers(store):
    data = live.snapshot(store, NOW)
    return ({k: (data["kpis"][k]["sessions"], data["kpis"][k]["visitors"]) for k in ("yesterday", "last_week")},
            data["hourly"]["yesterday"]["sessions"])


def recount(store):
    """The same numbers read from the events, with nothing cached."""
    live_history.clear()
    return past_numbers(store)


@pytest.fixture
def store(db):
    store = StoreFactory(timezone="UTC")
    session(store, datetime(2026, 5, 4, 9, tzinfo=UTC), visitor="ann")
    session(store, datetime(2026, 5, 4, 10, tzinfo=UTC), visitor="ann")
    session(store, datetime(2026, 5, 4, 13, tzinfo=UTC), visitor="bob")  # after 12:00: not in the window
    session(store, datetime(2026, 4, 28, 8, tzinfo=UTC), visitor="cat")
    return store


@postgres_only
def test_a_kept_day_is_not_read_again_while_nothing_changed(store):
    live_history.clear()
    first = past_numbers(store)
    with CaptureQueriesContext(connection) as queries:
        assert past_numbers(store) == first
    assert not [q for q in queries.captured_queries if "ORDER BY ts" in q["sql"]]
    assert first == ({"yesterday": (2, 1), "last_week": (1, 1)}, [0] * 9 + [1, 1, 0, 0, 1] + [0] * 10)


def test_a_late_event_from_the_orm_shows_at_once(store):
    past_numbers(store)
    session(store, datetime(2026, 5, 4, 11, tzinfo=UTC), visitor="dan")
    assert past_numbers(store) == recount(store)
    assert past_numbers(store)[0]["yesterday"] == (3, 2)


def test_a_late_event_through_ingest_and_its_retry(store):
    past_numbers(store)
    late = [{"id": "late-1", "type": "session_start", "ts": "2026-04-28T09:00:00+00:00", "session_id": "x1",
             "visitor_id": "eve", "source": "social"}]
    assert ingest.ingest_events(store, late, now=NOW).accepted == 1
    assert past_numbers(store)[0]["last_week"] == (2, 2)
    assert ingest.ingest_events(store, late, now=NOW).duplicates == 1
    assert past_numbers(store) == recount(store)


def test_moved_and_deleted_events_show_at_once(store):
    past_numbers(store)
    TrafficEvent.objects.filter(store=store, visitor_id="ann", ts__hour=9).update(
        ts=datetime(2026, 5, 4, 14, tzinfo=UTC))
    assert past_numbers(store)[0]["yesterday"] == (1, 1)
    TrafficEvent.objects.filter(store=store, visitor_id="cat").delete()
    assert past_numbers(store) == recount(store)
    assert past_numbers(store)[0]["last_week"] == (0, 0)


def test_a_visitor_counts_from_their_first_session_of_the_day(store):
    session(store, datetime(2026, 5, 4, 8, tzinfo=UTC), visitor="bob")  # bob also came before 12:00
    assert past_numbers(store)[0]["yesterday"] == (3, 2)


@postgres_only
def test_live_traffic_leaves_no_note_and_past_events_do(store):
    EventChange.objects.all().delete()
    now = timezone.now()
    session(store, now - timedelta(seconds=5))
    assert not EventChange.objects.exists()
    session(store, datetime(2026, 5, 4, 9, 30, tzinfo=UTC))
    hour = int(datetime(2026, 5, 4, 9, tzinfo=UTC).timestamp()) // 3600
    assert list(EventChange.objects.values_list("store_id", "hour")) == [(store.pk, hour)]


def test_a_day_that_just_ended_is_read_each_time(store):
    just_after_midnight = datetime(2026, 5, 5, 0, 10, tzinfo=UTC)
    live.snapshot(store, just_after_midnight)
    with CaptureQueriesContext(connection) as queries:
        live.snapshot(store, just_after_midnight)
    assert [q for q in queries.captured_queries if "ORDER BY ts" in q["sql"]]


@postgres_only
def test_pruning_drops_only_notes_older_than_the_live_view_looks(store):
    live_history.clear()
    kept = past_numbers(store)
    old_hour = int(datetime(2026, 4, 20, 9, tzinfo=UTC).timestamp()) // 3600
    EventChange.objects.create(store_id=store.pk, hour=old_hour)
    before = EventChange.objects.exclude(hour=old_hour).count()
    assert before  # the fixture's events, written for past hours, left notes
    assert live_history.prune_notes(NOW) == 1
    assert live_history.prune_notes(NOW) == 0
    assert EventChange.objects.count() == before
    with CaptureQueriesContext(connection) as queries:
        assert past_numbers(store) == kept  # last week's notes are still there: still kept
    assert not [q for q in queries.captured_queries if "ORDER BY ts" in q["sql"]]
