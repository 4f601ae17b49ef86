"""Flows beat runs: holiday care on the member's local day, after-sales N days after delivery,
monthly benefits with unique coupons, and a campaign's dry run."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from members import compliance, flows, sending, tasks
from members.models import Coupon, Festival, Message, MessageStatus, SmsTemplate
from members.replies import receive
from members.services import enrol_from_order
from members.sms import locmem
from reviews.models import Review
from reviews.services import open_case_if_bad
from stores.models import Order
from tests.factories import OrderFactory, StoreFactory
from tests.members.conftest import make_member


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch):
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)


pytestmark = pytest.mark.django_db


@pytest.fixture
def holiday_template(store_b):
    return SmsTemplate.objects.create(store=store_b, name="Holiday", flow="holiday",
                                      body="Happy {holiday}, {first_name}! From all of us at {store}.")


def test_christmas_greeting_is_planned_on_the_day_in_the_store_zone(store_b, holiday_template, member_b):
    eve = datetime(2026, 12, 24, 12, 0, tzinfo=store_b.zone)
    assert flows.holiday_care(eve).created == 0
    morning = datetime(2026, 12, 25, 7, 0, tzinfo=store_b.zone)
    assert flows.holiday_care(morning).created == 1
    message = Message.objects.get()
    assert message.occasion == "holiday:2026-12-25"
    assert message.body == "Happy Christmas Day, Grace! From all of us at Store B."
    assert message.scheduled_for == datetime(2026, 12, 25, 9, 0, tzinfo=store_b.zone)  # 07:00 is quiet


def test_beat_firing_twice_plans_one_greeting(store_b, holiday_template, member_b):
    noon = datetime(2026, 12, 25, 12, 0, tzinfo=store_b.zone)
    flows.holiday_care(noon)
    second = flows.holiday_care(noon + timedelta(hours=1))
    assert second.created == 0 and Message.objects.count() == 1


def test_members_in_other_zones_are_greeted_on_their_own_day(store_b, holiday_template):
    tokyo = make_member(store_b, timezone="Asia/Tokyo")
    la = make_member(store_b)
    # 2026-12-25 10:00 in Tokyo is still 2026-12-24 17:00 in Los Angeles
    flows.holiday_care(datetime(2026, 12, 25, 1, 0, tzinfo=UTC))
    assert list(Message.objects.values_list("member_id", flat=True)) == [tokyo.pk]
    flows.holiday_care(datetime(2026, 12, 25, 18, 0, tzinfo=UTC))
    assert set(Message.objects.values_list("member_id", flat=True)) == {tokyo.pk, la.pk}


def test_no_greeting_is_planned_after_21_local(store_b, holiday_template, member_b):
    assert flows.holiday_care(datetime(2026, 12, 25, 21, 30, tzinfo=store_b.zone)).created == 0


def test_chinese_store_greets_on_national_day_in_chinese_whatever_the_servers_locale(store_a, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en_US")  # the holidays package would follow it
    SmsTemplate.objects.create(store=store_a, name="节日", flow="holiday", body="{first_name}，{holiday}快乐！")
    make_member(store_a, name="Mei Lin")
    flows.holiday_care(datetime(2026, 10, 1, 10, 0, tzinfo=store_a.zone))
    message = Message.objects.get()
    assert message.occasion == "holiday:2026-10-01" and message.body == "Mei，国庆节快乐！"
    assert message.segments == 1


@pytest.mark.parametrize(("country", "day"), [
    ("CN", date(2026, 10, 2)),  # 国庆节, its second day off
    ("CN", date(2026, 2, 18)),  # 春节, its second day off
    ("CN", date(2026, 10, 6)),  # 休息日（由 2026-09-20 调休）: a working Sunday moved here
    ("CN", date(2026, 1, 2)),  # the same, after New Year
    ("US", date(2026, 7, 3)),  # Independence Day (observed): the 4th is a Saturday
])
def test_no_greeting_for_observed_substitute_or_later_days_off(country, day):
    assert flows.public_holidays_starting(country, day) == []


def test_a_holiday_is_greeted_on_its_first_day_only(store_a):
    SmsTemplate.objects.create(store=store_a, name="节日", flow="holiday", body="{first_name}，{holiday}快乐！")
    make_member(store_a, name="Mei Lin")
    for day in range(1, 8):  # 国庆节 1-3 October, days off in lieu on the 6th and 7th
        flows.holiday_care(datetime(2026, 10, day, 10, 0, tzinfo=store_a.zone))
    assert list(Message.objects.values_list("occasion", flat=True)) == ["holiday:2026-10-01"]


def test_a_custom_festival_uses_its_own_template(store_b, holiday_template, member_b):
    own = SmsTemplate.objects.create(store=store_b, name="Birthday", flow="holiday",
                                     body="{store} turns 5 today, {first_name}!")
    Festival.objects.create(store=store_b, name="Store birthday", date=date(2020, 3, 14), template=own)
    flows.holiday_care(datetime(2026, 3, 14, 10, 0, tzinfo=store_b.zone))
    assert Message.objects.get().body == "Store B turns 5 today, Grace!"


def test_a_store_in_a_country_without_a_calendar_gets_only_its_festivals():
    store = StoreFactory(country="ZZ", timezone="UTC")
    assert flows.holidays_on(store, date(2026, 12, 25)) == []


def test_after_sales_text_goes_n_days_after_delivery(store_b, member_b):
    SmsTemplate.objects.create(store=store_b, name="Care", flow="after_sales", delay_days=3,
                               body="Hi {first_name}, how is order {order}? Reply HELP for help.")
    delivered = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    order = OrderFactory(store=store_b, buyer_phone=member_b.phone, external_id="7001", delivered_at=delivered,
                         status="delivered", marketing_consent=True)
    enrol_from_order(order)
    assert flows.after_sales_care(delivered + timedelta(days=2, hours=23)).created == 0
    assert flows.after_sales_care(delivered + timedelta(days=3, hours=1)).created == 1
    assert flows.after_sales_care(delivered + timedelta(days=3, hours=2)).created == 0
    message = Message.objects.get()
    assert message.occasion == "after_sales:order 7001" and "order 7001" in message.body
    assert message.order == order


def test_after_sales_text_names_the_order_as_the_buyer_knows_it(store_b, member_b):
    SmsTemplate.objects.create(store=store_b, name="Care", flow="after_sales", delay_days=3,
                               body="Hi {first_name}, how is order {order}?")
    delivered = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    order = OrderFactory(store=store_b, buyer_phone=member_b.phone, external_id="5827361940321", name="#1042",
                         delivered_at=delivered, status="delivered", marketing_consent=True)
    enrol_from_order(order)
    assert flows.after_sales_care(delivered + timedelta(days=3, hours=1)).created == 1
    message = Message.objects.get()
    # Shopify's name, which the buyer's confirmation email showed; the occasion keeps the id (sent once).
    assert "order #1042?" in message.body and message.occasion == "after_sales:order 5827361940321"


def test_benefits_give_each_member_a_unique_coupon_once_a_month(store_b):
    SmsTemplate.objects.create(store=store_b, name="Monthly", flow="benefit", coupon_value="$10 off",
                               body="{first_name}, {coupon_value} with {coupon} until {valid_until}.")
    members = [make_member(store_b) for _ in range(5)]
    first = datetime(2026, 12, 1, 10, 0, tzinfo=store_b.zone)
    assert flows.benefits(first).created == 5
    assert flows.benefits(first + timedelta(days=1)).created == 0
    codes = list(Coupon.objects.values_list("code", flat=True))
    assert len(set(codes)) == 5 and all(c.startswith("STO-") for c in codes)
    text = Message.objects.get(member=members[0]).body
    assert Coupon.objects.get(member=members[0]).code in text and "$10 off" in text and "2026-12-31" in text
    assert flows.benefits(datetime(2026, 12, 20, 10, 0, tzinfo=store_b.zone)).created == 0


def text_recently(member, when):
    Message.objects.create(store=member.store, member=member, flow="campaign", occasion="campaign:0", body="Sale",
                           status=MessageStatus.SENT, sent_at=when, scheduled_for=when)


def test_a_member_over_the_frequency_cap_gets_no_benefit_coupon(store_b, settings):
    settings.SMS_FREQUENCY_CAP = 1
    SmsTemplate.objects.create(store=store_b, name="Monthly", flow="benefit", coupon_value="$10 off",
                               body="{first_name}, {coupon_value} with {coupon}.")
    capped, texted, also_texted = (make_member(store_b) for _ in range(3))
    first = datetime(2026, 12, 1, 10, 0, tzinfo=store_b.zone)
    text_recently(capped, first - timedelta(days=2))
    with time_machine.travel(first, tick=False):
        assert tasks.send_monthly_benefits() == 2
        assert tasks.send_monthly_benefits() == 0  # the beat fires again: nothing more issued
    assert not Coupon.objects.filter(member=capped).exists()
    assert Message.objects.get(member=capped, flow="benefit").status == MessageStatus.SKIPPED
    for member in (texted, also_texted):
        coupon = Coupon.objects.get(member=member)
        assert coupon.code in Message.objects.get(member=member, flow="benefit").body


def test_a_member_who_replies_stop_before_the_benefit_text_goes_keeps_no_coupon(store_b):
    SmsTemplate.objects.create(store=store_b, name="Monthly", flow="benefit", coupon_value="$10 off",
                               body="{first_name}, {coupon_value} with {coupon}.")
    stopper, stayer = make_member(store_b), make_member(store_b)
    night = datetime(2026, 12, 1, 2, 0, tzinfo=store_b.zone)
    assert flows.benefits(night).created == 2  # quiet hours: both go at 09:00
    receive(stopper.phone, "STOP", now=night + timedelta(hours=5))
    sending.send_batch(list(Message.objects.values_list("pk", flat=True)), night + timedelta(hours=7), threads=1)
    assert Message.objects.get(member=stopper).skip_reason == "opted out"
    assert list(Coupon.objects.held().values_list("member", flat=True)) == [stayer.pk]
    assert [text.body for text in locmem.outbox] == [Message.objects.get(member=stayer).body]


def test_a_campaign_gives_coupons_only_to_the_members_it_texts(store_b, settings):
    settings.SMS_FREQUENCY_CAP = 1
    template = SmsTemplate.objects.create(store=store_b, name="Winter", flow="campaign", coupon_value="$5",
                                          body="Winter sale: {coupon_value} off with {coupon}")
    capped, texted = make_member(store_b), make_member(store_b)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=store_b.zone)
    text_recently(capped, now - timedelta(days=1))
    assert (flows.start_campaign(store_b, template, now).created, flows.start_campaign(store_b, template, now).created
            ) == (1, 0)
    assert list(Coupon.objects.values_list("member", flat=True)) == [texted.pk]
    assert Coupon.objects.get().code in Message.objects.get(member=texted, flow="campaign").body


def test_benefits_reach_only_the_segments_the_template_names(store_b):
    SmsTemplate.objects.create(store=store_b, name="Win back", flow="benefit", audience_segments="at_risk,lost",
                               body="We miss you {first_name}: {coupon}")
    at_risk = make_member(store_b, segment="at_risk")
    make_member(store_b, segment="champions")
    flows.benefits(datetime(2026, 12, 2, 10, 0, tzinfo=store_b.zone))
    assert list(Message.objects.values_list("member_id", flat=True)) == [at_risk.pk]


def test_dry_run_counts_audience_segments_and_cost(settings, store_b):
    settings.SMS_PRICE_PER_SEGMENT = "0.05"
    template = SmsTemplate.objects.create(store=store_b, name="Long", flow="campaign", body="x" * 150 + " {name}")
    make_member(store_b, name="Al")  # 154 chars: one segment
    make_member(store_b, name="Bartholomew Jones")  # 168: two segments
    make_member(store_b, sms_consent=False)
    make_member(store_b, opted_out_at=datetime(2026, 1, 1, tzinfo=UTC))
    run = flows.dry_run(store_b, template, datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    assert run.audience == 2 and run.segments == 3 and run.by_segments == {1: 1, 2: 1}
    assert run.cost == Decimal("0.15")
    assert run.excluded["no consent"] == 1 and run.excluded["opted out"] == 1
    assert not Message.objects.exists()  # a dry run sends nothing


def test_starting_a_campaign_twice_the_same_day_texts_once(store_b, campaign_template, member_b):
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    flows.start_campaign(store_b, campaign_template, now)
    flows.start_campaign(store_b, campaign_template, now + timedelta(hours=1))
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 1


def test_a_campaign_started_again_the_next_day_texts_nobody_twice(store_b, campaign_template, member_b):
    night = datetime(2026, 11, 24, 22, 0, tzinfo=store_b.zone)
    flows.start_campaign(store_b, campaign_template, night)  # quiet hours: goes at 09:00
    assert sending.send_message(Message.objects.get().pk, night + timedelta(hours=11)).status == "sent"
    morning = night + timedelta(hours=12)
    again = flows.start_campaign(store_b, campaign_template, morning)
    assert (again.created, again.already) == (0, 1)
    assert Message.objects.count() == 1
    assert flows.dry_run(store_b, campaign_template, morning).audience == 0
    other = SmsTemplate.objects.create(store=store_b, name="Winter sale", flow="campaign", body="Sale at {store}!")
    assert flows.start_campaign(store_b, other, morning).created == 1  # another campaign is another text


def test_a_campaign_planned_under_the_old_per_day_occasion_is_not_sent_again(store_b, campaign_template, member_b):
    Message.objects.create(store=store_b, member=member_b, flow="campaign", template=campaign_template,
                           occasion=f"campaign:{campaign_template.pk}:2026-11-24", body="Hi", status="sent",
                           scheduled_for=datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert flows.dry_run(store_b, campaign_template, now).excluded[flows.ALREADY_PLANNED] == 1
    assert (flows.start_campaign(store_b, campaign_template, now).created, Message.objects.count()) == (0, 1)


@pytest.fixture
def care_template(store_b):
    return SmsTemplate.objects.create(store=store_b, name="Care", flow="after_sales", delay_days=3,
                                      body="Hi {first_name}, how is your order {order} working out?")


def delivered_order(store, member, external_id, delivered, **fields):
    order = OrderFactory(store=store, buyer_phone=member.phone, external_id=external_id, delivered_at=delivered,
                         status="delivered", marketing_consent=True, **fields)
    enrol_from_order(order)
    return order


DELIVERED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CARE_DUE = DELIVERED + timedelta(days=3, hours=1)


@pytest.mark.parametrize("refund", [{"refunded_at": DELIVERED + timedelta(days=2), "refund_amount": Decimal("50.00"),
                                     "status": "refunded"},
                                    {"refunded_at": DELIVERED + timedelta(days=2), "refund_amount": Decimal("10.00")}])
def test_no_care_text_for_a_refunded_order(store_b, member_b, care_template, refund):
    order = delivered_order(store_b, member_b, "7101", DELIVERED)
    Order.objects.filter(pk=order.pk).update(**refund)
    assert flows.after_sales_care(CARE_DUE).created == 0 and not Message.objects.exists()


@pytest.mark.parametrize("rating", [1, 2])
def test_no_care_text_for_an_order_with_a_bad_review(store_b, member_b, care_template, rating):
    order = delivered_order(store_b, member_b, "7102", DELIVERED)
    review = Review.objects.create(store=store_b, external_id="r1", order=order, member=member_b, rating=rating,
                                   body="Arrived broken", created_at=DELIVERED + timedelta(days=1))
    open_case_if_bad(review)
    assert flows.after_sales_care(CARE_DUE).created == 0


def test_no_care_text_while_a_bad_review_case_is_open(store_b, member_b, care_template):
    order = delivered_order(store_b, member_b, "7103", DELIVERED)
    review = Review.objects.create(store=store_b, external_id="r2", order=order, rating=3, body="terrible lid",
                                   created_at=DELIVERED + timedelta(days=1))
    assert open_case_if_bad(review).is_open()
    assert flows.after_sales_care(CARE_DUE).created == 0


def test_no_care_text_after_a_bad_review_that_names_no_order(store_b, member_b, care_template):
    """The review importer links a review without an order number to the member by email: a 1★ review
    written since the order was paid stops its care text; one from before the order does not."""
    order = delivered_order(store_b, member_b, "7105", DELIVERED, paid_at=DELIVERED - timedelta(days=2))
    Review.objects.create(store=store_b, external_id="r4", member=member_b, rating=1, body="an older complaint",
                          created_at=DELIVERED - timedelta(days=30))
    assert flows.after_sales_care(CARE_DUE).created == 1
    Message.objects.all().delete()
    Review.objects.create(store=store_b, external_id="r5", member=member_b, rating=1, body="Broke on day two",
                          created_at=DELIVERED + timedelta(days=1))
    assert flows.after_sales_care(CARE_DUE).created == 0
    assert compliance.care_stop_reason(order) == "bad review"


def test_a_good_review_still_gets_the_care_text(store_b, member_b, care_template):
    order = delivered_order(store_b, member_b, "7104", DELIVERED)
    Review.objects.create(store=store_b, external_id="r3", order=order, rating=5, body="Lovely",
                          created_at=DELIVERED + timedelta(days=1))
    assert flows.after_sales_care(CARE_DUE).created == 1


THANKSGIVING = date(2026, 11, 26)


def at(day, hour, minute, store):
    return datetime.combine(day, datetime.min.time(), tzinfo=store.zone).replace(hour=hour, minute=minute)


def test_a_holiday_greeting_moves_a_care_text_queued_for_the_same_morning(store_b, member_b, care_template,
                                                                         holiday_template):
    delivered_order(store_b, member_b, "7201", at(THANKSGIVING - timedelta(days=4), 23, 0, store_b))
    flows.after_sales_care(at(THANKSGIVING - timedelta(days=1), 23, 15, store_b))  # quiet hours: 09:00 next day
    assert flows.holiday_care(at(THANKSGIVING, 0, 5, store_b)).created == 1
    slots = dict(Message.objects.values_list("flow", "scheduled_for"))
    assert slots == {"holiday": at(THANKSGIVING, 9, 0, store_b),
                     "after_sales": at(THANKSGIVING + timedelta(days=1), 9, 0, store_b)}


def test_a_care_text_waits_for_the_morning_after_a_holiday_greeting(store_b, member_b, care_template,
                                                                    holiday_template):
    delivered_order(store_b, member_b, "7202", at(THANKSGIVING - timedelta(days=3), 0, 5, store_b))
    flows.holiday_care(at(THANKSGIVING, 0, 5, store_b))
    result = flows.after_sales_care(at(THANKSGIVING, 2, 15, store_b))
    assert (result.created, result.waiting) == (1, 1)
    care = Message.objects.get(flow="after_sales")
    assert care.scheduled_for == at(THANKSGIVING + timedelta(days=1), 9, 0, store_b)


def test_a_greeting_is_skipped_when_the_member_already_had_a_text_that_day(store_b, member_b, holiday_template,
                                                                          campaign_template):
    flows.start_campaign(store_b, campaign_template, at(THANKSGIVING, 10, 0, store_b))
    Message.objects.update(status=MessageStatus.SENT, attempts=1, sent_at=at(THANKSGIVING, 10, 0, store_b))
    result = flows.holiday_care(at(THANKSGIVING, 11, 5, store_b))
    assert (result.created, result.same_day) == (0, 1)
    greeting = Message.objects.get(flow="holiday")
    assert greeting.status == MessageStatus.SKIPPED and greeting.skip_reason.startswith("one text a day")


def test_two_orders_delivered_together_get_their_care_texts_on_two_days(store_b, member_b, care_template):
    delivered_order(store_b, member_b, "7301", DELIVERED)
    delivered_order(store_b, member_b, "7302", DELIVERED + timedelta(minutes=5))
    flows.after_sales_care(CARE_DUE)
    days = sorted(t.astimezone(store_b.zone).date() for t in Message.objects.values_list("scheduled_for", flat=True))
    assert len(days) == 2 and days[1] == days[0] + timedelta(days=1)


def test_flows_run_twice_after_a_move_still_plan_each_text_once(store_b, member_b, care_template, holiday_template):
    delivered_order(store_b, member_b, "7401", at(THANKSGIVING - timedelta(days=4), 23, 0, store_b))
    flows.after_sales_care(at(THANKSGIVING - timedelta(days=1), 23, 15, store_b))
    for hour in (0, 1):
        flows.holiday_care(at(THANKSGIVING, hour, 5, store_b))
        flows.after_sales_care(at(THANKSGIVING, hour, 15, store_b))
    assert sorted(Message.objects.values_list("flow", "status")) == [("after_sales", "queued"), ("holiday", "queued")]
    assert Message.objects.get(flow="after_sales").scheduled_for == at(THANKSGIVING + timedelta(days=1), 9, 0, store_b)


def test_a_greeting_reached_after_21_is_skipped_not_sent_the_next_morning(store_b, member_b, holiday_template):
    assert flows.holiday_care(at(THANKSGIVING, 20, 5, store_b)).created == 1
    greeting = Message.objects.get()
    with time_machine.travel(at(THANKSGIVING, 21, 10, store_b), tick=False):  # the send queue was long tonight
        assert sending.send_batch([greeting.pk], threads=1)[greeting.pk].status == "skipped"
    greeting.refresh_from_db()
    assert greeting.status == MessageStatus.SKIPPED
    assert greeting.skip_reason == "too late: the greeting was for 2026-11-26"
    friday = at(THANKSGIVING + timedelta(days=1), 9, 0, store_b)
    assert sending.send_message(greeting.pk, friday).status == "done" and locmem.outbox == []


def test_a_greeting_retried_the_next_day_is_skipped(fake_twilio, store_b, member_b, holiday_template):
    flows.holiday_care(at(THANKSGIVING, 20, 5, store_b))
    greeting = Message.objects.get()
    fake_twilio.fail_next(1, status=500)
    assert sending.send_message(greeting.pk, at(THANKSGIVING, 20, 6, store_b)).status == "retry"
    assert sending.send_message(greeting.pk, at(THANKSGIVING + timedelta(days=1), 10, 0, store_b)).status == "skipped"
    assert fake_twilio.sent_to(member_b.phone) == []


def test_a_greeting_twilio_took_before_21_is_recorded_sent_not_skipped(fake_twilio, store_b, member_b,
                                                                      holiday_template):
    flows.holiday_care(at(THANKSGIVING, 20, 5, store_b))
    greeting = Message.objects.get()
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    assert sending.send_message(greeting.pk, at(THANKSGIVING, 20, 59, store_b)).status == "retry"
    assert sending.send_message(greeting.pk, at(THANKSGIVING, 21, 1, store_b)).status == "found"
    assert len(fake_twilio.sent_to(member_b.phone)) == 1


# --- the order is checked again when the care text is sent -----------------------------------------------

def refund_in_full(order):
    Order.objects.filter(pk=order.pk).update(status="refunded", refunded_at=CARE_DUE, refund_amount=order.total)


def refund_in_part(order):
    Order.objects.filter(pk=order.pk).update(refunded_at=CARE_DUE, refund_amount=Decimal("10.00"))


def cancel(order):
    Order.objects.filter(pk=order.pk).update(status="cancelled")


def review_one_star(order):
    review = Review.objects.create(store=order.store, external_id="r-late-1", order=order, rating=1,
                                   body="Broke on day two", created_at=CARE_DUE)
    open_case_if_bad(review)


def open_a_case(order):
    review = Review.objects.create(store=order.store, external_id="r-late-3", order=order, rating=3,
                                   body="terrible lid", created_at=CARE_DUE)
    assert open_case_if_bad(review).is_open()


def review_one_star_naming_no_order(order):
    Review.objects.create(store=order.store, external_id="r-late-4", member=order.member_link.member, rating=1,
                          body="Broke on day two", created_at=CARE_DUE)


def delete_order(order):
    Order.objects.filter(pk=order.pk).delete()


AFTER_PLANNING = [(refund_in_full, "order refunded"), (refund_in_part, "order refunded"),
                  (cancel, "order cancelled"), (review_one_star, "bad review"), (open_a_case, "open review case"),
                  (review_one_star_naming_no_order, "bad review")]


def planned_care_text(store, member):
    order = delivered_order(store, member, "7501", DELIVERED, paid_at=DELIVERED - timedelta(days=2))
    assert flows.after_sales_care(CARE_DUE).created == 1
    return Message.objects.get(flow="after_sales"), order


@pytest.mark.parametrize(("change", "reason"), [*AFTER_PLANNING, (delete_order, "order not found")])
def test_a_care_text_is_not_sent_when_its_order_changed_after_planning(fake_twilio, store_b, member_b, care_template,
                                                                       change, reason):
    message, order = planned_care_text(store_b, member_b)
    change(order)
    outcome = sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk]
    assert (outcome.status, outcome.detail) == ("skipped", reason)
    assert fake_twilio.requests == []
    message.refresh_from_db()
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, reason)


def test_sending_a_stopped_care_text_twice_sends_nothing_and_keeps_the_reason(fake_twilio, store_b, member_b,
                                                                              care_template):
    message, order = planned_care_text(store_b, member_b)
    refund_in_part(order)
    sending.send_batch([message.pk], message.scheduled_for, threads=1)
    assert sending.send_message(message.pk, message.scheduled_for).status == "done"
    assert sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk].status == "done"
    assert fake_twilio.requests == []
    message.refresh_from_db()
    assert (message.status, message.skip_reason, message.attempts) == (MessageStatus.SKIPPED, "order refunded", 1)


def test_a_retry_after_a_twilio_500_does_not_send_for_an_order_refunded_meanwhile(fake_twilio, store_b, member_b,
                                                                                 care_template):
    fake_twilio.fail_next(1, status=500)
    message, order = planned_care_text(store_b, member_b)
    first = sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk]
    assert first.status == "retry"
    refund_in_full(order)
    retry = sending.send_message(message.pk, message.scheduled_for + timedelta(seconds=first.retry_in))
    assert (retry.status, retry.detail) == ("skipped", "order refunded")
    assert fake_twilio.sent == [] and [m for m, _ in fake_twilio.requests].count("POST") == 1
    message.refresh_from_db()
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, "order refunded")


def test_a_refund_landing_while_twilio_takes_the_care_text_is_recorded_as_sent_not_sent_again(
        fake_twilio, store_b, member_b, care_template, monkeypatch):
    """The refund arrives between the send step's check and Twilio's answer, which times out after Twilio took
    the text: the retry finds it at Twilio (it reached the customer) before applying the refund rule, so the
    record says sent, and the customer gets no second text."""
    from members.sms.twilio import TwilioBackend

    message, order = planned_care_text(store_b, member_b)
    real_send = TwilioBackend.send

    def send_as_the_refund_lands(backend, text):
        refund_in_full(order)
        return real_send(backend, text)

    monkeypatch.setattr(TwilioBackend, "send", send_as_the_refund_lands)
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    first = sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk]
    assert first.status == "retry"
    retry = sending.send_message(message.pk, message.scheduled_for + timedelta(seconds=first.retry_in))
    assert retry.status == "found"
    assert len(fake_twilio.sent_to(member_b.phone)) == 1
    message.refresh_from_db()
    assert (message.status, message.skip_reason) == (MessageStatus.SENT, "")


@pytest.mark.parametrize(("change", "reason"), [*AFTER_PLANNING, (delete_order, "order not found")])
def test_a_care_text_is_not_sent_when_its_order_changes_while_it_waits_for_its_turn(
        fake_twilio, store_b, member_b, care_template, monkeypatch, change, reason):
    """The refund (cancel, bad review, case) lands after the text was claimed, while it waits for its slot under
    the rate limit: the order is checked again after the wait, the text kept as skipped; Twilio hears nothing."""
    from members import pacing

    message, order = planned_care_text(store_b, member_b)
    monkeypatch.setattr(pacing, "wait_for_slot", lambda *args: change(order))
    outcome = sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk]
    assert (outcome.status, outcome.detail) == ("skipped", reason)
    assert fake_twilio.requests == []
    message.refresh_from_db()
    assert (message.status, message.skip_reason, message.attempts) == (MessageStatus.SKIPPED, reason, 1)


def test_a_retried_care_text_is_not_sent_when_its_order_is_refunded_while_it_waits_for_its_turn(
        fake_twilio, store_b, member_b, care_template, monkeypatch):
    from members import pacing

    fake_twilio.fail_next(1, status=500)
    message, order = planned_care_text(store_b, member_b)
    first = sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk]
    assert first.status == "retry"
    monkeypatch.setattr(pacing, "wait_for_slot", lambda *args: refund_in_full(order))
    retry = sending.send_message(message.pk, message.scheduled_for + timedelta(seconds=first.retry_in))
    assert (retry.status, retry.detail) == ("skipped", "order refunded")
    assert fake_twilio.sent == [] and [m for m, _ in fake_twilio.requests].count("POST") == 1


def test_the_check_after_the_wait_costs_a_care_text_one_query_and_other_texts_none(
        store_b, member_b, care_template, django_assert_num_queries):
    """Load the batch, claim, (after-sales: check the order again,) record: a campaign text's path is unchanged."""
    message, _ = planned_care_text(store_b, member_b)
    with django_assert_num_queries(4):
        assert sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk].status == "sent"
    template = SmsTemplate.objects.create(store=store_b, name="News", flow="campaign", body="Hi {first_name}!")
    other = make_member(store_b)
    sending.plan(store_b, "campaign", template, [sending.Planned(other, "campaign:news")], message.scheduled_for)
    text = Message.objects.get(flow="campaign")
    with django_assert_num_queries(3):
        assert sending.send_batch([text.pk], message.scheduled_for, threads=1)[text.pk].status == "sent"


