"""The order page: a store's times are shown on its own clock, with the zone named."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_order_page_shows_paid_time_in_the_stores_zone(client_a, store_a):
    paid = datetime(2026, 10, 31, 12, 47, tzinfo=UTC)  # 20:47 in Shanghai
    order = OrderFactory(store=store_a, placed_at=paid, paid_at=paid)
    page = client_a.get(reverse("stores:order", args=[store_a.slug, order.pk])).content.decode()
    # Written like every other time on the store and review pages, not Django's "Oct. 31, 2026, 8:47 p.m.".
    assert "Placed Sat 31 Oct 20:47 · paid Sat 31 Oct 20:47" in page
    assert "12:47" not in page and "p.m." not in page
    assert "Asia/Shanghai" in page


def test_an_unpaid_order_says_so_without_a_time(client_a, store_a):
    order = OrderFactory(store=store_a, placed_at=datetime(2026, 10, 31, 12, 47, tzinfo=UTC), paid_at=None)
    page = client_a.get(reverse("stores:order", args=[store_a.slug, order.pk])).content.decode()
    assert "paid – " in page
