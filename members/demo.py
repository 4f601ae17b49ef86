"""Demo data for members: every demo buyer enrolled from their paid orders (tiers, RFM segments),
text templates for each flow (the bad-review text too, which the reviews demo sends from a case), a store
festival, a week of texts already sent (those not yet due wait in the queue), and this month's benefit text with
its coupon delivered to some members, a share of whom used the code on a later order."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stores.models import Order, OrderStatus

from . import compliance
from .flows import audience
from .models import (
    Coupon,
    Festival,
    Flow,
    Member,
    Message,
    MessageStatus,
    SavedAnswer,
    SmsTemplate,
    TierRule,
    new_coupon_code,
)
from .sending import mark_number_invalid, member_context
from .services import enrol_orders, redeem_coupons, refresh_segments
from .sms import INVALID_NUMBER
from .texts import render, sms_length

TEMPLATES = {
    "CN": [
        ("节日问候", Flow.HOLIDAY, "{first_name}您好，{store}祝您{holiday}快乐！回复T退订", {}),
        ("售后关怀", Flow.AFTER_SALES,
         "{first_name}您好，订单{order}的茶叶还满意吗？有问题直接回复本短信，客服会联系您。{store}", {}),
        ("每月福利", Flow.BENEFIT,
         "{first_name}，本月会员福利：{coupon_value}优惠券 {coupon}，{valid_until}前有效。{store}",
         {"coupon_value": "¥20"}),
        ("老客召回", Flow.CAMPAIGN, "{first_name}，好久不见！新茶已到，{store}为您留了一份试饮。",
         {"audience_segments": "at_risk,hibernating,lost"}),
        ("差评关怀", Flow.REVIEW_CARE,
         "{first_name}您好，订单{order}让您失望了，非常抱歉。刚才给您打电话没有接通，直接回复本短信或致电400 820 0199，"
         "我们马上处理。{store}", {}),
    ],
    "default": [
        ("Holiday greeting", Flow.HOLIDAY, "Happy {holiday}, {first_name}! Warm wishes from all of us at {store}.", {}),
        ("After-sales care", Flow.AFTER_SALES,
         "Hi {first_name}, how is your order {order} working out? If anything is wrong, just reply to this text "
         "and we will get back to you. - {store}", {}),
        ("Monthly benefit", Flow.BENEFIT,
         "{first_name}, your member perk this month: {coupon_value} with code {coupon}, valid until {valid_until}. "
         "- {store}", {"coupon_value": "$10 off"}),
        ("Win back", Flow.CAMPAIGN, "We miss you, {first_name}! New trail gear just landed at {store}.",
         {"audience_segments": "at_risk,hibernating,lost"}),
        ("Bad-review care", Flow.REVIEW_CARE,
         "Sorry about your order {order}, {first_name}: we tried to call you. Reply here or call us at "
         "+1 415 555 0199. - {store}", {}),
    ],
}

# The answers a store's operators pick under Text back, in the store's language, greeting the customer as the
# templates do (each one SMS for a long name: 70 characters with Chinese, 160 otherwise).
SAVED_ANSWERS = {
    "CN": [("物流查询", "{first_name}您好，您的包裹已发出，物流单号可在订单详情查看。如有问题请随时回复我们。"),
           ("退换货", "{first_name}您好，收货7天内可无理由退换，请在订单页申请售后，我们会尽快处理。")],
    "default": [("Where is my parcel", "Hi {first_name}! Your parcel is on its way: the tracking link is in your order "
                 "email. Reply here if it has not arrived in 3 days."),
                ("Returns", "Hi {first_name}! You can return any unused item within 30 days: start it from your order "
                 "page and we will email a free label."),
                ("We will call you", "Thanks for your message, {first_name}! Someone from our team will call you "
                 "today between 9am and 6pm.")],
}

# No tea buyer reaches the CNY default's Gold (10,000), so the demo's tea shop sets its own thresholds (about one
# member in eight Gold, half Silver over 120 days); the outfitter keeps the USD defaults.
OWN_TIER_THRESHOLDS = {"jade-tea": (Decimal("2000"), Decimal("4000"))}


@transaction.atomic
def seed(ctx) -> None:
    now = timezone.now()
    for store in ctx.stores:
        if store.slug in OWN_TIER_THRESHOLDS:
            silver, gold = OWN_TIER_THRESHOLDS[store.slug]
            store.tier_rule = TierRule.objects.create(store=store, silver_from=silver, gold_from=gold)
        enrol_orders(Order.objects.filter(store=store))
        refresh_segments(store, now)
        templates = {}
        for name, flow, body, extra in TEMPLATES.get(store.country, TEMPLATES["default"]):
            templates[flow] = SmsTemplate.objects.create(store=store, name=name, flow=flow, body=body, **extra)
        for title, body in SAVED_ANSWERS.get(store.country, SAVED_ANSWERS["default"]):
            answer = SavedAnswer(store=store, title=title, body=body, created_by=ctx.manager, updated_by=ctx.manager)
            answer.full_clean()  # each one SMS, as the page checks it
            answer.save()
        Festival.objects.create(store=store, name="Store anniversary", date=store.today(now) + timedelta(days=10))
        _seed_sent_texts(store, templates[Flow.AFTER_SALES], ctx, now)
        _seed_benefit_texts(store, templates[Flow.BENEFIT], ctx, now)


def _seed_sent_texts(store, template, ctx, now) -> None:
    """After-sales texts of the last week, as the worker would have left them (most delivered, a few not):
    each planned when its order's delay had passed and sent then or, in quiet hours, at the next 09:00 in
    the member's zone; one whose send time is still ahead is queued, never shown as sent. As the flow
    would: no text for a refunded order, at most one a member a day; a number Twilio called invalid
    (21211) is marked invalid on the member."""
    rng = ctx.rng
    delivered = Order.objects.filter(store=store, delivered_at__gte=now - timedelta(days=10),
                                     delivered_at__lt=now - timedelta(days=template.delay_days),
                                     member_link__member__sms_consent=True)
    orders = (compliance.orders_to_care_for(delivered).select_related("member_link__member__store")
              .order_by("delivered_at", "pk")[:40])
    rows, created, texted_days, invalid = [], {}, set(), {}
    for n, order in enumerate(orders):
        member: Member = order.member_link.member
        body = render(template.body, {"first_name": member.first_name, "name": member.name, "store": store.name,
                                      "order": order.number})
        # The beat plans the text a little after the delay has passed; quiet hours move its send time.
        planned_at = min(order.delivered_at + timedelta(days=template.delay_days, minutes=rng.randrange(1, 8)), now)
        send_at = compliance.next_send_time(planned_at, member.zone)
        if (member.pk, compliance.send_day(send_at, member.zone)) in texted_days:
            continue
        texted_days.add((member.pk, compliance.send_day(send_at, member.zone)))
        occasion = f"after_sales:order {order.external_id}"
        created[(member.pk, occasion)] = planned_at
        text = Message(store=store, member=member, flow=Flow.AFTER_SALES, template=template, body=body,
                       occasion=occasion, order=order, segments=sms_length(body).segments, scheduled_for=send_at)
        if send_at > now:  # its time has not come: it waits in the queue like any planned text
            rows.append(text)
            continue
        text.status, text.error_code = MessageStatus.DELIVERED, ""
        if n % 13 == 5:
            text.status, text.error_code = MessageStatus.UNDELIVERED, "30006"
        elif n % 17 == 7:
            text.status, text.error_code = MessageStatus.FAILED, INVALID_NUMBER
        text.attempts, text.sent_at, text.claimed_at = 1, send_at, send_at
        text.status_updated_at = min(send_at + timedelta(seconds=8), now)
        if text.error_code == INVALID_NUMBER:
            invalid.setdefault(member.pk, text.status_updated_at)
        text.provider_sid = f"SMdemo{store.pk:02d}{n:026d}"
        rows.append(text)
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    for member_id, at in invalid.items():  # as the worker does on 21211 (members.sending._permanent)
        mark_number_invalid(member_id, at)
    # created_at is auto_now_add, so bulk_create stamps the seeding time; give each text its planning time.
    texts = list(Message.objects.filter(store=store, flow=Flow.AFTER_SALES,
                                        occasion__in={occasion for _, occasion in created}))
    for text in texts:
        text.created_at = created.get((text.member_id, text.occasion), text.created_at)
    Message.objects.bulk_update(texts, ["created_at"])


BENEFIT_TEXTS = (30, 60)  # members a store's benefit text of this month reached, at least and at most
REDEEMED_SHARE = (0.15, 0.25)  # of them, the share who used the code on a later order
BENEFIT_WINDOW_DAYS = 7  # members.flows.benefits plans in the first days of the store's month


def benefit_day(store, now: datetime):
    """The store-local day the demo's benefit text went out: a few days before seeding, within the days of the
    month the benefit flow plans in (last month's window when this month's first morning has not come)."""
    today = store.today(now)
    first = today.replace(day=1)
    day = max(first, min(today - timedelta(days=3), first + timedelta(days=BENEFIT_WINDOW_DAYS - 1)))
    if compliance.next_send_time(datetime.combine(day, time(0, 25), tzinfo=store.zone), store.zone) >= now:
        day = (first - timedelta(days=1)).replace(day=BENEFIT_WINDOW_DAYS)
    return day


def _seed_benefit_texts(store, template, ctx, now) -> None:
    """This month's benefit text, delivered with its coupon to 30-60 textable members as the flow would have
    left it (occasion "benefit:<YYYY-MM>", so the beat texts them no second time this month): planned at the
    beat's first run of the day, sent at 09:00 in the member's zone (quiet hours); never to a number that has
    another text that day or would go over the frequency cap. Then 15-25 % of them used the code on their first
    paid order after the text (while the coupon was valid): the order carries it in `discount_codes`, and
    `redeem_coupons` marks the coupon redeemed, as the paid-order paths do. Draws from its own RNG (derived from
    the demo's seed), so the other demo data stays as it was."""
    rng = random.Random(f"{ctx.seed_value}-{store.slug}-benefit")
    day = benefit_day(store, now)
    planned_at = datetime.combine(day, time(0, 25), tzinfo=store.zone)
    occasion = f"benefit:{day:%Y-%m}"
    valid_until = day + timedelta(days=template.coupon_valid_days)
    candidates = list(audience(store, template).filter(joined_at__lt=planned_at, consent_at__lt=planned_at)
                      .order_by("pk"))
    # Every text of these numbers (any store), to keep one a day and the frequency cap around the benefit's day.
    others: dict[str, list[datetime]] = {}
    for phone, sent_at, scheduled_for in Message.objects.filter(
            member__phone__in={m.phone for m in candidates}, status__in=compliance.COUNTED).values_list(
            "member__phone", "sent_at", "scheduled_for"):
        others.setdefault(phone, []).append(sent_at or scheduled_for)
    wanted = rng.randint(*BENEFIT_TEXTS)
    texts: list[tuple[Member, datetime]] = []
    for member in rng.sample(candidates, len(candidates)):
        send_at = compliance.next_send_time(planned_at, member.zone) + timedelta(seconds=rng.randrange(900))
        if send_at >= now:
            continue
        near = [at for at in others.get(member.phone, []) if abs(at - send_at) < timedelta(
            days=settings.SMS_FREQUENCY_DAYS)]
        if len(near) >= settings.SMS_FREQUENCY_CAP or any(
                compliance.send_day(at, member.zone) == compliance.send_day(send_at, member.zone) for at in near):
            continue
        texts.append((member, send_at))
        if len(texts) == wanted:
            break
    coupons, rows = {}, []
    for n, (member, send_at) in enumerate(texts):
        coupon = Coupon(store=store, member=member, occasion=occasion, code=new_coupon_code(store, rng),
                        value=template.coupon_value, valid_until=valid_until)
        coupons[member.pk] = coupon
        text = render(template.body, {**member_context(member), **coupon.placeholders()})
        rows.append(Message(store=store, member=member, flow=Flow.BENEFIT, template=template, occasion=occasion,
                            body=text, segments=sms_length(text).segments,
                            scheduled_for=compliance.next_send_time(planned_at, member.zone),
                            status=MessageStatus.DELIVERED, attempts=1, sent_at=send_at, claimed_at=send_at,
                            status_updated_at=min(send_at + timedelta(seconds=8), now),
                            provider_sid=f"SMdemo{store.pk:02d}b{n:025d}"))
    Coupon.objects.bulk_create(coupons.values())
    Message.objects.bulk_create(rows)
    # created_at is auto_now_add: the coupon was issued and the text planned at the beat's run, not now.
    Coupon.objects.filter(store=store, occasion=occasion).update(created_at=planned_at)
    Message.objects.filter(store=store, flow=Flow.BENEFIT, occasion=occasion).update(created_at=planned_at)

    # The first kept paid order of each texted member after their text, on a day their coupon was valid.
    sent = {member.pk: send_at for member, send_at in texts}
    later: dict[int, Order] = {}
    for order in (Order.objects.filter(store=store, member_link__member__in=list(sent), paid_at__isnull=False,
                                       paid_at__lte=now)
                  .exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.REFUNDED])
                  .select_related("member_link").order_by("paid_at", "pk")):
        member_id = order.member_link.member_id
        if order.paid_at > sent[member_id] and store.today(order.paid_at) <= valid_until:
            later.setdefault(member_id, order)
    redeeming = round(len(texts) * rng.uniform(*REDEEMED_SHARE))
    orders = [later[pk] for pk in rng.sample(sorted(later), min(redeeming, len(later)))]
    for order in orders:
        order.discount_codes = [coupons[order.member_link.member_id].code]
        Order.objects.filter(pk=order.pk).update(discount_codes=order.discount_codes)
    redeem_coupons(store, orders)
