"""Member items on the desk: replies waiting for an answer, texts that failed this week, texts waiting
for quiet hours to end."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from opsdesk.desk import DeskItem, counts_by_store

from .models import InboundReply, Message, MessageStatus


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    week_ago = timezone.now() - timedelta(days=7)
    texts = Message.objects.filter(store__in=stores)
    failed = counts_by_store(texts.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED],
                                          status_updated_at__gte=week_ago))
    waiting = counts_by_store(texts.waiting())
    replies = counts_by_store(InboundReply.objects.filter(store__in=stores).awaiting_answer())
    items = {}
    for store in stores:
        url = reverse("members:texts") + f"?store={store.slug}"  # the item counts this store's only
        items[store.pk] = [
            DeskItem("Replies from members waiting for an answer", replies.get(store.pk, 0), url, "warning"),
            DeskItem("Texts failed or undelivered (7 days)", failed.get(store.pk, 0),
                     f"{url}&status=failed,undelivered", "danger"),
            DeskItem("Texts waiting for 09:00 (quiet hours) or a retry", waiting.get(store.pk, 0),
                     f"{url}&status=waiting")]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
