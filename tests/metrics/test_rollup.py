"""Rollup of a store-local day: equal to an independent pandas computation, DST-safe, idempotent."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import time_machine
from django.core.management import CommandError, call_command

from metrics.models import DailyMetric, TrafficEvent
from metrics.olist import load_store
from metrics.rollup import collect_day, rollup_day, run_nightly
from tests.factories import OrderFactory, OrderLineFactory, PaymentFactory, StoreFactory, ViolationFactory

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
UTC = ZoneInfo("UTC")


def cells(store, day, dimension=""):
    return {(m, v): val for m, v, val in DailyMetric.objects.filter(store=store, day=day, dimension=dimension)
            .values_list("metric", "dimension_value", "value")}


def expected_from_csv(folder):
    """Independent of the loader: per Brazil-local approval date, from the raw CSV text."""
    orders = pd.read_csv(folder / "olist_orders_dataset.csv", dtype=str).drop_duplicates("order_id")
    items = pd.read_csv(folder / "olist_order_items_dataset.csv", dtype={"order_id": str, "price": float,
                                                                        "freight_value": float})
    items = items.drop_duplicates(["order_id", "order_item_id"])
    pays = pd.read_csv(folder / "olist_order_payments_dataset.csv", dtype={"order_id": str, "payment_value": float})
    pays = pays.drop_duplicates(["order_id", "payment_sequential"])
    paid = orders.dropna(subset=["order_approved_at"]).copy()
    paid["day"] = paid["order_approved_at"].str.slice(0, 10)  # the wall-clock date is the store-local day
    pay_sum = pays.groupby("order_id")["payment_value"].sum()
    item_sum = (items["price"] + items["freight_value"]).groupby(items["order_id"]).sum()
    paid["total"] = paid["order_id"].map(pay_sum).fillna(paid["order_id"].map(item_sum)).fillna(0).round(2)
    per_day = paid.groupby("day").agg(orders=("order_id", "count"), gmv=("total", "sum"))
    lines = items.merge(paid[["order_id", "day"]], on="order_id")
    per_day["sub_payments"] = lines.groupby("day")["price"].sum()
    by_type = pays.merge(paid[["order_id", "day"]], on="order_id").groupby(["day", "payment_type"])[
        "payment_value"].sum()
    return per_day.fillna(0), by_type


def test_olist_rollup_equals_independent_pandas_computation(olist_dir):
    store = StoreFactory(slug="olist", timezone="America/Sao_Paulo", country="BR", currency="BRL")
    load_store(store, olist_dir)
    per_day, by_type = expected_from_csv(olist_dir)
    busiest = per_day.sort_values("orders", ascending=False).index[:6].tolist()
    with_lines = per_day[per_day["sub_payments"] > 0].index[:4].tolist()
    # 2017-10-15 (clocks forward, 23 h) and 2018-02-18 (clocks back, 25 h) were DST days in Brazil.
    days = sorted(set(busiest + with_lines + ["2017-10-15", "2018-02-18"]))
    for text in days:
        day = date.fromisoformat(text)
        rollup_day(store, day)
        got = cells(store, day)
        want = per_day.loc[text] if text in per_day.index else pd.Series({"orders": 0, "gmv": 0, "sub_payments": 0})
        assert got[("orders", "")] == want["orders"], text
        assert got[("gmv", "")] == Decimal(f"{want['gmv']:.2f}"), text
        assert got[("sub_payments", "")] == Decimal(f"{want['sub_payments']:.2f}"), text
        types = cells(store, day, "payment_type")
        for (d, kind), value in by_type.items():
            if d == text:
                key = kind if kind != "not_defined" else "other"
                assert types[("payments", key)] == Decimal(f"{value:.2f}"), (text, kind)
    assert len(days) >= 8


def test_dst_spring_forward_day_has_23_hours_and_counts_its_own_orders():
    store = StoreFactory(timezone="America/Los_Angeles")
    day = date(2026, 3, 8)
    start, end = store.day_bounds(day)
    assert end - start == timedelta(hours=23)
    inside = [datetime(2026, 3, 8, 0, 30, tzinfo=LA), datetime(2026, 3, 8, 3, 15, tzinfo=LA),
              datetime(2026, 3, 8, 23, 59, tzinfo=LA)]
    outside = [datetime(2026, 3, 7, 23, 59, tzinfo=LA), datetime(2026, 3, 9, 0, 0, tzinfo=LA)]
    for ts in inside + outside:
        OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal("10.00"))
    rollup_day(store, day)
    got = cells(store, day)
    assert got[("orders", "")] == 3
    assert got[("gmv", "")] == Decimal("30.00")


def test_dst_fall_back_day_has_25_hours():
    store = StoreFactory(timezone="America/Los_Angeles")
    day = date(2026, 11, 1)
    start, end = store.day_bounds(day)
    assert end - start == timedelta(hours=25)
    OrderFactory(store=store, placed_at=end - timedelta(minutes=1), paid_at=end - timedelta(minutes=1))
    OrderFactory(store=store, placed_at=end, paid_at=end)
    rollup_day(store, day)
    assert cells(store, day)[("orders", "")] == 1


def test_store_with_no_data_yesterday_gets_zero_rows_not_gaps():
    store = StoreFactory()
    rollup_day(store, date(2026, 5, 4))
    got = cells(store, date(2026, 5, 4))
    assert got[("orders", "")] == 0
    assert got[("gmv", "")] == 0
    assert ("aov", "") not in got and ("conversion", "") not in got  # undefined, not zero


def test_breakdowns_by_source_product_and_payment_type():
    store = StoreFactory()
    ts = datetime(2026, 5, 4, 12, tzinfo=LA)
    a = OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal("80.00"), traffic_source="paid_search")
    b = OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal("20.00"), traffic_source="direct")
    OrderLineFactory(order=a, line_no=1, amount=Decimal("80.00"), unit_price=Decimal("80.00"))
    OrderLineFactory(order=b, line_no=1, amount=Decimal("20.00"), unit_price=Decimal("20.00"))
    PaymentFactory(order=a, type="credit_card", amount=Decimal("60.00"), sequence=1)
    PaymentFactory(order=a, type="voucher", amount=Decimal("20.00"), sequence=2)
    PaymentFactory(order=b, type="paypal", amount=Decimal("20.00"))
    ViolationFactory(store=store, occurred_at=ts, points=6)
    rollup_day(store, date(2026, 5, 4))
    overall = cells(store, date(2026, 5, 4))
    assert overall[("aov", "")] == Decimal("50")
    assert overall[("new_violations", "")] == 1 and overall[("violation_points", "")] == 6
    src = cells(store, date(2026, 5, 4), "traffic_source")
    assert src[("gmv", "paid_search")] == Decimal("80.00") and src[("orders", "direct")] == 1
    pay = cells(store, date(2026, 5, 4), "payment_type")
    assert pay[("payment_share", "credit_card")] == Decimal("0.6")
    assert pay[("orders", "voucher")] == 1


def test_a_paid_or_refunded_order_makes_no_visitor_overall_or_by_source():
    # A payment settling (bank transfer, boleto) or a refund being booked is no visit: counted as one, the
    # buyer inflated visitors, lowered conversion and added an "other" source of visitors nobody saw.
    store = StoreFactory()
    ts = datetime(2026, 5, 4, 12, tzinfo=LA)
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store, event_id="s", type="session_start", ts=ts, session_id="s", visitor_id="browser",
                     source="paid_search"),
        TrafficEvent(store=store, event_id="v", type="product_view", ts=ts, session_id="s", visitor_id="browser"),
        TrafficEvent(store=store, event_id="p", type="order_paid", ts=ts, visitor_id="bank-transfer-buyer",
                     source="other"),
        TrafficEvent(store=store, event_id="r", type="refund", ts=ts, visitor_id="last-weeks-buyer")])
    OrderFactory(store=store, placed_at=ts, paid_at=ts, traffic_source="other")
    rollup_day(store, date(2026, 5, 4))
    overall = cells(store, date(2026, 5, 4))
    assert (overall[("visitors", "")], overall[("conversion", "")]) == (1, 1)
    by_source = cells(store, date(2026, 5, 4), "traffic_source")
    assert by_source[("visitors", "paid_search")] == 1 and ("visitors", "other") not in by_source
    assert collect_day(store, date(2026, 5, 4))[("visitors", "", "")] == 1


def test_buyers_are_distinct_known_buyers_guest_orders_are_not_one_buyer_between_them():
    # As the live view and the desk count them (stores.services.sales_summary): two guest orders (no
    # buyer ref) and two orders of b1 are one buyer, not two; a source with guests only has none.
    store = StoreFactory()
    ts = datetime(2026, 5, 4, 12, tzinfo=LA)
    for ref, source in [("", "direct"), ("", "direct"), ("b1", "social"), ("b1", "social")]:
        OrderFactory(store=store, placed_at=ts, paid_at=ts, traffic_source=source, buyer_ref=ref)
    day = date(2026, 5, 4)
    rollup_day(store, day)  # the set-based SQL on Postgres
    assert cells(store, day)[("buyers", "")] == 1
    src = cells(store, day, "traffic_source")
    assert (src[("buyers", "direct")], src[("buyers", "social")]) == (0, 1)
    want = collect_day(store, day)  # the ORM statement (SQLite demo, and the reference of the SQL)
    assert (want[("buyers", "", "")], want[("buyers", "traffic_source", "direct")]) == (1, 0)


def test_rerunning_a_day_replaces_it_exactly():
    store = StoreFactory()
    ts = datetime(2026, 5, 4, 12, tzinfo=LA)
    keep = OrderFactory(store=store, placed_at=ts, paid_at=ts, traffic_source="direct")
    gone = OrderFactory(store=store, placed_at=ts, paid_at=ts, traffic_source="social")
    rollup_day(store, date(2026, 5, 4))
    first = cells(store, date(2026, 5, 4))
    rollup_day(store, date(2026, 5, 4))
    assert cells(store, date(2026, 5, 4)) == first
    gone.delete()
    rollup_day(store, date(2026, 5, 4))
    assert cells(store, date(2026, 5, 4))[("orders", "")] == 1
    assert set(cells(store, date(2026, 5, 4), "traffic_source")) >= {("orders", keep.traffic_source)}
    assert ("orders", "social") not in cells(store, date(2026, 5, 4), "traffic_source")


def test_nightly_rolls_up_yesterday_after_0030_local_and_second_run_does_nothing():
    store = StoreFactory(timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 5, 5, 0, 10, tzinfo=LA), tick=False):
        assert [(s, d) for s, d in run_nightly(stores=[store])] == [(store, date(2026, 5, 3))]
    with time_machine.travel(datetime(2026, 5, 5, 0, 40, tzinfo=LA), tick=False):
        assert run_nightly(stores=[store]) == [(store, date(2026, 5, 4))]
        assert run_nightly(stores=[store]) == []


def test_nights_missed_by_an_outage_are_caught_up_oldest_first():
    store = StoreFactory(timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 5, 2, 1, 0, tzinfo=LA), tick=False):
        assert run_nightly(stores=[store]) == [(store, date(2026, 5, 1))]
    # The workers were down for three nights.
    with time_machine.travel(datetime(2026, 5, 5, 1, 0, tzinfo=LA), tick=False):
        assert run_nightly(stores=[store]) == [(store, date(2026, 5, d)) for d in (2, 3, 4)]
        assert run_nightly(stores=[store]) == []
    # A store never rolled up is not back-filled by the nightly job (that is `manage.py backfill`).
    new = StoreFactory(timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 5, 5, 2, 0, tzinfo=LA), tick=False):
        assert run_nightly(stores=[new]) == [(new, date(2026, 5, 4))]


def test_backfill_refuses_a_day_not_complete_in_the_stores_zone():
    store = StoreFactory(slug="bf", timezone="Asia/Shanghai")
    # 17:14 in Shanghai: today would be rolled up as a part-day that no night corrects.
    with time_machine.travel(datetime(2026, 11, 26, 9, 14, tzinfo=UTC), tick=False):
        with pytest.raises(CommandError, match=r"2026-11-26 is not complete yet for bf \(Asia/Shanghai\): "
                                               r"its last complete day is 2026-11-25"):
            call_command("backfill", "--from", "2026-11-20", "--to", "2026-11-26")
        assert not DailyMetric.objects.filter(store=store).exists()
        call_command("backfill", "--from", "2026-11-24", "--to", "2026-11-25", "--no-detect")
    assert DailyMetric.objects.filter(store=store, metric="orders", dimension="").count() == 2


def test_backfill_command_rebuilds_a_range_and_rejects_bad_dates():
    store = StoreFactory(slug="bf")
    call_command("backfill", "--from", "2026-05-01", "--to", "2026-05-03", "--store", "bf")
    assert DailyMetric.objects.filter(store=store, metric="orders", dimension="").count() == 3
    with pytest.raises(CommandError, match="before"):
        call_command("backfill", "--from", "2026-05-03", "--to", "2026-05-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("backfill", "--from", "May 1", "--to", "2026-05-01")
    with pytest.raises(CommandError, match="No store"):
        call_command("backfill", "--from", "2026-05-01", "--to", "2026-05-01", "--store", "nope")
