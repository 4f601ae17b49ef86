"""A Shopify refund's items (refund_line_items) on the order's lines: refunds by product in the daily figures,
once however often Shopify sends the refund; an item the order lacks is logged, the money recorded."""

import copy
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from metrics.models import DailyMetric
from metrics.rollup import rollup_day
from metrics.stale_days import refresh_stale_days
from stores.models import Order, OrderLine
from tests.stores.test_shopify_refunds import refund, updated_with
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db
APRON, WRAP, CANDLE = 14302918271073, 14302918303841, 14302918336609  # Shopify's line item ids
REFUND_DAY = date(2026, 11, 26)  # the refund's created_at, in Los Angeles


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


def three_lines():
    """The fixture order with a third line: aprons, a beeswax wrap and a candle."""
    payload = copy.deepcopy(PAYLOAD)
    payload["line_items"].append({**payload["line_items"][1], "id": CANDLE, "sku": "CANDLE-SOY", "title": "Soy candle",
                                  "price": "12.00", "quantity": 1, "total_discount": "0.00"})
    return payload


def wrap_refund(refund_id=801, line_item_id=WRAP, **kwargs):
    """Shopify's refund of the wrap alone (one line of three), with its subtotal in both money sets."""
    body = refund(refund_id, **kwargs)
    body["refund_line_items"] = [{
        "id": 6001, "line_item_id": line_item_id, "quantity": 1, "restock_type": "return", "location_id": 3,
        "subtotal": 18.0, "total_tax": 0.0,
        "subtotal_set": {"shop_money": {"amount": "18.00", "currency_code": "USD"},
                         "presentment_money": {"amount": "18.00", "currency_code": "USD"}}}]
    return body


def product_refunds(store, day):
    """The day's refunds by product title, as the rollup wrote them: {title: (refunds, units refunded)}."""
    rows = DailyMetric.objects.filter(store=store, day=day, dimension="product", metric__in=["refunds",
                                                                                             "refunded_units"])
    titles = dict(store.products.values_list("pk", "title"))
    found: dict[str, dict[str, Decimal]] = {}
    for metric, product, value in rows.values_list("metric", "dimension_value", "value"):
        found.setdefault(titles[int(product)], {})[metric] = value
    return {title: (v["refunds"], v["refunded_units"]) for title, v in found.items()}


def refunded_lines():
    return {line.sku: (line.refunded_quantity, line.refund_amount) for line in OrderLine.objects.order_by("line_no")
            if line.refunded_quantity or line.refund_amount}


def test_a_refund_of_one_line_shows_on_that_products_refunds_for_the_day(client, shop):
    assert deliver(client, shop, three_lines()).status_code == 201
    rollup_day(shop, REFUND_DAY)  # the day was done before the refund arrived, as the nightly job does
    response = deliver(client, shop, wrap_refund(), topic="refunds/create")
    assert response.status_code == 201
    refresh_stale_days()  # the worker that rebuilds the days marked stale
    assert product_refunds(shop, REFUND_DAY) == {"Beeswax wraps (3-pack)": (Decimal("18.00"), 1)}
    overall = DailyMetric.objects.get(store=shop, day=REFUND_DAY, metric="refunds", dimension="")
    assert overall.value == Decimal("18.00")


def test_the_same_refund_delivered_again_changes_nothing(client, shop):
    deliver(client, shop, three_lines())
    deliver(client, shop, wrap_refund(), topic="refunds/create")
    again = deliver(client, shop, wrap_refund(), topic="refunds/create")  # Shopify's retry
    assert (again.status_code, again.json()["created"]) == (200, False)
    with_it = copy.deepcopy(three_lines())  # and the order's own update carrying the same refund
    with_it.update(updated_with(wrap_refund()), line_items=with_it["line_items"])
    assert deliver(client, shop, with_it, topic="orders/updated").status_code == 200
    assert refunded_lines() == {"WRAP-BW-3": (1, Decimal("18.00"))}
    rollup_day(shop, REFUND_DAY)
    assert product_refunds(shop, REFUND_DAY) == {"Beeswax wraps (3-pack)": (Decimal("18.00"), 1)}


def test_a_refund_the_order_update_brought_first_is_on_the_lines_once(client, shop):
    deliver(client, shop, three_lines())
    update = three_lines()
    update.update(updated_with(wrap_refund()), line_items=update["line_items"])
    deliver(client, shop, update, topic="orders/updated")
    deliver(client, shop, wrap_refund(), topic="refunds/create")
    assert refunded_lines() == {"WRAP-BW-3": (1, Decimal("18.00"))}
    assert Order.objects.get().refund_amount == Decimal("18.00")


def test_a_refund_naming_a_line_the_order_lacks_is_recorded_for_its_money_and_logged(client, shop, caplog):
    deliver(client, shop, three_lines())
    with caplog.at_level(logging.WARNING, logger="stores.shopify"):
        response = deliver(client, shop, wrap_refund(line_item_id=99), topic="refunds/create")
    assert response.status_code == 201  # acknowledged: a retry could not make the line appear
    assert response.json()["unknown_line_items"] == ["99"]
    assert "99" in caplog.text
    assert Order.objects.get().refund_amount == Decimal("18.00")
    assert refunded_lines() == {}


def test_lines_recorded_before_their_ids_were_kept_gain_them_from_the_next_update(client, shop):
    deliver(client, shop, three_lines())
    OrderLine.objects.update(external_id="")  # as an order recorded before this change
    update = three_lines()
    update.update(updated_with(), line_items=update["line_items"])
    deliver(client, shop, update, topic="orders/updated")
    deliver(client, shop, wrap_refund(), topic="refunds/create")
    assert refunded_lines() == {"WRAP-BW-3": (1, Decimal("18.00"))}


def test_a_refund_item_larger_than_its_line_is_capped_at_the_line(client, shop):
    deliver(client, shop, three_lines())
    body = wrap_refund()
    body["refund_line_items"][0].update(quantity=3, subtotal_set=None, subtotal="54.00")
    deliver(client, shop, body, topic="refunds/create")
    assert refunded_lines() == {"WRAP-BW-3": (1, Decimal("18.00"))}


def test_an_unreadable_refund_item_is_refused_by_name(client, shop):
    deliver(client, shop, three_lines())
    body = wrap_refund()
    body["refund_line_items"][0].update(subtotal_set=None, subtotal="lots")
    response = deliver(client, shop, body, topic="refunds/create")
    assert response.status_code == 422
    assert response.json()["errors"] == ["refund_line_items.0.subtotal: 'lots' is not an amount"]
    assert Order.objects.get().refund_amount == 0


def test_the_order_page_says_which_line_was_refunded(client, admin_client, shop):
    deliver(client, shop, three_lines())
    deliver(client, shop, wrap_refund(), topic="refunds/create")
    order = Order.objects.get()
    page = admin_client.get(reverse("stores:order", args=[shop.slug, order.pk])).content.decode()
    assert page.count("refunded ·") == 1
    assert "Beeswax wraps (3-pack)<br><span class=\"muted\">1 refunded · 18.00</span>" in page