def test_a_five_star_review_after_planning_still_gets_the_care_text(fake_twilio, store_b, member_b, care_template):
    message, order = planned_care_text(store_b, member_b)
    Review.objects.create(store=store_b, external_id="r-late-5", order=order, rating=5, body="Lovely",
                          created_at=CARE_DUE)
    assert sending.send_batch([message.pk], message.scheduled_for, threads=1)[message.pk].status == "sent"
    sent = fake_twilio.sent_to(member_b.phone)
    assert len(sent) == 1 and "order 7501" in sent[0]["body"]


@pytest.mark.parametrize(("change", "reason"), [(None, None), *AFTER_PLANNING])
def test_the_stop_reason_and_the_planning_queryset_agree(store_b, member_b, change, reason):
    order = delivered_order(store_b, member_b, "7601", DELIVERED, paid_at=DELIVERED - timedelta(days=2))
    if change:
        change(order)
    assert compliance.care_stop_reason(order) == reason
    cared_for = compliance.orders_to_care_for(Order.objects.filter(pk=order.pk)).exists()
    assert cared_for == (reason is None)


def test_a_festival_whose_own_template_is_switched_off_gets_the_stores_holiday_template(store_b, holiday_template,
                                                                                         member_b):
    own = SmsTemplate.objects.create(store=store_b, name="Birthday", flow="holiday", is_active=False,
                                     body="{store} turns 5 today, {first_name}!")
    Festival.objects.create(store=store_b, name="Store birthday", date=date(2020, 3, 14), template=own)
    flows.holiday_care(datetime(2026, 3, 14, 10, 0, tzinfo=store_b.zone))
    assert Message.objects.get().body == "Happy Store birthday, Grace! From all of us at Store B."


