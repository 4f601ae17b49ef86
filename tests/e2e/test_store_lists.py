"""A store's violations and its orders waiting to ship are worked through on a phone too: a penalty's status and
its Save stay on the screen, an order's "late by 5 h 27 min" reads on one line. Both seen in the demo at 390 px."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import OrderFactory, ViolationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# Anything in the list whose right edge is past the screen's (a wide table scrolled its last columns away).
OFF_SCREEN = """[...document.querySelectorAll('.table-wrap td, .table-wrap select, .table-wrap button')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.dataset.label || el.textContent.trim()).slice(0, 3)"""

# Badges whose text spans more than one line box.
WRAPPED_BADGES = """[...document.querySelectorAll('.table-wrap .badge')].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
    return tops.some((top, i) => i > 0 && top - tops[i - 1] > 4);
}).map(el => el.textContent.trim())"""


def test_a_violations_status_and_save_are_on_a_phones_screen(page, live_server, login, screenshot, operator_a,
                                                             store_a):
    ViolationFactory(store=store_a, external_id="V1-0004", kind="Out-of-stock after sale",
                     description="Platform notice about out-of-stock after sale.", amount="50.00", points=4)
    login("op-a")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("stores:violations", args=[store_a.slug]))
    screenshot("phone")
    assert page.evaluate(OFF_SCREEN) == []
    assert page.get_by_label("Status of V1-0004").is_visible()


def test_orders_waiting_to_ship_read_on_a_phone(page, live_server, login, screenshot, operator_a, store_a):
    now = timezone.now()
    for hours in (53.5, 44.5):  # one late by 5 h 30 min, one due within 6 h
        paid_at = now - timedelta(hours=hours)
        OrderFactory(store=store_a, placed_at=paid_at - timedelta(minutes=5), paid_at=paid_at)
    login("op-a")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("stores:orders", args=[store_a.slug]) + "?shipping=waiting")
    screenshot("phone")
    assert page.locator(".table-wrap .badge").count() == 2
    assert page.evaluate(WRAPPED_BADGES) == []
    assert page.evaluate(OFF_SCREEN) == []
