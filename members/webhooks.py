"""Twilio webhooks: delivery status callbacks and inbound replies (STOP / START / HELP).

Both are verified with twilio's RequestValidator against X-Twilio-Signature, computed over the
public URL Twilio called: settings.SITE_URL + the path and query (the URL we gave Twilio as the
StatusCallback; behind a proxy request.build_absolute_uri() may see an internal host), with
request.build_absolute_uri() accepted as well for deployments that reach us directly. 403 otherwise.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from opsdesk.privacy import mask_phone

from .models import Member
from .sending import apply_status_callback

log = logging.getLogger(__name__)

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
OPT_IN = {"START", "YES", "UNSTOP"}
HELP = {"HELP", "INFO"}
HELP_TEXT = "Care and offer texts from your store. Reply STOP to stop them, START to get them again."


def signature_ok(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    params = request.POST.dict()
    urls = [settings.SITE_URL + request.get_full_path(), request.build_absolute_uri()]
    return any(validator.validate(url, params, signature) for url in dict.fromkeys(urls))


def twilio_webhook(view):
    @login_not_required
    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not signature_ok(request):
            log.warning("Twilio webhook %s refused: bad or missing X-Twilio-Signature", request.path)
            return HttpResponseForbidden("Bad signature.")
        return view(request, *args, **kwargs)

    return wrapped


@twilio_webhook
def status(request):
    """MessageSid + MessageStatus (+ ErrorCode) → the Message row (?m=<id> is in the URL we gave Twilio)."""
    message = apply_status_callback(request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", ""),
                                    request.POST.get("ErrorCode", ""), request.GET.get("m"))
    if message is None:
        log.info("status callback for unknown message %s", request.POST.get("MessageSid", "")[:40])
    return HttpResponse(status=204)


def keyword(body: str) -> str:
    words = body.strip().upper().split()
    return words[0].strip(".!") if words else ""


@twilio_webhook
def inbound(request):
    """A member's reply: opt out, opt back in or ask for help. Applies to every store texting from our number."""
    sender, word = request.POST.get("From", ""), keyword(request.POST.get("Body", ""))
    reply = MessagingResponse()
    now = timezone.now()
    members = Member.objects.filter(phone=sender)
    with transaction.atomic():
        if word in OPT_OUT:
            count = members.filter(opted_out_at__isnull=True).update(opted_out_at=now)
            log.info("%s opted out (%d memberships)", mask_phone(sender), count)
            # Twilio answers STOP itself (Advanced Opt-Out); an empty reply avoids a second confirmation.
        elif word in OPT_IN:
            count = members.update(opted_out_at=None, sms_consent=True, consent_at=now,
                                   consent_source=f"replied {word}")
            log.info("%s opted in (%d memberships)", mask_phone(sender), count)
        elif word in HELP:
            reply.message(HELP_TEXT)
    return HttpResponse(str(reply), content_type="text/xml")
