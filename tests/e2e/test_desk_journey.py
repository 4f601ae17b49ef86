"""An operator logs in through the browser and sees the desk of their own stores only."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_sees_the_desk(page, live_server, login, screenshot, operator_a, store_a, store_b):
    login("op-a")
    assert page.locator("h1").inner_text() == "Desk"
    assert page.locator("[data-store=store-a]").is_visible()
    assert page.locator("[data-store=store-b]").count() == 0
    screenshot("desk")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator("nav.duties").is_visible()
    screenshot("desk-phone")
