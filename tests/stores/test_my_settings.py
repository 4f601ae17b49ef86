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


def test_the_shipping_promise_hint_names_taobao_only_for_taobao_and_tmall_stores(client, manager_a):
    shopify = StoreFactory(name="Pacific Outfitters", slug="pacific", platform="shopify")
    tmall = StoreFactory(name="Jade Tmall", slug="jade-tmall", platform="tmall")
    for store in (shopify, tmall):
        MembershipFactory(store=store, user=manager_a, role="manager")
    client.force_login(manager_a)
    page = client.get(reverse("stores:my_settings")).content.decode()
    cards = dict(re.findall(r"<h2>([^<]+?) <span.*?</h2>(.*?)</section>", page, re.S))
    assert "The shipping promise of Pacific Outfitters, for everyone in it" in cards["Pacific Outfitters"]
    assert "Taobao" not in cards["Pacific Outfitters"]
    assert "Two days (48) is a common promise." in cards["Pacific Outfitters"]
    assert "Taobao&#x27;s standard is 48." in cards["Jade Tmall"]
    assert "Outfitters&#x27;s" not in page and "Outfitters's" not in page


def test_a_store_name_in_the_shipping_promise_hint_is_escaped(client, manager_a):
    MembershipFactory(store=StoreFactory(name="<b>Bold</b> Goods", slug="bold"), user=manager_a, role="manager")
    client.force_login(manager_a)
    page = client.get(reverse("stores:my_settings")).content.decode()
    assert "The shipping promise of &lt;b&gt;Bold&lt;/b&gt; Goods" in page
    assert "<b>Bold</b>" not in page
