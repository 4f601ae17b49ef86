"""The sending pipeline: plan Message rows, dispatch due ones in batches, send each exactly once.

1. Planning (`plan`) creates one Message per (member, flow, occasion) with bulk_create
   ignore_conflicts: the unique constraint makes a second beat run a no-op.
2. Dispatch (`dispatch_due`) enqueues one send task per SMS_BATCH_SIZE due queued rows (and stale
   "sending" rows); it is the only place that enqueues, and it runs every minute, so a lost task is
   re-enqueued, never lost.
3. Sending (`send_batch`) sends a batch's rows from a few threads, so Twilio's latency overlaps while
   the shared limiter (members/pacing.py) paces every worker together. Each row is claimed on its
   own with a conditional UPDATE (queued → sending, attempts + 1) only when a thread takes it, just
   before it is sent (`send_planned`, or `send_message` for retries and other cases); a duplicate or
   redelivered batch finds its sent rows done and sends only the rest. A row left "sending" by a
   killed worker may be claimed again after SMS_SENDING_TIMEOUT, and any attempt after the first asks
   the backend whether the text already reached the provider (`lookup`) before sending, so neither a
   crash nor an ambiguous timeout sends it twice. See docs/members.md.
"""

from __future__ import annotations

import logging
import math
import queue
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from opsdesk.tenancy import parse_pk
from stores.models import Order

from . import compliance, pacing, replies
from .models import ANSWER, HANDED_OVER, Coupon, Flow, InboundReply, Member, Message, MessageStatus, SmsTemplate
from .sms import INVALID_NUMBER, NOT_MOBILE, OPTED_OUT, PermanentSendError, TransientSendError, get_backend
from .texts import render, sms_length

log = logging.getLogger(__name__)


@dataclass
class Planned:
    member: Member
    occasion: str
    context: dict = field(default_factory=dict)
    order: Order | None = None  # after-sales: the order the text is about, re-checked when it is sent


@dataclass
class PlanResult:
    created: int = 0
    capped: int = 0
    already: int = 0
    waiting: int = 0  # created, but for a later day: the member already has a text that day
    same_day: int = 0  # skipped: a greeting for a day the member already has a text
    flow_skipped: int = 0  # skipped for the flow's own reason (plan's `number_rule`), e.g. the holiday period

    def __add__(self, other: PlanResult) -> PlanResult:
        return PlanResult(self.created + other.created, self.capped + other.capped, self.already + other.already,
                          self.waiting + other.waiting, self.same_day + other.same_day,
                          self.flow_skipped + other.flow_skipped)


# A greeting belongs to its day: it is never moved to another, and another text makes way for it.
DAY_BOUND_FLOWS = (Flow.HOLIDAY,)


def day_over(message: Message, member: Member, now: datetime) -> str | None:
    """Why a greeting ("holiday:<day>") must not be sent now: the next time the member may be texted (now,
    or 09:00 after quiet hours) is past its day in their zone. "Happy Thanksgiving" on Friday is worse than
    none: it is skipped, not sent late."""
    if message.flow not in DAY_BOUND_FLOWS:
        return None
    try:
        day = date.fromisoformat(message.occasion.partition(":")[2])
    except ValueError:
        return None
    if compliance.send_day(compliance.next_send_time(now, member.zone), member.zone) <= day:
        return None
    return f"too late: the greeting was for {day.isoformat()}"


def member_context(member: Member) -> dict:
    return {"first_name": member.first_name, "name": member.name, "store": member.store.name, "tier": member.tier}


