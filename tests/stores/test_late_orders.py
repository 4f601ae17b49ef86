"""Orders recorded after their day was rolled up (yesterday's export, a late webhook, a delayed API batch)
count in that day's daily numbers: the import redoes the day at once; the webhook and the API mark the day
in their own transaction (metrics.StaleDay) and a worker rebuilds it after the commit, or beat's sweep if
that task never runs. A day the nightly job has not reached is left to it."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import tasks as metrics_tasks
from metrics.ingest import ingest_events
from metrics.models import DailyMetric, StaleDay
from metrics.rollup import rollup_day
from metrics.stale_days import refresh_stale_days
from stores import tasks
from stores.importers import import_orders
from stores.models import ImportJob
from stores.webhooks import shopify_signature
from tests.factories import ProductFactory, StoreFactory
from tests.metrics.test_stale_days import rebuilds

pytestmark = pytest.mark.django_db
# 12:00 on 26 Nov in Shanghai (store A), 20:00 on 25 Nov in Los Angeles.
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
NOV = {day: datetime(2026, 11, day).date() for day in range(20, 27)}
HEADER = "order_id,placed_at,paid_at,refund_amount,refunded_at,total,sku,unit_price\n"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def run_tasks_now(monkeypatch):
    """The worker, here and now: each rebuild task enqueued runs at once; the list holds their arguments."""
    sent = []

    def delay(*args):
        sent.append(args)
        return metrics_tasks.refresh_stale_days(*args)

    monkeypatch.setattr(metrics_tasks.refresh_stale_days, "delay", delay)
    return sent


def marked(store):
    return dict(StaleDay.objects.filter(store=store).values_list("day", "marks"))


def day_value(store, day, metric):
    return DailyMetric.objects.filter(store=store, day=day, metric=metric, dimension="").values_list(
        "value", flat=True).first()


def test_an_order_imported_for_yesterday_after_the_rollup_counts_in_yesterdays_numbers(client_a, store_a):
    rollup_day(store_a, NOV[25])
    upload = SimpleUploadedFile("orders.csv", (HEADER + "L-1,2026-11-25 10:00,2026-11-25 10:05,,,80.00,MUG-1,80.00\n"
                                               "L-2,2026-11-24 10:00,2026-11-24 10:05,,,5.00,MUG-1,5.00\n").encode())
    response = client_a.post(reverse("stores:import", args=[store_a.slug]), {"kind": "orders", "file": upload})
    tasks.run_import(ImportJob.objects.get(store=store_a).pk)  # the worker's task, here in the test's process
    response = client_a.get(response["Location"])
    assert "2 created" in response.content.decode()
    assert "Daily numbers of 25 Nov 2026 updated." in response.content.decode()
    assert (day_value(store_a, NOV[25], "orders"), day_value(store_a, NOV[25], "gmv")) == (1, Decimal("80.00"))
    assert not DailyMetric.objects.filter(store=store_a, day=NOV[24]).exists()  # left to the nightly job


def test_importing_the_same_orders_again_redoes_no_day(store_a):
    rollup_day(store_a, NOV[25])
    text = HEADER + "L-1,2026-11-25 10:00,2026-11-25 10:05,,,80.00,MUG-1,80.00\n"
    assert import_orders(store_a, text).refreshed == [NOV[25]]
    again = import_orders(store_a, text)
    assert (again.duplicates, again.refreshed) == (1, [])
    assert "Daily numbers" not in again.summary()


def test_a_larger_refund_imported_later_redoes_its_new_day_and_the_day_it_moved_away_from(store_a):
    import_orders(store_a, HEADER + "R-1,2026-11-23 10:00,2026-11-23 10:05,5.00,2026-11-24 09:00,50.00,MUG-1,50.00\n")
    for day in (NOV[23], NOV[24], NOV[25]):
        rollup_day(store_a, day)
    assert day_value(store_a, NOV[24], "refunds") == Decimal("5.00")
    result = import_orders(
        store_a, HEADER + "R-1,2026-11-23 10:00,2026-11-23 10:05,20.00,2026-11-25 18:00,50.00,MUG-1,50.00\n")
    assert result.refreshed == [NOV[23], NOV[24], NOV[25]]
    assert (day_value(store_a, NOV[24], "refunds"), day_value(store_a, NOV[25], "refunds")) == (0, Decimal("20.00"))


def linen_and_wax():
    return StoreFactory(slug="linen-and-wax", timezone="America/Los_Angeles", currency="USD", country="US",
                        webhook_secret="shpss_4f0c2e7d9a1b")


def post_shopify_order(client, shop):
    body = (Path(__file__).parent / "fixtures" / "shopify_order_create.json").read_bytes()
    return client.post(f"/webhooks/shopify/{shop.slug}/orders", body, content_type="application/json",
                       HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, shop.webhook_secret)).status_code


def test_a_shopify_order_delivered_late_is_counted_in_its_rolled_up_day_after_the_commit(
        client, run_tasks_now, django_capture_on_commit_callbacks):
    shop = linen_and_wax()
    rollup_day(shop, NOV[24])  # the fixture's order was paid 2026-11-24 18:42 in Los Angeles
    with django_capture_on_commit_callbacks(execute=True):
        assert post_shopify_order(client, shop) == 201
        assert marked(shop) == {NOV[24]: 1}  # in the order's own transaction
        assert run_tasks_now == []  # the rebuild waits for the commit
    assert run_tasks_now == [(shop.pk,)]
    assert (day_value(shop, NOV[24], "orders"), day_value(shop, NOV[24], "gmv")) == (1, Decimal("114.80"))
    assert marked(shop) == {}


def test_a_late_shopify_order_whose_task_is_lost_is_counted_by_the_next_sweep(
        client, django_capture_on_commit_callbacks):
    shop = linen_and_wax()
    rollup_day(shop, NOV[24])
    with django_capture_on_commit_callbacks() as callbacks:  # never run: no worker took the task
        assert post_shopify_order(client, shop) == 201
    assert len(rebuilds(callbacks)) == 1
    assert day_value(shop, NOV[24], "orders") == 0
    assert marked(shop) == {NOV[24]: 1}  # the day stays marked, not forgotten

    assert metrics_tasks.refresh_stale_days() == ["linen-and-wax:2026-11-24"]  # beat's sweep: every store
    assert (day_value(shop, NOV[24], "orders"), day_value(shop, NOV[24], "gmv")) == (1, Decimal("114.80"))
    assert marked(shop) == {}


def test_the_same_shopify_order_delivered_again_marks_no_day(client, django_capture_on_commit_callbacks):
    shop = linen_and_wax()
    rollup_day(shop, NOV[24])
    assert post_shopify_order(client, shop) == 201
    refresh_stale_days()
    with django_capture_on_commit_callbacks() as callbacks:
        assert post_shopify_order(client, shop) == 200  # already there: nothing changed
    assert (rebuilds(callbacks), marked(shop)) == ([], {})


def test_a_late_order_for_a_day_not_rolled_up_yet_is_left_to_the_nightly_job(client):
    shop = linen_and_wax()
    assert post_shopify_order(client, shop) == 201
    assert marked(shop) == {}
    assert not DailyMetric.objects.filter(store=shop).exists()


def test_an_api_batch_of_live_orders_enqueues_nothing(store_a, django_capture_on_commit_callbacks):
    rollup_day(store_a, NOV[25])
    ProductFactory(store=store_a, sku="MUG-1")
    with django_capture_on_commit_callbacks() as callbacks:
        ingest_events(store_a, [order_paid("o-1", "A1", "2026-11-26T11:00:00+08:00")])
    assert (rebuilds(callbacks), marked(store_a)) == ([], {})


def test_an_api_refund_of_an_older_order_redoes_the_day_the_refund_moved_away_from(
        store_a, run_tasks_now, django_capture_on_commit_callbacks):
    ProductFactory(store=store_a, sku="MUG-1")
    ingest_events(store_a, [order_paid("o-1", "A1", "2026-11-24T11:00:00+08:00"),
                            {"id": "r-1", "type": "refund", "ts": "2026-11-24T12:00:00+08:00", "order_id": "A1",
                             "amount": "10.00"}])
    rollup_day(store_a, NOV[24])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_events(store_a, [{"id": "r-2", "type": "refund", "ts": "2026-11-26T09:00:00+08:00",
                                 "order_id": "A1", "amount": "5.00"}])
        assert marked(store_a) == {NOV[24]: 1}  # today's refund day is left to the nightly job
    assert run_tasks_now == [(store_a.pk,)]
    assert day_value(store_a, NOV[24], "refunds") == 0
    assert marked(store_a) == {}


def order_paid(event_id, order_id, ts):
    return {"id": event_id, "type": "order_paid", "ts": ts, "order_id": order_id, "total": "50.00",
            "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "50.00"}]}


def test_the_task_queued_before_the_outbox_still_redoes_only_days_already_rolled_up(store_a):
    rollup_day(store_a, NOV[25])
    assert tasks.refresh_order_days(store_a.pk, ["2026-11-24", "2026-11-25"]) == ["2026-11-25"]
    assert tasks.refresh_order_days(0, ["2026-11-25"]) == []  # a store deleted meanwhile
