"""An order's name (Shopify's "#1042"), the number operators and buyers know it by, from every channel."""

import copy
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from metrics.ingest import ingest_events
from stores.importers import import_orders
from stores.models import Order
from tests.factories import MembershipFactory, OrderFactory, ProductFactory, UserFactory
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db
EXPORT = "tests/stores/fixtures/shopify_orders_export.csv"


@pytest.fixture
def shop_client(client, shop):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    return client


def test_webhook_order_is_shown_by_its_shopify_name_and_keeps_its_id(shop_client, shop):
    assert deliver(shop_client, shop).status_code == 201
    order = Order.objects.get(store=shop, external_id="5827361940321")  # the id still finds it
    assert order.name == "#1042"
    page = shop_client.get(order.get_absolute_url()).content.decode()
    assert "Order #1042" in page and "5827361940321" in page
    store_page = shop_client.get(shop.get_absolute_url()).content.decode()
    assert "#1042</a>" in store_page and "#5827361940321" not in store_page


def test_redelivery_names_an_order_recorded_before_names_were_kept(client, shop):
    unnamed = copy.deepcopy(PAYLOAD)
    del unnamed["name"]
    deliver(client, shop, unnamed)
    assert Order.objects.get(store=shop).name == ""
    assert deliver(client, shop, topic="orders/updated").status_code == 200
    assert Order.objects.get(store=shop).name == "#1042"


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_shopify_export_stores_the_name_column(shop):
    with open(EXPORT, "rb") as export:
        import_orders(shop, export)
    assert Order.objects.get(store=shop, external_id="5827361900001").name == "#1041"


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_opsdesk_csv_carries_an_optional_order_name(shop):
    import_orders(shop, b"order_id,order_name,placed_at,total,sku,unit_price\n"
                        b"T-1,WEB-77,2026-11-24 10:00,25.00,MUG-1,25.00\n"
                        b"T-2,,2026-11-24 10:00,25.00,MUG-1,25.00\n")
    assert dict(Order.objects.values_list("external_id", "name")) == {"T-1": "WEB-77", "T-2": ""}
    assert Order.objects.get(external_id="T-2").display_name == "#T-2"


@time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
def test_ingest_order_paid_carries_an_optional_name(shop):
    ProductFactory(store=shop, sku="MUG-1")
    event = {"id": "e-1", "type": "order_paid", "ts": "2026-11-25T19:05:00-08:00", "order_id": "A1001",
             "name": "#2001", "total": "25.00", "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"}]}
    unnamed = {key: value for key, value in event.items() if key != "name"} | {"id": "e-2", "order_id": "A1002"}
    ingest_events(shop, [event, unnamed])
    assert dict(Order.objects.values_list("external_id", "name")) == {"A1001": "#2001", "A1002": ""}


def test_admin_order_search_finds_the_name(admin_client, shop):
    OrderFactory(store=shop, external_id="5827361940321", name="#1042")
    OrderFactory(store=shop, external_id="5827361940999", name="#1043")
    page = admin_client.get(reverse("admin:stores_order_changelist"), {"q": "#1042"}).content.decode()
    assert "5827361940321" in page and "5827361940999" not in page
