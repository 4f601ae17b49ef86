"""The demo's orders read as a real store's: the Shopify store's carry Shopify's names, shipped ones their
shipping time, both on the order's page; a few the warehouse missed are late to ship."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from metrics import demo_live
from stores import demo
from stores.models import Order, OrderStatus
from stores.shipping import shipping_due_by_store
from tests.demo_once import seeded_once

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker):
    """Seeded once for the module and removed afterwards, leaving no row."""
    with seeded_once(django_db_blocker):
        with time_machine.travel(NOW, tick=False):
            ctx = demo.seed(days=10, now=NOW)
        yield ctx


def test_shopify_store_orders_are_named_in_the_order_they_were_placed(ctx):
    jade, pacific = ctx.stores
    assert pacific.platform == "shopify"
    orders = Order.objects.filter(store=pacific).order_by("placed_at", "external_id")
    names = list(orders.values_list("name", flat=True))
    assert names == [f"#{n}" for n in range(1001, 1001 + len(names))]
    assert not Order.objects.filter(store=jade).exclude(name="").exists()  # Tmall has no order names


def test_every_order_that_left_the_warehouse_has_its_shipping_time(ctx):
    orders = Order.objects.filter(store__in=ctx.stores)
    assert not orders.filter(status=OrderStatus.PAID, shipped_at__isnull=False).exists()
    gone = orders.exclude(status=OrderStatus.PAID)
    assert gone.filter(status=OrderStatus.SHIPPED).exists() and gone.filter(status=OrderStatus.DELIVERED).exists()
    for paid_at, shipped_at, delivered_at in gone.values_list("paid_at", "shipped_at", "delivered_at"):
        assert paid_at < shipped_at <= NOW
        assert delivered_at is None or shipped_at < delivered_at


def test_a_seeded_shipped_order_has_the_time_the_demo_storefront_would_ship_it(ctx):
    jade = ctx.stores[0]
    order = Order.objects.filter(store=jade, status=OrderStatus.DELIVERED).order_by("-placed_at").first()
    shipped, _ = demo_live.fulfilment_times(jade, ctx, order.external_id, order.paid_at)
    assert order.shipped_at == shipped


def test_order_page_shows_the_shopify_name_and_when_it_shipped(ctx, client):
    pacific = ctx.stores[1]
    order = Order.objects.filter(store=pacific, status=OrderStatus.DELIVERED).order_by("-placed_at").first()
    client.force_login(ctx.operator)
    with time_machine.travel(NOW, tick=False):
        page = client.get(order.get_absolute_url()).content.decode()
    assert f"Order {order.name}" in page and order.name.startswith("#1")
    assert "Shipped " in page and "Delivered " in page


def test_the_first_store_has_two_orders_past_the_shipping_promise_and_one_due(ctx):
    """The orders the warehouse missed (`demo.HELD_ORDERS`), so the demo desk warns of late shipping."""
    jade, pacific = ctx.stores
    due = shipping_due_by_store([jade, pacific], NOW)
    assert (due[jade.pk].late, due[jade.pk].due_soon) == (2, 1)
    assert NOW - due[jade.pk].oldest_paid_at > timedelta(hours=55)
    assert (due[pacific.pk].late, due[pacific.pk].due_soon) == (0, 0)


def test_the_demo_storefront_ships_the_held_orders_late(ctx):
    jade = ctx.stores[0]
    for order in Order.objects.filter(store=jade, external_id__in=demo.HELD_ORDERS):
        shipped, _ = demo_live.fulfilment_times(jade, ctx, order.external_id, order.paid_at)
        assert shipped > max(NOW, order.paid_at + timedelta(hours=jade.ship_within_hours))


@pytest.mark.parametrize("username", ["olivia", "marco"])
def test_the_logins_make_demo_prints_open_the_desk(ctx, client, username):
    """The README's two logins: each demo user logs in through the log-in page with the demo password."""
    wrong = client.post("/accounts/login/", {"username": username, "password": "not-the-demo-password"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"username": username, "password": demo.DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200 and response.wsgi_request.user.username == username
