"""The demo storefront: keeps the demo stores' shoppers coming after `seed_demo`, minute by minute.

Only with the DEMO_TRAFFIC setting (`make demo` sets OPSDESK_DEMO_TRAFFIC=1; off by default and in
tests). Beat runs `metrics.tasks.demo_traffic` every minute; it fills the minutes since the store's last
event, at most CATCH_UP of them (a laptop waking from sleep gets the last half hour, not the night), at
the seeded history's rates: the store's orders a day at the end of its history (`stores.demo.expected_orders`:
weekday rhythm and growth), spread over the day by `HOUR_WEIGHTS` in the store's zone, split by the
traffic-source mix, with the first store's paid search still paused (its plan has not been restarted).
The shoppers are the seeded ones' kind: every order gets a buying session, and the browsers around them
come from each source's conversion rate (`metrics.demo`: `browsers`, `browse`, `add_buying_sessions`),
orders from `stores.demo._order` with the seeded buyers and the products they bought.

Everything goes in through the ingest API's own path (`metrics.ingest.ingest_events`), as a tracker's
batch would: an order is recorded by `order_paid` (its buyer enrolled as a member, a past day rebuilt).
The stores' paid orders of the last FULFIL_WINDOW (seeded or live) are then fulfilled as a warehouse and a
carrier would (`fulfilment_times`, the times the seed gave its shipped orders): `order_shipped` in working
hours a few hours after payment, `order_delivered` a day or two later in the daytime, each sent once its time
has passed, so the after-sales texts (`members.flows.after_sales_care`, keyed on `delivered_at`) follow the
demo's orders as a real store's.
A minute is drawn from a random generator seeded by (store, minute), and its event ids and order ids
are made of the minute and their place in it, so running a minute twice (beat firing twice, two
workers) draws the same events and the unique (store, event id) drops the repeats; an order is
recorded only by the call that stored its event.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from stores import demo as store_demo
from stores.demo import (
    HOUR_WEIGHTS,
    DemoContext,
    _order,
    demo_context,
    expected_orders,
    paid_search_paused_from,
    spec_for,
)
from stores.models import Order, OrderLine, OrderStatus, Product, Store, TrafficSource

from . import demo
from .ingest import ingest_events, max_events
from .models import TrafficEvent

CATCH_UP = timedelta(minutes=30)  # at most this much is filled after a pause
# A browsing session's last event comes at most 3 views × 240 s + 20 s after its start: the minutes this
# long before the last event are drawn again, for the views and carts of sessions still going then.
SESSION_SPAN = timedelta(minutes=13)
MINUTE = timedelta(minutes=1)
HISTORY = timedelta(days=70)  # the seeded orders whose products and buyers the storefront follows
# Paid orders this recent are shipped and delivered on schedule (the seed leaves those under 5 days old
# paid or shipped; a schedule ends at most 5 days after payment).
FULFIL_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Shop:
    """What a demo store's shoppers choose from, read once per process from its seeded history."""

    spec: dict
    products: list[Product]
    popularity: list[int]  # lines bought per product (plus one), for the orders
    catalogue: demo.Catalogue  # the same, for the browsers
    buyers: list[tuple[str, str]]  # (buyer ref, phone) of the seeded orders
    skus: dict[int, str]
    last_number: int | None  # the highest seeded order name's number (#1001 …), None in a store without names
    hour_orders: dict[tuple[int, int], int] = field(default_factory=dict)  # (seed, UTC hour) -> its live orders