def _make_way(texts: list, taken: set, zone, now: datetime, greeting_store) -> bool:
    """Move the texts of a day (any store's) to the number's next free day, if none of them has started; True
    if done.

    Only a text that is queued, never attempted, never enqueued and not due yet moves, with a conditional
    UPDATE: no sending task can hold it (dispatch enqueues only due rows), so exactly-once is untouched."""
    if any(t.flow in DAY_BOUND_FLOWS or t.status != MessageStatus.QUEUED or t.attempts or t.enqueued_at
           or t.scheduled_for <= now for t in texts):
        return False
    for text in texts:
        day = compliance.send_day(text.scheduled_for, zone)
        later = compliance.next_free_morning(day, taken, zone)
        reason = compliance.wait_reason(elsewhere=text.store_id != greeting_store.pk)
        if not Message.objects.filter(pk=text.pk, status=MessageStatus.QUEUED, attempts=0, enqueued_at__isnull=True,
                                      scheduled_for__gt=now).update(scheduled_for=later, wait_reason=reason):
            return False
        text.scheduled_for = later
        taken.add(compliance.send_day(later, zone))
    return True


@transaction.atomic
def plan(store, flow: str, template: SmsTemplate, items: list[Planned], now: datetime | None = None,
         batch_size: int = 2000, number_rule: Callable[[], dict[str, str]] | None = None) -> PlanResult:
    """Create the Message rows for `items`: skipped with a reason when over the frequency cap; one text a
    number a day, so a text for a day already taken waits for the number's next free day (a holiday
    greeting instead moves a text that has not started yet out of its day, or is skipped). Both rules count
    the number's texts from every store (compliance). When the template
    carries a coupon code ({coupon}), each queued text issues its member's coupon for the occasion in the same
    transaction: a member the text skips gets none, a second run, finding the text, issues none, and a text
    without the code issues none (nobody would hear of it).

    `number_rule` is the flow's own rule over other texts to the number (the holiday period): it returns the
    numbers not to text, each with its skip reason, and is called once the numbers are locked, so it reads
    what another store's plan of the same numbers has just committed."""
    now = now or timezone.now()
    if not items:
        return PlanResult()
    # One sending number texts for every store: lock the numbers, so no other store's flow (nor another flow
    # of this store) plans one of them while this one decides its day; then read what is taken.
    compliance.lock_numbers({item.member.phone for item in items})
    occasions = {item.occasion for item in items}
    existing = set(Message.objects.filter(store=store, flow=flow, occasion__in=occasions)
                   .values_list("member_id", "occasion"))
    todo = [item for item in items if (item.member.pk, item.occasion) not in existing]
    flow_reasons = number_rule() if number_rule else {}
    # Counted per number, over every store, and counted on as rows are planned: two orders of one buyer in one
    # run are two texts towards the cap.
    recent = compliance.recent_text_counts(store, now)
    texts = compliance.texted_days(store, now)
    numbers_days: dict[str, dict] = {}
    rows, waiting = [], 0
    for item in todo:
        member, zone = item.member, item.member.zone
        status, reason, waits = MessageStatus.QUEUED, "", ""
        send_at = compliance.next_send_time(now, zone)
        day = compliance.send_day(send_at, zone)
        if member.phone not in numbers_days:
            numbers_days[member.phone] = compliance.by_day(texts.get(member.phone, []), zone)
        member_days = numbers_days[member.phone]
        count = recent.get(member.phone, compliance.TextCount(0, 0))
        if member.phone in flow_reasons:
            status, reason = MessageStatus.SKIPPED, flow_reasons[member.phone]
        elif count.total >= settings.SMS_FREQUENCY_CAP:
            status, reason = MessageStatus.SKIPPED, compliance.cap_reason(count)
        elif member_days.get(day):
            taken = {d for d, texts in member_days.items() if texts}
            if flow not in DAY_BOUND_FLOWS:
                waits = compliance.wait_reason(any(text.store_id != store.pk for text in member_days[day]))
                send_at = compliance.next_free_morning(day, taken, zone)
                day = compliance.send_day(send_at, zone)
                waiting += 1
            elif _make_way(member_days[day], taken | {day}, zone, now, store):
                for text in member_days.pop(day):
                    member_days[compliance.send_day(text.scheduled_for, zone)].append(text)
            else:
                status, reason = MessageStatus.SKIPPED, compliance.one_a_day_reason(day, member_days[day], store)
        row = Message(store=store, member=member, flow=flow, occasion=item.occasion, template=template,
                      order=item.order, status=status, skip_reason=reason, wait_reason=waits, scheduled_for=send_at)
        if status == MessageStatus.QUEUED:
            member_days[day].append(row)
            recent[member.phone] = count._replace(total=count.total + 1)
        rows.append((item, row))
    issued = {}
    if template.carries_coupon:
        issued = Coupon.objects.issue(store, template, [(item.member, item.occasion) for item, row in rows
                                                        if row.status == MessageStatus.QUEUED], store.today(now))
        # A code collision (1 in ~10^12) leaves that member without a coupon, so without the text, this run;
        # the next run retries.
        rows = [(item, row) for item, row in rows
                if row.status != MessageStatus.QUEUED or (item.member.pk, item.occasion) in issued]
    for item, row in rows:
        coupon = issued.get((item.member.pk, item.occasion))
        row.body = render(template.body, {**member_context(item.member), **item.context,
                                          **(coupon.placeholders() if coupon else {})})
        row.segments = sms_length(row.body).segments
    rows = [row for _, row in rows]
    Message.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    result = PlanResult(created=sum(1 for r in rows if r.status == MessageStatus.QUEUED),
                        capped=sum(1 for r in rows if r.skip_reason.startswith("frequency cap")),
                        already=len(items) - len(todo), waiting=waiting,
                        same_day=sum(1 for r in rows if r.skip_reason.startswith("one text a day")),
                        flow_skipped=sum(1 for item in todo if item.member.phone in flow_reasons))
    transaction.on_commit(lambda: dispatch_due())
    return result


