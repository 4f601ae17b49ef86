"""Outbound texts behind one small interface, chosen by settings.SMS_BACKEND like Django's email backends.

console | file | locmem | twilio. A backend has `send(message) -> SendResult` and
`lookup(message, since) -> SendResult | None`, which finds a text already handed to the provider
for this Message (used before any second attempt, so a crash or a timeout never sends twice).
Failures are raised as TransientSendError (retry with backoff) or PermanentSendError (never retry).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings

BACKENDS = {
    "console": "members.sms.console.ConsoleBackend",
    "file": "members.sms.file.FileBackend",
    "locmem": "members.sms.locmem.LocmemBackend",
    "twilio": "members.sms.twilio.TwilioBackend",
}

# Twilio error codes we act on (https://www.twilio.com/docs/api/errors).
OPTED_OUT = "21610"  # the recipient replied STOP: never text them again
INVALID_NUMBER = "21211"  # not a valid phone number
NOT_MOBILE = "21614"  # not a mobile number: same as invalid for us
# What the common codes mean, in an operator's words (the texts pages show them beside the code).
ERROR_WORDS = {
    INVALID_NUMBER: "invalid number",
    OPTED_OUT: "unsubscribed (replied STOP)",
    NOT_MOBILE: "not a mobile number",
    "30003": "phone unreachable",
    "30005": "unknown number",
    "30006": "landline or unreachable carrier",
    "30007": "blocked by the carrier",
    "30008": "unknown error",
}


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str = "sent"


class SendError(Exception):
    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = str(code or "")


class TransientSendError(SendError):
    """Try again later (5xx, 429, timeouts). `ambiguous`: the provider may have accepted the text."""

    def __init__(self, message: str, code: str = "", ambiguous: bool = False):
        super().__init__(message, code)
        self.ambiguous = ambiguous


class PermanentSendError(SendError):
    """Will never work for this text (opted out, invalid number, bad request)."""


class BaseBackend:
    def send(self, message) -> SendResult:
        raise NotImplementedError

    def lookup(self, message, since) -> SendResult | None:
        return None


def backend_path(name: str) -> str:
    if name in BACKENDS:
        return BACKENDS[name]
    if "." in name:
        return name
    raise ValueError(f"Unknown SMS_BACKEND {name!r}: use one of {', '.join(BACKENDS)} or a dotted path.")


_loaded = threading.local()


def get_backend(name: str | None = None) -> BaseBackend:
    """The configured backend: one instance per thread and configuration, so each sending thread keeps
    its own HTTP connection (a requests Session is not meant to be shared between threads)."""
    path = backend_path(name or settings.SMS_BACKEND)
    key = (path, settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_BASE, settings.SMS_FILE_PATH)
    cache = _loaded.__dict__.setdefault("backends", {})
    if key not in cache:
        module, _, cls = path.rpartition(".")
        cache[key] = getattr(import_module(module), cls)()
    return cache[key]
