"""How the reviews app's pages that link to an order name themselves on the order page's way back
(`stores.back_links`): a review's page by its platform id, a bad-review case's by its number. Registered when
Django loads the app (`ReviewsConfig.ready`)."""

from __future__ import annotations

from stores.back_links import register
from stores.models import Order

from .models import Review, ReviewCase


def review_page(order: Order, kwargs: dict, query: dict) -> str | None:
    external_id = Review.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list(
        "external_id", flat=True).first()
    return external_id and f"Review {external_id}"


def case_page(order: Order, kwargs: dict, query: dict) -> str | None:
    case = ReviewCase.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list("pk", flat=True).first()
    return case and f"Case #{case}"


register("reviews:review", review_page)
register("reviews:case", case_page)
