"""The members demo seed builds on the stores demo and leaves a usable picture."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from members import demo as members_demo
from members import flows
from members.compliance import in_quiet_hours
from members.models import HANDED_OVER, Coupon, Member, Message, MessageStatus, SmsTemplate
from stores import demo as stores_demo
from stores.models import Order
from tests.demo_once import seeded_once

pytestmark = pytest.mark.django_db

# The settings the folder's `sms_settings` gives every test, for the seed shared by a class (made before them).
SMS_SETTINGS = {"SMS_BACKEND": "locmem", "SMS_RATE_PER_SECOND": 0, "SMS_RETRY_BACKOFF": 1,
                "SITE_URL": "https://desk.example.com", "TWILIO_AUTH_TOKEN": "test-token"}


def seed_members_demo():
    with override_settings(**SMS_SETTINGS):
        ctx = stores_demo.seed(days=20)
        members_demo.seed(ctx)
    return ctx


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """(the demo's context, the clock just after it was seeded)."""
    with seeded_once(django_db_blocker):
        ctx = seed_members_demo()
        yield ctx, timezone.now()


class TestTheDemoSeededNow:
    """One demo (20 days, members) for these tests: they only read it, or write inside their own transaction."""

    def test_demo_seed_enrols_buyers_with_segments_templates_and_texts(self, demo):
        ctx, _ = demo
        for store in ctx.stores:
            members = Member.objects.filter(store=store)
            assert members.count() > 100
            # Every member with an order they kept has a segment; one whose orders were all cancelled or
            # refunded has none (nothing to score).
            assert members.filter(orders_count__gt=0, segment="").count() == 0
            assert members.filter(orders_count__gt=0).count() > 100
            assert members.filter(sms_consent=True).exists() and members.filter(sms_consent=False).exists()
            assert SmsTemplate.objects.filter(store=store).count() == 5
            assert Message.objects.filter(store=store, status="delivered").exists()

    def test_every_demo_buyer_with_a_phone_becomes_a_member(self, demo):
        ctx, _ = demo
        for store in ctx.stores:
            orders = Order.objects.filter(store=store).exclude(buyer_phone="")
            phones = set(orders.values_list("buyer_phone", flat=True))
            enrolled = set(Member.objects.filter(store=store).values_list("phone", flat=True))
            assert phones and phones <= enrolled, f"{len(phones - enrolled)} buyers of {store.slug} not enrolled"

    def test_demo_never_shows_a_text_as_sent_before_its_time_has_come(self, demo):
        _, now = demo  # now: the clock just after the seed, as when each test seeded its own
        assert Message.objects.exists()
        assert not Message.objects.filter(sent_at__gt=now).exists()
        assert not Message.objects.filter(status__in=HANDED_OVER, scheduled_for__gt=now).exists()
        assert all(status == MessageStatus.QUEUED
                   for status in Message.objects.filter(scheduled_for__gt=now).values_list("status", flat=True))

    def test_no_demo_text_goes_out_in_the_members_quiet_hours(self, demo):
        texts = list(Message.objects.select_related("member__store"))
        assert len(texts) > 20 and any(t.sent_at for t in texts)
        for text in texts:
            send_time = text.sent_at or text.scheduled_for
            local = send_time.astimezone(text.member.zone)
            assert not in_quiet_hours(send_time, text.member.zone), f"{text.occasion} goes out at {local:%H:%M} local"

    def test_every_demo_text_was_created_before_it_was_sent(self, demo):
        texts = list(Message.objects.all())
        assert texts
        for text in texts:
            assert text.created_at <= (text.sent_at or text.scheduled_for), f"{text.occasion} created after it was sent"

    def test_a_reply_to_the_demo_after_sales_text_reaches_an_operator(self, demo):
        from members.models import InboundReply
        from members.replies import receive

        for template in SmsTemplate.objects.filter(flow="after_sales"):
            template.full_clean()  # any opt-out word it names is one the app honours
            member = Member.objects.filter(store=template.store).first()
            answer = receive(member.phone, "The kettle is broken" if template.store.country != "CN" else "茶叶受潮了")
            assert answer and template.store.name in answer.text
            assert InboundReply.objects.awaiting_answer().filter(member=member).exists()

    def test_demo_care_texts_greet_buyers_by_a_real_first_name(self, demo):
        ctx, _ = demo
        texts = list(Message.objects.filter(flow="after_sales").select_related("member", "store"))
        assert {t.store for t in texts} == set(ctx.stores)
        for text in texts:
            name = text.member.name
            if text.store.country == "CN":  # Jade Tea House: a Chinese name, surname first, greeted whole
                assert name[0] in stores_demo.CN_SURNAMES and name[1:] in stores_demo.CN_GIVEN_NAMES, name
                assert text.body.startswith(f"{name}您好，订单"), text.body
                assert text.segments == 1  # the name is no longer than a Latin one: the text stays one SMS
            else:
                first, last = name.split(" ", 1)
                assert first.isascii() and first in stores_demo.FIRST_NAMES and last in stores_demo.LAST_NAMES, name
                assert text.body.startswith(f"Hi {first}, how"), text.body
        for store in ctx.stores:  # varied, not one name for everyone
            assert len({t.member.first_name for t in texts if t.store == store}) >= 8

    def test_demo_members_whose_text_failed_with_21211_have_an_invalid_number(self, demo):
        failed = Message.objects.filter(error_code="21211").values_list("member_id", flat=True)
        assert failed.exists()
        assert not Member.objects.filter(pk__in=failed, phone_invalid_at__isnull=True).exists()

    def test_no_demo_member_gets_two_texts_on_one_day(self, demo):
        days = [(t.member_id, (t.sent_at or t.scheduled_for).astimezone(t.member.zone).date())
                for t in Message.objects.select_related("member__store")]
        assert days and len(days) == len(set(days))


def test_readme_says_where_demo_texts_go_with_the_default_backend():
    from pathlib import Path

    import opsdesk.settings as project_settings  # the default, not the tests' locmem override

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    demo_paragraph = readme[readme.index("`make demo` prints the URL"):readme.index("`make test` runs everything")]
    if project_settings.SMS_BACKEND == "console":
        assert "texts to the worker's log `var/worker.log`" in demo_paragraph
    else:
        assert f"SMS_BACKEND={project_settings.SMS_BACKEND}" in demo_paragraph


# The fifth of a month: the benefit flow still plans this month's texts (its first 7 days), in both stores' zones.
SEEDED_AT = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="class")
def demo_on_the_fifth(django_db_setup, django_db_blocker):
    with seeded_once(django_db_blocker):
        with time_machine.travel(SEEDED_AT, tick=False):
            ctx = seed_members_demo()
        yield ctx


