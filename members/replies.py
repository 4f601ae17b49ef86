"""Replies members text to our number: acted on and answered.

One Twilio number (TWILIO_FROM_NUMBER or the messaging service) texts for every store, so a reply
cannot say which store it answers: an opt-out
applies in every store (Twilio blocks the number for the whole sender) and an opt-in lifts it in every
store. An opt-in never creates consent: it lifts the opt-out, and a membership that never consented
stays untexted. The answer to HELP names the store(s) the number belongs to.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opsdesk.privacy import mask_phone

from . import keywords
from .models import Member

log = logging.getLogger(__name__)


class ReplyKind:
    OPT_OUT, OPT_IN, HELP, MESSAGE = keywords.OPT_OUT, keywords.OPT_IN_KIND, keywords.HELP_KIND, keywords.MESSAGE


UNKNOWN_NUMBER_HELP = "Care and offer texts from our stores. Reply STOP to stop them, START to get them again."
ANSWERS = {
    "en": {ReplyKind.OPT_OUT: "{stores}: you are unsubscribed and will get no more texts. Reply START to get them "
                              "again.",
           ReplyKind.HELP: "{stores}: order care and member offers by text. Reply STOP to stop texts."},
    "zh": {ReplyKind.OPT_OUT: "您已退订{stores}的短信，不会再收到。回复START可重新订阅。",
           ReplyKind.HELP: "{stores}：订单关怀与会员优惠短信。回复T退订。"},
}


def receive_reply(phone: str, body: str, provider_sid: str = "", now: datetime | None = None) -> str | None:
    """Record and act on a reply from `phone`; returns the text to answer with, or None for no answer."""
    now = now or timezone.now()
    kind = keywords.classify(body)
    members = list(Member.objects.filter(phone=phone).select_related("store").order_by("store__name"))
    if not members:
        log.info("reply from %s, who is no member of any store (%s)", mask_phone(phone), kind)
        return UNKNOWN_NUMBER_HELP if kind == ReplyKind.HELP else None
    ids = [m.pk for m in members]
    with transaction.atomic():
        if kind == ReplyKind.OPT_OUT:
            count = Member.objects.filter(pk__in=ids, opted_out_at__isnull=True).update(opted_out_at=now)
        elif kind == ReplyKind.OPT_IN:
            count = Member.objects.filter(pk__in=ids, opted_out_at__isnull=False).update(opted_out_at=None)
        else:
            count = len(ids)
    log.info("%s from %s (%d memberships)", kind, mask_phone(phone), count)
    if kind in (ReplyKind.OPT_OUT, ReplyKind.OPT_IN) and keywords.twilio_answers(body):
        return None  # Twilio's Advanced Opt-Out confirms these itself; a second confirmation would confuse
    if kind in (ReplyKind.OPT_IN, ReplyKind.MESSAGE):
        return None
    stores = [m.store for m in members]
    language = "zh" if all(s.country == "CN" for s in stores) else "en"
    names = ("、" if language == "zh" else " / ").join(dict.fromkeys(s.name for s in stores))
    return ANSWERS[language][kind].format(stores=names)
