"""Demo traffic: sessions, product views and carts behind the seeded orders, over their whole history.

Every seeded order gets a buying session (its source, views and carts of its products, a few minutes
before it was placed). Around them come browsing sessions: per day and traffic source, the orders the
store expects that day (`stores.demo.expected_orders`: weekday rhythm, growth, the promotion) over the
source's conversion rate. So orders ≈ visitors × conversion by source, visitors follow the orders'
weekly rhythm, and a day's actual orders vary around that like a real conversion rate. On the first
store's anomaly day paid search brings no visitor after its plan paused, in sessions as in orders.
One product of the first store gets a second listing version a week ago with a new title, and
browsers who came before it bounced more often, so the listing verdict has a clear difference.

Ten weeks of it are ~300 k events: drawn with numpy and written with COPY (Postgres) or 99 rows an
INSERT (SQLite), they take about as long as the old two weeks did with a row at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from stores.demo import HOUR_WEIGHTS, DemoContext, expected_orders, paid_search_paused_from, spec_for
from stores.models import ListingVersion, OrderLine, Store, TrafficSource

from . import daily_demo
from .models import EventType

# Orders per session by source: ~10 % overall. A real shop converts lower, but every session is a few rows
# and the demo writes ten weeks of them; this keeps that to ~300 k events and a few seconds.
CONVERSION = {
    TrafficSource.ORGANIC_SEARCH: 0.14, TrafficSource.PAID_SEARCH: 0.11, TrafficSource.RECOMMENDATION: 0.09,
    TrafficSource.SOCIAL: 0.05, TrafficSource.DIRECT: 0.18, TrafficSource.CAMPAIGN: 0.14, TrafficSource.OTHER: 0.07,
}
VIEW_SHARE, CART_SHARE = 0.65, 0.2  # of browsing sessions: view a product; of those: add one to cart
DEVICES = (("mobile", 0.68), ("desktop", 0.27), ("tablet", 0.05))
TITLE_SUFFIX = " · 2026 edition, gift-wrapped, ships today"
BEFORE_SWITCH_VIEW_BOOST = 2.2  # the old title drew more browsers who did not buy
# A day's traffic varies this much (all sources together, then each source): less than chance would
# give, so that the demo's traffic anomalies are its story (the paused plan), not a draw from the tail.
DAY_NOISE, SOURCE_NOISE = 0.04, 0.03
VISITOR_POOL = 100  # browsers are drawn from this many × the daily orders: some come back the same day
BATCH = 50_000  # events made into rows at a time for COPY

TYPES = [str(EventType.SESSION_START.value), str(EventType.PRODUCT_VIEW.value), str(EventType.ADD_TO_CART.value)]
SESSION, VIEW, CART = range(3)


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    for index, store in enumerate(ctx.stores):
        start = store.day_bounds(store.today(now) - timedelta(days=_history_days(ctx)))[0]
        featured = _seed_listing(store, start, now) if index == 0 else None
        _seed_traffic(store, ctx, now, featured, np.random.default_rng([ctx.seed_value, index]))


def _history_days(ctx: DemoContext) -> int:
    """Days of traffic before today: every day the demo rolls up (daily_demo), so each has its visitors."""
    return min(ctx.days, daily_demo.ROLLED_DAYS)


def finish(ctx: DemoContext) -> None:
    """After every app's demo data: roll up the recent days and detect anomalies over all of it."""
    daily_demo.seed(ctx)


def _seed_listing(store: Store, start: datetime, now: datetime):
    """Two listing versions for the store's best seller, the first since `start`; returns (product, switch time)."""
    today = store.today(now)
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


class Sessions:
    """Sessions as columns (id, visitor, source, device) and their events as arrays (kind, time, session, product)."""

    def __init__(self):
        self.names, self.visitors, self.sources, self.devices = [], [], [], []
        self.events = []

    def add(self, ts: np.ndarray, names, visitors, sources, devices) -> np.ndarray:
        """Sessions starting at `ts` (epoch seconds); returns their indexes, for their events."""
        index = np.arange(len(self.names), len(self.names) + len(ts))
        self.names += names
        self.visitors += visitors
        self.sources += sources
        self.devices += devices
        self.add_events(SESSION, ts, index, np.zeros(len(ts), dtype=np.int64))
        return index

    def add_events(self, kind: int, ts: np.ndarray, sessions: np.ndarray, products: np.ndarray) -> None:
        """Events of one kind; product id 0 for none."""
        self.events.append((np.full(len(ts), kind), ts, sessions, products))


