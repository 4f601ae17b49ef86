"""Enrolment from paid orders: E.164 phones, consent, tiers, RFM segments, the backfill command."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import call_command

from members import flows
from members.models import Member, MemberOrder, Segment, Tier
from members.replies import receive
from members.services import enrol_from_order, normalise_phone, refresh_segments, rfm_scores, tier_for
from members.sms import locmem
from tests.factories import OrderFactory
from tests.members.conftest import LA_MORNING, make_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("(415) 555-0100", "US", "+14155550100"),
    ("415.555.0100", "US", "+14155550100"),
    ("+1 415 555 0100", "CN", "+14155550100"),
    ("138 0013 8000", "CN", "+8613800138000"),
    ("12345", "US", None),
    ("not a phone", "US", None),
])
def test_phones_are_normalised_to_e164_with_the_store_country(raw, country, expected):
    assert normalise_phone(raw, country) == expected


def test_a_paid_order_enrols_its_buyer_with_consent_and_source(store_b):
    order = OrderFactory(store=store_b, buyer_phone="(415) 555-0100", buyer_name="Grace Hopper",
                         marketing_consent=True, external_id="A1")
    member = enrol_from_order(order)
    assert member.phone == "+14155550100"
    assert member.sms_consent and member.consent_source == "order A1" and member.consent_at == order.paid_at
    assert member.orders_count == 1 and member.total_spent == Decimal("50.00")


def test_enrolling_the_same_order_twice_counts_it_once(store_b):
    order = OrderFactory(store=store_b, buyer_phone="4155550100")
    enrol_from_order(order)
    member = enrol_from_order(order)
    assert Member.objects.count() == 1 and MemberOrder.objects.count() == 1
    assert member.orders_count == 1


def test_two_orders_with_differently_written_numbers_make_one_member(store_b):
    enrol_from_order(OrderFactory(store=store_b, buyer_phone="415-555-0100", total=Decimal("300")))
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="+1 (415) 555 0100", total=Decimal("250")))
    assert Member.objects.count() == 1
    assert member.orders_count == 2 and member.total_spent == Decimal("550.00") and member.tier == Tier.SILVER


def test_unpaid_orders_and_invalid_phones_are_not_enrolled(store_b):
    assert enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", paid_at=None)) is None
    assert enrol_from_order(OrderFactory(store=store_b, buyer_phone="555")) is None
    assert not Member.objects.exists()


def test_no_consent_on_the_order_means_no_texts(store_b):
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", marketing_consent=False))
    assert not member.sms_consent
    assert not Member.objects.textable().exists()


def test_consent_on_a_later_order_counts_but_does_not_undo_a_stop(store_b):
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", marketing_consent=False))
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", marketing_consent=True,
                                           external_id="B2"))
    assert member.sms_consent and member.consent_source == "order B2"
    Member.objects.filter(pk=member.pk).update(sms_consent=False, opted_out_at=datetime(2026, 1, 1, tzinfo=UTC))
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", marketing_consent=True))
    assert member.opted_out_at is not None and not member.sms_consent


def test_a_number_that_opted_out_in_one_store_is_not_texted_by_a_store_it_joins_later(store_a, store_b,
                                                                                     campaign_template):
    """One sending number texts for every store: 退订 to store A (which only we know, Twilio does not block
    it) must hold when the same customer later buys from store B, until they text START."""
    make_member(store_a, phone="+14155550100")
    receive("+14155550100", "退订")
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="(415) 555-0100", marketing_consent=True))
    assert member.opted_out_at is not None
    assert flows.start_campaign(store_b, campaign_template, LA_MORNING).created == 0
    assert locmem.outbox == []
    receive("+14155550100", "START")
    assert Member.objects.textable().filter(pk=member.pk).exists()


def test_a_number_twilio_called_invalid_in_one_store_joins_a_later_store_as_invalid(store_a, store_b):
    make_member(store_a, phone="+14155550100", phone_invalid_at=datetime(2026, 1, 1, tzinfo=UTC))
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="(415) 555-0100", marketing_consent=True))
    assert member.phone_invalid_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert not Member.objects.textable().filter(pk=member.pk).exists()


def test_refunds_reduce_spend_and_tier(store_b):
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", total=Decimal("2500"),
                                           refund_amount=Decimal("2500"), status="refunded"))
    assert member.total_spent == Decimal("0.00") and member.tier == Tier.STANDARD


def test_default_tier_thresholds_depend_on_currency_and_settings(settings, store_a, store_b):
    assert tier_for(Decimal("2000"), store_b) == Tier.GOLD  # USD
    assert tier_for(Decimal("2000"), store_a) == Tier.STANDARD  # CNY
    settings.MEMBER_TIERS = {"default": [("gold", 100), ("silver", 10)]}
    assert tier_for(Decimal("50"), store_b) == Tier.SILVER


def test_rfm_scores_name_champions_and_lost():
    now = datetime(2026, 11, 25, tzinfo=UTC)
    frame = pd.DataFrame({
        "last_order_at": [now - timedelta(days=d) for d in (1, 2, 3, 200, 300, 400, 10, 20, 30, 40)],
        "orders_count": [9, 8, 1, 1, 1, 6, 2, 3, 1, 1],
        "total_spent": [900, 800, 50, 20, 10, 500, 60, 90, 30, 40],
    })
    scored = rfm_scores(frame, now)
    assert scored.loc[0, "segment"] == Segment.CHAMPIONS
    assert scored.loc[4, "segment"] == Segment.LOST
    assert scored.loc[5, "segment"] == Segment.AT_RISK  # bought often, long ago
    assert scored.loc[2, "segment"] == Segment.NEW
    assert set(scored["r"]) <= {1, 2, 3, 4, 5}


def test_rfm_works_for_a_store_with_two_members(store_b):
    enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100"))
    enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550101"))
    counts = refresh_segments(store_b)
    assert sum(counts.values()) == 2
    assert all(m.rfm and m.segment for m in Member.objects.all())


def test_enrol_members_command_backfills_once(store_b, store_a):
    for n in range(5):
        OrderFactory(store=store_b, buyer_phone=f"415555{n:04d}", marketing_consent=n % 2 == 0)
    OrderFactory(store=store_b, buyer_phone="4155550001")  # repeat buyer
    OrderFactory(store=store_a, buyer_phone="13800138000")
    call_command("enrol_members", "--store", "store-b")
    assert Member.objects.filter(store=store_b).count() == 5
    assert not Member.objects.filter(store=store_a).exists()
    assert Member.objects.get(phone="+14155550001").orders_count == 2
    call_command("enrol_members")
    assert Member.objects.count() == 6 and MemberOrder.objects.count() == 7
    assert Member.objects.filter(store=store_a).get().phone == "+8613800138000"


def test_enrol_members_command_names_an_unknown_store():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No store with slug 'nope'"):
        call_command("enrol_members", "--store", "nope")


def test_a_refund_after_enrolment_lowers_spend_and_tier(store_b):
    from stores.orders import record_refund

    order = OrderFactory(store=store_b, buyer_phone="4155550100", total=Decimal("2500"), external_id="G1")
    assert enrol_from_order(order).tier == Tier.GOLD
    record_refund(store_b, "G1", Decimal("2000"), LA_MORNING)
    member = Member.objects.get()
    assert (member.total_spent, member.tier) == (Decimal("500.00"), Tier.SILVER)


def test_a_cancellation_after_enrolment_takes_the_order_off_the_members_figures(store_b):
    first = OrderFactory(store=store_b, buyer_phone="4155550100", total=Decimal("2500"))
    enrol_from_order(first)
    second = OrderFactory(store=store_b, buyer_phone="4155550100", total=Decimal("40"))
    enrol_from_order(second)
    first.status = "cancelled"
    first.save()
    member = enrol_from_order(first)  # what the order webhook or import does when an order moves on
    assert (member.orders_count, member.total_spent, member.tier) == (1, Decimal("40.00"), Tier.STANDARD)
    assert member.first_order_at == member.last_order_at == second.paid_at


@pytest.mark.parametrize("order", [{"status": "cancelled"},
                                   {"status": "refunded", "refund_amount": Decimal("50.00")}])
def test_a_member_whose_only_order_was_cancelled_or_refunded_has_no_orders_and_no_segment(store_b, order):
    member = enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550100", total=Decimal("50.00"),
                                           **order))
    enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550101"))
    assert (member.orders_count, member.total_spent, member.last_order_at) == (0, Decimal("0.00"), None)
    refresh_segments(store_b)
    member.refresh_from_db()
    assert (member.segment, member.rfm) == ("", "")


def test_a_member_who_no_longer_has_orders_loses_their_segment(store_b):
    order = OrderFactory(store=store_b, buyer_phone="4155550100")
    member = enrol_from_order(order)
    enrol_from_order(OrderFactory(store=store_b, buyer_phone="4155550101"))
    refresh_segments(store_b)
    order.status = "cancelled"
    order.save()
    refresh_segments(store_b)  # the nightly refresh recounts figures from the orders first
    member.refresh_from_db()
    assert (member.orders_count, member.segment, member.rfm) == (0, "", "")
