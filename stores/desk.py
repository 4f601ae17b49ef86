"""Open items the stores app puts on the desk: open violations."""

from django.urls import reverse

from opsdesk.desk import DeskItem


def open_items(store, user) -> list[DeskItem]:
    count = store.violations.open().count()
    url = reverse("stores:violations", args=[store.slug]) + "?status=open"
    return [DeskItem("Open violations", count, url, "danger")]