def _seed_traffic(store: Store, ctx: DemoContext, now: datetime, featured, rng: np.random.Generator) -> None:
    today = store.today(now)
    days = [today - timedelta(days=back) for back in range(_history_days(ctx), -1, -1)]
    bounds = np.array([[b.timestamp() for b in store.day_bounds(day)] for day in days], dtype=np.int64)
    now_s = int(now.timestamp())
    sessions = Sessions()
    # Two streams: the history's browsers do not change with how many orders today has so far.
    buying_rng, rng = rng.spawn(2)
    popularity = _buying_sessions(store, sessions, store.day_bounds(days[0])[0], now, buying_rng)

    catalogue = store_catalogue(store, popularity, featured)

    # Browsing sessions per (day, source): the day's expected orders of the source over its conversion.
    mix = spec_for(store)["sources"]
    day_factor = np.maximum(rng.normal(1, DAY_NOISE, len(days)), 0)
    group_day, group_source, expected, cutoff = [], [], [], []
    for d, day in enumerate(days):
        orders = expected_orders(store, ctx, day, today)
        last = min(int(bounds[d, 1]), now_s)
        paused_from = paid_search_paused_from(store, ctx, day)
        for source, share in mix:
            group_day.append(d)
            group_source.append(str(source))
            expected.append(browsers(orders * share, source) * day_factor[d])
            paused = paused_from is not None and source == TrafficSource.PAID_SEARCH
            stop = _local(day, paused_from, store) if paused else last
            cutoff.append(min(stop, last))
    counts = np.rint(np.array(expected) * np.maximum(rng.normal(1, SOURCE_NOISE, len(expected)), 0))
    group = np.repeat(np.arange(len(group_day)), counts.astype(np.int64))
    day_of = np.array(group_day)[group]
    hour_starts = np.array([[_local(day, h, store) for h in range(24)] for day in days], dtype=np.int64)
    ts = hour_starts[day_of, _draw(rng, HOUR_WEIGHTS, len(group))] + rng.integers(0, 3600, len(group))
    keep = ts < np.array(cutoff)[group]
    group, day_of, ts = group[keep], day_of[keep], ts[keep]
    n, store_id = len(ts), store.pk
    browsing = sessions.add(
        ts, [f"b{store_id}-{i}" for i in range(1, n + 1)], visitors(store, rng, n),
        [group_source[g] for g in group.tolist()], devices(rng, n))

    # Some browsers view one to three products, a few put one in the cart; all before the day (or now) ends.
    browse(sessions, rng, ts, browsing, np.minimum(bounds[day_of, 1], now_s), catalogue)
    _insert(store, sessions, now)


def browsers(orders: float, source: str) -> float:
    """Sessions that do not buy around `orders` of `source`: the source's conversion rate makes up the rest."""
    return orders * (1 / CONVERSION.get(source, 0.04) - 1)


def visitors(store: Store, rng, size: int) -> list[str]:
    """Visitor ids of `size` browsing sessions, from the store's pool: some come back the same day."""
    pool = int(spec_for(store)["orders_per_day"] * VISITOR_POOL)
    return [f"v{k}" for k in rng.integers(pool, size=size).tolist()]


def store_catalogue(store: Store, popularity: Counter, featured=None) -> Catalogue:
    """Browsers pick products as buyers do (`popularity`: lines bought per product id), plus one; before the
    featured product's switch (`featured` = (product, switch time)) they pick it more often."""
    product_ids = np.array(sorted(store.products.values_list("pk", flat=True)))
    weights = np.array([popularity[pid] + 1 for pid in product_ids], dtype=float)
    switch = int(featured[1].timestamp()) if featured else 0
    boosted = np.where(product_ids == (featured[0].pk if featured else 0), weights * BEFORE_SWITCH_VIEW_BOOST, weights)
    return Catalogue(product_ids, weights, boosted, switch)


@dataclass(frozen=True)
class Catalogue:
    """What browsers look at: product ids, how often each is chosen, and before the featured product's
    listing switch (epoch seconds, 0 for none) the weights that favour it."""

    product_ids: np.ndarray
    weights: np.ndarray
    boosted: np.ndarray
    switch: int = 0


def browse(sessions: Sessions, rng, ts: np.ndarray, index: np.ndarray, end: np.ndarray, catalogue: Catalogue) -> None:
    """Browsing sessions `index` (started at `ts`) view one to three products, a few put one in the cart;
    every event before its session's `end` (the day's end, or now)."""
    n = len(ts)
    views = np.where(rng.random(n) < VIEW_SHARE, rng.choice([1, 1, 2, 3], n), 0)
    of = np.repeat(np.arange(n), views)
    view_ts = ts[of] + _running_sum(rng.integers(15, 241, len(of)), of)
    u = rng.random(len(of))
    before = ts[of] < catalogue.switch
    pick = np.where(before, _pick(catalogue.boosted, u), _pick(catalogue.weights, u))
    last = end[of]
    ok = view_ts < last
    sessions.add_events(VIEW, view_ts[ok], index[of[ok]], catalogue.product_ids[pick[ok]])
    cart = ok & (rng.random(len(of)) < CART_SHARE / 1.6) & (view_ts + 20 < last)
    sessions.add_events(CART, view_ts[cart] + 20, index[of[cart]], catalogue.product_ids[pick[cart]])


