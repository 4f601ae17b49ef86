"""The order page: a store's times are shown on its own clock, with the zone named; its back link goes to the
page of the store it was opened from."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from members.models import MemberOrder, SmsTemplate
from tests.factories import OrderFactory
from tests.members.conftest import make_member
from tests.reviews.conftest import make_case

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


def back_link(page: str) -> tuple[str, str]:
    """The first link on the page under the header: the way back."""
    return re.search(r'<main[^>]*>.*?<a href="([^"]*)">([^<]*)</a>', page, re.S).groups()


def test_an_order_opened_from_the_waiting_list_links_back_to_that_list(client_a, store_a):
    paid = timezone.now() - timedelta(hours=50)  # past the 48 h promise: on the waiting list
    order = OrderFactory(store=store_a, placed_at=paid, paid_at=paid)
    orders = reverse("stores:orders", args=[store_a.slug])
    listing = client_a.get(orders, {"shipping": "waiting"}).content.decode()
    [link] = re.findall(rf'href="({re.escape(order.get_absolute_url())}[^"]*)"', listing)
    page = client_a.get(html.unescape(link)).content.decode()
    assert back_link(page) == (f"{orders}?shipping=waiting", "← Orders waiting to ship")


def test_an_order_opened_from_the_list_links_back_to_it(client_a, store_a):
    order = OrderFactory(store=store_a)
    orders = reverse("stores:orders", args=[store_a.slug])
    listing = client_a.get(orders).content.decode()
    [link] = re.findall(rf'href="({re.escape(order.get_absolute_url())}[^"]*)"', listing)
    assert back_link(client_a.get(html.unescape(link)).content.decode()) == (orders, "← Orders")
    # The Referer does as well (a link that lost its next, a bookmark's list).
    page = client_a.get(order.get_absolute_url(), headers={"referer": f"http://testserver{orders}?page=3"})
    assert back_link(page.content.decode()) == (f"{orders}?page=3", "← Orders")


@pytest.mark.parametrize("came_from", [
    "https://evil.example/stores/store-a/orders/",  # another site
    "//evil.example/stores/store-a/orders/",  # another site, without a scheme
    "/stores/store-a/",  # another page of ours: the store link is the way back anyway
    "/stores/store-b/orders/",  # another store's list
    "javascript:alert(1)",
])
def test_an_order_opened_from_elsewhere_links_back_to_its_store(client_a, store_a, came_from):
    order = OrderFactory(store=store_a)
    for request in ({"data": {"next": came_from}}, {"headers": {"referer": came_from}}):
        page = client_a.get(order.get_absolute_url(), **request).content.decode()
        assert back_link(page) == (store_a.get_absolute_url(), f"← {store_a.name}")


def _opened_from(client, page_url: str, order) -> tuple[str, str]:
    """The back link of `order`'s page reached by its link on the page at `page_url`."""
    page = client.get(page_url).content.decode()
    [link] = re.findall(rf'href="({re.escape(order.get_absolute_url())}[^"]*)"', page)
    return back_link(client.get(html.unescape(link)).content.decode())


def test_an_order_opened_from_a_members_page_links_back_to_that_member(client_a, store_a):
    member = make_member(store_a, name="Maria Gomez")
    order = OrderFactory(store=store_a)
    MemberOrder.objects.create(member=member, order=order)
    assert _opened_from(client_a, member.get_absolute_url(), order) == (member.get_absolute_url(), "← Maria Gomez")


def test_an_order_opened_from_a_review_or_its_case_links_back_to_that_page(client_a, store_a):
    order = OrderFactory(store=store_a)
    case = make_case(store_a, rating=1, body="Arrived broken", order=order)
    review = case.review
    assert _opened_from(client_a, review.get_absolute_url(), order) == (review.get_absolute_url(),
                                                                       f"← Review {review.external_id}")
    assert _opened_from(client_a, case.get_absolute_url(), order) == (case.get_absolute_url(), f"← Case #{case.pk}")


def test_an_order_opened_from_a_campaigns_dry_run_links_back_to_it(client_a, store_a):
    template = SmsTemplate.objects.create(store=store_a, name="November benefit", flow="benefit",
                                          coupon_value="10% off", body="Hi {first_name}, your coupon is {coupon}.")
    order = OrderFactory(store=store_a)
    campaign = reverse("members:campaign", args=[template.pk])
    page = client_a.get(order.get_absolute_url(), {"next": campaign}).content.decode()
    assert back_link(page) == (campaign, "← Dry run: November benefit")


@pytest.mark.parametrize("came_from", [
    "https://evil.example/members/{member}/",  # another site
    "//evil.example/members/{member}/",
    "/members/{other}/",  # a member of a store this user cannot see: not named
    "/members/999999/",  # no such member
    "/members/abc/",  # no such page
    "/reviews/store-b/reviews/{member}/",  # another store's address
    "http://[bad/members/{member}/",  # not an address at all
])
def test_an_order_opened_from_a_page_not_of_its_store_links_back_to_the_store(client_a, store_a, store_b, came_from):
    order = OrderFactory(store=store_a)
    mine, other = make_member(store_a), make_member(store_b, name="Someone Else")
    came_from = came_from.format(member=mine.pk, other=other.pk)
    for request in ({"data": {"next": came_from}}, {"headers": {"referer": came_from}}):
        page = client_a.get(order.get_absolute_url(), **request).content.decode()
        assert back_link(page) == (store_a.get_absolute_url(), f"← {store_a.name}")
        assert "Someone Else" not in page
