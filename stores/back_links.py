"""Where an order's page links back to: the page of its store it was opened from (the orders list, a member's page,
a review's or a bad-review case's page, a campaign's dry run), named as that page names itself; else the store."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.urls import Resolver404, resolve

from members.models import Member, SmsTemplate
from opsdesk.http import pages_opened_from
from reviews.models import Review, ReviewCase

from .models import Order


def _orders_list(order: Order, kwargs: dict, query: dict) -> str | None:
    if query.get("shipping") == ["waiting"]:
        return "Orders waiting to ship"
    return "Orders"


def _member(order: Order, kwargs: dict, query: dict) -> str | None:
    member = Member.objects.filter(store=order.store_id, pk=kwargs["pk"]).first()
    return member and str(member)


def _campaign(order: Order, kwargs: dict, query: dict) -> str | None:
    name = SmsTemplate.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list("name", flat=True).first()
    return name and f"Dry run: {name}"


def _review(order: Order, kwargs: dict, query: dict) -> str | None:
    external_id = Review.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list(
        "external_id", flat=True).first()
    return external_id and f"Review {external_id}"


def _case(order: Order, kwargs: dict, query: dict) -> str | None:
    case = ReviewCase.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list("pk", flat=True).first()
    return case and f"Case #{case}"


# The pages that link to an order, by URL name: each names itself (None: not a page of the order's store).
# Those with a store in their address must be the order's store's; the others are looked up in it.
PAGES: dict[str, Callable[[Order, dict, dict], str | None]] = {
    "stores:orders": _orders_list, "members:detail": _member, "members:campaign": _campaign,
    "reviews:review": _review, "reviews:case": _case,
}


def back_from_order(request, order: Order) -> tuple[str, str] | None:
    """(path, label) of the page of `order`'s store that its page was opened from (`?next=`, else the Referer,
    same site only), or None: then the way back is the store. The page is checked to be the order's store's,
    so its label never names another store's member or review."""
    for page in pages_opened_from(request):
        parts = urlsplit(page)
        try:
            match = resolve(parts.path)
        except Resolver404:
            continue
        label_of = PAGES.get(match.view_name)
        if label_of is None or match.kwargs.get("slug", order.store.slug) != order.store.slug:
            continue
        if label := label_of(order, match.kwargs, parse_qs(parts.query)):
            return page, label
    return None
