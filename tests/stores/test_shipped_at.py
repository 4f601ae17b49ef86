"""When an order shipped is kept from every channel and shown on the order page, in the store's time."""

from datetime import UTC, datetime

import pytest
import time_machine

from metrics.ingest import ingest_events
from stores.importers import import_orders
from stores.models import Order, OrderStatus
from tests.factories import MembershipFactory, ProductFactory, UserFactory
from tests.stores.test_fulfilment_channels import fulfilled, imported, row
from tests.stores.test_shopify_webhook import deliver

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_csv_shipped_at_is_kept_and_shown_with_the_delivery(client_a, store_a):
    imported(store_a, row("D-1", shipped="2026-11-21 09:00", delivered="2026-11-22 15:30"))
    order = Order.objects.get()
    assert order.shipped_at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # Shanghai, +08:00
    page = client_a.get(order.get_absolute_url()).content.decode()
    assert "Shipped Sat 21 Nov 09:00 · Delivered Sun 22 Nov 15:30" in page


def test_a_later_file_adds_the_shipping_time_once(store_a):
    imported(store_a, row("D-1"))
    imported(store_a, row("D-1", shipped="2026-11-21 09:00"))
    assert Order.objects.get().shipped_at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    imported(store_a, row("D-1", shipped="2026-11-23 09:00"))  # forward only: the first time recorded stays
    assert Order.objects.get().shipped_at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def test_a_delivery_file_adds_shipping_times_in_bulk(store_a):
    imported(store_a, *(row(f"M-{n}", phone=f"138{n:08d}") for n in range(3)))
    imported(store_a, *(row(f"M-{n}", shipped="2026-11-21 09:00", delivered="2026-11-22 15:30", phone=f"138{n:08d}")
                        for n in range(3)))
    assert set(Order.objects.values_list("shipped_at", flat=True)) == {datetime(2026, 11, 21, 1, 0, tzinfo=UTC)}


def test_shopify_export_keeps_fulfilled_at_and_invents_no_time(store_b):
    placed, paid, shipped = "2026-11-20 10:00:00 -0800", "2026-11-20 10:00:05 -0800", "2026-11-21 11:02:00 -0800"
    import_orders(store_b, ("Name,Created at,Paid at,Financial Status,Fulfillment Status,Fulfilled at,Total,"
                            "Lineitem quantity,Lineitem price\n"
                            f"#1,{placed},{paid},paid,fulfilled,{shipped},5.00,1,5.00\n"
                            f"#2,{placed},{paid},paid,partial,,5.00,1,5.00\n").encode())
    assert dict(Order.objects.values_list("external_id", "shipped_at")) == {
        "#1": datetime(2026, 11, 21, 19, 2, tzinfo=UTC), "#2": None}
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SHIPPED}


def test_webhook_keeps_the_first_fulfillments_created_at(client, shop):
    deliver(client, shop)
    deliver(client, shop, fulfilled("2026-11-25T09:00:05-08:00", ("in_transit", "2026-11-25T09:00:00-08:00")),
            topic="orders/updated")
    assert Order.objects.get().shipped_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def test_ingest_order_shipped_keeps_its_time(shop):
    ProductFactory(store=shop, sku="MUG-1")
    paid = {"id": "e-1", "type": "order_paid", "ts": "2026-11-25T19:05:00-08:00", "order_id": "A1",
            "total": "25.00", "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"}]}
    ingest_events(shop, [paid, {"id": "e-2", "type": "order_shipped", "ts": "2026-11-26T08:30:00-08:00",
                                "order_id": "A1"}])
    ingest_events(shop, [{"id": "e-3", "type": "order_shipped", "ts": "2026-11-27T08:30:00-08:00", "order_id": "A1"}])
    order = Order.objects.get()
    assert (order.status, order.shipped_at) == (OrderStatus.SHIPPED, datetime(2026, 11, 26, 16, 30, tzinfo=UTC))


def test_order_page_of_an_unshipped_order_says_nothing_of_shipping(client, store_a):
    imported(store_a, row("D-1"))
    client.force_login(MembershipFactory(store=store_a, user=UserFactory(username="op-x")).user)
    assert "Shipped" not in client.get(Order.objects.get().get_absolute_url()).content.decode()
