"""Texts kept in memory (tests): `members.sms.locmem.outbox` is a list of sent texts."""

import uuid
from dataclasses import dataclass

from . import BaseBackend, SendResult


@dataclass
class SentText:
    message_id: int
    to: str
    body: str
    sid: str


outbox: list[SentText] = []


class LocmemBackend(BaseBackend):
    def send(self, message) -> SendResult:
        text = SentText(message.pk, message.member.phone, message.body, f"LM{uuid.uuid4().hex}")
        outbox.append(text)
        return SendResult(sid=text.sid)

    def lookup(self, message, since) -> SendResult | None:
        for text in outbox:
            if text.message_id == message.pk:
                return SendResult(sid=text.sid)
        return None