@lru_cache(maxsize=8)
def _shop(store_id: int, seeded_at: datetime) -> Shop:
    store = Store.objects.get(pk=store_id)
    seeded = Order.objects.filter(store=store, paid_at__lt=seeded_at, paid_at__gte=seeded_at - HISTORY)
    bought = Counter(dict(OrderLine.objects.filter(order__in=seeded, product__isnull=False)
                          .values("product_id").annotate(n=Count("id")).values_list("product_id", "n")))
    products = list(store.products.order_by("pk"))
    buyers = list(seeded.exclude(buyer_ref="").values_list("buyer_ref", "buyer_phone").distinct()
                  .order_by("buyer_ref", "buyer_phone"))
    # Only the seeded orders' names: a later process must number on from the same place, not from the live ones.
    names = Order.objects.filter(store=store, placed_at__lte=seeded_at, name__regex=r"^#[0-9]+$")
    last_number = max((int(name[1:]) for name in names.values_list("name", flat=True)), default=None)
    return Shop(spec=spec_for(store), products=products, popularity=[bought[p.pk] + 1 for p in products],
                catalogue=demo.store_catalogue(store, bought), buyers=buyers or [(f"{store.slug}-c0", "")],
                skus={p.pk: p.sku for p in products}, last_number=last_number)


def minute_orders(store: Store, ctx: DemoContext, minute: datetime) -> dict[str, float]:
    """Paid orders per traffic source that the seeded history has in the minute starting at `minute`:
    the day's expected orders at the end of the history (full growth, no promotion) times the local hour's
    share of `HOUR_WEIGHTS`, over 60; paid search nothing in the first store while its plan is paused."""
    local = minute.astimezone(store.zone)
    day = local.date()
    per_minute = expected_orders(store, ctx, day, day) * HOUR_WEIGHTS[local.hour] / sum(HOUR_WEIGHTS) / 60
    paused_from = paid_search_paused_from(store, ctx, day)
    return {str(source): per_minute * share for source, share in spec_for(store)["sources"]
            if not (paused_from is not None and source == TrafficSource.PAID_SEARCH and local.hour >= paused_from)}


def _minute_rng(store: Store, ctx: DemoContext, key: int) -> np.random.Generator:
    # By slug, not id: a store's draws are the same in every database (ids differ between test processes).
    return np.random.default_rng([ctx.seed_value, zlib.crc32(store.slug.encode()), key])


def _order_counts(store: Store, ctx: DemoContext, key: int) -> list[int]:
    """The orders of minute `key` per traffic source: the minute generator's first draws, whatever follows."""
    nrng = _minute_rng(store, ctx, key)
    return [int(nrng.poisson(rate)) for rate in minute_orders(store, ctx, datetime.fromtimestamp(key * 60, UTC))
            .values()]