def test_a_festival_pointing_at_another_stores_template_never_sends_that_text(store_a, store_b, holiday_template,
                                                                              member_b):
    theirs = SmsTemplate.objects.create(store=store_a, name="节日", flow="holiday", body="{store}周年庆！")
    Festival.objects.create(store=store_b, name="Store birthday", date=date(2020, 3, 14), template=theirs)
    flows.holiday_care(datetime(2026, 3, 14, 10, 0, tzinfo=store_b.zone))
    assert Message.objects.get().body == "Happy Store birthday, Grace! From all of us at Store B."


def greet_every_day(store, first: date, days: int) -> list[str]:
    SmsTemplate.objects.get_or_create(store=store, name="Greeting", flow="holiday", body="Happy {holiday}!")
    for n in range(days):
        flows.holiday_care(datetime.combine(first + timedelta(days=n), datetime.min.time(), tzinfo=store.zone)
                           + timedelta(hours=10))
    return list(Message.objects.exclude(status=MessageStatus.SKIPPED).order_by("occasion")
                .values_list("occasion", flat=True))


def test_new_years_eve_and_spring_festival_are_one_greeting(store_a):
    make_member(store_a)  # 农历除夕 16 February 2026, 春节 the 17th
    assert greet_every_day(store_a, date(2026, 2, 15), 4) == ["holiday:2026-02-16"]


