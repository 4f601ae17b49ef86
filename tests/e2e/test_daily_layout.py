"""The daily page in the browser: a day against a holiday and a sale keeps its tables one line a row, and
on a phone every change of the headline table stays on the screen."""

from datetime import date

import pytest

from campaigns.models import Activity
from tests.e2e.conftest import browser_type_launch_args, login  # noqa: F401  (fixtures)
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
    assert page.locator("#store-store-a").get_by_text("vs Fri 1 May (Labor Day)").count() == 2  # once a table
    heights = page.evaluate(ROW_HEIGHTS)
    assert max(heights) < 1.5 * min(heights), heights


def test_on_a_phone_the_days_changes_stay_on_the_screen_beside_their_notes(page, unusual_friday):
    page.set_viewport_size(PHONE)
    page.goto(unusual_friday)
    assert page.locator("#store-store-a").get_by_text("Bundle: Camp mug + Daypack 22L").first.is_visible()
    assert page.evaluate(OFF_SCREEN) == []
