"""One number's conversation: the texts we sent it and the replies it sent us, in time order.

One sending number texts for every store, so a customer's thread runs across stores; the caller passes
querysets already scoped to the user's stores, and nothing from another store reaches the thread (a
reply is kept once per membership, so it is shown once, with the copies the user may see; so is our answer
to it, and an operator's text back to it shows beside it). Our answer names every store of the number:
`answer_bodies_seen` leaves out the ones the user cannot see, wherever an answer is shown."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from . import keywords
from .models import ANSWER, InboundReply, Message, ReplyKind

# The newest entries shown; a number texted for years would otherwise be one endless page.
LIMIT = 200


@dataclass
class Entry:
    """A text we sent (`text`; for our answer to a reply, `also` holds its other stores' copies) or a reply
    the customer sent (`copies`: one per store the user may see)."""

    at: datetime
    text: Message | None = None
    copies: list[InboundReply] = field(default_factory=list)
    also: list[Message] = field(default_factory=list)
    answered: bool = False  # a reply that our answer follows
    text_backs: list[Message] = field(default_factory=list)  # a reply's: the operators' answers to it, oldest first

    @property
    def is_reply(self) -> bool:
        return self.text is None

    @property
    def body(self) -> str:
        return self.copies[0].body if self.is_reply else self.text.body

    @property
    def stores(self) -> list:
        if self.is_reply:
            return [c.store for c in self.copies]
        return sorted((t.store for t in (self.text, *self.also)), key=lambda store: store.name)

    @property
    def switch(self) -> str:
        """For an opt-out or opt-in reply: where it took effect and who confirmed it to the customer."""
        kind = self.copies[0].kind if self.is_reply else ""
        if kind not in (ReplyKind.OPT_OUT, ReplyKind.OPT_IN):
            return ""
        done = "Opted out" if kind == ReplyKind.OPT_OUT else "Opted back in"
        after = "No more texts from any store." if kind == ReplyKind.OPT_OUT else self._resumes()
        if keywords.twilio_answers(self.body):
            return f"{done} by texting {self.body.strip()} — Twilio confirms to the customer. {after}"
        if kind == ReplyKind.OPT_OUT or self.answered:
            return f"{done} by texting {self.body.strip()} — we confirm to the customer (below). {after}"
        return f"{done} by texting {self.body.strip()}. {after}"

    def _resumes(self) -> str:
        """What an opt-in brings back in the stores shown: it lifts the opt-out but never makes consent."""
        without = [c.store.name for c in self.copies if not c.member.sms_consent]
        if not without:
            return "Texts may start again."
        if len(without) == len(self.copies):
            return "No texts start: the customer has not agreed to texts."
        return f"Texts may start again, except from {' / '.join(without)} (the customer has not agreed to its texts)."

    @property
    def order(self) -> int:
        """Among entries of one moment: our text, then the reply, then our answer to it."""
        return 1 if self.is_reply else 2 if self.text.flow == ANSWER else 0


@dataclass
class Thread:
    entries: list[Entry]  # oldest first
    earlier: bool  # older entries exist beyond the LIMIT shown


def thread(messages: QuerySet[Message], replies: QuerySet[InboundReply], limit: int = LIMIT) -> Thread:
    """The newest `limit` texts and replies of `messages` and `replies` (both scoped by the caller), oldest
    first. A text is placed when it was sent, or, not sent, when it was due; a reply when it arrived."""
    texts = list(messages.select_related("store", "template").annotate(at=Coalesce("sent_at", "scheduled_for"))
                 .order_by(F("at").desc(), "-pk")[:limit + 1])
    # Copies of one reply (one per membership) share their sid, or without one their arrival and text.
    rows = list(replies.select_related("store", "member", "answered_by")
                .order_by("-received_at", "store__name", "pk")[:(limit + 1) * 4])
    grouped: dict[tuple, Entry] = {}
    for reply in rows:
        key = (reply.provider_sid,) if reply.provider_sid else (reply.received_at, reply.body)
        grouped.setdefault(key, Entry(at=reply.received_at)).copies.append(reply)
    answer_bodies_seen([t for t in texts if t.flow == ANSWER], {t.store_id for t in texts})
    entries = []
    answers: dict[str, Entry] = {}
    by_reply = {copy.pk: entry for entry in grouped.values() for copy in entry.copies}
    for text in reversed(texts):  # oldest first, so a reply's text backs are in the order they were sent
        if text.reply_id in by_reply:  # an operator's text back: shown beside the reply it answers
            by_reply[text.reply_id].text_backs.append(text)
    for text in texts:  # an answer's copies (one per membership) are one entry, as its reply's are
        if text.reply_id in by_reply:
            continue
        if text.flow == ANSWER and text.occasion in answers:
            answers[text.occasion].also.append(text)
            continue
        entries.append(Entry(at=text.at, text=text))
        if text.flow == ANSWER:
            answers[text.occasion] = entries[-1]
    for entry in grouped.values():
        entry.answered = f"answer:{entry.copies[0].provider_sid}" in answers if entry.copies[0].provider_sid else False
    entries += grouped.values()
    # A source cut short has older rows we did not read: show nothing older than its oldest row read,
    # or the thread would seem to have a gap.
    bounds = [texts[-1].at] if len(texts) > limit else []
    if len(rows) == (limit + 1) * 4:
        bounds.append(rows[-1].received_at)
    entries.sort(key=lambda e: (e.at, e.order), reverse=True)
    kept = [e for e in entries if not bounds or e.at > max(bounds)][:limit]
    return Thread(entries=kept[::-1], earlier=len(kept) < len(entries))


def answer_bodies_seen(texts: Iterable[Message], store_ids: set[int]) -> None:
    """Our answer to a reply names every store of the number ("Store B / Store C: …"); in the body of each
    answer in `texts` (changed in memory only), leave out the stores not in `store_ids` (the user's). For a user
    who does not see every store it went to, it is written again naming the stores they see, by their names
    today (a store they cannot see, renamed since, is not named under its old name either)."""
    texts = [t for t in texts if t.flow == ANSWER]
    if not texts:
        return
    copies = defaultdict(list)
    for occasion, store_id, name in (Message.objects.filter(flow=ANSWER, occasion__in={t.occasion for t in texts})
                                     .order_by("store__name").values_list("occasion", "store_id", "store__name")):
        copies[occasion].append((store_id, name))
    for text in texts:
        named = list(dict.fromkeys(name for _, name in copies[text.occasion]))
        seen = list(dict.fromkeys(name for store_id, name in copies[text.occasion] if store_id in store_ids))
        if len(seen) == len(named):
            continue  # the user sees every store it went to: the text as the customer got it
        if written := _answer_written(text.body):
            template, separator = written
            text.body = template.format(stores=separator.join(seen))
        else:
            for separator in (" / ", "、"):
                text.body = text.body.replace(separator.join(named), separator.join(seen))


def _answer_written(body: str) -> tuple[str, str] | None:
    """The answer template (members.replies.ANSWERS) `body` was written from and its separator of store names."""
    from .replies import ANSWERS

    for language, templates in ANSWERS.items():
        for template in templates.values():
            head, _, tail = template.partition("{stores}")
            if re.fullmatch(f"{re.escape(head)}.+{re.escape(tail)}", body, flags=re.DOTALL):
                return template, "、" if language == "zh" else " / "
    return None
