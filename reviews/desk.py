"""Open items the reviews app puts on the desk: overdue first calls, open bad-review cases and the user's own."""

from django.db.models import Count, Q
from django.urls import reverse

from opsdesk.desk import DeskItem, counts_by_store

from .models import OPEN_STATUSES, ReviewCase
from .services import overdue_cases_of


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    # Without a user "yours" is nothing, not the unassigned cases.
    mine = {"mine": Count("pk", filter=Q(assigned_to=user))} if getattr(user, "pk", None) else {}
    counts = {row["store"]: row for row in ReviewCase.objects.filter(store__in=stores, status__in=OPEN_STATUSES)
              .order_by().values("store").annotate(open=Count("pk"), **mine)}
    overdue = counts_by_store(overdue_cases_of(stores))
    items = {}
    for store in stores:
        url = reverse("reviews:store", args=[store.slug])
        row = counts.get(store.pk, {})
        items[store.pk] = [
            DeskItem("Bad-review cases overdue for a first call", overdue.get(store.pk, 0), url + "?overdue=1",
                     "danger"),
            DeskItem("Open bad-review cases", row.get("open", 0), url, "warning"),
            DeskItem("Your open bad-review cases", row.get("mine", 0), url + "?assigned=me"),
        ]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
