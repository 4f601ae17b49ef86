"""Demo data for members: every demo buyer enrolled from their paid orders (tiers, RFM segments),
text templates for each flow, a store festival, and a week of texts already sent (those not yet due
wait in the queue)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from stores.models import Order

from . import compliance
from .models import Festival, Flow, Member, Message, MessageStatus, SmsTemplate, TierRule
from .sending import mark_number_invalid
from .services import enrol_orders, refresh_segments
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
    ],
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
        Festival.objects.create(store=store, name="Store anniversary", date=store.today(now) + timedelta(days=10))
        _seed_sent_texts(store, templates[Flow.AFTER_SALES], ctx, now)


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
