"""Replies members text to our number: kept against every membership of the number, acted on, answered.

One Twilio number (TWILIO_FROM_NUMBER or the messaging service) texts for every store, so a reply
cannot say which store it answers: it is recorded once for each membership of the number, an opt-out
applies in every store (Twilio blocks the number for the whole sender) and an opt-in lifts it in every
store. An opt-in never creates consent: it lifts the opt-out, and a membership that never consented
stays untexted. An opt-out or opt-in that Twilio's Advanced Opt-Out does not confirm itself ("Stop, please",
"Start.") we confirm; an opt-in's confirmation names only the stores whose texts it brings back (opted out
and consented). HELP and any other reply wait on the texts page until an operator marks them answered;
the answer we send back names the store(s) the number belongs to.

An answer is kept as a text (flow ANSWER, occasion "answer:<the reply's MessageSid>") of each membership,
so the number's conversation shows what the customer got; the unique (member, flow, occasion) makes a
second answer to one reply impossible even if Twilio delivers the webhook twice.

`text_back` is an operator's own answer to a HELP or other reply, from the texts page or the number's
conversation: one SMS segment through the sending pipeline, once per click, marking the reply answered. Its form
offers the store's saved answers filled for the member (`offer_saved_answers`), which the operator may edit before
sending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.db.models.functions import Length
from django.utils import timezone

from opsdesk.privacy import mask_phone

from . import keywords
from .models import (
    ANSWER,
    NEEDS_ANSWER,
    TEXT_BACK,
    InboundReply,
    Member,
    Message,
    MessageStatus,
    ReplyKind,
    SavedAnswer,
    StrangerHelp,
)
from .texts import LONG_ORDER, Fill, answer_problem, fill, long_example, placeholders_in, render, sms_length

log = logging.getLogger(__name__)

UNKNOWN_NUMBER_HELP = "Care and offer texts from our stores. Reply STOP to stop them, START to get them again."
ANSWERS = {
    "en": {ReplyKind.OPT_OUT: "{stores}: you are unsubscribed and will get no more texts. Reply START to get them "
                              "again.",
           ReplyKind.HELP: "{stores}: order care and member offers by text. Your message is with our staff and we "
                           "will get back to you. Reply STOP to stop texts.",
           ReplyKind.OPT_IN: "{stores}: you will get our texts again. Reply STOP to stop them.",
           ReplyKind.MESSAGE: "Thanks, {stores} has your message and will get back to you."},
    "zh": {ReplyKind.OPT_OUT: "您已退订{stores}的短信，不会再收到。回复START可重新订阅。",
           ReplyKind.HELP: "{stores}：订单关怀与会员优惠短信。您的消息已转给客服，我们会尽快联系您。回复T退订。",
           ReplyKind.OPT_IN: "您已重新订阅{stores}的短信。回复T退订。",
           ReplyKind.MESSAGE: "感谢回复，{stores}客服已收到您的消息，会尽快联系您。"},
}
# An opt-in lifted in no store that texts the member (none consented): no store is named, and no texts promised.
OPT_IN_WITHOUT_CONSENT = {
    "en": "You are no longer unsubscribed. A store texts you only once you agree to its texts.",
    "zh": "您已取消退订。只有在您同意接收某店铺的短信后，该店铺才会给您发短信。",
}
# Free-text replies are acknowledged at most once in this window (no loop with an auto-responder).
ACKNOWLEDGE_EVERY = timedelta(hours=24)


@dataclass(frozen=True)
class Answer:
    text: str
    message_id: int | None = None  # the kept copy Twilio's status report of the answer updates


def language_of(stores: list) -> str:
    return "zh" if all(s.country == "CN" for s in stores) else "en"


def answer_text(kind: str, stores: list) -> str:
    """Our answer to a reply of `kind` from a number of `stores` (ordered by name), naming them all."""
    language = language_of(stores)
    names = ("、" if language == "zh" else " / ").join(dict.fromkeys(s.name for s in stores))
    return ANSWERS[language][kind].format(stores=names)


def receive(phone: str, body: str, provider_sid: str = "", now: datetime | None = None) -> Answer | None:
    """Record and act on a reply from `phone`; returns our answer (kept as a text of each membership), or
    None when we give none (Twilio confirms it, it was already answered, or an opt-in changed nothing)."""
    now = now or timezone.now()
    kind = keywords.classify(body)
    members = list(Member.objects.filter(phone=phone).select_related("store").order_by("store__name"))
    if not members:
        log.info("reply from %s, who is no member of any store (%s)", mask_phone(phone), kind)
        if kind != ReplyKind.HELP:
            return None
        if provider_sid and not StrangerHelp.objects.get_or_create(provider_sid=provider_sid,
                                                                   defaults={"received_at": now})[1]:
            return None  # Twilio delivered it again: answered the first time
        return Answer(UNKNOWN_NUMBER_HELP)
    ids = [m.pk for m in members]
    with transaction.atomic():
        # Twilio may deliver a reply again (and a signed request can be replayed): one that is already
        # kept was acted on and answered. Acting again would answer twice, or let an old START undo a
        # later STOP. The member rows' lock makes two deliveries at once take turns.
        list(Member.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        if provider_sid and InboundReply.objects.filter(member__in=ids, provider_sid=provider_sid[:64]).exists():
            log.info("reply %s from %s was already received, not acted on again", provider_sid[:40],
                     mask_phone(phone))
            return None
        earlier = InboundReply.objects.filter(member__in=ids, kind=ReplyKind.MESSAGE,
                                              received_at__gt=now - ACKNOWLEDGE_EVERY).exists()
        InboundReply.objects.bulk_create(
            [InboundReply(store=m.store, member=m, kind=kind, body=body[:1600], provider_sid=provider_sid[:64],
                          received_at=now) for m in members], ignore_conflicts=True)
        if kind == ReplyKind.OPT_OUT:
            count = Member.objects.filter(pk__in=ids, opted_out_at__isnull=True).update(opted_out_at=now)
        elif kind == ReplyKind.OPT_IN:
            lifted = list(Member.objects.filter(pk__in=ids, opted_out_at__isnull=False).values_list("pk", flat=True))
            count = Member.objects.filter(pk__in=lifted).update(opted_out_at=None, opted_out_by=None)
            # "You will get our texts again" holds only where the opt-out was lifted and the member consented.
            resumed = set(Member.objects.filter(pk__in=lifted).textable().values_list("pk", flat=True))
        else:
            count = len(ids)
        log.info("%s from %s (%d memberships)", kind, mask_phone(phone), count)
        if kind in (ReplyKind.OPT_OUT, ReplyKind.OPT_IN) and keywords.twilio_answers(body):
            return None  # Twilio's Advanced Opt-Out confirms these itself; a second confirmation would confuse
        if kind == ReplyKind.OPT_IN and not count:
            # Not opted out, nothing changed: a lone "Yes!" from a number that gets our texts most likely answers
            # our text's question, and "you will get our texts again" would puzzle them.
            return None
        if kind == ReplyKind.MESSAGE and earlier:
            return None
        if kind == ReplyKind.OPT_IN:
            named = [m for m in members if m.pk in resumed]
            if not named:
                return _keep_answer(members, OPT_IN_WITHOUT_CONSENT[language_of([m.store for m in members])],
                                    provider_sid, now)
            # Kept only in the stores it names: a store left out must not see (and learn) the others' names.
            return _keep_answer(named, answer_text(kind, [m.store for m in named]), provider_sid, now)
        return _keep_answer(members, answer_text(kind, [m.store for m in members]), provider_sid, now)


def _keep_answer(members: list[Member], text: str, provider_sid: str, now: datetime) -> Answer | None:
    """Keep `text` as a sent text of each membership, or None if this reply already has its answer (the
    database's unique (member, flow, occasion) decides, whatever became of the reply's own record)."""
    occasion = f"answer:{provider_sid[:64]}" if provider_sid else f"answer:at {now.isoformat()}"
    copies = [Message(store=m.store, member=m, flow=ANSWER, occasion=occasion, body=text,
                      segments=sms_length(text).segments, status=MessageStatus.SENT, scheduled_for=now,
                      sent_at=now, status_updated_at=now) for m in members]
    try:
        with transaction.atomic():
            first = copies[0]
            first.save(force_insert=True)
            Message.objects.bulk_create(copies[1:], ignore_conflicts=True)
    except IntegrityError:
        log.info("reply %s was already answered, not answered again", provider_sid[:40])
        return None
    return Answer(text, first.pk)


class Refused(Exception):
    """The text back was refused as a whole (nothing queued, nothing marked): the reason, in the operator's words."""


