"""My settings as a manager of two stores reads it: each store's email says what it is and where it goes, and the
"all my stores" box sits under the time zone it applies, and the store's shipping promise comes last."""

import re

from django.urls import reverse

from tests.factories import MembershipFactory, StoreFactory


def test_a_managers_settings_say_what_the_email_is_and_keep_all_stores_under_the_zone(client, manager_a):
    MembershipFactory(store=StoreFactory(slug="store-c"), user=manager_a, role="manager")
    client.force_login(manager_a)
    page = client.get(reverse("stores:my_settings")).content.decode()
    fields = re.findall(r'name="\d+-(\w+)"', page)
    assert fields == ["morning_email", "email_timezone", "all_stores", "ad_alert_email", "ship_within_hours"] * 2
    assert page.count("Sent to mgr-a@example.com: yesterday's figures against the day before and last week, "
                      "anomalies and open violations.") == 2
    assert "Managers: receive the morning email." not in page
