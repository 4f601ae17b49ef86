"""The shipping promise: paid orders that have not left the warehouse by the store's promise (late), or whose
promise runs out within DUE_SOON (due soon). Late shipment is the platforms' most common penalty.

An order waits to ship while it is paid and not shipped: its status is still `paid` (a cancelled, fully refunded,
shipped or delivered order has moved on) and no shipping time was recorded. Its deadline is `paid_at` plus the
store's `ship_within_hours`; it is late once the deadline has passed (at the deadline itself it is not yet).

Only orders paid within LOOKBACK count: history loaded without any shipping data (the Olist sample, an old
order file without `shipped_at`) leaves every order "paid" for ever, and would bury this week's late parcels
under thousands from last year that nobody can still ship.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from opsdesk.localtime import hours_words

from .models import Order, OrderStatus, Store

DUE_SOON = timedelta(hours=6)
LOOKBACK = timedelta(days=14)


@dataclass(frozen=True)
class ShippingDue:
    """A store's orders waiting to ship that need it now: `late` past the promise (the oldest paid at
    `oldest_paid_at`), `due_soon` with their deadline within DUE_SOON."""

    promise_hours: int
    late: int = 0
    oldest_paid_at: datetime | None = None
    due_soon: int = 0


def deadline(order: Order, store: Store) -> datetime:
    """When `order` must have shipped by `store`'s promise."""
    return order.paid_at + timedelta(hours=store.ship_within_hours)


def _waiting(now: datetime) -> QuerySet:
    """Paid orders still to ship, paid within LOOKBACK."""
    return (Order.objects.filter(status=OrderStatus.PAID, shipped_at__isnull=True,
                                 paid_at__isnull=False, paid_at__gt=now - LOOKBACK)
            # The status says refunded in full; this guards a row whose amounts say it and status does not.
            .exclude(total__gt=0, refund_amount__gte=F("total")))


def _by_promise(stores, paid_before) -> Q:
    """Orders of `stores` paid before `paid_before(promise)`, each store by its own promise: one condition per
    distinct promise, so any number of stores is one query."""
    groups = defaultdict(list)
    for store in stores:
        groups[store.ship_within_hours].append(store.pk)
    each = (Q(store__in=pks, paid_at__lt=paid_before(hours)) for hours, pks in groups.items())
    return reduce(or_, each, Q(pk__in=[]))


def _late(stores, now: datetime) -> Q:
    # Late once the deadline has passed: paid_at + promise < now.
    return _by_promise(stores, lambda hours: now - timedelta(hours=hours))


def _due_by(stores, now: datetime) -> Q:
    # Late, or the deadline within DUE_SOON: paid_at + promise < now + DUE_SOON.
    return _by_promise(stores, lambda hours: now + DUE_SOON - timedelta(hours=hours))


def shipping_due_by_store(stores, now: datetime | None = None) -> dict[int, ShippingDue]:
    """Every one of `stores`' late and due-soon orders, counted by store id, in one query."""
    stores = list(stores)
    now = now or timezone.now()
    late = _late(stores, now)
    rows = {row["store"]: row for row in _waiting(now).filter(_due_by(stores, now)).order_by().values("store")
            .annotate(late=Count("pk", filter=late), oldest=Min("paid_at", filter=late),
                      due=Count("pk", filter=~late))} if stores else {}
    found = {}
    for store in stores:
        row = rows.get(store.pk, {})
        found[store.pk] = ShippingDue(store.ship_within_hours, row.get("late", 0), row.get("oldest"),
                                      row.get("due", 0))
    return found


def waiting_to_ship(store: Store, now: datetime | None = None) -> QuerySet:
    """The store's late and due-soon orders, late first (the longest late at the top)."""
    now = now or timezone.now()
    return _waiting(now).filter(_due_by([store], now)).order_by("paid_at", "pk")


def with_deadlines(orders, store: Store, now: datetime | None = None) -> list[Order]:
    """`orders` (waiting to ship) with `ship_by` (their deadline), `is_late` and `ship_words` ("late by 13 h",
    "due in 4 h 20 min") set, for the order list."""
    now = now or timezone.now()
    orders = list(orders)
    for order in orders:
        order.ship_by = deadline(order, store)
        order.is_late = order.ship_by < now
        order.ship_words = (f"late by {hours_words(now - order.ship_by)}" if order.is_late
                            else f"due in {hours_words(order.ship_by - now)}")
    return orders