class NotTextable(ValueError):
    """The member may not be texted (opted out, invalid number, no consent): nothing was queued."""


def not_textable_reason(member: Member) -> str:
    """Why `member` may not be texted now, in the operator's words; "" when they may."""
    if member.opted_out_at:
        return "the customer opted out of texts (STOP); only their START reply lets us text them again"
    if member.phone_invalid_at:
        return "Twilio reported the number invalid"
    if not member.sms_consent:
        return "the customer has not agreed to texts"
    return ""


@transaction.atomic
def queue_one(member: Member, flow: str, occasion: str, template: SmsTemplate | None, context: dict,
              now: datetime | None = None, body: str | None = None,
              reply: InboundReply | None = None, sent_by=None) -> tuple[Message, bool]:
    """Queue one text an operator chose to send one customer (a bad-review case's text): (the text, created).
    `body`, when given, is the operator's own words (an answer to `reply`), sent as written instead of the
    template; `sent_by` is the operator who wrote it.

    The same (member, flow, occasion) again returns the text already there, so a double-click or a retried
    POST sends once. Quiet hours hold it for 09:00 in the member's zone; opt-outs, invalid numbers and
    missing consent refuse it (NotTextable) and the send step checks them again. The frequency cap and the
    one-text-a-day rule do not hold it back: the customer complained and the operator is answering now, as
    our answers to replies are not held back; it still counts towards both for the flows' later texts."""
    now = now or timezone.now()
    existing = Message.objects.filter(member=member, flow=flow, occasion=occasion).first()
    if existing is not None:
        return existing, False
    member = Member.objects.select_for_update(of=("self",)).select_related("store").get(pk=member.pk)
    if reason := not_textable_reason(member):
        raise NotTextable(reason)
    if body is None:
        body = render(template.body, {**member_context(member), **context})
    message = Message(store=member.store, member=member, flow=flow, occasion=occasion, template=template, body=body,
                      reply=reply, sent_by=sent_by, segments=sms_length(body).segments,
                      scheduled_for=compliance.next_send_time(now, member.zone))
    try:
        with transaction.atomic():  # a savepoint: the double-click's twin may have inserted it meanwhile
            message.save()
    except IntegrityError:
        return Message.objects.get(member=member, flow=flow, occasion=occasion), False
    transaction.on_commit(lambda: dispatch_due())
    return message, True


