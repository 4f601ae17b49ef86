"""Open items the reviews app puts on the desk: overdue first calls and open bad-review cases."""

from django.urls import reverse

from opsdesk.desk import DeskItem

from .models import OPEN_STATUSES, ReviewCase
from .services import overdue_cases


def open_items(store, user) -> list[DeskItem]:
    url = reverse("reviews:store", args=[store.slug])
    open_count = ReviewCase.objects.filter(store=store, status__in=OPEN_STATUSES).count()
    return [
        DeskItem("Bad-review cases overdue for a first call", overdue_cases(store).count(), url + "?overdue=1",
                 "danger"),
        DeskItem("Open bad-review cases", open_count, url, "warning"),
    ]
