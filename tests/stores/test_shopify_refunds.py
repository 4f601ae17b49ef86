"""Shopify's refunds/create on the order webhook: signed, recorded once, never counted twice with orders/updated."""

import copy
import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.urls import reverse

from metrics.models import StaleDay
from metrics.rollup import rollup_day
from stores.models import Order, OrderStatus
from tests.marks import concurrent_transactions
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db
ORDER_ID = PAYLOAD["id"]  # total 114.80, paid Tue 24 Nov in Los Angeles


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


def refund(refund_id=801, amount="18.00", created_at="2026-11-26T08:59:00-08:00", order_id=ORDER_ID):
    """Shopify's Refund JSON as refunds/create sends it (the REST Refund resource)."""
    return {"id": refund_id, "order_id": order_id, "created_at": created_at, "processed_at": created_at,
            "note": "Wrong size", "restock": True, "user_id": 77,
            "refund_line_items": [{"id": 6001, "line_item_id": 14302918303841, "quantity": 1, "subtotal": 18.0}],
            "transactions": [{"id": 9901, "order_id": order_id, "kind": "refund", "gateway": "shopify_payments",
                              "status": "success", "amount": amount, "currency": "USD"},
                             {"id": 9902, "order_id": order_id, "kind": "refund", "gateway": "shopify_payments",
                              "status": "failure", "amount": amount, "currency": "USD"}]}


def updated_with(*refunds, status="partially_refunded"):
    """orders/updated after the refunds: the order JSON carries them in `refunds[]`."""
    payload = copy.deepcopy(PAYLOAD)
    payload.update(financial_status=status, updated_at="2026-11-26T09:00:00-08:00", refunds=list(refunds))
    return payload


def test_a_refund_is_recorded_once_however_often_shopify_sends_it(client, shop):
    deliver(client, shop)
    first = deliver(client, shop, refund(), topic="refunds/create")
    assert (first.status_code, first.json()) == (201, {"order": str(ORDER_ID), "refund": "801", "created": True})
    again = deliver(client, shop, refund(), topic="refunds/create")  # Shopify's retry
    assert (again.status_code, again.json()["created"]) == (200, False)
    order = Order.objects.get()
    assert order.refund_amount == Decimal("18.00")  # the failed transaction returned nothing
    assert order.refunded_at == datetime(2026, 11, 26, 16, 59, tzinfo=UTC)
    assert order.status == OrderStatus.PAID


def test_a_second_refund_adds_and_a_full_refund_makes_the_order_refunded(client, shop):
    deliver(client, shop)
    deliver(client, shop, refund(801, "18.00"), topic="refunds/create")
    deliver(client, shop, refund(802, "96.80", "2026-11-27T10:00:00-08:00"), topic="refunds/create")
    order = Order.objects.get()
    assert (order.refund_amount, order.status) == (Decimal("114.80"), OrderStatus.REFUNDED)


@pytest.mark.parametrize("first", ["refunds/create", "orders/updated"])
def test_a_refund_reported_by_both_topics_counts_once(client, shop, first):
    deliver(client, shop)
    notices = {"refunds/create": refund(), "orders/updated": updated_with(refund())}
    second = "orders/updated" if first == "refunds/create" else "refunds/create"
    deliver(client, shop, notices[first], topic=first)
    deliver(client, shop, notices[second], topic=second)
    assert Order.objects.get().refund_amount == Decimal("18.00")


def test_a_refund_the_last_order_update_did_not_carry_is_added_to_those_it_did(client, shop):
    deliver(client, shop)
    deliver(client, shop, updated_with(refund(801, "18.00")), topic="orders/updated")
    deliver(client, shop, refund(802, "10.00", "2026-11-27T10:00:00-08:00"), topic="refunds/create")
    assert Order.objects.get().refund_amount == Decimal("28.00")


def test_a_refund_on_a_day_already_rolled_up_marks_it_for_a_rebuild(client, shop):
    deliver(client, shop)
    rollup_day(shop, date(2026, 11, 26))
    deliver(client, shop, refund(), topic="refunds/create")
    assert list(StaleDay.objects.filter(store=shop).values_list("day", flat=True)) == [date(2026, 11, 26)]


def test_a_badly_signed_refund_is_a_401_and_changes_nothing(client, shop):
    deliver(client, shop)
    response = deliver(client, shop, refund(), secret="shpss_guess", topic="refunds/create")
    assert response.status_code == 401
    assert Order.objects.get().refund_amount == 0


def test_a_refund_of_an_order_opsdesk_lacks_is_acknowledged_and_records_nothing(client, shop):
    response = deliver(client, shop, refund(order_id=999), topic="refunds/create")
    assert (response.status_code, response.json()["recorded"]) == (200, False)
    assert not Order.objects.exists()


def test_an_unreadable_refund_is_refused_naming_its_fields(client, shop):
    deliver(client, shop)
    bad = refund(created_at="yesterday")
    del bad["order_id"]
    response = deliver(client, shop, bad, topic="refunds/create")
    assert response.status_code == 422
    assert response.json()["errors"] == ["order_id is required",
                                         "created_at: 'yesterday' is not an ISO 8601 time with an offset"]
    too_much = deliver(client, shop, refund(amount="200.00"), topic="refunds/create")
    assert too_much.status_code == 422 and "more than the order total" in json.dumps(too_much.json())
    assert Order.objects.get().refund_amount == 0


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_the_same_refund_delivered_three_times_at_once_counts_once(shop):
    deliver(Client(), shop)
    barrier = threading.Barrier(3)
    statuses = []

    def send():
        try:
            barrier.wait()
            statuses.append(deliver(Client(), shop, refund(), topic="refunds/create").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 201]
    assert Order.objects.get().refund_amount == Decimal("18.00")


def test_the_admin_order_page_lists_the_refunds_shopify_reported(client, admin_client, shop):
    deliver(client, shop)
    deliver(client, shop, refund(801, "18.00"), topic="refunds/create")
    page = admin_client.get(reverse("admin:stores_order_change", args=[Order.objects.get().pk])).content.decode()
    assert "801" in page and "18.00" in page
