"""One number's conversation: the texts we sent it and the replies it sent us, in time order.

One sending number texts for every store, so a customer's thread runs across stores; the caller passes
querysets already scoped to the user's stores, and nothing from another store reaches the thread (a
reply is kept once per membership, so it is shown once, with the copies the user may see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from .models import InboundReply, Message

# The newest entries shown; a number texted for years would otherwise be one endless page.
LIMIT = 200


@dataclass
class Entry:
    """A text we sent (`text`) or a reply the customer sent (`copies`: one per store the user may see)."""

    at: datetime
    text: Message | None = None
    copies: list[InboundReply] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.text is None

    @property
    def body(self) -> str:
        return self.copies[0].body if self.is_reply else self.text.body

    @property
    def stores(self) -> list:
        return [c.store for c in self.copies] if self.is_reply else [self.text.store]


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
    rows = list(replies.select_related("store", "answered_by")
                .order_by("-received_at", "store__name", "pk")[:(limit + 1) * 4])
    grouped: dict[tuple, Entry] = {}
    for reply in rows:
        key = (reply.provider_sid,) if reply.provider_sid else (reply.received_at, reply.body)
        grouped.setdefault(key, Entry(at=reply.received_at)).copies.append(reply)
    entries = [Entry(at=t.at, text=t) for t in texts] + list(grouped.values())
    # A source cut short has older rows we did not read: show nothing older than its oldest row read,
    # or the thread would seem to have a gap.
    bounds = [texts[-1].at] if len(texts) > limit else []
    if len(rows) == (limit + 1) * 4:
        bounds.append(rows[-1].received_at)
    entries.sort(key=lambda e: (e.at, e.is_reply), reverse=True)
    kept = [e for e in entries if not bounds or e.at > max(bounds)][:limit]
    return Thread(entries=kept[::-1], earlier=len(kept) < len(entries))