def dispatch_due(now: datetime | None = None, limit: int = 500_000) -> int:
    """Enqueue send tasks (SMS_BATCH_SIZE messages each) for every due message nobody is working on;
    returns how many messages."""
    from .tasks import send_messages as send_task

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SMS_SENDING_TIMEOUT)
    with transaction.atomic():
        nobody_on_it = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
        due = (Message.objects.select_for_update(skip_locked=True)
               .filter(nobody_on_it & (Q(status=MessageStatus.QUEUED, scheduled_for__lte=now)
                                       | Q(status=MessageStatus.SENDING, claimed_at__lt=stale)))
               .order_by("scheduled_for", "pk"))
        ids = list(due.values_list("pk", flat=True)[:limit])
        for start in range(0, len(ids), 5000):
            Message.objects.filter(pk__in=ids[start:start + 5000]).update(enqueued_at=now)
    if ids:
        from opsdesk.celery import app

        size = max(1, settings.SMS_BATCH_SIZE)
        with app.producer_or_acquire() as producer:
            for start in range(0, len(ids), size):
                send_task.apply_async((ids[start:start + size],), producer=producer)
    return len(ids)


@dataclass
class Outcome:
    status: str  # sent | found | busy | not_due | done | deferred | skipped | retry | failed | superseded | missing
    retry_in: float | None = None
    detail: str = ""


def _finish(message_id: int, attempt: int, **fields) -> int:
    fields.setdefault("status_updated_at", timezone.now())
    return Message.objects.filter(pk=message_id, attempts=attempt, status=MessageStatus.SENDING).update(**fields)


def _record_sent(message: Message, attempt: int, sid: str, now: datetime) -> None:
    done = _finish(message.pk, attempt, status=MessageStatus.SENT, provider_sid=sid, sent_at=now, error_code="",
                   error_message="")
    if not done:  # a status callback got there first: keep its status, make sure the sid is on the row
        Message.objects.filter(pk=message.pk, provider_sid__isnull=True).update(provider_sid=sid, sent_at=now)


def withdraw_coupon(message: Message, now: datetime) -> None:
    """The text carrying a coupon's code did not reach the member (skipped, refused, given up on, reported
    failed or undelivered): the coupon they never heard of is withdrawn, not left issued."""
    Coupon.objects.of_text(message).held().update(withdrawn_at=now)


def not_reached(message: Message, now: datetime) -> None:
    """The text failed or was reported undelivered (not skipped: it never left): its coupon is withdrawn, and an
    operator's answer to a reply puts that reply back to waiting for an answer (`replies.answer_failed`). Only on
    the move into that status, so a repeated report changes nothing more."""
    withdraw_coupon(message, now)
    replies.answer_failed(message)


def reinstate_coupon(message: Message) -> None:
    """Twilio reports a text sent or delivered after a failure (a carrier's late receipt, or a text we gave
    up on that Twilio had taken): the member has the code, so it is valid again."""
    Coupon.objects.of_text(message).filter(withdrawn_at__isnull=False).update(withdrawn_at=None)


def _skip(message: Message, attempt: int, reason: str) -> Outcome:
    """Keep the text as skipped with its reason, and withdraw the coupon it was to announce (issued with it
    when planned, members.models.CouponQuerySet.issue): the member never hears of it. An operator's answer to a
    reply puts that reply back to waiting, as a failed one does."""
    with transaction.atomic():
        if _finish(message.pk, attempt, status=MessageStatus.SKIPPED, skip_reason=reason):
            withdraw_coupon(message, timezone.now())
            replies.answer_failed(message)  # an answer the customer never got (opted out meanwhile) answers nothing
    return Outcome("skipped", detail=reason)