@transaction.atomic
def text_back(reply: InboundReply, user, body: str, attempt: int,
              now: datetime | None = None) -> tuple[Message, bool]:
    """Text the customer back in the operator's words under their reply (the reply's own store's membership):
    (the text, whether this request queued it). The reply is marked answered by `user`.

    `attempt` is the answer's number to that reply, which the page's form carries: the occasion is
    "text_back:reply <id> answer <n>", so a double-click or a retried POST finds it queued and sends nothing more.
    The case texts' rules apply (`sending.queue_one`: opt-out, invalid number, consent and quiet hours; flow
    TEXT_BACK is one of ANSWER_FLOWS, so the frequency cap and one text a day neither hold it back nor count it).
    ValueError for a body that is no one-segment text; Refused for an opt-out or opt-in (the app answers those),
    a stale form or a customer who may not be texted."""
    now = now or timezone.now()
    # Locked: two different attempts racing each other count the reply's answers one after the other.
    reply = InboundReply.objects.select_for_update(of=("self",)).select_related("member__store").get(pk=reply.pk)
    done = reply.text_backs.filter(flow=TEXT_BACK).count()
    if attempt < 1 or attempt > done + 1:
        raise Refused(f"The page asked for answer {attempt} to that reply, but the next one is answer {done + 1}; "
                      "reload the page.")
    occasion = f"{TEXT_BACK}:reply {reply.pk} answer {attempt}"
    if attempt <= done:  # sent already: the same POST again (a retry, a second click)
        return Message.objects.get(member=reply.member, flow=TEXT_BACK, occasion=occasion), False
    message, created = queue_answer(reply, user, TEXT_BACK, occasion, body, now)
    mark_answered_by(reply, message, user)
    return message, created


