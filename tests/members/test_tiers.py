"""A store's own tier thresholds: they tier its members (new and existing), leave other stores alone, are
changed by its managers on the tier page with plain-worded checks, and a change texts nobody."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members import flows
from members.models import Flow, Member, Message, SmsTemplate, Tier, TierRule
from members.services import Retiered, change_tier_rule, enrol_from_order, retier
from members.sms import locmem
from tests.factories import MembershipFactory, OrderFactory, StoreFactory, UserFactory
from tests.members.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea_shop(db):
    return StoreFactory(name="Tea shop", slug="tea-shop", country="CN", timezone="Asia/Shanghai", currency="CNY")


@pytest.fixture
def fashion_store(db):
    return StoreFactory(name="Fashion store", slug="fashion", country="CN", timezone="Asia/Shanghai", currency="CNY")


@pytest.fixture
def tea_manager(tea_shop):
    return MembershipFactory(store=tea_shop, user=UserFactory(username="tea-mgr"), role="manager").user


@pytest.fixture
def tea_operator(tea_shop):
    return MembershipFactory(store=tea_shop, user=UserFactory(username="tea-op"), role="operator").user


def spender(store, spent: str, tier: str = Tier.STANDARD) -> Member:
    return make_member(store, total_spent=Decimal(spent), orders_count=1, tier=tier)


def tiers_of(*members: Member) -> list[str]:
    return [Member.objects.get(pk=m.pk).tier for m in members]


def test_a_stores_own_thresholds_decide_a_new_members_tier_and_another_store_keeps_the_default(
        tea_shop, fashion_store):
    TierRule.objects.create(store=tea_shop, silver_from=Decimal("300"), gold_from=Decimal("1000"))
    tea = enrol_from_order(OrderFactory(store=tea_shop, buyer_phone="138 0013 8000", total=Decimal("1200")))
    fashion = enrol_from_order(OrderFactory(store=fashion_store, buyer_phone="138 0013 8000", total=Decimal("1200")))
    assert tea.tier == Tier.GOLD
    assert fashion.tier == Tier.STANDARD  # CNY's default Silver starts at 2,500


def test_a_blank_threshold_follows_the_currencys_default(tea_shop):
    TierRule.objects.create(store=tea_shop, silver_from=Decimal("300"))  # Gold blank: CNY's 10,000
    member = enrol_from_order(OrderFactory(store=tea_shop, buyer_phone="138 0013 8000", total=Decimal("5000")))
    assert member.tier == Tier.SILVER


def test_editing_thresholds_moves_members_up_and_down_and_says_how_many(client, tea_shop, fashion_store, tea_manager):
    big = spender(tea_shop, "3000", Tier.SILVER)  # Silver under the default (2,500 / 10,000)
    mid = spender(tea_shop, "1500")
    top = spender(tea_shop, "12000", Tier.GOLD)
    elsewhere = spender(fashion_store, "3000", Tier.SILVER)
    client.force_login(tea_manager)
    page = client.post(reverse("members:tiers", args=["tea-shop"]), {"silver_from": "1000", "gold_from": "2000"},
                       follow=True).content.decode()
    assert "Saved. 2 members moved tier (2 up, 0 down). No texts were sent for the change." in page
    assert tiers_of(big, mid, top, elsewhere) == [Tier.GOLD, Tier.SILVER, Tier.GOLD, Tier.SILVER]
    page = client.post(reverse("members:tiers", args=["tea-shop"]), {"silver_from": "2000", "gold_from": "5000"},
                       follow=True).content.decode()
    assert "Saved. 2 members moved tier (0 up, 2 down)." in page
    assert tiers_of(big, mid, top, elsewhere) == [Tier.SILVER, Tier.STANDARD, Tier.GOLD, Tier.SILVER]


def test_clearing_the_thresholds_goes_back_to_the_default(client, tea_shop, tea_manager):
    member = spender(tea_shop, "3000")
    change_tier_rule(tea_shop, Decimal("1000"), Decimal("2000"))
    assert tiers_of(member) == [Tier.GOLD]
    client.force_login(tea_manager)
    page = client.post(reverse("members:tiers", args=["tea-shop"]), {"silver_from": "", "gold_from": ""},
                       follow=True).content.decode()
    assert "1 member moved tier (0 up, 1 down)" in page and "uses the default thresholds for CNY" in page
    assert tiers_of(member) == [Tier.SILVER]


@pytest.mark.parametrize(("posted", "error"), [
    ({"silver_from": "5000", "gold_from": "5000"},
     "Gold must start above Silver: Gold from 5,000.00 CNY is not more than Silver from 5,000.00 CNY."),
    ({"silver_from": "20000", "gold_from": ""},
     "Gold must start above Silver: Gold from 10,000.00 CNY (the default) is not more than Silver from 20,000.00 CNY."),
    ({"silver_from": "-5", "gold_from": "5000"}, "Silver must start at an amount above 0 CNY"),
    ({"silver_from": "100", "gold_from": "0"}, "Gold must start at an amount above 0 CNY"),
])
def test_a_bad_form_says_why_keeps_what_was_typed_and_changes_nothing(client, tea_shop, tea_manager, posted, error):
    TierRule.objects.create(store=tea_shop, silver_from=Decimal("300"), gold_from=Decimal("1000"))
    member = spender(tea_shop, "1200", Tier.GOLD)
    client.force_login(tea_manager)
    response = client.post(reverse("members:tiers", args=["tea-shop"]), posted)
    page = response.content.decode()
    assert response.status_code == 200 and error in page
    for value in posted.values():
        if value:
            assert f'value="{value}"' in page  # nothing typed is lost
    rule = TierRule.objects.get(store=tea_shop)
    assert (rule.silver_from, rule.gold_from) == (Decimal("300"), Decimal("1000"))
    assert tiers_of(member) == [Tier.GOLD]


def test_an_operator_reads_the_thresholds_but_cannot_change_them(client, tea_shop, tea_operator):
    member = spender(tea_shop, "3000", Tier.SILVER)
    client.force_login(tea_operator)
    page = client.get(reverse("members:tiers", args=["tea-shop"])).content.decode()
    assert "2,500.00" in page and "The store's managers change these thresholds" in page
    assert 'name="silver_from"' not in page
    assert client.post(reverse("members:tiers", args=["tea-shop"]),
                       {"silver_from": "100", "gold_from": "200"}).status_code == 403
    assert not TierRule.objects.exists() and tiers_of(member) == [Tier.SILVER]


def test_an_operator_of_another_store_gets_404(client, tea_shop, fashion_store):
    outsider = MembershipFactory(store=fashion_store, user=UserFactory(username="fashion-op"), role="operator").user
    client.force_login(outsider)
    url = reverse("members:tiers", args=["tea-shop"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"silver_from": "100", "gold_from": "200"}).status_code == 404
    assert not TierRule.objects.exists()


def test_running_the_re_tier_twice_changes_nothing_the_second_time(tea_shop):
    members = [spender(tea_shop, amount) for amount in ("100", "1500", "3000", "50000")]
    TierRule.objects.create(store=tea_shop, silver_from=Decimal("1000"), gold_from=Decimal("2000"))
    assert retier(tea_shop) == Retiered(up=3, down=0)
    before = tiers_of(*members)
    assert retier(tea_shop) == Retiered(up=0, down=0)
    assert tiers_of(*members) == before == [Tier.STANDARD, Tier.SILVER, Tier.GOLD, Tier.GOLD]


def test_re_tiering_takes_as_many_statements_for_40_members_as_for_4(tea_shop, fashion_store):
    def statements(store, members: int) -> tuple[int, Retiered]:
        for n in range(members):
            spender(store, str(100 * n))
        with CaptureQueriesContext(connection) as queries:
            moved = change_tier_rule(store, Decimal("100"), Decimal("200"))
        return len(queries), moved

    few, many = statements(tea_shop, 4), statements(fashion_store, 40)
    assert few[1] == Retiered(up=3, down=0) and many[1] == Retiered(up=39, down=0)
    assert few[0] == many[0]


def test_a_threshold_change_texts_nobody(client, tea_shop, tea_manager):
    """No text announces a tier change: a member did nothing, the manager only edited a number. The month's
    benefit aimed at Gold still reaches whoever is Gold when it is planned, one per member as always."""
    SmsTemplate.objects.create(store=tea_shop, name="Gold perk", flow=Flow.BENEFIT, body="{first_name}: {coupon}",
                               audience_tiers="gold", coupon_value="¥20")
    members = [spender(tea_shop, "3000", Tier.SILVER) for _ in range(5)]
    client.force_login(tea_manager)
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)):  # 11:00 on the 2nd in Shanghai
        client.post(reverse("members:tiers", args=["tea-shop"]), {"silver_from": "1000", "gold_from": "2000"})
        assert not Message.objects.exists() and not locmem.outbox
        assert flows.benefits().created == 5 and flows.benefits().created == 0
    assert set(Message.objects.values_list("member_id", flat=True)) == {m.pk for m in members}