def test_a_greeting_skipped_for_the_holiday_period_is_kept_with_its_reason(store_a):
    make_member(store_a)
    greet_every_day(store_a, date(2026, 2, 16), 1)  # 除夕
    result = flows.holiday_care(datetime(2026, 2, 17, 10, 0, tzinfo=store_a.zone))  # 春节
    assert (result.created, result.flow_skipped) == (0, 1)
    skipped = Message.objects.get(occasion="holiday:2026-02-17")
    assert (skipped.status, skipped.skip_reason) == (MessageStatus.SKIPPED, "holiday period: greeted for 2026-02-16")


@pytest.mark.parametrize(("country", "zone", "first", "greeted"), [
    ("GB", "Europe/London", date(2026, 12, 24), ["holiday:2026-12-25"]),  # Christmas, then Boxing Day
    ("DE", "Europe/Berlin", date(2026, 4, 2), ["holiday:2026-04-03"]),  # Good Friday, then Easter Monday
    ("DK", "Europe/Copenhagen", date(2026, 4, 1), ["holiday:2026-04-02"]),  # Maundy Thursday to Easter Monday
])
def test_a_holiday_period_of_several_holidays_is_one_greeting(country, zone, first, greeted):
    store = StoreFactory(country=country, timezone=zone)
    make_member(store, phone="+447700900123")
    assert greet_every_day(store, first, 6) == greeted