def backoff(attempt: int) -> float:
    return settings.SMS_RETRY_BACKOFF * (2 ** max(0, attempt - 1))


def send_message(message_id: int, now: datetime | None = None) -> Outcome:
    """Send one Message at most once (see the module docstring); safe to call any number of times."""
    now = now or timezone.now()
    started = time.monotonic()
    backend = get_backend()  # a configuration error fails here, before the message is claimed
    stale = now - timedelta(seconds=settings.SMS_SENDING_TIMEOUT)
    claimed = (Message.objects.filter(pk=message_id)
               .filter(Q(status=MessageStatus.QUEUED, scheduled_for__lte=now)
                       | Q(status=MessageStatus.SENDING, claimed_at__lt=stale))
               .update(status=MessageStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now,
                       status_updated_at=now))
    if not claimed:
        row = Message.objects.filter(pk=message_id).values("status", "claimed_at", "scheduled_for").first()
        if row is None:
            return Outcome("missing")
        if row["status"] == MessageStatus.SENDING:
            # Someone holds it; if they died, the claim goes stale and this task looks again then.
            return Outcome("busy", retry_in=max(1.0, (row["claimed_at"] - stale).total_seconds() + 1))
        if row["status"] == MessageStatus.QUEUED:
            return Outcome("not_due")  # deferred: dispatch_due sends it when it is due
        return Outcome("done")

    message = Message.objects.select_related("member__store", "order").get(pk=message_id)
    attempt, member = message.attempts, message.member

    if attempt > 1:  # an earlier attempt may have reached the provider: ask before sending again
        try:
            found = backend.lookup(message, message.created_at)
        except TransientSendError as exc:
            return _transient(message, attempt, exc, now)
        if found:
            _record_sent(message, attempt, found.sid, now)
            return Outcome("found", detail=found.sid)

    if member.opted_out_at or not member.sms_consent or member.phone_invalid_at:
        reason = "opted out" if member.opted_out_at else "invalid number" if member.phone_invalid_at else "no consent"
        return _skip(message, attempt, reason)
    if message.flow == Flow.AFTER_SALES and (reason := compliance.care_stop_reason(message.order)):
        return _skip(message, attempt, reason)
    if reason := day_over(message, member, now):
        return _skip(message, attempt, reason)
    if compliance.in_quiet_hours(now, member.zone):
        # Nothing was sent: give the claim back (attempts - 1), so deferrals do not use up SMS_MAX_ATTEMPTS
        # and a first attempt stays one (no lookup at 09:00). The token is reissued only after this holder
        # is done, and a queued row matches no fenced write, so fencing still holds.
        _finish(message.pk, attempt, status=MessageStatus.QUEUED, enqueued_at=None, attempts=attempt - 1,
                scheduled_for=compliance.next_send_time(now, member.zone))
        return Outcome("deferred")

    pacing.wait_for_slot()
    # Renew the claim just before the provider call. If this process stalled so long that the claim went
    # stale and another task took the message over, stop here instead of racing it to the provider.
    if stopped := _renew_after_the_wait(message, attempt, now + timedelta(seconds=time.monotonic() - started)):
        return stopped
    return _hand_over(backend, message, attempt, now)


def _renew_after_the_wait(message: Message, attempt: int, claimed_at: datetime | None) -> Outcome | None:
    """After the wait for a pacing slot, just before the provider call: None to go ahead.

    An after-sales text's order is checked again (a refund, a cancellation or a bad review may have landed while
    it waited), in the fenced UPDATE that renews the claim to `claimed_at` (the general path), or in one read
    when there is nothing to renew (`claimed_at` None: the short path claimed a moment ago). Other texts cost
    the short path no query. Only a text that is stopped costs more: the reason, then the skip."""
    rows = Message.objects.filter(pk=message.pk, attempts=attempt, status=MessageStatus.SENDING)
    if message.flow == Flow.AFTER_SALES:
        rows = rows.filter(Exists(compliance.orders_to_care_for(Order.objects.filter(pk=OuterRef("order_id")))))
    elif claimed_at is None:
        return None  # nothing to check, nothing to renew
    if rows.update(claimed_at=claimed_at) if claimed_at else rows.exists():
        return None
    if message.flow == Flow.AFTER_SALES:
        order = Order.objects.filter(pk=message.order_id).first() if message.order_id else None
        if reason := compliance.care_stop_reason(order):
            return _skip(message, attempt, reason)
    return Outcome("superseded")


