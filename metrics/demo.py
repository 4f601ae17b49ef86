"""Demo traffic for the live view: two weeks of sessions, product views and carts behind the seeded orders.

Every seeded order gets a buying session (its source, views and carts of its products, a few minutes
before it was placed); around them come browsing sessions in the proportion of each source's
conversion rate, so yesterday's paid-search collapse in the first store shows in sessions too.
One product of the first store gets a second listing version a week ago with a new title, and
browsers who came before it bounced more often, so the listing verdict has a clear difference.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate

from django.db import connection, transaction
from django.utils import timezone

from stores.demo import HOUR_WEIGHTS, DemoContext
from stores.models import ListingVersion, OrderLine, Store, TrafficSource

from . import daily_demo
from .models import EventType

DAYS = 14
# Orders per session by source (a real shop converts lower; higher keeps the demo's row count small).
CONVERSION = {
    TrafficSource.ORGANIC_SEARCH: 0.08, TrafficSource.PAID_SEARCH: 0.06, TrafficSource.RECOMMENDATION: 0.05,
    TrafficSource.SOCIAL: 0.03, TrafficSource.DIRECT: 0.10, TrafficSource.CAMPAIGN: 0.08, TrafficSource.OTHER: 0.04,
}
VIEW_SHARE, CART_SHARE = 0.65, 0.2  # of browsing sessions: view a product; of those: add one to cart
DEVICES = (("mobile", 0.68), ("desktop", 0.27), ("tablet", 0.05))
TITLE_SUFFIX = " · 2026 edition, gift-wrapped, ships today"
BEFORE_SWITCH_VIEW_BOOST = 2.2  # the old title drew more browsers who did not buy


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    for index, store in enumerate(ctx.stores):
        featured = _seed_listing(store, now) if index == 0 else None
        _seed_traffic(store, ctx, now, featured)


def finish(ctx: DemoContext) -> None:
    """After every app's demo data: roll up the recent days and detect anomalies over all of it."""
    daily_demo.seed(ctx)


def _seed_listing(store: Store, now: datetime):
    """Two listing versions for the store's best seller; returns (product, switch time)."""
    today = store.today(now)
    start, _ = store.day_bounds(today - timedelta(days=DAYS - 1))
    top = (OrderLine.objects.filter(order__store=store, order__paid_at__gte=start, product__isnull=False)
           .values_list("product", flat=True))
    product_id = Counter(top).most_common(1)[0][0] if top else None
    if product_id is None:
        return None
    product = store.products.get(pk=product_id)
    switch = datetime.combine(today - timedelta(days=7), time(10), tzinfo=store.zone)
    ListingVersion.objects.bulk_create([
        ListingVersion(product=product, title=product.title, started_at=start,
                       detail_page="What it is and where it comes from.", note="Listing at the start of tracking"),
        ListingVersion(product=product, title=product.title + TITLE_SUFFIX, started_at=switch,
                       detail_page="What it is and where it comes from, care guide, photos of the real thing.",
                       note="Edition, gift wrap and same-day shipping in the title; care guide on the detail page"),
    ])
    product.title += TITLE_SUFFIX
    product.save(update_fields=["title"])
    return product, switch


