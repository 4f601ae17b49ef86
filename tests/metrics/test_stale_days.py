"""Late facts for a day already rolled up mark it in `metrics.StaleDay`, in their own transaction; the rebuild
(after the commit, or beat's sweep every 5 minutes) rolls the day up again and removes only the marks it saw."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from metrics import live_cache, stale_days
from metrics.ingest import ingest_events
from metrics.models import DailyMetric, StaleDay
from metrics.rollup import rollup_day
from metrics.stale_days import refresh_stale_days
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
# 12:00 on 26 Nov in Shanghai (store A).
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
YESTERDAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def visit(event_id: str, visitor: str, ts: str = "2026-11-25T10:00:00+08:00") -> dict:
    return {
        "id": event_id,
        "type": "session_start",
        "ts": ts,
        "session_id": f"s-{event_id}",
        "visitor_id": visitor,
        "source": "direct",
    }


def value(store, metric, day=YESTERDAY):
    return (
        DailyMetric.objects.filter(store=store, day=day, metric=metric, dimension="")
        .values_list("value", flat=True)
        .first()
    )


def marked(store):
    return dict(StaleDay.objects.filter(store=store).values_list("day", "marks"))


@pytest.fixture
def yesterday_rolled_up(store_a):
    """Yesterday had one paid order and one visitor when the night rolled it up."""
    ProductFactory(store=store_a, sku="MUG-1")
    ingest_events(
        store_a,
        [
            visit("v-0", "visitor-0"),
            {
                "id": "o-1",
                "type": "order_paid",
                "ts": "2026-11-25T10:05:00+08:00",
                "order_id": "A1",
                "total": "50.00",
                "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "50.00"}],
            },
        ],
    )
    rollup_day(store_a, YESTERDAY)
    assert (value(store_a, "visitors"), value(store_a, "conversion")) == (1, 1)
    return store_a


def test_a_late_visitors_batch_for_yesterday_changes_yesterdays_visitors_and_conversion(yesterday_rolled_up):
    store = yesterday_rolled_up
    ingest_events(store, [visit(f"late-{n}", f"visitor-{n}") for n in range(1, 4)])
    assert marked(store) == {YESTERDAY: 1}  # one mark for the batch, not one an event

    assert refresh_stale_days() == [(store, YESTERDAY)]
    assert (value(store, "visitors"), value(store, "sessions")) == (4, 4)
    assert value(store, "conversion") == Decimal("0.25")
    assert marked(store) == {}


def rebuilds(callbacks: list) -> list:
    """The after-commit callbacks other than the live view's (each batch raises its generation, metrics.live_cache)."""
    return [callback for callback in callbacks if getattr(callback, "func", None) is not live_cache.bump_generation]


def test_events_of_today_mark_nothing(yesterday_rolled_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest_events(yesterday_rolled_up, [visit("now-1", "visitor-9", ts="2026-11-26T11:00:00+08:00")])
    assert (rebuilds(callbacks), marked(yesterday_rolled_up)) == ([], {})


def test_late_events_for_a_day_the_night_has_not_reached_mark_nothing(store_a):
    ingest_events(store_a, [visit("v-1", "visitor-1", ts="2026-11-24T10:00:00+08:00")])
    assert marked(store_a) == {}


def test_a_late_delivery_notice_marks_nothing_it_changes_no_daily_number(yesterday_rolled_up,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest_events(yesterday_rolled_up, [{"id": "d-1", "type": "order_delivered",
                                             "ts": "2026-11-25T18:00:00+08:00", "order_id": "A1"}])
    assert (rebuilds(callbacks), marked(yesterday_rolled_up)) == ([], {})
    assert yesterday_rolled_up.orders.get().delivered_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_a_retried_batch_marks_nothing_more(yesterday_rolled_up):
    batch = [visit("late-1", "visitor-1")]
    ingest_events(yesterday_rolled_up, batch)
    ingest_events(yesterday_rolled_up, batch)  # every event a duplicate: no fact changed
    assert marked(yesterday_rolled_up) == {YESTERDAY: 1}


def test_running_the_rebuild_twice_does_nothing_the_second_time(yesterday_rolled_up):
    ingest_events(yesterday_rolled_up, [visit("late-1", "visitor-1")])
    refresh_stale_days()
    rows = set(DailyMetric.objects.values_list("pk", "value"))
    assert refresh_stale_days() == []
    assert set(DailyMetric.objects.values_list("pk", "value")) == rows  # not even rewritten


def test_a_mark_that_arrives_during_the_rebuild_is_kept_for_the_next_run(yesterday_rolled_up, monkeypatch):
    store = yesterday_rolled_up
    ingest_events(store, [visit("late-1", "visitor-1")])
    rebuild = stale_days.refresh_days

    def rebuild_while_another_batch_arrives(store, days):
        redone = rebuild(store, days)
        ingest_events(store, [visit("late-2", "visitor-2")])  # after the rebuild read yesterday's facts
        return redone

    monkeypatch.setattr(stale_days, "refresh_days", rebuild_while_another_batch_arrives)
    assert refresh_stale_days() == [(store, YESTERDAY)]
    assert value(store, "visitors") == 2  # without the batch that came during the rebuild
    assert marked(store) == {YESTERDAY: 2}

    monkeypatch.undo()
    assert refresh_stale_days() == [(store, YESTERDAY)]
    assert value(store, "visitors") == 3
    assert marked(store) == {}


def test_a_rebuild_for_one_store_leaves_the_other_stores_marks(yesterday_rolled_up, store_b):
    rollup_day(store_b, date(2026, 11, 24))  # yesterday in Los Angeles (20:00 on 25 Nov there)
    ingest_events(yesterday_rolled_up, [visit("late-1", "visitor-1")])
    ingest_events(store_b, [visit("late-b", "visitor-b", ts="2026-11-24T10:00:00-08:00")])
    assert refresh_stale_days([yesterday_rolled_up.pk]) == [(yesterday_rolled_up, YESTERDAY)]
    assert marked(store_b) == {date(2026, 11, 24): 1}


def test_a_mark_for_a_day_no_longer_rolled_up_is_dropped_and_left_to_the_nightly_job(yesterday_rolled_up):
    ingest_events(yesterday_rolled_up, [visit("late-1", "visitor-1")])
    DailyMetric.objects.filter(store=yesterday_rolled_up).delete()
    assert refresh_stale_days() == []
    assert (marked(yesterday_rolled_up), DailyMetric.objects.count()) == ({}, 0)


def test_beat_sweeps_the_marked_days_every_five_minutes():
    call_command("setup_schedules", stdout=io.StringIO())
    sweep = PeriodicTask.objects.get(task="metrics.tasks.refresh_stale_days")
    assert (sweep.interval.every, sweep.interval.period, sweep.kwargs) == (300, "seconds", "{}")
