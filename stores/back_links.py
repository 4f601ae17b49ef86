"""Where an order's page links back to: the page of its store it was opened from (the orders list, a member's page,
a review's or a bad-review case's page, a campaign's dry run), named as that page names itself; else the store.

The stores app is the foundation the others build on, so it names only its own pages here: the apps that link to an
order from theirs (members, reviews) `register` how each of those pages names itself, when Django loads them
(their `AppConfig.ready`)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.urls import Resolver404, resolve

from opsdesk.http import pages_opened_from

from .models import Order

# How a page names itself on an order's back link, from the order, its URL's kwargs and its parsed query string;
# None: not a page of the order's store (or nothing to name).
PageNamer = Callable[[Order, dict, dict], str | None]


def _orders_list(order: Order, kwargs: dict, query: dict) -> str | None:
    if query.get("shipping") == ["waiting"]:
        return "Orders waiting to ship"
    return "Orders"


# The pages that link to an order, by URL name: each names itself (None: not a page of the order's store).
# Those with a store in their address must be the order's store's; the others are looked up in it.
# The other apps' pages are added by `register`.
PAGES: dict[str, PageNamer] = {"stores:orders": _orders_list}


def register(url_name: str, namer: PageNamer) -> None:
    """Make the page `url_name` (e.g. "members:detail") a way back from an order's page, named by `namer`. A page
    has one name: registering another namer for it is a mistake (two apps claiming one page), refused."""
    if PAGES.get(url_name, namer) is not namer:
        raise ValueError(f"{url_name} already names itself on an order's back link ({PAGES[url_name].__qualname__})")
    PAGES[url_name] = namer


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