def _hand_over(backend, message: Message, attempt: int, now: datetime) -> Outcome:
    """The provider call for a claimed message, and the record of what came of it."""
    try:
        result = backend.send(message)
    except PermanentSendError as exc:
        _permanent(message, attempt, exc, timezone.now())
        return Outcome("failed", detail=exc.code)
    except TransientSendError as exc:
        return _transient(message, attempt, exc, now)
    _record_sent(message, attempt, result.sid, timezone.now())
    log.info("message %s sent to member %s as %s", message.pk, message.member_id, result.sid)
    return Outcome("sent", detail=result.sid)


def _claim_first_attempt(message: Message, now: datetime) -> bool:
    """Claim a planned, due message whose member may still be texted (and, after-sales, whose order may
    still be cared for), in one conditional UPDATE.

    The checks are correlated EXISTS, so they read the member and the order as of this statement (a STOP
    or a refund that arrived a moment ago counts) and Postgres re-checks the whole condition if a
    concurrent claim changed the row first: two claims never both win. A row that fails them is left to
    `send_message`, which marks it skipped with the reason."""
    textable = Member.objects.textable().filter(pk=OuterRef("member_id"))
    cared_for = compliance.orders_to_care_for(Order.objects.filter(pk=OuterRef("order_id")))
    return bool(Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED, attempts=0, scheduled_for__lte=now)
                .filter(Exists(textable))
                .filter(~Q(flow=Flow.AFTER_SALES) | Exists(cared_for))
                .update(status=MessageStatus.SENDING, attempts=1, claimed_at=now, status_updated_at=now))


def send_planned(message: Message, now: datetime | None = None) -> Outcome:
    """Send a Message loaded with its member and store (a batch loads them all in one query).

    The common case — a first attempt, due, outside quiet hours, member textable — takes the short
    path: claim, wait for a pacing slot, send, record (two writes). Anything else (a retry, a reclaim
    after a crash, a STOP, quiet hours, a row someone else holds) goes through `send_message`."""
    if message.status != MessageStatus.QUEUED or message.attempts:
        return send_message(message.pk, now)
    at = now or timezone.now()
    if (message.scheduled_for > at or compliance.in_quiet_hours(at, message.member.zone)
            or day_over(message, message.member, at)):
        return send_message(message.pk, now)
    backend = get_backend()  # a configuration error fails here, before the message is claimed
    # Claimed only when its turn comes: a batch whose worker dies leaves at most the rows in flight
    # "sending"; the others are still queued and the redelivered batch sends them at once.
    if not _claim_first_attempt(message, at):
        return send_message(message.pk, now)
    # Then the slot: nothing but the HTTP call lies between the slot and Twilio, so the pace holds at
    # Twilio too. The wait is at most (threads in the fleet) / rate, far inside SMS_SENDING_TIMEOUT.
    pacing.wait_for_slot()
    if stopped := _renew_after_the_wait(message, 1, None):
        return stopped
    return _hand_over(backend, message, 1, at)


def _send_from(todo: queue.SimpleQueue, now: datetime | None, outcomes: dict[int, Outcome]) -> None:
    """One sending thread: take messages until none are left, then close this thread's connection."""
    try:
        while True:
            try:
                message = todo.get_nowait()
            except queue.Empty:
                return
            outcomes[message.pk] = send_planned(message, now)
    finally:
        connection.close()


