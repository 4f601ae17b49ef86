"""The daily page in the browser: a day against a holiday and a sale keeps its tables one line a row, and
on a phone every change of the headline table stays on the screen."""

from datetime import date

import pytest

from campaigns.models import Activity
from tests.e2e.conftest import browser_type_launch_args, login  # noqa: F401  (fixtures)
from tests.factories import MembershipFactory
from tests.metrics.conftest import holiday_and_sale_before_friday_8_may

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
# The headline table: the first one of the store's panel.
ROW_HEIGHTS = """[...document.querySelector('#store-store-a .table-wrap table').rows].slice(1)
    .map(r => r.getBoundingClientRect().height)"""
OFF_SCREEN = """[...document.querySelector('#store-store-a .table-wrap table').querySelectorAll('td, th')]
    .filter(c => c.offsetParent && c.getBoundingClientRect().right > window.innerWidth + 1)
    .map(c => c.textContent.trim()).slice(0, 3)"""


@pytest.fixture
def unusual_friday(live_server, page, login, operator_a, store_a):  # noqa: F811
    """Fri 8 May against a sale the day before, Labor Day a week before, and a bundle offer of its own."""
    holiday_and_sale_before_friday_8_may(store_a)
    Activity.objects.create(store=store_a, name="Bundle: Camp mug + Daypack 22L", kind="store_promotion",
                            status="done", start_date=date(2026, 5, 8), end_date=date(2026, 5, 8))
    login("op-a")
    return f"{live_server.url}/metrics/daily/?day=2026-05-08"


def test_what_a_change_is_measured_against_does_not_make_every_row_two_lines_tall(page, unusual_friday):
    page.set_viewport_size(LAPTOP)
    page.goto(unusual_friday)
    overview = page.locator("#store-store-a table:not(.breakdown)")
    assert overview.get_by_text("vs Fri 1 May (Labor Day)").count() == 2  # once a table
    heights = page.evaluate(ROW_HEIGHTS)
    assert max(heights) < 1.5 * min(heights), heights


def test_on_a_phone_the_days_changes_stay_on_the_screen_beside_their_notes(page, unusual_friday):
    page.set_viewport_size(PHONE)
    page.goto(unusual_friday)
    assert page.locator("#store-store-a").get_by_text("Bundle: Camp mug + Daypack 22L").first.is_visible()
    assert page.evaluate(OFF_SCREEN) == []


BREAKDOWNS = ("sources-store-a", "products-store-a", "payments-store-a")
# A breakdown table's cells (and the figures in them) past the screen's right edge, or the table wider than its box.
BREAKDOWN_OFF_SCREEN = """id => { const t = document.getElementById(id);
    const off = [...t.querySelectorAll('td, td > span')]
        .filter(c => c.offsetParent && c.getBoundingClientRect().right > window.innerWidth + 1)
        .map(c => c.textContent.trim().slice(0, 40)).slice(0, 3);
    return {off, scrolls: t.parentElement.scrollWidth > t.parentElement.clientWidth + 1}; }"""


@pytest.fixture
def breakdowns_of_friday(unusual_friday, store_a):
    """Fri 8 May, the day before and Fri 1 May by traffic source, product (a long title) and payment type."""
    from metrics.rollup import rollup_day
    from tests.factories import ProductFactory
    from tests.metrics.test_daily_breakdowns import sell, visit

    tent = ProductFactory(store=store_a, title="Ultralight two-person backpacking tent, green")
    for day, units in [(date(2026, 5, 8), 3), (date(2026, 5, 7), 2), (date(2026, 5, 1), 4)]:
        for k in range(units):
            sell(store_a, day, 1234.5, source="paid_search", lines=[(tent, 1, 1234.5)],
                 payments=[("credit_card", 1000), ("voucher", 234.5)])
            visit(store_a, day, "paid_search", f"v{day}{k}")
            visit(store_a, day, "paid_search", f"w{day}{k}")
        rollup_day(store_a, day)
    return unusual_friday


def test_on_a_phone_each_breakdown_row_is_a_card_with_every_figure_on_screen(page, breakdowns_of_friday):
    page.set_viewport_size(PHONE)
    page.goto(breakdowns_of_friday)
    for table in BREAKDOWNS:
        assert page.evaluate(BREAKDOWN_OFF_SCREEN, table) == {"off": [], "scrolls": False}, table
    # Each figure is labelled on its card, its changes under it: conversion's in points.
    card = page.locator("#sources-store-a tr").nth(1)
    conversion = card.locator("td").nth(5)
    assert conversion.get_attribute("data-label") == "Conversion"
    assert conversion.is_visible() and "pts" in conversion.inner_text()
    assert page.locator("#products-store-a tr").nth(1).locator("td").nth(2).is_visible()  # units sold


def test_the_breakdowns_say_once_that_their_changes_are_against_an_unusual_day(page, breakdowns_of_friday):
    page.set_viewport_size(PHONE)
    page.goto(breakdowns_of_friday)
    note = page.locator("#breakdowns-vs-store-a")
    assert note.inner_text() == "DoD vs Thu 7 May (Spring sale) · WoW vs Fri 1 May (Labor Day)"
    assert note.is_visible()


def test_on_a_small_laptop_the_list_of_stores_shows_every_column_without_scrolling(page, unusual_friday, operator_a,
                                                                                 store_b):
    # A figure's "DoD … · WoW …" line breaks at its dot when the table is tight, so the last column (new
    # violations) is not cut off behind a scroll bar (the demo's figures needed it at 1366 pixels).
    MembershipFactory(store=store_b, user=operator_a, role="operator")  # two stores: the list, not one panel
    page.set_viewport_size({"width": 1024, "height": 768})  # a small laptop, a tablet on its side
    page.goto(unusual_friday)
    wrap = page.locator("#daily-stores").locator("xpath=..")
    assert wrap.evaluate("w => w.scrollWidth - w.clientWidth") <= 1
    assert page.locator("#daily-stores th").last.is_visible()