@dataclass(frozen=True)
class OfferedAnswer:
    """A saved answer as a reply's Text back form offers it: its text filled for the reply's member."""

    title: str
    text: str


def offer_saved_answers(replies, order: str = "") -> list[InboundReply]:
    """`replies` as a list, each with `saved_answers`: its own store's saved answers (OfferedAnswer), filled for its
    member as an SMS template is, which its Text back form offers (the texts page, the conversation, a bad-review
    case). `order` is the order the replies are about (a bad-review case's, "#1042"): an answer using {order} is
    offered only where there is one, filled with it. Each reply's `member` must be loaded with it. One query however
    many replies and stores."""
    from .sending import member_context

    replies = list(replies)
    offered: dict[int, list[SavedAnswer]] = {}
    for answer in SavedAnswer.objects.filter(store__in={r.store_id for r in replies}).select_related("store"):
        if order or "order" not in placeholders_in(answer.body):
            offered.setdefault(answer.store_id, []).append(answer)
    for reply in replies:
        reply.saved_answers = []
        if answers := offered.get(reply.store_id):
            # The reply's member is of the reply's store: its name comes with the answers, not a query per reply.
            reply.member.store = answers[0].store
            context = {**member_context(reply.member), "order": order}
            reply.saved_answers = [OfferedAnswer(a.title, render(a.body, context)) for a in answers]
    return replies


@dataclass(frozen=True)
class SavedAnswerPreview:
    """A saved answer as its page shows it: filled for an example member (`who`), with its length as sent."""

    answer: SavedAnswer
    who: str
    fill: Fill
    uses_order: bool