def test_new_years_day_a_week_after_christmas_is_greeted_again():
    store = StoreFactory(country="GB", timezone="Europe/London")
    make_member(store, phone="+447700900123")
    assert greet_every_day(store, date(2026, 12, 25), 8) == ["holiday:2026-12-25", "holiday:2027-01-01"]


def test_a_member_whose_first_greeting_was_capped_gets_the_next_days(store_a, settings):
    settings.SMS_FREQUENCY_CAP = 1
    member = make_member(store_a)
    Message.objects.create(store=store_a, member=member, flow="campaign", occasion="campaign:1", body="Sale",
                           status=MessageStatus.SENT, sent_at=datetime(2026, 2, 9, 18, 0, tzinfo=store_a.zone),
                           scheduled_for=datetime(2026, 2, 9, 18, 0, tzinfo=store_a.zone))
    greet_every_day(store_a, date(2026, 2, 16), 2)
    assert dict(Message.objects.filter(flow="holiday").values_list("occasion", "status")) == {
        "holiday:2026-02-16": MessageStatus.SKIPPED, "holiday:2026-02-17": MessageStatus.QUEUED}


def test_a_stores_own_festival_the_day_after_a_holiday_is_still_greeted(store_b):
    Festival.objects.create(store=store_b, name="Store birthday", date=date(2020, 12, 26))
    make_member(store_b)
    assert greet_every_day(store_b, date(2026, 12, 25), 2) == ["holiday:2026-12-25", "holiday:2026-12-26"]


