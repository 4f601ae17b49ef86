"""Texts printed to stdout (development): the number masked, the body whole."""

import sys
import uuid

from opsdesk.privacy import mask_phone

from . import BaseBackend, SendResult


class ConsoleBackend(BaseBackend):
    def send(self, message) -> SendResult:
        sys.stdout.write(f"SMS to {mask_phone(message.member.phone)} [{message.flow} {message.occasion}]: "
                         f"{message.body}\n")
        sys.stdout.flush()
        return SendResult(sid=f"CO{uuid.uuid4().hex}")
