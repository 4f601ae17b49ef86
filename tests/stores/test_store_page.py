"""The store page: its open violations are told apart by when they happened (store time) and their id; its
amounts are written as on every other page (thousands separated)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from stores.models import Order, Violation
from tests.factories import OrderFactory, ViolationFactory

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_identical_open_violations_show_their_store_time_and_platform_id(client_a, store_a):
    for n, hour in enumerate((1, 2, 3)):  # 09:00, 10:00, 11:00 in Shanghai
        ViolationFactory(store=store_a, external_id=f"PX-{n}", kind="Out-of-stock after sale", points=4,
                         amount="50.00", occurred_at=datetime(2026, 11, 25, hour, tzinfo=UTC))
    page = client_a.get(reverse("stores:detail", args=[store_a.slug])).content.decode()
    for n, hour in enumerate((9, 10, 11)):
        assert f"Wed 25 Nov {hour:02}:00 · PX-{n}" in page
    assert "Asia/Shanghai time" in page



def test_order_totals_and_penalties_are_written_like_the_rest_of_the_desk(client_a, store_a):
    OrderFactory(store=store_a, external_id="112251", total="1018.21")
    ViolationFactory(store=store_a, points=1, amount="1200.00")
    page = client_a.get(reverse("stores:detail", args=[store_a.slug])).content.decode()
    assert "1,018.21 · Paid" in page
    assert "1 pt · 1,200.00" in page


def test_penalties_name_their_currency_and_say_when_no_money_was_deducted(client_a, store_a):
    ViolationFactory(store=store_a, external_id="PX-FREE", points=1, amount="0.00")
    ViolationFactory(store=store_a, external_id="PX-FINE", points=2, amount="1200.00")
    for name in ("stores:detail", "stores:violations"):
        page = client_a.get(reverse(name, args=[store_a.slug])).content.decode().replace("\u00a0", " ")
        assert "1,200.00 CNY" in page, name
        assert "0.00" not in page.replace("1,200.00", ""), name
    assert "1 pt · no money deducted" in client_a.get(reverse("stores:detail", args=[store_a.slug])).content.decode()


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_recent_orders_show_when_each_was_placed_in_the_stores_time(client_a, store_a):
    # Platform order numbers are not in time order: without the time the newest-first list looks shuffled.
    OrderFactory(store=store_a, external_id="900", placed_at=datetime(2026, 11, 25, 1, 5, tzinfo=UTC))
    OrderFactory(store=store_a, external_id="120", placed_at=datetime(2026, 11, 25, 2, 40, tzinfo=UTC))
    page = client_a.get(reverse("stores:detail", args=[store_a.slug])).content.decode()
    assert "by when each was placed (Asia/Shanghai time)" in page
    newest, older = page.index("#120"), page.index("#900")
    assert newest < older
    assert page.index("Wed 25 Nov 10:40") > newest and page.index("Wed 25 Nov 09:05") > older


def test_the_orders_and_violations_lists_count_with_thousands_separated(client_a, store_a):
    Order.objects.bulk_create(OrderFactory.build(store=store_a, external_id=f"B-{n}") for n in range(1001))
    Violation.objects.bulk_create(ViolationFactory.build(store=store_a, external_id=f"V-{n}") for n in range(1002))
    orders = client_a.get(reverse("stores:orders", args=[store_a.slug])).content.decode()
    violations = client_a.get(reverse("stores:violations", args=[store_a.slug])).content.decode()
    assert "1,001 orders" in orders
    assert "1,002 violations" in violations