def _seed_traffic(store: Store, ctx: DemoContext, now: datetime, featured) -> None:
    rng = ctx.rng
    received = _db_time()(now)
    today = store.today(now)
    first_day = today - timedelta(days=min(DAYS, ctx.days + 1) - 1)
    window_start, _ = store.day_bounds(first_day)
    lines = (OrderLine.objects.filter(order__store=store, order__paid_at__gte=window_start, order__paid_at__lt=now)
             .values_list("order_id", "order__placed_at", "order__traffic_source", "order__buyer_ref", "product_id"))
    orders: dict[int, dict] = {}
    for order_id, placed, source, buyer, product_id in lines:
        entry = orders.setdefault(order_id, {"placed": placed, "source": source, "buyer": buyer, "products": []})
        if product_id:
            entry["products"].append(product_id)
    product_ids = list(store.products.values_list("pk", flat=True))
    popularity = Counter(pid for o in orders.values() for pid in o["products"])
    weights = [popularity[pid] + 1 for pid in product_ids]
    featured_id, switch = (featured[0].pk, featured[1]) if featured else (None, None)
    boosted = [w * BEFORE_SWITCH_VIEW_BOOST if pid == featured_id else w for pid, w in zip(product_ids, weights,
                                                                                          strict=True)]

    rows: list[tuple] = []
    as_db_time = _db_time()

    def add(kind, ts, session, visitor, source, device, product_id=None):
        rows.append((store.pk, f"demo-{len(rows) + 1}", str(kind.value), as_db_time(ts), session, visitor, source,
                     device, product_id, received))

    per_day_source: dict[tuple, int] = defaultdict(int)
    for order_id, order in orders.items():
        placed = order["placed"]
        day = placed.astimezone(store.zone).date()
        per_day_source[(day, order["source"])] += 1
        session, device = f"o{order_id}", _device(rng)
        visitor = f"v-{order['buyer']}" if order["buyer"] else f"v-o{order_id}"
        ts = max(placed - timedelta(minutes=rng.randint(3, 25)), window_start)
        add(EventType.SESSION_START, ts, session, visitor, order["source"], device)
        for pid in order["products"]:
            ts = min(ts + timedelta(seconds=rng.randint(20, 180)), placed)
            add(EventType.PRODUCT_VIEW, ts, session, visitor, order["source"], device, pid)
            add(EventType.ADD_TO_CART, min(ts + timedelta(seconds=30), placed), session, visitor, order["source"],
                device, pid)

    hours = list(range(24))
    n_browsing = 0
    for (day, source), n_orders in per_day_source.items():
        rate = CONVERSION.get(source, 0.04)
        expected = n_orders / rate - n_orders
        n = max(0, round(expected * rng.uniform(0.9, 1.1)))
        day_start, day_end = store.day_bounds(day)
        last = min(day_end, now)
        # Today's orders so far imply today's sessions so far: draw them from the hours up to now.
        cum = _HOUR_CUM if day_end <= now else _HOUR_CUM[: now.astimezone(store.zone).hour + 1]
        for _ in range(n):
            hour = rng.choices(hours[: len(cum)], cum_weights=cum)[0]
            ts = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=store.zone)
            if ts >= last or ts < day_start:
                continue
            n_browsing += 1
            session, device = f"b{store.pk}-{n_browsing}", _device(rng)
            visitor = f"v{rng.randrange(int(len(orders) * 6) + 1)}"
            add(EventType.SESSION_START, ts, session, visitor, source, device)
            if rng.random() >= VIEW_SHARE:
                continue
            pool = boosted if switch and ts < switch else weights
            for pid in rng.choices(product_ids, weights=pool, k=rng.choice((1, 1, 2, 3))):
                ts = ts + timedelta(seconds=rng.randint(15, 240))
                if ts >= last:
                    break
                add(EventType.PRODUCT_VIEW, ts, session, visitor, source, device, pid)
                if rng.random() < CART_SHARE / 1.6 and ts + timedelta(seconds=20) < last:
                    add(EventType.ADD_TO_CART, ts + timedelta(seconds=20), session, visitor, source, device, pid)
    _insert(rows)


INSERT_SQL = (
    "INSERT INTO metrics_trafficevent "
    "(store_id, event_id, type, ts, session_id, visitor_id, source, device, product_id, received_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


COPY_SQL = ("COPY metrics_trafficevent (store_id, event_id, type, ts, session_id, visitor_id, source, device, "
            "product_id, received_at) FROM STDIN")


def _db_time():
    """Timestamps as the database takes them; SQLite's adapter is too slow for ~100k rows."""
    if connection.vendor == "sqlite":
        return lambda ts: str(ts.astimezone(UTC).replace(tzinfo=None))
    return lambda ts: ts


def _insert(rows: list[tuple]) -> None:
    # Model instances and bulk_create cost ~10x more for rows this simple; Postgres takes COPY.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(COPY_SQL) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for i in range(0, len(rows), 10000):
            cursor.executemany(INSERT_SQL, rows[i:i + 10000])


_DEVICE_NAMES = [d for d, _ in DEVICES]
_DEVICE_CUM = list(accumulate(w for _, w in DEVICES))
_HOUR_CUM = list(accumulate(HOUR_WEIGHTS))


def _device(rng) -> str:
    return rng.choices(_DEVICE_NAMES, cum_weights=_DEVICE_CUM)[0]
