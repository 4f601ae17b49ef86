"""The nightly batch: many stores in different zones rolled up and judged at once, equal to one at a time."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import AdDailyPerformance, AdPlan
from metrics.anomaly import detect_anomalies, detect_many
from metrics.models import Anomaly, DailyMetric, TrafficEvent
from metrics.rollup import collect_day, rollup_day, rollup_days, run_nightly
from metrics.tasks import nightly_rollup_chunk
from reviews.models import Review
from stores.models import Order, OrderLine, Payment, Product, Violation
from tests.factories import StoreFactory
from tests.metrics.test_anomaly import seed_daily

pytestmark = pytest.mark.django_db

SOURCES = ["organic_search", "paid_search", "direct", "social", "recommendation"]
ZONES = ["America/Los_Angeles", "Asia/Shanghai", "Europe/Berlin", "America/Sao_Paulo", "Pacific/Auckland"]


def cells(store, day):
    return {(m, d, v): val for m, d, v, val in DailyMetric.objects.filter(store=store, day=day)
            .values_list("metric", "dimension", "dimension_value", "value")}


def seed_facts(store, day, seed, orders=25):
    """Every kind of fact around the store-local day, some just outside its bounds."""
    rng = random.Random(seed)
    start, end = store.day_bounds(day)
    span = end - start + timedelta(hours=4)

    def when():
        return start - timedelta(hours=2) + span * rng.random()

    products = [Product.objects.create(store=store, sku=f"S{seed}-{k}", title=f"P{k}", price=Decimal(7 + k))
                for k in range(4)]
    for k in range(orders):
        ts = when()
        order = Order.objects.create(
            store=store, external_id=f"{seed}-{k}", placed_at=ts, paid_at=ts if k % 9 else None,
            total=Decimal(f"{rng.uniform(5, 90):.2f}"), traffic_source=rng.choice(SOURCES),
            buyer_ref=rng.choice(["", "b1", "b2", f"b{k}"]))
        if k % 5 == 0:
            order.refunded_at, order.refund_amount = when(), (order.total / 3).quantize(Decimal("0.01"))
            order.save()
        for line_no in range(1, rng.randint(1, 3) + 1):
            product = rng.choice(products + [None])
            # A refunded order's first line names its refund (Shopify's refund_line_items): refunds by product.
            refunded = order.refunded_at is not None and line_no == 1
            OrderLine.objects.create(order=order, line_no=line_no, product=product, quantity=rng.randint(1, 3),
                                     unit_price=Decimal("3.10"), amount=Decimal(f"{rng.uniform(1, 40):.2f}"),
                                     refunded_quantity=int(refunded), refund_amount=Decimal("1.00") * refunded)
        for sequence in range(1, rng.randint(1, 2) + 1):
            Payment.objects.create(order=order, sequence=sequence, type=rng.choice(["credit_card", "voucher", "pix"]),
                                   amount=Decimal(f"{rng.uniform(1, 50):.2f}"))
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store, event_id=f"{seed}-{k}", ts=when(),
                     type=rng.choice(["session_start", "product_view", "add_to_cart", "order_paid"]),
                     visitor_id=rng.choice(["", "v1", "v2", f"v{k % 17}"]), session_id=f"s{k % 23}",
                     source=rng.choice(SOURCES + [""]), product=rng.choice(products + [None]))
        for k in range(120)])
    for channel in ("search", "display", "social"):
        plan = AdPlan.objects.create(store=store, name=f"{channel}-{seed}", channel=channel)
        for back in (0, 1):
            AdDailyPerformance.objects.create(plan=plan, date=day - timedelta(days=back), impressions=900,
                                              clicks=rng.randint(0, 40), spend=Decimal(f"{rng.uniform(0, 30):.2f}"),
                                              orders=rng.randint(0, 3), sales=Decimal(f"{rng.uniform(0, 80):.2f}"))
    for k in range(3):
        Violation.objects.create(store=store, external_id=f"{seed}-{k}", kind="Late", points=k + 1,
                                 amount=Decimal("2.50"), occurred_at=when())
        Review.objects.create(store=store, external_id=f"{seed}-{k}", rating=k + 1, created_at=when())


def world():
    """Five stores in five zones; the day is a DST day in Los Angeles (clocks back) and Auckland."""
    day = date(2026, 11, 1)
    stores = [StoreFactory(timezone=zone, slug=f"z{k}") for k, zone in enumerate(ZONES)]
    for k, store in enumerate(stores[:-1]):
        seed_facts(store, day, seed=k)
    return day, stores  # the last store has no facts at all


def test_batch_rollup_equals_the_orm_statement_of_each_day_in_every_zone():
    day, stores = world()
    assert stores[0].day_bounds(day)[1] - stores[0].day_bounds(day)[0] == timedelta(hours=25)
    rollup_days([(s, day) for s in stores])
    for store in stores:
        want = {key: value for key, value in collect_day(store, day).items()}
        assert cells(store, day) == want, store.timezone
    assert cells(stores[0], day)[("conversion", "", "")] > 0
    assert any(metric == "refunds" and dimension == "product" for s in stores for metric, dimension, _ in cells(s, day))


def test_store_with_no_data_gets_zero_rows_in_the_batch():
    day, stores = world()
    rollup_days([(s, day) for s in stores])
    empty = cells(stores[-1], day)
    assert empty[("orders", "", "")] == 0 and empty[("gmv", "", "")] == 0 and empty[("visitors", "", "")] == 0
    assert all(d == "" for _, d, _ in empty) and ("aov", "", "") not in empty


def test_running_the_batch_twice_gives_the_same_rows():
    day, stores = world()
    rollup_days([(s, day) for s in stores])
    first = {s.pk: cells(s, day) for s in stores}
    rollup_days([(s, day) for s in stores])
    assert {s.pk: cells(s, day) for s in stores} == first
    assert DailyMetric.objects.filter(day=day).count() == sum(len(c) for c in first.values())


def test_batch_rollup_equals_one_store_at_a_time():
    day, stores = world()
    rollup_days([(s, day) for s in stores])
    batch = {s.pk: cells(s, day) for s in stores}
    DailyMetric.objects.all().delete()
    for store in stores:
        rollup_day(store, day)
    assert {s.pk: cells(s, day) for s in stores} == batch


def test_nightly_rolls_each_store_its_own_local_yesterday():
    day, stores = world()
    # 12:00 UTC on 2 Nov: past 00:30 everywhere; Auckland is already on 3 Nov, so its yesterday is 2 Nov.
    with time_machine.travel(datetime(2026, 11, 2, 12, 0, tzinfo=UTC), tick=False):
        done = {s.timezone: d for s, d in run_nightly(stores=stores)}
        assert run_nightly(stores=stores) == []
    assert done["Pacific/Auckland"] == date(2026, 11, 2)
    assert {done[z] for z in ZONES[:-1]} == {day}


def test_second_delivery_of_a_chunk_task_changes_nothing():
    day, stores = world()
    chunk = [[s.pk, day.isoformat()] for s in stores]
    assert len(nightly_rollup_chunk(chunk)) == len(stores)
    first = {s.pk: cells(s, day) for s in stores}
    assert nightly_rollup_chunk(chunk) == []
    assert {s.pk: cells(s, day) for s in stores} == first


# --- detection --------------------------------------------------------------------------------------------

def judged(anomalies):
    return sorted((a.store_id, a.metric, a.dimension, a.dimension_value, a.value, a.score, a.explanation,
                   a.change_dod) for a in anomalies)


def history_world():
    """Four stores, two countries, a collapsed source in two of them, one with no history at all."""
    day = date(2026, 5, 6)
    stores = [StoreFactory(timezone=zone, country=country, slug=f"h{k}") for k, (zone, country) in
              enumerate([("Asia/Shanghai", "CN"), ("America/Los_Angeles", "US"), ("Europe/Berlin", "DE"),
                         ("Asia/Shanghai", "CN")])]
    seed_daily(stores[0], day, 90, drop_source="paid_search")
    seed_daily(stores[1], day, 90)
    seed_daily(stores[2], day, 90, drop_source="direct")
    return day, stores


def test_batch_detection_equals_one_store_at_a_time():
    day, stores = history_world()
    batch = detect_many([(s, day) for s in stores])
    assert {k: len(v) for k, v in batch.items() if v} and not batch[(stores[3].pk, day)]
    from_batch = judged(Anomaly.objects.all())
    Anomaly.objects.all().delete()
    one_by_one = [a for s in stores for a in detect_anomalies(s, day)]
    assert judged(one_by_one) == from_batch
    assert {a.store_id for a in one_by_one} == {stores[0].pk, stores[2].pk}


def test_detecting_a_batch_twice_keeps_the_same_rows():
    day, stores = history_world()
    detect_many([(s, day) for s in stores])
    first = list(Anomaly.objects.order_by("pk").values_list("pk", "metric", "dimension_value", "value", "explanation"))
    detect_many([(s, day) for s in stores])
    assert list(Anomaly.objects.order_by("pk").values_list(
        "pk", "metric", "dimension_value", "value", "explanation")) == first
