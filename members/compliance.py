"""Who may be texted and when: consent, opt-outs, quiet hours, one text a day and the frequency cap.

Quiet hours are 21:00-09:00 in the member's zone (`Member.zone`: their own, a foreign number's, else
the store's): a text due then is deferred to the next 09:00 local, never dropped.
One sending number texts for every store, so a customer who bought in several stores (a Member row in each)
sees one sender: both limits count per phone number, over every store. A number gets at most one text a
(local) day: `texted_days` and `by_day` say which days are taken, `next_free_morning` the 09:00 of the next
day that is not. The frequency cap allows SMS_FREQUENCY_CAP texts per number in SMS_FREQUENCY_DAYS days; a
text over the cap is kept as a "skipped" row with its reason. `lock_numbers` keeps two plans from deciding
one number's day at once. Our answers to replies (automatic or an operator's text back) count for neither.

After-sales care: no "how is it working out?" text for an order that was refunded (wholly or in part),
cancelled, reviewed 2★ or less, or has an open review case. `care_stops` is that rule, once, as database
conditions: planning filters orders with it (`orders_to_care_for`), the send step's claim requires it
and `care_stop_reason` names the condition an order meets, so the three cannot disagree.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When

from reviews.models import OPEN_STATUSES, Review
from stores.models import Order, OrderStatus

from .models import ANSWER_FLOWS, MessageStatus

QUIET_START = time(21, 0)
QUIET_END = time(9, 0)

# Texts that count towards the cap: those sent and those about to be (our answers to replies never do:
# ANSWER_FLOWS).
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


class TextCount(NamedTuple):
    total: int  # texts to the number in the window, from every store
    elsewhere: int  # of those, other stores' texts


def numbers_of(store) -> QuerySet:
    """The phone numbers of `store`'s members: one sending number texts for every store, so the rules (here
    and the holiday period in flows) count every membership of such a number."""
    from .models import Member

    return Member.objects.filter(store=store).values("phone")


def recent_text_counts(store, now: datetime) -> dict[str, TextCount]:
    """For each number of a member of `store` with any: its texts in the last SMS_FREQUENCY_DAYS days (and
    planned), from every store."""
    from .models import Message

    since = now - timedelta(days=settings.SMS_FREQUENCY_DAYS)
    recent = (Message.objects.filter(member__phone__in=numbers_of(store), status__in=COUNTED)
              .exclude(flow__in=ANSWER_FLOWS)
              .filter(Q(sent_at__gte=since) | Q(sent_at__isnull=True, scheduled_for__gte=since)))
    return {phone: TextCount(n, elsewhere) for phone, n, elsewhere in recent.values("member__phone").annotate(
        n=Count("pk"), elsewhere=Count("pk", filter=~Q(store=store))).values_list("member__phone", "n", "elsewhere")}


def capped_numbers(store, now: datetime) -> set[str]:
    """Numbers of `store`'s members that already have SMS_FREQUENCY_CAP texts in the last SMS_FREQUENCY_DAYS days."""
    return {phone for phone, n in recent_text_counts(store, now).items() if n.total >= settings.SMS_FREQUENCY_CAP}


def cap_reason(count: TextCount) -> str:
    """The skip reason of a text over the cap; another store's texts are mentioned, never named (a user of
    this store may not know the other)."""
    reason = f"frequency cap: {settings.SMS_FREQUENCY_CAP} texts in {settings.SMS_FREQUENCY_DAYS} days"
    return f"{reason} to this number, other stores' included" if count.elsewhere else reason


def send_day(when: datetime, zone: ZoneInfo) -> date:
    return when.astimezone(zone).date()


def next_free_morning(day: date, taken: set[date], zone: ZoneInfo) -> datetime:
    """09:00 in `zone` of the first day after `day` that is not in `taken`."""
    day += timedelta(days=1)
    while day in taken:
        day += timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone)


@dataclass(slots=True)
class DayText:
    """A text that takes a day: what planning needs of a Message row, read as plain values (tens of
    thousands of them, with no model instances to build)."""
    pk: int
    store_id: int
    flow: str
    status: str
    attempts: int
    enqueued_at: datetime | None
    sent_at: datetime | None
    scheduled_for: datetime


def texted_days(store, now: datetime) -> dict[str, list[DayText]]:
    """For each number of a member of `store`: its texts from every store, sent or about to be, from
    yesterday on (with what moving one that has not started yet needs). `by_day` sorts them into days."""
    from .models import Message

    since = now - timedelta(days=2)
    texts = (Message.objects.filter(member__phone__in=numbers_of(store), status__in=COUNTED)
             .exclude(flow__in=ANSWER_FLOWS)
             .filter(Q(sent_at__gte=since) | Q(sent_at__isnull=True, scheduled_for__gte=since))
             .values_list("member__phone", *(f.name for f in fields(DayText))))
    numbers: dict[str, list[DayText]] = defaultdict(list)
    for phone, *values in texts:
        numbers[phone].append(DayText(*values))
    return numbers


def by_day(texts: list, zone: ZoneInfo) -> dict[date, list]:
    """`texts` by the local day in `zone` they were (or will be) sent: the customer's day, the zone of the
    membership being planned (memberships of one number share it unless a store set another)."""
    days: dict[date, list] = defaultdict(list)
    for text in texts:
        days[send_day(text.sent_at or text.scheduled_for, zone)].append(text)
    return days


def one_a_day_reason(day: date, texts: list, store) -> str:
    """The skip reason of a greeting for a day the number already has a text; another store's text is
    mentioned, never named (a user of this store may not know the other)."""
    if any(text.store_id != store.pk for text in texts):
        return f"one text a day: the number already has another store's text on {day.isoformat()}"
    return f"one text a day: already texted on {day.isoformat()}"


def wait_reason(elsewhere: bool) -> str:
    """Why a text waits for a later day: the number's day is taken (`elsewhere`: by another store's text, which
    is mentioned, never named: a user of this store may not know the other)."""
    if elsewhere:
        return "waits: another store's text to this number that day"
    return "waits: another text to this number that day"


# Planning locks the numbers it plans, so two stores' flows never plan one number's day at once. Advisory locks
# live in Postgres's shared lock table (max_locks_per_transaction × connections, 6,400 by default), so numbers
# share NUMBER_LOCK_STRIPES locks: a plan of 100 000 members holds at most that many.
NUMBER_LOCK_STRIPES = 256
NUMBER_LOCK_SPACE = 0x4D534D53  # pg_advisory_xact_lock's first key: these locks, not another feature's


def lock_numbers(phones: set[str]) -> None:
    """Hold, until the transaction ends, the locks of `phones` (one query). Taken in ascending order, so two
    plans wait for each other, never deadlock. SQLite (the demo) serialises every writer anyway."""
    if connection.vendor != "postgresql" or not phones:
        return
    stripes = sorted({zlib.crc32(phone.encode()) % NUMBER_LOCK_STRIPES for phone in phones})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(%s, stripe)) FROM unnest(%s::int[]) AS stripe",
                       [NUMBER_LOCK_SPACE, stripes])


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