class TestTheDemoSeededOnTheFifthOfAMonth:
    """One demo seeded at SEEDED_AT for these tests, each reading it at that instant."""

    def test_the_demo_benefit_page_shows_coupons_issued_and_redeemed_by_later_orders(self, demo_on_the_fifth, client):
        ctx = demo_on_the_fifth
        with time_machine.travel(SEEDED_AT, tick=False):
            client.force_login(ctx.manager)
            for template in SmsTemplate.objects.filter(flow="benefit"):
                coupons = Coupon.objects.filter(store=template.store, occasion="benefit:2026-12")
                issued, redeemed = coupons.count(), coupons.filter(redeemed_order__isnull=False)
                assert 30 <= issued <= 60 and 0 < redeemed.count() < issued
                for coupon in redeemed.select_related("redeemed_order"):
                    text = Message.objects.get(member=coupon.member, occasion=coupon.occasion)
                    assert text.status == MessageStatus.DELIVERED and coupon.code in text.body
                    assert coupon.redeemed_order.discount_codes == [coupon.code]
                    assert coupon.redeemed_order.paid_at == coupon.redeemed_at > text.sent_at
                sales = sum(c.redeemed_order.total - c.redeemed_order.refund_amount  # the demo redeems kept orders
                            for c in redeemed.select_related("redeemed_order"))
                page = client.get(reverse("members:campaign", args=[template.pk])).content.decode()
                percent = round(100 * redeemed.count() / issued)
                assert (f"Coupons: {issued} issued, {redeemed.count()} redeemed ({percent}&nbsp;%), "
                        f"sales of those orders {sales:,.2f}\u00a0{template.store.currency}") in page

    def test_the_benefit_flow_right_after_the_demo_texts_no_demo_member_a_second_benefit_this_month(
            self, demo_on_the_fifth):
        with time_machine.travel(SEEDED_AT, tick=False):
            texted = set(Message.objects.filter(flow="benefit").values_list("member_id", flat=True))
            coupons = Coupon.objects.count()
            result = flows.benefits(timezone.now())
        assert texted and result.already == len(texted) and result.created > 0  # the others get theirs now
        for member_id in texted:
            assert Message.objects.filter(member_id=member_id, flow="benefit").count() == 1
        assert Coupon.objects.count() == coupons + result.created
