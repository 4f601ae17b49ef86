"""The real-time list and the desk for a chain of stores: one query for every store's sales so far, and the
same figures as counting each store on its own (its local day, DST days included)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics import live
from stores.models import Order
from stores.services import sales_summary
from tests.factories import MembershipFactory, OrderFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney")
BUYERS = ("", "b1", "b2", "b3", "", "b4", "b5")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# Frozen clocks, each on or next to a day whose clocks changed in one of the zones.
MOMENTS = {
    # 02:30 PDT on 9 March: yesterday's 02:30 in Los Angeles was skipped (spring forward); 20:30 in Sydney.
    "los-angeles-day-after-spring-forward": utc(2026, 3, 9, 9, 30),
    # 02:30 AEST on 6 April: yesterday's 02:30 in Sydney came twice (fall back); 09:30 PDT in Los Angeles.
    "sydney-day-after-fall-back": utc(2026, 4, 5, 16, 30),
    # 14:00 AEDT on 4 October: Sydney's today is 23 hours long (spring forward at 02:00).
    "sydney-spring-forward-day": utc(2026, 10, 4, 3, 0),
    # 01:30 PST on 2 November: yesterday's 01:30 in Los Angeles came twice (fall back).
    "los-angeles-day-after-fall-back": utc(2026, 11, 2, 9, 30),
}


def chain(now: datetime, zones=ZONES, user=None):
    """Stores in `zones` with paid orders every 20 minutes over the last three days (some after `now`,
    some unpaid), and orders exactly on each window's bounds, where an off-by-one would show."""
    stores = []
    for z, zone in enumerate(zones):
        store = StoreFactory(timezone=zone)
        if user is not None:
            MembershipFactory(store=store, user=user)
        paid = [now - timedelta(days=3) + timedelta(minutes=20 * i + 7 * z) for i in range(3 * 72 + 4)]
        for w in live.windows(store, now)[:2]:
            paid += [w.start, w.start - timedelta(microseconds=1), w.end, w.end - timedelta(microseconds=1)]
        orders = [OrderFactory.build(store=store, placed_at=at, paid_at=at, buyer_ref=BUYERS[i % len(BUYERS)],
                                     total=Decimal(f"{(i * 37 + z) % 500}.{i % 100:02d}"))
                  for i, at in enumerate(paid)]
        orders += [OrderFactory.build(store=store, placed_at=now - timedelta(hours=h), paid_at=None,
                                      status="pending") for h in (1, 5)]
        Order.objects.bulk_create(orders)
        stores.append(store)
    return stores


def one_by_one(store, now):
    """The per-store way the pages counted before: one sales_summary query per window."""
    today, yesterday, _ = live.windows(store, now)
    return sales_summary(store, today.start, today.end), sales_summary(store, yesterday.start, yesterday.end)


@pytest.mark.parametrize("now", MOMENTS.values(), ids=MOMENTS.keys())
def test_every_stores_figures_are_those_of_counting_it_on_its_own(now):
    stores = chain(now)
    with CaptureQueriesContext(connection) as queries:
        together = live.so_far_by_store(stores, now)
    assert len(queries) == 1
    for store in stores:
        assert together[store.pk] == one_by_one(store, now), store.timezone
        assert live.so_far_by_store([store], now)[store.pk] == one_by_one(store, now)  # alone, as in the chain
        assert together[store.pk][0].orders and together[store.pk][1].orders  # something was counted


@pytest.mark.parametrize("now", MOMENTS.values(), ids=MOMENTS.keys())
def test_the_real_time_list_and_the_desk_show_each_stores_own_figures(client, now):
    user = UserFactory()
    stores = chain(now, user=user)
    client.force_login(user)
    with time_machine.travel(now, tick=False):
        rows = client.get(reverse("metrics:live")).context["rows"]
        panels = client.get(reverse("desk")).context["panels"]
    expected = {store.pk: one_by_one(store, now) for store in stores}
    assert {r["store"].pk: (r["today"], r["yesterday"]) for r in rows} == expected
    assert {p["store"].pk: (p["today"], p["yesterday"]) for p in panels} == expected


def test_a_store_with_no_orders_shows_none_today_and_none_yesterday(client_a, store_a):
    [row] = client_a.get(reverse("metrics:live")).context["rows"]
    assert (row["today"].orders, row["today"].buyers, row["today"].gmv, row["today"].aov) == (0, 0, 0, None)
    assert row["yesterday"] == row["today"]


def queries_of_the_list(client, stores: int) -> int:
    user = UserFactory()
    now = utc(2026, 11, 11, 4)
    chain(now, zones=[ZONES[n % len(ZONES)] for n in range(stores)], user=user)
    client.force_login(user)
    with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("metrics:live"))
    assert len(response.context["rows"]) == stores
    return len(queries)


def test_the_real_time_list_runs_as_many_queries_for_20_stores_as_for_2(client):
    # A chain with hundreds of stores used to wait for two queries a store.
    assert queries_of_the_list(client, 20) == queries_of_the_list(client, 2)


def test_a_store_listed_twice_is_counted_once():
    now = MOMENTS["sydney-day-after-fall-back"]
    [store] = chain(now, zones=["Australia/Sydney"])
    assert live.so_far_by_store([store, store], now) == {store.pk: one_by_one(store, now)}


def test_a_superusers_thousands_of_stores_are_counted_a_chunk_a_query(monkeypatch):
    # 9 parameters a store: a query for every store at once would pass the databases' limits on parameters.
    monkeypatch.setattr(live, "SO_FAR_CHUNK", 2)
    now = MOMENTS["los-angeles-day-after-fall-back"]
    stores = chain(now, zones=ZONES + ZONES[:2])
    with CaptureQueriesContext(connection) as queries:
        together = live.so_far_by_store(stores, now)
    assert len(queries) == 3
    assert together == {store.pk: one_by_one(store, now) for store in stores}
