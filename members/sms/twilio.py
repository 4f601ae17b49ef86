"""Texts through Twilio's Messages API with the official client — the one place that talks to Twilio.

TWILIO_API_BASE (tests, demos) points the client at a local server that speaks the same API:
the HTTP client rewrites https://api.twilio.com to it. Each text carries a StatusCallback URL
with our Message id, so delivery reports find their row even before the sid is recorded.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

import requests
import twilio.rest.api.v2010.account.message  # noqa: F401  (see PRELOADED below)
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from opsdesk.privacy import mask_phone

from . import INVALID_NUMBER, NOT_MOBILE, OPTED_OUT, BaseBackend, PermanentSendError, SendResult, TransientSendError

log = logging.getLogger(__name__)
# PRELOADED: the client imports the whole 2010 API on first use (seconds on a busy machine). Importing it
# with this module means a worker's pool processes inherit it instead of each paying for it between
# claiming a message and sending it.
TWILIO_ORIGIN = "https://api.twilio.com"
PERMANENT_CODES = {OPTED_OUT, INVALID_NUMBER, NOT_MOBILE}
LOOKUP_PAGE_SIZE = 50  # Twilio's default; a lookup usually needs one page, a number texted by many stores a few


class RedirectingHttpClient(TwilioHttpClient):
    """The official HTTP client, sent to `api_base` instead of api.twilio.com when one is set.

    It also keeps phone numbers out of the log: the stock client logs list queries (To=...) whole.
    """

    def __init__(self, api_base: str = "", **kwargs):
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.api_base and url.startswith(TWILIO_ORIGIN):
            url = self.api_base + url[len(TWILIO_ORIGIN):]
        return super().request(method, url, *args, **kwargs)

    def log_request(self, kwargs):
        params = {k: mask_phone(str(v)) if k in ("To", "From") else v for k, v in (kwargs.get("params") or {}).items()}
        # A next page's URL carries the lookup's To= itself.
        self.logger.debug("Twilio %s %s %s", kwargs["method"], mask_phones_in(kwargs["url"]), params)

    def log_response(self, status_code, response):
        self.logger.debug("Twilio response %s", status_code)


PHONE_IN_TEXT = re.compile(r"(\+|%2B)(\d{2,3})(\d{3,11})(\d{4})")


def mask_phones_in(text: str) -> str:
    return PHONE_IN_TEXT.sub(lambda m: m[1] + m[2] + "*" * len(m[3]) + m[4], text)


class MaskPhonesFilter(logging.Filter):
    """urllib3 logs each request line at DEBUG, and a lookup's URL has To=<phone>: mask it there too."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_phones_in(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(MaskPhonesFilter())


# Twilio's Smart Encoding (on by default in a Messaging Service) stores a text with GSM look-alikes of
# typographic characters ("’" → "'", "—" → "-"), so the body it lists may differ from the one we sent.
LOOK_ALIKES = str.maketrans({**dict.fromkeys("«»“”„‟ʺˮ❝❞〝〞", '"'), **dict.fromkeys("‘’‚‛ʻʼʽʹˈ´ˊ`ˋ❛❜′", "'"),
                             **dict.fromkeys("‐‑‒–—―⁃−﹘﹣", "-"), **dict.fromkeys("⁄∕⧸", "/"),
                             **dict.fromkeys("⧵﹨", "\\")})


def comparable(body: str) -> str:
    """`body` as Smart Encoding may have left it: full-width forms, ellipses and odd spaces made plain (NFKC),
    typographic quotes and dashes made ASCII, runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", body or "").translate(LOOK_ALIKES).split())


def status_callback_url(message) -> str:
    return f"{settings.SITE_URL}{reverse('twilio_status')}?m={message.pk}"


class TwilioBackend(BaseBackend):
    def __init__(self):
        if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
            raise PermanentSendError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        if not settings.TWILIO_FROM_NUMBER and not settings.TWILIO_MESSAGING_SERVICE_SID:
            raise PermanentSendError("SMS_BACKEND=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID.")
        http = RedirectingHttpClient(settings.TWILIO_API_BASE, timeout=settings.SMS_HTTP_TIMEOUT,
                                     logger=logging.getLogger("members.sms.twilio.http"))
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
        # The client loads the Messages API modules on first use; do it now, not between claiming a
        # message and sending it (a slow first import there makes the claim look stale).
        self.messages = self.client.messages

    def sender(self) -> dict:
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        return {"from_": settings.TWILIO_FROM_NUMBER}

    def send(self, message) -> SendResult:
        try:
            sent = self.messages.create(to=message.member.phone, body=message.body,
                                               status_callback=status_callback_url(message), **self.sender())
        except TwilioRestException as exc:
            raise self.translate(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientSendError("Twilio did not answer the connection", "timeout") from exc
        except requests.exceptions.Timeout as exc:
            raise TransientSendError("Twilio timed out", "timeout", ambiguous=True) from exc
        except (requests.exceptions.ConnectionError, TwilioException) as exc:
            raise TransientSendError(f"Twilio connection failed: {type(exc).__name__}", "network",
                                     ambiguous=True) from exc
        return SendResult(sid=sent.sid, status=sent.status or "queued")

    @staticmethod
    def translate(exc: TwilioRestException) -> Exception:
        code = str(exc.code or exc.status)
        if exc.status == 429 or exc.status >= 500:
            return TransientSendError(f"Twilio answered {exc.status}", code, ambiguous=exc.status >= 500)
        if code in PERMANENT_CODES:
            return PermanentSendError(f"Twilio refused the text ({code})", code)
        return PermanentSendError(f"Twilio refused the text: {exc.status} {code}", code)

    def lookup(self, message, since) -> SendResult | None:
        """A text to this member with this body (`comparable`) created since `since` (less a minute of clock skew)
        whose sid no other Message holds: proof the earlier attempt reached Twilio.

        Twilio lists the number's texts newest first, a page at a time: they are read back to the first one sent
        before `since`, however many came since (a member of many stores gets theirs too), not just one page.
        Not Twilio's DateSent filter: a text Twilio still holds queued has no date_sent, so it would be left out."""
        from members.models import Message

        earliest = since - timedelta(minutes=1) if since else None
        filters = {"to": message.member.phone, "page_size": LOOKUP_PAGE_SIZE}
        if settings.TWILIO_FROM_NUMBER and not settings.TWILIO_MESSAGING_SERVICE_SID:
            filters["from_"] = settings.TWILIO_FROM_NUMBER
        body, candidates = comparable(message.body), []
        try:
            for m in self.messages.stream(**filters):
                if earliest and m.date_sent and m.date_sent < earliest:
                    break  # sorted by date sent: this text and every one after it are older than the row
                if comparable(m.body) == body and (earliest is None or m.date_created is None
                                                   or m.date_created >= earliest):
                    candidates.append(m)
        except TwilioRestException as exc:
            raise TransientSendError(f"Could not list Twilio messages ({exc.status})", str(exc.code or "")) from exc
        except (requests.exceptions.RequestException, TwilioException) as exc:
            raise TransientSendError(f"Could not list Twilio messages: {type(exc).__name__}", "network") from exc
        if not candidates:
            return None
        taken = set(Message.objects.filter(provider_sid__in=[m.sid for m in candidates])
                    .exclude(pk=message.pk).values_list("provider_sid", flat=True))
        for m in sorted(candidates, key=lambda m: m.date_created or since):
            if m.sid not in taken:
                log.info("message %s: found at Twilio as %s, not sending again", message.pk, m.sid)
                return SendResult(sid=m.sid, status=m.status or "sent")
        return None
