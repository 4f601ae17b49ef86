"""The ingest API's refund with its items (lines by number or SKU): refunds by product in the daily figures, once
however often the batch is sent; items an order line cannot hold refuse the batch, naming each."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from metrics.models import TrafficEvent
from stores.models import ApiKey, OrderLine
from tests.factories import ProductFactory
from tests.metrics.test_ingest_api import order_paid, post
from tests.stores.test_import_refunded_lines import product_refunds

pytestmark = pytest.mark.django_db
REFUND_DAY = date(2026, 11, 26)  # the refund's ts, in Shanghai


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def key(store_a):
    ProductFactory(store=store_a, sku="MUG-1", title="Mug")
    ProductFactory(store=store_a, sku="TEA-9", title="Tea tin")
    return ApiKey.issue(store_a)[1]


def two_lines(event_id="o-1"):
    """Order A1001: two mugs (50.00) and a tea tin (30.00)."""
    return order_paid(event_id, total="80.00", payments=[], lines=[
        {"sku": "MUG-1", "quantity": 2, "unit_price": "25.00"}, {"sku": "TEA-9", "quantity": 1, "unit_price": "30.00"}])


def refund(event_id="r-1", amount="55.00", lines=None):
    return {"id": event_id, "type": "refund", "ts": "2026-11-26T10:00:00+08:00", "order_id": "A1001",
            "amount": amount, "lines": lines if lines is not None else [
                {"line_no": 1, "quantity": 1, "amount": "25.00"}, {"sku": "TEA-9", "quantity": 1, "amount": "30.00"}]}


def line_refunds():
    return list(OrderLine.objects.order_by("line_no").values_list("refunded_quantity", "refund_amount"))


def test_a_refund_with_its_items_shows_as_refunds_by_product_on_its_day(client, store_a, key):
    response = post(client, key, [two_lines(), refund()])
    assert response.status_code == 202
    assert line_refunds() == [(1, Decimal("25.00")), (1, Decimal("30.00"))]
    assert product_refunds(store_a, REFUND_DAY) == {"Mug": (Decimal("25.00"), 1), "Tea tin": (Decimal("30.00"), 1)}


def test_the_same_batch_sent_again_refunds_no_item_twice(client, store_a, key):
    post(client, key, [two_lines(), refund()])
    again = post(client, key, [two_lines(), refund()])
    assert (again.status_code, again.json()) == (202, {"accepted": 0, "duplicates": 2})
    assert line_refunds() == [(1, Decimal("25.00")), (1, Decimal("30.00"))]


def test_a_second_refund_adds_its_items(client, store_a, key):
    post(client, key, [two_lines(), refund()])
    post(client, key, [refund("r-2", "25.00", [{"sku": "MUG-1", "quantity": 1, "amount": "25.00"}])])
    assert line_refunds() == [(2, Decimal("50.00")), (1, Decimal("30.00"))]
    assert product_refunds(store_a, REFUND_DAY)["Mug"] == (Decimal("50.00"), 2)


def test_items_beyond_what_a_line_holds_refuse_the_batch_naming_each(client, store_a, key):
    post(client, key, [two_lines(), refund()])
    response = post(client, key, [refund("r-2", "25.00", [
        {"line_no": 1, "quantity": 2, "amount": "5.00"}, {"line_no": 2, "quantity": 0, "amount": "1.00"},
        {"line_no": 3, "quantity": 1, "amount": "1.00"}])])
    assert response.status_code == 400
    assert [(e["index"], e["field"], e["reason"]) for e in response.json()["errors"]] == [
        (0, "lines.0.quantity", "3 refunded is more than the line's quantity 2 (with 1 already refunded)"),
        (0, "lines.1.amount", "31.00 refunded is more than the line's amount 30.00 (with 30.00 already refunded)"),
        (0, "lines.2.line_no", "order 'A1001' has no line with line_no 3"),
    ]
    assert not TrafficEvent.objects.filter(event_id="r-2").exists()
    assert line_refunds() == [(1, Decimal("25.00")), (1, Decimal("30.00"))]


def test_a_line_named_by_a_sku_on_two_lines_or_both_ways_is_refused(client, store_a, key):
    order = order_paid(lines=[{"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"},
                              {"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"}])
    response = post(client, key, [order, refund(amount="25.00", lines=[{"sku": "MUG-1", "quantity": 1,
                                                                        "amount": "25.00"}])])
    assert response.json()["errors"][0]["reason"] == (
        "'MUG-1' is on lines 1, 2 of order 'A1001': name the line by line_no")
    both = post(client, key, [order, refund(amount="25.00", lines=[{"line_no": 1, "sku": "MUG-1", "quantity": 1,
                                                                     "amount": "25.00"}])])
    assert [(e["field"], e["reason"]) for e in both.json()["errors"]] == [
        ("lines.0", "give the line's line_no or its sku (one of them)")]


def test_items_worth_more_than_the_refund_are_refused(client, store_a, key):
    response = post(client, key, [two_lines(), refund(amount="20.00")])
    assert [(e["index"], e["reason"]) for e in response.json()["errors"]] == [
        (1, "the lines' amounts add up to 55.00, more than the refund's amount 20.00")]