def send_batch(message_ids: list[int], now: datetime | None = None, threads: int | None = None) -> dict[int, Outcome]:
    """Send a batch of Messages, each at most once (`send_planned` per row), from `threads` threads.

    Rows already handed over, failed or skipped (a redelivered or duplicate batch) are not touched.
    With one thread everything runs in the caller's thread and transaction (tests)."""
    threads = settings.SMS_SEND_THREADS if threads is None else threads
    rows = {m.pk: m for m in Message.objects.filter(pk__in=message_ids, status__in=[MessageStatus.QUEUED,
                                                                                    MessageStatus.SENDING])
            .select_related("member__store")}
    outcomes = {pk: Outcome("done") for pk in message_ids if pk not in rows}
    todo = [rows[pk] for pk in dict.fromkeys(message_ids) if pk in rows]
    if threads <= 1 or len(todo) <= 1:
        outcomes.update((m.pk, send_planned(m, now)) for m in todo)
        return outcomes
    work = queue.SimpleQueue()
    for message in todo:
        work.put(message)
    # Threads (and their database connections and HTTP sessions) live as long as the batch.
    with ThreadPoolExecutor(max_workers=min(threads, len(todo)), thread_name_prefix="sms-send") as pool:
        for thread in [pool.submit(_send_from, work, now, outcomes) for _ in range(min(threads, len(todo)))]:
            thread.result()
    return outcomes


def retries_by_delay(outcomes: dict[int, Outcome]) -> dict[int, list[int]]:
    """The rows of a batch to try again, grouped by whole seconds to wait (one new task per group)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for pk, outcome in outcomes.items():
        if outcome.retry_in is not None:
            groups[math.ceil(outcome.retry_in)].append(pk)
    return dict(groups)


def opt_out_number(member_id: int, now: datetime, by=None) -> int:
    """Opt out every membership of the member's number, as a STOP reply does (members.replies): one sending
    number texts for every store. Twilio's 21610 is its record of a STOP; `by` is the user who recorded a
    customer's request made another way (a call). Returns the memberships opted out now."""
    phone = Member.objects.filter(pk=member_id).values("phone")
    return Member.objects.filter(phone=Subquery(phone), opted_out_at__isnull=True).update(opted_out_at=now,
                                                                                          opted_out_by=by)


def mark_number_invalid(member_id: int, now: datetime) -> int:
    """Twilio's 21211/21614 are about the number, not the membership: mark it invalid in every store, so no
    other store's text is tried (and refused) again."""
    phone = Member.objects.filter(pk=member_id).values("phone")
    return Member.objects.filter(phone=Subquery(phone), phone_invalid_at__isnull=True).update(phone_invalid_at=now)


def _permanent(message: Message, attempt: int, exc: PermanentSendError, now: datetime) -> None:
    # Twilio refused to create the text (no sid): no status report will follow, nothing reached the member.
    # One transaction: a worker dying between the failed text and the opt-out must not leave the number texted.
    with transaction.atomic():
        if _finish(message.pk, attempt, status=MessageStatus.FAILED, error_code=exc.code,
                   error_message=str(exc)[:255]):
            not_reached(message, now)
        if exc.code == OPTED_OUT:
            opt_out_number(message.member_id, now)
        elif exc.code in (INVALID_NUMBER, NOT_MOBILE):
            mark_number_invalid(message.member_id, now)
    log.warning("message %s failed for good (%s): %s", message.pk, exc.code, exc)


