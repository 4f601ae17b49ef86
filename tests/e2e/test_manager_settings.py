"""A manager moves their morning email to their own time zone, and can switch it off."""

import pytest
from django.urls import reverse

from stores.models import StoreMembership
from tests.factories import MembershipFactory, StoreFactory

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


def test_a_managers_two_stores_settings_have_fields_of_one_width_lined_up(page, live_server, login, screenshot,
                                                                          manager_a, store_a):
    # Store A's own zone is Asia/Shanghai, this one's America/Los_Angeles: each select sized itself to its own
    # first choice, so the two boxes differed in width.
    MembershipFactory(store=StoreFactory(name="Pacific Outfitters", slug="pacific"), user=manager_a, role="manager")
    login("mgr-a")
    page.goto(live_server.url + reverse("stores:my_settings"))
    screenshot("two-stores")
    zones = [box.bounding_box() for box in page.locator("select[name$='-email_timezone']").all()]
    hours = [box.bounding_box() for box in page.locator("input[name$='-ship_within_hours']").all()]
    assert len(zones) == len(hours) == 2
    assert round(zones[0]["width"]) == round(zones[1]["width"])
    # The fields start at one edge, whatever their label's length.
    assert {round(box["x"]) for box in zones + hours} == {round(zones[0]["x"])}
