"""Open items the stores app puts on the desk: open violations, and paid orders past or near the shipping
promise (`stores.shipping`)."""

from django.urls import reverse
from django.utils import timezone

from opsdesk.desk import DeskItem, counts_by_store
from opsdesk.localtime import hours_words

from .models import Violation
from .shipping import DUE_SOON, shipping_due_by_store


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    now = timezone.now()
    counts = counts_by_store(Violation.objects.open().filter(store__in=stores))
    shipping = shipping_due_by_store(stores, now)
    items = {}
    for store in stores:
        due = shipping[store.pk]
        waiting = reverse("stores:orders", args=[store.slug]) + "?shipping=waiting"
        oldest = f"oldest paid {hours_words(now - due.oldest_paid_at)} ago" if due.oldest_paid_at else ""
        items[store.pk] = [
            DeskItem("Open violations", counts.get(store.pk, 0),
                     reverse("stores:violations", args=[store.slug]) + "?status=open", "danger"),
            DeskItem(f"Orders past the {due.promise_hours} h shipping promise", due.late, waiting, "danger", oldest),
            DeskItem(f"Orders due to ship within {hours_words(DUE_SOON)}", due.due_soon, waiting, "warning"),
        ]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
