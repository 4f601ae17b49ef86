"""Open items the reviews app puts on the desk: overdue first calls, open bad-review cases and the user's own."""

from django.urls import reverse

from opsdesk.desk import DeskItem

from .models import OPEN_STATUSES, ReviewCase
from .services import overdue_cases


def open_items(store, user) -> list[DeskItem]:
    url = reverse("reviews:store", args=[store.slug])
    open_cases = ReviewCase.objects.filter(store=store, status__in=OPEN_STATUSES)
    open_count = open_cases.count()
    # Without a user "yours" is nothing, not the unassigned cases.
    mine = open_cases.filter(assigned_to=user).count() if getattr(user, "pk", None) else 0
    return [
        DeskItem("Bad-review cases overdue for a first call", overdue_cases(store).count(), url + "?overdue=1",
                 "danger"),
        DeskItem("Open bad-review cases", open_count, url, "warning"),
        DeskItem("Your open bad-review cases", mine, url + "?assigned=me"),
    ]
