"""Who may be texted and when: consent, opt-outs, quiet hours, one text a day and the frequency cap.

Quiet hours are 21:00-09:00 in the member's zone (`Member.zone`: their own, a foreign number's, else
the store's): a text due then is deferred to the next 09:00 local, never dropped. A member gets at most
one text a (local) day from a store: `texted_days` says which days are taken, `next_free_morning` the
09:00 of the next day that is not.
The frequency cap allows SMS_FREQUENCY_CAP texts per member in SMS_FREQUENCY_DAYS days; a text over
the cap is kept as a "skipped" row with its reason.

After-sales care: no "how is it working out?" text for an order that was refunded (wholly or in part),
cancelled, reviewed 2★ or less, or has an open review case. `care_stops` is that rule, once, as database
conditions: planning filters orders with it (`orders_to_care_for`), the send step's claim requires it
and `care_stop_reason` names the condition an order meets, so the three cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When

from reviews.models import OPEN_STATUSES, Review
from stores.models import Order, OrderStatus

from .models import ANSWER, MessageStatus

QUIET_START = time(21, 0)
QUIET_END = time(9, 0)

# Texts that count towards the cap: those sent and those about to be (our answers to replies never do).
COUNTED = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED,
           MessageStatus.UNDELIVERED)


def in_quiet_hours(now: datetime, zone: ZoneInfo) -> bool:
    local = now.astimezone(zone).time()
    return local >= QUIET_START or local < QUIET_END


def next_send_time(now: datetime, zone: ZoneInfo) -> datetime:
    """`now` if texting is allowed then, else the next 09:00 in `zone` (DST-safe wall time)."""
    if not in_quiet_hours(now, zone):
        return now
    local = now.astimezone(zone)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone)


def recent_text_counts(store, now: datetime) -> dict[int, int]:
    """For each member of `store` with any: their texts in the last SMS_FREQUENCY_DAYS days (and planned)."""
    from .models import Message

    since = now - timedelta(days=settings.SMS_FREQUENCY_DAYS)
    recent = Message.objects.filter(store=store, status__in=COUNTED).exclude(flow=ANSWER).filter(
        Q(sent_at__gte=since) | Q(sent_at__isnull=True, scheduled_for__gte=since))
    return dict(recent.values("member_id").annotate(n=Count("pk")).values_list("member_id", "n"))


def capped_member_ids(store, now: datetime) -> set[int]:
    """Members of `store` who already have SMS_FREQUENCY_CAP texts in the last SMS_FREQUENCY_DAYS days."""
    return {member_id for member_id, n in recent_text_counts(store, now).items() if n >= settings.SMS_FREQUENCY_CAP}


def send_day(when: datetime, zone: ZoneInfo) -> date:
    return when.astimezone(zone).date()


def next_free_morning(day: date, taken: set[date], zone: ZoneInfo) -> datetime:
    """09:00 in `zone` of the first day after `day` that is not in `taken`."""
    day += timedelta(days=1)
    while day in taken:
        day += timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone)


def texted_days(store, now: datetime) -> dict[int, dict[date, list]]:
    """For each member of `store`: the local days from yesterday on with a text sent or about to be,
    and that day's texts (the Message rows, for moving one that has not started yet)."""
    from .models import Message

    since = now - timedelta(days=2)
    texts = (Message.objects.filter(store=store, status__in=COUNTED).exclude(flow=ANSWER)
             .filter(Q(sent_at__gte=since) | Q(sent_at__isnull=True, scheduled_for__gte=since))
             .select_related("member__store").only("pk", "flow", "status", "attempts", "enqueued_at", "sent_at",
                                                   "scheduled_for", "member__timezone", "member__phone",
                                                   "member__store__timezone", "member__store__country"))
    days: dict[int, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    for text in texts:
        days[text.member_id][send_day(text.sent_at or text.scheduled_for, text.member.zone)].append(text)
    return days


ORDER_NOT_FOUND = "order not found"


def care_stops() -> list[tuple[str, Q]]:
    """(reason, condition on Order) for each thing that stops an after-sales text, first match named.

    Any refund stops it, a partial one too: a buyer who had money back for part of an order is not asked
    "how do you like it?"; the store is already talking to them, as with a bad review or an open case.
    The reviews that count are the order's, and the buyer's reviews that name no order (the importer links
    those to the member by email) written since the order was paid: they may well be about it."""
    reviews = Review.objects.filter(Q(order=OuterRef("pk")) | Q(order__isnull=True, member__isnull=False,
                                                                member=OuterRef("member_link__member"),
                                                                created_at__gte=OuterRef("paid_at")))
    return [
        ("order refunded", Q(status=OrderStatus.REFUNDED) | Q(refunded_at__isnull=False) | Q(refund_amount__gt=0)),
        ("order cancelled", Q(status=OrderStatus.CANCELLED)),
        ("bad review", Q(Exists(reviews.filter(rating__lte=2)))),
        ("open review case", Q(Exists(reviews.filter(case__status__in=OPEN_STATUSES)))),
    ]


def orders_to_care_for(orders: QuerySet) -> QuerySet:
    """`orders` less those that meet any of `care_stops`."""
    stopped = Q()
    for _, condition in care_stops():
        stopped |= condition
    return orders.exclude(stopped)


def care_stop_reason(order: Order | None) -> str | None:
    """Why `order`'s buyer must not get an after-sales text now (a `care_stops` reason, or "order not
    found"), or None. Reads the order as it is in the database now, not as the instance was loaded."""
    if order is None or order.pk is None:
        return ORDER_NOT_FOUND
    reason = Case(*[When(condition, then=Value(name)) for name, condition in care_stops()],
                  default=Value(""), output_field=CharField())
    rows = list(Order.objects.filter(pk=order.pk).annotate(care_stop=reason).values_list("care_stop", flat=True))
    if not rows:
        return ORDER_NOT_FOUND
    return rows[0] or None