def preview_saved_answers(store) -> list[SavedAnswerPreview]:
    """The store's saved answers, each filled for the store's member with the longest name (else the long example
    name the save checks, `texts.long_example`) and, for an {order}, the long order the save checks (LONG_ORDER),
    measured as the send measures a text back: what a manager reads to see an answer near one text's limit."""
    from .sending import member_context

    longest = store.members.exclude(name="").order_by(Length("name").desc(), "pk").first()
    if longest is not None:
        longest.store = store
        member = {**member_context(longest), "order": LONG_ORDER}
    previews = []
    for answer in store.saved_answers.select_related("updated_by"):
        example = member if longest is not None else long_example(answer.body, store.name)
        previews.append(SavedAnswerPreview(answer, example["name"], fill(answer.body, example),
                                           "order" in placeholders_in(answer.body)))
    return previews


def queue_answer(reply: InboundReply, user, flow: str, occasion: str, body: str,
                 now: datetime) -> tuple[Message, bool]:
    """Queue `user`'s answer to `reply` in their own words, linked to it (`sending.queue_one`: the same
    occasion again returns the text already there): the one way both a text back and a bad-review case's answer
    send. Refused for an opt-out or opt-in (the app answers those) or a customer who may not be texted;
    ValueError for a body that is no one-segment text."""
    from .sending import NotTextable, queue_one

    if reply.kind not in NEEDS_ANSWER:
        raise Refused(f"An {reply.get_kind_display().lower()} is answered by the app (or Twilio), not by an "
                      "operator's text.")
    if problem := answer_problem(body):
        raise ValueError(problem)
    try:
        return queue_one(reply.member, flow, occasion, None, {}, now, body=body.strip(), reply=reply, sent_by=user)
    except NotTextable as exc:
        raise Refused(f"The customer cannot be texted: {exc}.") from exc


def mark_answered_by(reply: InboundReply, answer: Message, user) -> None:
    """The record "Mark answered" writes, for an operator's answer (a text back, a bad-review case's answer); a reply
    already marked keeps its first. The answer is kept on the reply (`answered_with`): only its failure reopens it."""
    InboundReply.objects.filter(pk=reply.pk, answered_at__isnull=True).update(answered_at=answer.created_at,
                                                                               answered_by=user, answered_with=answer)


def answer_failed(message: Message) -> int:
    """An operator's answer to a reply failed, went undelivered or was not sent (the customer opted out meanwhile):
    the customer's question is unanswered again, so the reply goes back to waiting (texts page, conversation, desk)
    — only if this answer is what marked it (`answered_with`) and is the reply's latest answer (a later one may
    still reach them). A reply marked by hand, before this answer or after its failure, stays answered. Returns the
    replies reopened (0 or 1)."""
    if not message.reply_id:
        return 0
    reopened = (InboundReply.objects.filter(pk=message.reply_id, answered_with=message)
                .exclude(Exists(_later_answers(message))).update(answered_at=None, answered_by=None,
                                                                  answered_with=None))
    if reopened:
        log.info("answer %s to reply %s did not reach the customer: the reply waits for an answer again",
                 message.pk, message.reply_id)
    return reopened


def answer_reached(message: Message) -> int:
    """Twilio reports an operator's answer delivered after reporting it failed or undelivered (it does, now and
    then): the reply it had put back to waiting is answered again by the answer's sender — if it still waits and
    no later answer was sent (that one answers it, or fails on its own). Returns the replies marked (0 or 1)."""
    if not message.reply_id:
        return 0
    marked = (InboundReply.objects.filter(pk=message.reply_id, answered_at__isnull=True)
              .exclude(Exists(_later_answers(message)))
              .update(answered_at=message.created_at, answered_by=message.sent_by_id, answered_with=message))
    if marked:
        log.info("answer %s to reply %s was delivered after all: the reply is answered again", message.pk,
                 message.reply_id)
    return marked


def _later_answers(message: Message):
    return Message.objects.filter(reply=message.reply_id, pk__gt=message.pk)
