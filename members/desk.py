"""Member items on the desk: replies waiting for an answer, texts that failed this week, texts waiting
for quiet hours to end."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from opsdesk.desk import DeskItem

from .models import InboundReply, Message, MessageStatus


def open_items(store, user) -> list[DeskItem]:
    week_ago = timezone.now() - timedelta(days=7)
    texts = Message.objects.filter(store=store)
    failed = texts.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED],
                          status_updated_at__gte=week_ago).count()
    waiting = texts.waiting().count()
    replies = InboundReply.objects.filter(store=store).awaiting_answer().count()
    url = reverse("members:texts") + f"?store={store.slug}"  # the item counts this store's only
    return [DeskItem("Replies from members waiting for an answer", replies, url, "warning"),
            DeskItem("Texts failed or undelivered (7 days)", failed, f"{url}&status=failed,undelivered", "danger"),
            DeskItem("Texts waiting for 09:00 (quiet hours) or a retry", waiting, f"{url}&status=waiting")]
