"""Who may be texted and when: consent, opt-outs, quiet hours and the frequency cap.

Quiet hours are 21:00-09:00 in the member's zone (or the store's): a text due then is deferred
to the next 09:00 local, never dropped. The frequency cap allows SMS_FREQUENCY_CAP texts per
member in SMS_FREQUENCY_DAYS days; a text over the cap is kept as a "skipped" row with its reason.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from .models import MessageStatus

QUIET_START = time(21, 0)
QUIET_END = time(9, 0)

# Texts that count towards the cap: those sent and those about to be.
COUNTED = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED,
           MessageStatus.UNDELIVERED)


def in_quiet_hours(now: datetime, zone: ZoneInfo) -> bool:
    local = now.astimezone(zone).time()
    return local >= QUIET_START or local < QUIET_END


def next_send_time(now: datetime, zone: ZoneInfo) -> datetime:
    """`now` if texting is allowed then, else the next 09:00 in `zone` (DST-safe wall time)."""
    if not in_quiet_hours(now, zone):
        return now
    local = now.astimezone(zone)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone)


def capped_member_ids(store, now: datetime) -> set[int]:
    """Members of `store` who already have SMS_FREQUENCY_CAP texts in the last SMS_FREQUENCY_DAYS days."""
    from .models import Message

    since = now - timedelta(days=settings.SMS_FREQUENCY_DAYS)
    recent = Message.objects.filter(store=store, status__in=COUNTED).filter(
        Q(sent_at__gte=since) | Q(sent_at__isnull=True, scheduled_for__gte=since))
    counts = recent.values("member_id").annotate(n=Count("pk")).filter(n__gte=settings.SMS_FREQUENCY_CAP)
    return {row["member_id"] for row in counts}