def test_a_benefit_text_without_a_coupon_code_issues_no_coupon(store_b):
    # Saved before the editor refused such a text (or through a path that skips it): nobody would see a code.
    SmsTemplate.objects.create(store=store_b, name="Perk", flow="benefit", coupon_value="$10 off",
                               body="{first_name}, free shipping all month at {store}!")
    member = make_member(store_b)
    assert flows.benefits(datetime(2026, 12, 1, 10, 0, tzinfo=store_b.zone)).created == 1
    assert Message.objects.get(member=member).body.endswith("free shipping all month at Store B!")
    assert not Coupon.objects.exists()


def test_a_campaign_whose_code_is_written_as_literal_braces_issues_no_coupon(store_b):
    template = SmsTemplate.objects.create(store=store_b, name="Braces", flow="campaign",
                                          body="Use code {{coupon}} at checkout")
    make_member(store_b)
    assert flows.start_campaign(store_b, template, datetime(2026, 11, 24, 10, 0, tzinfo=store_b.zone)).created == 1
    assert Message.objects.get().body == "Use code {coupon} at checkout" and not Coupon.objects.exists()


def test_any_text_that_carries_a_coupon_code_issues_the_coupon_it_shows(store_b, member_b, holiday_template):
    holiday_template.body = "Happy {holiday}! Your gift: {coupon_value} with {coupon}"
    holiday_template.coupon_value = "$5 off"
    holiday_template.save()
    flows.holiday_care(datetime(2026, 12, 25, 10, 0, tzinfo=store_b.zone))
    coupon = Coupon.objects.get(member=member_b)
    assert Message.objects.get().body == f"Happy Christmas Day! Your gift: $5 off with {coupon.code}"
