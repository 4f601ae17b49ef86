"""Twilio webhooks: delivery status callbacks and inbound replies (members.replies).

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
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from opsdesk.privacy import mask_phone

from .models import Message
from .replies import receive
from .sending import apply_status_callback

log = logging.getLogger(__name__)


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


def impossible_sid(request) -> str | None:
    """Why the posted MessageSid cannot be Twilio's (34 characters), or None. Such a request is answered
    400: Twilio retries a 5xx, and no retry of it could ever be stored. (A NUL character anywhere is refused
    before, by opsdesk.middleware.)"""
    sid = request.POST.get("MessageSid", "")
    if len(sid) > Message._meta.get_field("provider_sid").max_length:
        return f"is {len(sid)} characters long"
    return None


@twilio_webhook
def status(request):
    """MessageSid + MessageStatus (+ ErrorCode) → the Message row (?m=<id> is in the URL we gave Twilio)."""
    if why := impossible_sid(request):
        log.warning("status callback refused: impossible MessageSid %s… (%s)",
                    request.POST.get("MessageSid", "")[:40], why)
        return HttpResponseBadRequest("Impossible MessageSid.")
    message = apply_status_callback(request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", ""),
                                    request.POST.get("ErrorCode", ""), request.GET.get("m"))
    if message is None:
        log.info("status callback for unknown message %s", request.POST.get("MessageSid", "")[:40])
    return HttpResponse(status=204)


@twilio_webhook
def inbound(request):
    """A member's reply: recorded, acted on (opt out, opt back in) and answered with TwiML when it needs one.
    The answer is kept as a text (members.replies); the <Message action> has Twilio report its delivery to
    the status webhook as for any text we send."""
    if why := impossible_sid(request):
        log.warning("reply from %s refused: impossible MessageSid (%s)", mask_phone(request.POST.get("From", "")), why)
        return HttpResponseBadRequest("Impossible MessageSid.")
    answer = receive(request.POST.get("From", ""), request.POST.get("Body", ""), request.POST.get("MessageSid", ""))
    reply = MessagingResponse()
    if answer and answer.message_id:
        reply.message(answer.text, action=f"{settings.SITE_URL}{reverse('twilio_status')}?m={answer.message_id}")
    elif answer:
        reply.message(answer.text)
    return HttpResponse(str(reply), content_type="text/xml")
