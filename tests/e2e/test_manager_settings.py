"""A manager moves their morning email to their own time zone, and can switch it off."""

import pytest
from django.urls import reverse

from stores.models import StoreMembership

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_changes_the_morning_email_time_zone(page, live_server, login, screenshot, manager_a, store_a):
    login("mgr-a")
    page.click("header .who a")  # the user name links to their settings
    assert page.url.endswith(reverse("stores:my_settings"))
    membership = StoreMembership.objects.get(user=manager_a, store=store_a)
    prefix = f"#id_{membership.pk}-"
    page.select_option(f"{prefix}email_timezone", "Europe/Berlin")
    page.uncheck(f"{prefix}morning_email")
    screenshot("settings")
    page.click("form button.primary")
    assert page.locator(".messages").inner_text().startswith("Saved your settings")
    membership.refresh_from_db()
    assert membership.email_timezone == "Europe/Berlin"
    assert membership.morning_email is False
    assert page.locator(f"{prefix}email_timezone").input_value() == "Europe/Berlin"