def _transient(message: Message, attempt: int, exc: TransientSendError, now: datetime) -> Outcome:
    if attempt >= settings.SMS_MAX_ATTEMPTS:
        # If Twilio took the text after all, its status report gives the coupon back (apply_status_callback).
        with transaction.atomic():
            if _finish(message.pk, attempt, status=MessageStatus.FAILED, error_code=exc.code,
                       error_message=f"gave up after {attempt} attempts: {exc}"[:255]):
                not_reached(message, now)
        log.warning("message %s failed after %d attempts: %s", message.pk, attempt, exc)
        return Outcome("failed", detail=exc.code)
    delay = backoff(attempt)
    _finish(message.pk, attempt, status=MessageStatus.QUEUED, error_code=exc.code, error_message=str(exc)[:255],
            scheduled_for=now + timedelta(seconds=delay), enqueued_at=now)
    log.info("message %s: %s, retrying in %.0fs", message.pk, exc, delay)
    return Outcome("retry", retry_in=delay, detail=exc.code)


# Twilio's status callback values.
CALLBACK_STATUS = {"accepted": None, "queued": None, "scheduled": None, "sending": MessageStatus.SENT,
                   "sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED, "read": MessageStatus.DELIVERED,
                   "undelivered": MessageStatus.UNDELIVERED, "failed": MessageStatus.FAILED}
# Callbacks can arrive out of order, so a status only moves up this order. "delivered" is the handset's
# receipt: it outranks a failure reported late (or by another hop) for the same text, and a late "sent"
# never undoes it. Of two failures the first stands.
RANK = {MessageStatus.QUEUED: 0, MessageStatus.SENDING: 0, MessageStatus.SENT: 1, MessageStatus.UNDELIVERED: 2,
        MessageStatus.FAILED: 2, MessageStatus.DELIVERED: 3}


def _moves_to(message: Message, new: str | None) -> bool:
    if not new or message.status == MessageStatus.SKIPPED:
        return False
    if message.status == MessageStatus.FAILED and not message.provider_sid:
        return True  # our own verdict (gave up after timeouts) on a text Twilio had in fact taken: its word wins
    return RANK[new] > RANK.get(message.status, 0)


@transaction.atomic
def apply_status_callback(sid: str, status: str, error_code: str = "", message_id: str | None = None) -> Message | None:
    """Record a delivery report; returns the message, or None when it is not ours."""
    message = None
    if pk := parse_pk(message_id):
        message = Message.objects.select_for_update().filter(pk=pk).first()
        if message and sid and message.provider_sid != sid and (
                message.provider_sid or Message.objects.filter(provider_sid=sid).exists()):
            message = None  # the id in the URL and the sid disagree (the sid is another text's): trust the sid
    if message is None and sid:
        message = Message.objects.select_for_update().filter(provider_sid=sid).first()
    if message is None:
        return None
    new = CALLBACK_STATUS.get(status)
    changed = []
    if _moves_to(message, new):
        was = message.status
        # The error belongs to the status it came with: a delivered text keeps no earlier failure's code.
        message.status, message.error_code, message.error_message = new, str(error_code or "")[:20], ""
        changed += ["status", "error_code", "error_message"]
        # The coupon follows its text: gone while the member has not got it, back if a later report says so.
        if new in (MessageStatus.SENT, MessageStatus.DELIVERED):
            reinstate_coupon(message)
            if was in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):
                replies.answer_reached(message)  # the failure had put its reply back to waiting
        else:
            not_reached(message, timezone.now())
    if sid and not message.provider_sid:
        message.provider_sid, message.sent_at = sid, message.sent_at or timezone.now()
        changed += ["provider_sid", "sent_at"]
    if str(error_code) == OPTED_OUT:
        opt_out_number(message.member_id, timezone.now())
    if changed:
        message.status_updated_at = timezone.now()
        message.save(update_fields=[*changed, "status_updated_at"])
        if message.flow == ANSWER and "status" in changed:
            # One answer, kept once per membership of the number: every store's copy takes its status.
            (Message.objects.filter(flow=ANSWER, occasion=message.occasion).exclude(pk=message.pk)
             .update(status=message.status, error_code=message.error_code, error_message="",
                     status_updated_at=message.status_updated_at))
    return message


def is_handed_over(status: str) -> bool:
    return status in HANDED_OVER