def first_order_number(store: Store, ctx: DemoContext, shop: Shop, key: int) -> int | None:
    """The name's number of minute `key`'s first order: on from the highest seeded name, after every order the
    storefront draws in the minutes between the seeding and this one (drawn or skipped in a pause: a pause leaves
    a gap, as deleted orders do in a shop). Counted from the minutes' own generators, so the same in any process
    and however often a minute is drawn. None in a store whose seeded orders have no names."""
    if shop.last_number is None:
        return None
    first = int((_floor(store.created_at) + MINUTE).timestamp()) // 60  # the storefront's first minute
    number = shop.last_number + 1
    for hour in range(first // 60, key // 60 + 1):
        minutes = range(max(first, hour * 60), min(hour * 60 + 60, key))
        if hour < key // 60:  # a whole hour: counted once per process
            cached = (ctx.seed_value, hour)
            if cached not in shop.hour_orders:
                shop.hour_orders[cached] = sum(sum(_order_counts(store, ctx, k)) for k in minutes)
            number += shop.hour_orders[cached]
        else:
            number += sum(sum(_order_counts(store, ctx, k)) for k in minutes)
    return number


def minute_events(store: Store, ctx: DemoContext, shop: Shop, minute: datetime) -> list[tuple[int, dict]]:
    """The store's shoppers of the minute starting at `minute` (UTC, whole minute) as ingest API events,
    with their times (epoch seconds); the same every time for the same minute."""
    key = int(minute.timestamp()) // 60
    start = key * 60
    rng = random.Random(f"{ctx.seed_value}-{store.slug}-{key}")
    nrng = _minute_rng(store, ctx, key)
    sessions = demo.Sessions()
    rates = minute_orders(store, ctx, minute)
    out: list[tuple[int, dict]] = []
    counts = [int(nrng.poisson(rate)) for rate in rates.values()]  # first, as `_order_counts` counts them
    number = first_order_number(store, ctx, shop, key) if any(counts) else None

    # Orders, each with its buying session (views and carts of its products before it was placed).
    names, visitors, sources, placed, line_of, line_product = [], [], [], [], [], []
    for source, count in zip(rates, counts, strict=True):
        for _ in range(count):
            placed_s = start + rng.randrange(50)
            placed_at = datetime.fromtimestamp(placed_s, tz=UTC)
            paid = placed_at + timedelta(seconds=rng.randrange(1, 10))  # within the minute
            order, lines, payments = _order(store, shop.spec, shop.products, shop.popularity, shop.buyers, rng,
                                            placed_at, source, paid, paid_at=paid)
            order.external_id = f"L{minute:%y%m%d%H%M}{len(names) + 1:02d}"
            if number is not None:  # Shopify's name, numbered on from the seeded orders' (#1001 …)
                order.name = f"#{number + len(names)}"
            names.append(f"o-{order.external_id}")
            visitors.append(f"v-{order.buyer_ref}")
            sources.append(source)
            placed.append(placed_s)
            for line in lines:
                line_of.append(len(names) - 1)
                line_product.append(line.product.pk)
            out.append((int(paid.timestamp()), _order_paid(store, key, order, lines, payments, names[-1])))
    demo.add_buying_sessions(sessions, nrng, start, names, visitors, sources, placed, line_of, line_product)

    # Browsers around them: each source's orders over its conversion rate.
    counts = [int(nrng.poisson(demo.browsers(rate, source))) for source, rate in rates.items()]
    n = sum(counts)
    ts = start + nrng.integers(0, 60, n)
    index = sessions.add(ts, [f"b-{key}-{i}" for i in range(1, n + 1)], demo.visitors(store, nrng, n),
                         [s for s, c in zip(rates, counts, strict=True) for _ in range(c)], demo.devices(nrng, n))
    day_end = int(store.day_bounds(minute.astimezone(store.zone).date())[1].timestamp())
    demo.browse(sessions, nrng, ts, index, np.full(n, day_end), shop.catalogue)
    out += _tracker_events(store, key, sessions, shop)
    return out


def _tracker_events(store: Store, key: int, sessions: demo.Sessions, shop: Shop) -> list[tuple[int, dict]]:
    if not sessions.events:
        return []
    kind, ts, of, product = (np.concatenate(column) for column in zip(*sessions.events, strict=True))
    order = np.argsort(ts, kind="stable")
    out = []
    for n, i in enumerate(order.tolist(), start=1):
        s, when = int(of[i]), int(ts[i])
        event = {"id": f"live-{key}-{n}", "type": demo.TYPES[int(kind[i])], "ts": _iso(when),
                 "session_id": sessions.names[s], "visitor_id": sessions.visitors[s]}
        if kind[i] == demo.SESSION:
            event.update(source=sessions.sources[s], device=sessions.devices[s])
        else:
            event["sku"] = shop.skus[int(product[i])]
        out.append((when, event))
    return out


def _order_paid(store: Store, key: int, order: Order, lines, payments, session: str) -> dict:
    return {
        "id": f"live-{key}-{order.external_id}", "type": "order_paid", "ts": order.paid_at.isoformat(),
        "session_id": session, "visitor_id": f"v-{order.buyer_ref}", "order_id": order.external_id,
        "placed_at": order.placed_at.isoformat(), "total": str(order.total), "currency": store.currency,
        **({"name": order.name} if order.name else {}),
        "source": order.traffic_source,
        "buyer": {"ref": order.buyer_ref, "name": order.buyer_name, "phone": order.buyer_phone,
                  "marketing_consent": order.marketing_consent},
        "lines": [{"sku": line.sku, "title": line.title, "quantity": line.quantity,
                   "unit_price": str(line.unit_price), "amount": str(line.amount)} for line in lines],
        "payments": [{"type": p.type, "amount": str(p.amount), "installments": p.installments} for p in payments],
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def _floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def fulfilment_times(store: Store, ctx: DemoContext, order_id: str, paid_at: datetime) -> tuple[datetime, datetime]:
    """When the order is shipped and when delivered (`stores.demo.fulfilment_times`: the seed gives its shipped
    orders the same times)."""
    return store_demo.fulfilment_times(store, ctx.seed_value, order_id, paid_at)


def fulfilment_events(store: Store, ctx: DemoContext, now: datetime) -> list[dict]:
    """The `order_shipped` and `order_delivered` events due by `now` for the store's paid orders of the last
    FULFIL_WINDOW that have not had them; their ids are made of the order id, so one sent twice is dropped."""
    orders = (Order.objects.filter(store=store, status__in=[OrderStatus.PAID, OrderStatus.SHIPPED],
                                   delivered_at__isnull=True, paid_at__gte=now - FULFIL_WINDOW, paid_at__lt=now)
              .order_by("paid_at", "pk").values_list("external_id", "status", "paid_at"))
    events = []
    for order_id, status, paid_at in orders:
        shipped, delivered = fulfilment_times(store, ctx, order_id, paid_at)
        if status == OrderStatus.PAID and shipped < now:
            events.append({"id": f"fulfil-shipped-{order_id}", "type": "order_shipped", "ts": shipped.isoformat(),
                           "order_id": order_id})
        if delivered < now:
            events.append({"id": f"fulfil-delivered-{order_id}", "type": "order_delivered",
                           "ts": delivered.isoformat(), "order_id": order_id})
    return events


def _ingest(store: Store, events: list[dict], now: datetime) -> tuple[int, int]:
    """The events in batches of the API's size: (stored, orders created)."""
    accepted = orders = 0
    size = max_events()
    for at in range(0, len(events), size):
        result = ingest_events(store, events[at:at + size], now=now)
        accepted += result.accepted
        orders += result.orders_created
    return accepted, orders


def feed_store(store: Store, ctx: DemoContext, now: datetime) -> dict[str, int]:
    """Store the store's shoppers from its last event (or CATCH_UP ago, whichever is later; never before it
    was seeded) up to `now`: every minute since, and the minutes SESSION_SPAN before the last event, for
    the sessions still going then; then ship and deliver the orders due (`fulfilment_events`). Returns the
    shoppers' events stored, the orders created, and the shipped and delivered notices stored."""
    shop = _shop(store.pk, store.created_at)
    last = (TrafficEvent.objects.filter(store=store, ts__lte=now).order_by("-ts")
            .values_list("ts", flat=True).first())
    first = _floor(now) - CATCH_UP
    if last is not None:
        first = max(first, _floor(last) - SESSION_SPAN)
    first = max(first, _floor(store.created_at) + MINUTE)  # the seeded history covers up to then
    now_s = now.timestamp()
    events = []
    minute = first
    while minute < now:
        events += [event for at, event in minute_events(store, ctx, shop, minute) if at < now_s]
        minute += MINUTE
    accepted, orders = _ingest(store, events, now)
    fulfilment = fulfilment_events(store, ctx, now)
    notices = {kind: _ingest(store, [e for e in fulfilment if e["type"] == f"order_{kind}"], now)[0]
               for kind in ("shipped", "delivered")}
    return {"events": accepted, "orders": orders, **notices}


def feed(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """`feed_store` for every demo store, when the DEMO_TRAFFIC setting is on (nothing otherwise)."""
    if not settings.DEMO_TRAFFIC:
        return {}
    ctx = demo_context()
    if ctx is None:
        return {}
    now = (now or timezone.now()).astimezone(UTC)
    return {store.slug: feed_store(store, ctx, now) for store in ctx.stores}
