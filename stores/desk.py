"""Open items the stores app puts on the desk: open violations."""

from django.urls import reverse

from opsdesk.desk import DeskItem, counts_by_store

from .models import Violation


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    counts = counts_by_store(Violation.objects.open().filter(store__in=stores))
    return {store.pk: [DeskItem("Open violations", counts.get(store.pk, 0),
                                reverse("stores:violations", args=[store.slug]) + "?status=open", "danger")]
            for store in stores}


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
