"""An order refunded in full and then cancelled shows as cancelled, whichever channel tells us and in
whatever order; its refund stays counted (the daily numbers read paid and refund times, not the status)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stores.importers import import_orders
from stores.models import Order, OrderStatus
from stores.orders import record_refund
from tests.factories import OrderFactory
from tests.stores.test_shopify_webhook import _refunded, deliver

pytestmark = pytest.mark.django_db


def test_shopify_refund_then_cancellation_delivered_in_order_ends_cancelled(client, shop):
    deliver(client, shop)
    deliver(client, shop, _refunded("2026-11-26T09:00:00-08:00"), topic="orders/updated")
    cancel = _refunded("2026-11-26T09:05:00-08:00", cancelled_at="2026-11-26T09:05:00-08:00")
    assert deliver(client, shop, cancel, topic="orders/cancelled").status_code == 200
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert (order.refund_amount, order.refunded_at) == (Decimal("114.80"), datetime(2026, 11, 26, 16, 59, tzinfo=UTC))


def test_csv_reimport_of_a_refunded_order_now_cancelled_shows_it_cancelled(store_a):
    header = "order_id,placed_at,paid_at,status,total,refund_amount,refunded_at,sku,unit_price\n"
    import_orders(store_a, (header + "T-1,2026-11-24 10:00,2026-11-24 10:01,refunded,50.00,50.00,"
                                      "2026-11-25 09:00,MUG-1,50.00\n").encode())
    import_orders(store_a, (header + "T-1,2026-11-24 10:00,2026-11-24 10:01,cancelled,50.00,50.00,"
                                      "2026-11-25 09:00,MUG-1,50.00\n").encode())
    order = Order.objects.get(store=store_a)
    assert (order.status, order.refund_amount) == (OrderStatus.CANCELLED, Decimal("50.00"))


def test_a_full_refund_of_a_cancelled_order_keeps_it_cancelled(store_a):
    order = OrderFactory(store=store_a, status=OrderStatus.CANCELLED, total=Decimal("50.00"))
    record_refund(store_a, order.external_id, Decimal("50.00"), datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    order.refresh_from_db()
    assert (order.status, order.refund_amount) == (OrderStatus.CANCELLED, Decimal("50.00"))