def _buying_sessions(store: Store, sessions: Sessions, start: datetime, now: datetime, rng) -> Counter:
    """One session per paid order since `start`: views and carts of its products before it was placed.

    Returns how often each product was bought, for the browsers' choice of products.
    """
    lines = (OrderLine.objects.filter(order__store=store, order__paid_at__gte=start, order__paid_at__lt=now)
             .order_by("order_id", "line_no")
             .values_list("order_id", "order__placed_at", "order__traffic_source", "order__buyer_ref", "product_id"))
    names, visitors, sources, placed, line_of, line_product = [], [], [], [], [], []
    last_id = None
    for order_id, placed_at, source, buyer, product_id in lines:
        if order_id != last_id:
            last_id = order_id
            names.append(f"o{order_id}")
            visitors.append(f"v-{buyer}" if buyer else f"v-o{order_id}")
            sources.append(source)
            placed.append(int(placed_at.timestamp()))
        if product_id:
            line_of.append(len(names) - 1)
            line_product.append(product_id)
    add_buying_sessions(sessions, rng, int(start.timestamp()), names, visitors, sources, placed, line_of, line_product)
    return Counter(line_product)


def add_buying_sessions(sessions: Sessions, rng, start_s: int, names, visitors, sources, placed, line_of,
                        line_product) -> None:
    """Sessions `names` that bought at `placed` (epoch seconds): started a few minutes before (not before
    `start_s`), viewed and carted each product (`line_product`, of session `line_of`) before then."""
    placed = np.array(placed, dtype=np.int64)
    ts = np.maximum(placed - 60 * rng.integers(3, 26, len(placed)), start_s)
    index = sessions.add(ts, names, visitors, sources, devices(rng, len(placed)))
    of, products = np.array(line_of, dtype=np.int64), np.array(line_product, dtype=np.int64)
    view_ts = np.minimum(ts[of] + _running_sum(rng.integers(20, 181, len(of)), of), placed[of])
    sessions.add_events(VIEW, view_ts, index[of], products)
    sessions.add_events(CART, np.minimum(view_ts + 30, placed[of]), index[of], products)


def _local(day: date, hour: int, store: Store) -> int:
    return int(datetime.combine(day, time(hour), tzinfo=store.zone).timestamp())


def _draw(rng, weights, size: int) -> np.ndarray:
    """Indexes into `weights`, drawn in proportion to them."""
    return _pick(np.asarray(weights, dtype=float), rng.random(size))


def _pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(weights) - 1)


def devices(rng, size: int) -> list[str]:
    names = [name for name, _ in DEVICES]
    return [names[i] for i in _draw(rng, [w for _, w in DEVICES], size).tolist()]


def _running_sum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cumulative sum of `values` that starts again at each new value of the sorted `groups`."""
    if not len(values):
        return values
    total = np.cumsum(values)
    first = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return total - np.repeat(total[first] - values[first], np.diff(np.r_[first, len(values)]))


# SQLite's own placeholders: the statement goes to sqlite3 directly (Django would rewrite it each time).
INSERT_SQL = (
    "INSERT INTO metrics_trafficevent "
    "(store_id, event_id, type, ts, session_id, visitor_id, source, device, product_id, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
MORE_VALUES = ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
ROWS_PER_INSERT = 99  # 990 parameters (SQLite's smallest limit is 999): ~40 % faster than a row a statement
COPY_SQL = ("COPY metrics_trafficevent (store_id, event_id, type, ts, session_id, visitor_id, source, device, "
            "product_id, received_at) FROM STDIN")


def _insert(store: Store, sessions: Sessions, now: datetime) -> None:
    """Write the events in time order, numbered in that order (each index then grows at its end)."""
    kind, ts, of, product = (np.concatenate(column) for column in zip(*sessions.events, strict=True))
    order = np.argsort(ts, kind="stable")
    kind, ts, of, product = kind[order].tolist(), ts[order], of[order].tolist(), product[order].tolist()
    # Model instances and bulk_create cost ~10x more for rows this simple; Postgres takes COPY.
    postgres = connection.vendor == "postgresql"
    stamps = np.strings.replace(np.datetime_as_string(ts.astype("datetime64[s]")), "T", " ")
    if postgres:
        stamps = np.strings.add(stamps, "+00")
    stamps = stamps.tolist()
    received = now if postgres else str(now.astimezone(UTC).replace(tzinfo=None))
    names, visitors, sources, devices = sessions.names, sessions.visitors, sessions.sources, sessions.devices
    store_id = store.pk

    def rows(at: int, size: int) -> list[tuple]:
        batch = zip(kind[at:at + size], stamps[at:at + size], of[at:at + size], product[at:at + size], strict=True)
        return [(store_id, f"demo-{n:07d}", TYPES[k], t, names[s], visitors[s], sources[s], devices[s], p or None,
                 received) for n, (k, t, s, p) in enumerate(batch, start=at + 1)]

    if postgres:
        with connection.cursor() as cursor, cursor.cursor.copy(COPY_SQL) as copy:
            for at in range(0, len(kind), BATCH):
                for row in rows(at, BATCH):
                    copy.write_row(row)
        return
    for at in range(0, len(kind), ROWS_PER_INSERT):
        batch = rows(at, ROWS_PER_INSERT)
        connection.connection.execute(INSERT_SQL + MORE_VALUES * (len(batch) - 1), list(chain.from_iterable(batch)))
