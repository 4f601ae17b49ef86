"""Nightly rollup: store-local days of facts aggregated in SQL into DailyMetric rows.

`rollup_days([(store, day), …])` reads orders (main payments), order lines (sub-order payments),
payments (payment-type mix), refunds (overall, and by product from the lines' refunds), traffic events,
ad results, violations and bad reviews inside each day's UTC bounds (23 or 25 hours on DST days) for the
whole batch at once, and replaces those days' rows in one transaction, so running it again gives exactly
the same table. `rollup_day` is the one-pair case; `run_nightly` finds the due store-days and rolls and
judges them in chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from stores.models import Order, OrderLine, Payment, Product, Store, Violation

from .models import BROWSING, DailyMetric, Dimension, EventType, TrafficEvent
from .rollup_sql import replace_days

log = logging.getLogger(__name__)

ZERO = Decimal("0")
RATIO_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class MetricInfo:
    label: str
    kind: str  # money | count | ratio (shown as a percentage) | multiple (shown as 3.48×)
    additive: bool = True
    higher_is_better: bool | None = True  # None: neither way is good or bad in itself (shown uncoloured)

    @property
    def short_label(self) -> str:
        """The label without its parenthesis: 'GMV', 'Conversion', 'Average order value'."""
        return self.label.split(" (")[0]


METRICS: dict[str, MetricInfo] = {
    "gmv": MetricInfo("GMV (main payments)", "money"),
    "orders": MetricInfo("Paid orders", "count"),
    "buyers": MetricInfo("Buyers", "count"),
    "aov": MetricInfo("Average order value", "money", additive=False),
    "visitors": MetricInfo("Visitors", "count"),
    "sessions": MetricInfo("Sessions", "count"),
    "pv": MetricInfo("Page views", "count"),
    "add_to_cart": MetricInfo("Add to cart", "count"),
    "conversion": MetricInfo("Conversion (orders / visitors)", "ratio", additive=False),
    "sub_payments": MetricInfo("Sub-order payments (lines)", "money"),
    "units": MetricInfo("Units sold", "count"),
    "payments": MetricInfo("Payments received", "money"),
    "payment_share": MetricInfo("Share of payments", "ratio", additive=False),
    "refunds": MetricInfo("Refunds", "money", higher_is_better=False),
    "refund_count": MetricInfo("Refunded orders", "count", higher_is_better=False),
    "refunded_units": MetricInfo("Units refunded", "count", higher_is_better=False),
    # Spend falling is a stopped plan as often as a saving: the number is shown, not judged.
    "ad_spend": MetricInfo("Ad spend", "money", higher_is_better=None),
    "ad_clicks": MetricInfo("Ad clicks", "count"),
    "ad_impressions": MetricInfo("Ad impressions", "count"),
    "ad_orders": MetricInfo("Ad orders", "count"),
    "ad_sales": MetricInfo("Ad sales", "money"),
    "roas": MetricInfo("ROAS (ad sales / spend)", "multiple", additive=False),
    "new_violations": MetricInfo("New violations", "count", higher_is_better=False),
    "violation_points": MetricInfo("Violation points", "count", higher_is_better=False),
    "violation_amount": MetricInfo("Violation deductions", "money", higher_is_better=False),
    "bad_reviews": MetricInfo("New bad reviews (≤\u00a02★)", "count", higher_is_better=False),
}

# Overall metrics shown in the daily overview and the morning email, in this order.
HEADLINE = ["gmv", "orders", "visitors", "conversion", "aov", "sub_payments", "refunds", "ad_spend", "roas",
            "new_violations", "bad_reviews"]


def _ratio(num, den) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATIO_PLACES)


def collect_day(store: Store, day: date) -> dict[tuple[str, str, str], Decimal]:
    """Every number of the store-local `day`, keyed by (metric, dimension, dimension value).

    The ORM statement of what a day's rows are: used on SQLite (the demo) and by the tests as the
    reference the set-based SQL of `rollup_days` must equal.
    """
    start, end = store.day_bounds(day)
    cells: dict[tuple[str, str, str], Decimal] = {}

    def put(metric: str, value, dimension: str = "", dim_value: str = "") -> None:
        if value is None:
            return
        cells[(metric, dimension, dim_value)] = Decimal(value)

    # --- main orders (order-level payments), by paid time ---------------------------------------
    paid = Order.objects.filter(store=store, paid_at__gte=start, paid_at__lt=end)
    # Buyers: distinct non-empty refs, as the live view and the desk count them (guests are no one buyer).
    agg = dict(orders=Count("id"), buyers=Count("buyer_ref", distinct=True, filter=~Q(buyer_ref="")),
               gmv=Sum("total"))
    overall = paid.aggregate(**agg)
    put("orders", overall["orders"])
    put("buyers", overall["buyers"])
    put("gmv", overall["gmv"] or ZERO)
    put("aov", _ratio(overall["gmv"] or 0, overall["orders"]))
    by_source = {r["traffic_source"]: r for r in paid.values("traffic_source").annotate(**agg).order_by()}
    for source, r in by_source.items():
        for metric in ("orders", "buyers", "gmv"):
            put(metric, r[metric], Dimension.TRAFFIC_SOURCE, source)
        put("aov", _ratio(r["gmv"], r["orders"]), Dimension.TRAFFIC_SOURCE, source)

    # --- sub-orders (line-level payments) ---------------------------------------------------------
    lines = OrderLine.objects.filter(order__store=store, order__paid_at__gte=start, order__paid_at__lt=end)
    line_agg = dict(sub_payments=Sum("amount"), units=Sum("quantity"), orders=Count("order", distinct=True))
    total = lines.aggregate(sub_payments=Sum("amount"), units=Sum("quantity"))
    put("sub_payments", total["sub_payments"] or ZERO)
    put("units", total["units"] or 0)
    for r in lines.values("product_id").annotate(**line_agg).order_by():
        key = str(r["product_id"]) if r["product_id"] else "unknown"
        put("sub_payments", r["sub_payments"], Dimension.PRODUCT, key)
        put("units", r["units"], Dimension.PRODUCT, key)
        put("orders", r["orders"], Dimension.PRODUCT, key)

    # --- payment-type mix ---------------------------------------------------------------------------
    payments = Payment.objects.filter(order__store=store, order__paid_at__gte=start, order__paid_at__lt=end)
    pay_total = payments.aggregate(s=Sum("amount"))["s"] or ZERO
    put("payments", pay_total)
    for r in payments.values("type").annotate(s=Sum("amount"), n=Count("order", distinct=True)).order_by():
        put("payments", r["s"], Dimension.PAYMENT_TYPE, r["type"])
        put("orders", r["n"], Dimension.PAYMENT_TYPE, r["type"])
        put("payment_share", _ratio(r["s"], pay_total), Dimension.PAYMENT_TYPE, r["type"])

    # --- refunds, by refund time ---------------------------------------------------------------------
    refunds = Order.objects.filter(store=store, refunded_at__gte=start, refunded_at__lt=end).aggregate(
        n=Count("id"), s=Sum("refund_amount"))
    put("refund_count", refunds["n"])
    put("refunds", refunds["s"] or ZERO)
    # By product, from the lines' refunds (channels that name the refunded items: Shopify's refund_line_items).
    refunded_lines = (OrderLine.objects.filter(order__store=store, order__refunded_at__gte=start,
                                               order__refunded_at__lt=end)
                      .filter(Q(refunded_quantity__gt=0) | Q(refund_amount__gt=0)))
    for r in refunded_lines.values("product_id").annotate(s=Sum("refund_amount"), n=Sum("refunded_quantity")
                                                          ).order_by():
        key = str(r["product_id"]) if r["product_id"] else "unknown"
        put("refunds", r["s"], Dimension.PRODUCT, key)
        put("refunded_units", r["n"], Dimension.PRODUCT, key)

    # --- traffic: browsing events only (a paid or refunded order is no visit) --------------------------
    events = TrafficEvent.objects.filter(store=store, ts__gte=start, ts__lt=end, type__in=BROWSING)
    ev_agg = dict(
        visitors=Count("visitor_id", distinct=True, filter=~Q(visitor_id="")),
        sessions=Count("id", filter=Q(type=EventType.SESSION_START)),
        pv=Count("id", filter=Q(type=EventType.PRODUCT_VIEW)),
        add_to_cart=Count("id", filter=Q(type=EventType.ADD_TO_CART)),
    )
    traffic = events.aggregate(**ev_agg)
    for metric, value in traffic.items():
        put(metric, value)
    put("conversion", _ratio(overall["orders"], traffic["visitors"]))
    for r in events.exclude(source="").values("source").annotate(**ev_agg).order_by():
        for metric in ev_agg:
            put(metric, r[metric], Dimension.TRAFFIC_SOURCE, r["source"])
        orders_here = by_source.get(r["source"], {}).get("orders", 0)
        put("conversion", _ratio(orders_here, r["visitors"]), Dimension.TRAFFIC_SOURCE, r["source"])
    for r in events.filter(type=EventType.PRODUCT_VIEW, product__isnull=False).values("product_id").annotate(
            pv=Count("id")).order_by():
        put("pv", r["pv"], Dimension.PRODUCT, str(r["product_id"]))

    # --- paid ads (rows are already per store-local date) ----------------------------------------------
    _collect_ads(store, day, put)

    # --- violations and bad reviews ------------------------------------------------------------------
    v = Violation.objects.filter(store=store, occurred_at__gte=start, occurred_at__lt=end).aggregate(
        n=Count("id"), points=Sum("points"), amount=Sum("amount"))
    put("new_violations", v["n"])
    put("violation_points", v["points"] or 0)
    put("violation_amount", v["amount"] or ZERO)
    put("bad_reviews", _bad_reviews(store, start, end))
    return cells


def _collect_ads(store: Store, day: date, put) -> None:
    from campaigns.models import AdDailyPerformance
    from campaigns.models.ads import CHANNEL_SOURCE

    ads = AdDailyPerformance.objects.filter(plan__store=store, date=day)
    agg = dict(ad_spend=Sum("spend"), ad_clicks=Sum("clicks"), ad_impressions=Sum("impressions"),
               ad_orders=Sum("orders"), ad_sales=Sum("sales"))
    total = ads.aggregate(**agg)
    for metric, value in total.items():
        put(metric, value or 0)
    put("roas", _ratio(total["ad_sales"] or 0, total["ad_spend"]))
    per_source: dict[str, dict[str, Decimal]] = {}
    for r in ads.values("plan__channel").annotate(**agg).order_by():
        source = CHANNEL_SOURCE.get(r["plan__channel"], "other")
        bucket = per_source.setdefault(str(source), {m: ZERO for m in agg})
        for metric in agg:
            bucket[metric] += Decimal(r[metric] or 0)
    for source, bucket in per_source.items():
        for metric, value in bucket.items():
            put(metric, value, Dimension.TRAFFIC_SOURCE, source)
        put("roas", _ratio(bucket["ad_sales"], bucket["ad_spend"]), Dimension.TRAFFIC_SOURCE, source)


def _bad_reviews(store: Store, start: datetime, end: datetime) -> int:
    from reviews.models import Review

    return Review.objects.filter(store=store, created_at__gte=start, created_at__lt=end, rating__lte=2).count()


def rollup_days(store_days: Sequence[tuple[Store, date]]) -> int:
    """Replace the rows of every (store, day) with a fresh aggregation, all in one transaction.

    On Postgres the whole batch is one DELETE and one INSERT … SELECT … GROUP BY (metrics.rollup_sql);
    elsewhere (the SQLite demo) each store-day goes through `collect_day`. Returns rows written.
    """
    store_days = list(dict.fromkeys((s, d) for s, d in store_days))
    if not store_days:
        return 0
    with transaction.atomic():
        # One rollup of a store at a time: a second run waits here instead of racing the insert. Locks in
        # pk order, so two overlapping batches cannot deadlock.
        list(Store.objects.select_for_update().filter(pk__in={s.pk for s, _ in store_days}).order_by("pk")
             .values_list("pk", flat=True))
        if connection.vendor == "postgresql":
            written = 0
            for at in range(0, len(store_days), BATCH):
                chunk = store_days[at:at + BATCH]
                written += replace_days([(s.pk, d, *s.day_bounds(d)) for s, d in chunk])
            return written
        written = 0
        for store, day in store_days:
            cells = collect_day(store, day)
            DailyMetric.objects.filter(store=store, day=day).delete()
            DailyMetric.objects.bulk_create([
                DailyMetric(store=store, day=day, metric=m, dimension=d, dimension_value=v, value=value)
                for (m, d, v), value in cells.items()
            ], batch_size=2000)
            written += len(cells)
        return written


BATCH = 500  # store-days per statement: keeps the VALUES list and each statement's memory small


def rollup_day(store: Store, day: date) -> int:
    """Replace the store's rows for `day` with a fresh aggregation; returns the number of rows."""
    return rollup_days([(store, day)])


def is_rolled_up(store: Store, day: date) -> bool:
    return DailyMetric.objects.filter(store=store, day=day, metric="orders", dimension="").exists()


def rolled_up(store_days: Sequence[tuple[Store, date]]) -> set[tuple[int, date]]:
    """Which of the (store, day) pairs already have rows, as (store_id, day), in one query."""
    if not store_days:
        return set()
    found = DailyMetric.objects.filter(
        metric="orders", dimension="", store_id__in={s.pk for s, _ in store_days},
        day__in={d for _, d in store_days}).values_list("store_id", "day")
    return set(found) & {(s.pk, d) for s, d in store_days}


def trusted_days(store: Store, first: date, last: date) -> set[date]:
    """The store's days first..last whose rollup holds: rolled up, and not changed by late facts since."""
    from .models import StaleDay

    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    stale = set(StaleDay.objects.filter(store=store, day__gte=first, day__lte=last).values_list("day", flat=True))
    return {day for _, day in rolled_up([(store, day) for day in days])} - stale


def day_runs(first: date, last: date, skip: set[date]) -> list[tuple[date, date]]:
    """The days first..last not in `skip`, as (first, last) runs of consecutive days."""
    runs: list[list[date]] = []
    day = first
    while day <= last:
        if day not in skip:
            if runs and runs[-1][1] == day - timedelta(days=1):
                runs[-1][1] = day
            else:
                runs.append([day, day])
        day += timedelta(days=1)
    return [(a, b) for a, b in runs]


def product_views(store: Store, first: date, last: date) -> dict[int, int]:
    """Product views per product id over the store-local days first..last, as the events count them.

    Days rolled up (and not changed by late events since) come from the rollup's per-product page
    views; the others (not rolled up yet, or stale) from the events. A quarter of a busy store is then a
    few thousand daily rows to add instead of a million events to count on every page view.
    """
    rolled = trusted_days(store, first, last)
    views: dict[int, int] = {}
    for product, n in (DailyMetric.objects.filter(store=store, metric="pv", dimension=Dimension.PRODUCT,
                                                  day__in=rolled)
                       .values("dimension_value").annotate(n=Sum("value")).values_list("dimension_value", "n")):
        views[int(product)] = int(n)
    for run_first, run_last in day_runs(first, last, rolled):
        start, end = store.day_bounds(run_first)[0], store.day_bounds(run_last)[1]
        for product, n in (TrafficEvent.objects.filter(store=store, type=EventType.PRODUCT_VIEW, ts__gte=start,
                                                       ts__lt=end, product__isnull=False)
                           .values("product").annotate(n=Count("id")).values_list("product", "n")):
            views[product] = views.get(product, 0) + n
    # An event of a product deleted since lost its product (SET NULL); its rolled-up views are its id.
    existing = set(Product.objects.filter(pk__in=views).values_list("pk", flat=True))
    return {product: n for product, n in views.items() if product in existing}


ROLLUP_AFTER = time(0, 30)


def due_day(store: Store, now: datetime) -> date:
    """The last store-local day that is complete and past the 00:30 grace period at `now`."""
    local = now.astimezone(store.zone)
    back = 1 if local.time() >= ROLLUP_AFTER else 2
    return local.date() - timedelta(days=back)


CATCH_UP_DAYS = 7  # nights an outage may have missed that the next run still rolls up


def due_store_days(now: datetime | None = None, stores=None) -> list[tuple[Store, date]]:
    """Every store's complete days of the last week that are not rolled up yet, a store's oldest first.

    Missed nights are caught up: a day counts from the store's first rolled-up day on (before it the
    store was not tracked; `manage.py backfill` builds older history), and for a store never rolled
    up only its last complete day is due.
    """
    now = now or timezone.now()
    stores = list(stores if stores is not None else Store.objects.order_by("pk"))
    first = dict(DailyMetric.objects.filter(store__in=stores, metric="orders", dimension="")
                 .values("store").annotate(first=Min("day")).values_list("store", "first"))
    pairs = []
    for store in stores:
        last = due_day(store, now)
        start = max(last - timedelta(days=CATCH_UP_DAYS - 1), first.get(store.pk, last))
        pairs += [(store, start + timedelta(days=k)) for k in range((last - start).days + 1)]
    done = rolled_up(pairs)
    return [(s, d) for s, d in pairs if (s.pk, d) not in done]


CHUNK = 200  # stores per nightly task: a failure retries only its chunk


def roll_and_judge(store_days: Sequence[tuple[Store, date]]) -> list[tuple[Store, date]]:
    """Roll up and judge a batch of store-days in one transaction; returns the pairs done.

    A batch that fails for a reason other than the database being away is split, so one store with
    bad data cannot hold back the others; that store is logged and left for the next run.
    """
    from .anomaly import detect_many

    store_days = list(store_days)
    if not store_days:
        return []
    try:
        with transaction.atomic():
            rollup_days(store_days)
            detect_many(store_days)
        return store_days
    except OperationalError:
        raise
    except Exception:
        if len(store_days) == 1:
            log.exception("nightly rollup failed for store %s day %s", store_days[0][0].slug, store_days[0][1])
            return []
        half = len(store_days) // 2
        return roll_and_judge(store_days[:half]) + roll_and_judge(store_days[half:])


def refresh_days(store: Store, days: Iterable[date]) -> list[date]:
    """Roll up and judge again those of the store-local `days` that are already rolled up, so facts
    recorded late (yesterday's order export, a corrected ad report, a penalty notice) count in the daily
    numbers, the anomalies and the morning email. Days not rolled up yet are left to the nightly job.
    Returns the days redone (a day whose rollup failed, logged by `roll_and_judge`, is not among them).

    Called inside the transaction that wrote the facts, it first takes the store's row lock, the one the
    nightly rollup holds: a rollup running now is waited for (then its day counts as rolled up and is
    redone here), and one starting later waits for these facts' commit. Checked without the lock, a day
    being rolled up would be neither redone here nor see the facts."""
    pairs = [(store, day) for day in sorted(set(days))]
    if not pairs:
        return []
    with transaction.atomic():  # the lock lasts until the caller's transaction ends
        list(Store.objects.select_for_update().filter(pk=store.pk).values_list("pk"))
    done = rolled_up(pairs)
    again = [(s, d) for s, d in pairs if (s.pk, d) in done]
    redone = []
    for at in range(0, len(again), CHUNK):
        redone += roll_and_judge(again[at:at + CHUNK])
    return [d for _, d in redone]


def refreshed_note(days: Iterable[date]) -> str:
    """What an import's success message adds for the days `refresh_days` redid ("" for none): consecutive days
    as one run ("1–20 Nov 2026"), not twenty dates."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    if not runs:
        return ""
    return " Daily numbers of " + ", ".join(_run_of_days(run[0], run[-1]) for run in runs) + " updated."


def _run_of_days(first: date, last: date) -> str:
    """'25 Nov 2026', '1–20 Nov 2026', '30 Nov – 1 Dec 2026', '31 Dec 2026 – 1 Jan 2027'."""
    if first == last:
        return f"{last.day} {last:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    start = f"{first.day} {first:%b}" if first.year == last.year else f"{first.day} {first:%b %Y}"
    return f"{start} – {last.day} {last:%b %Y}"


def run_nightly(now: datetime | None = None, stores=None) -> list[tuple[Store, date]]:
    """For every store whose last complete day is not rolled up yet: roll it up and detect anomalies.

    Beat fires this hourly; a store's day becomes due once its local time passes 00:30, and a store
    missed by an outage is caught up on the next run. Running twice does nothing the second time.
    In-process and chunked; the Celery task fans the same chunks out to workers instead.
    """
    due = due_store_days(now, stores)
    done = []
    for at in range(0, len(due), CHUNK):
        done += roll_and_judge(due[at:at + CHUNK])
    return done


def backfill(start: date, end: date, stores=None, detect: bool = True, progress=None) -> int:
    """Roll up every day from start to end (inclusive) for the stores; returns store-days done."""
    from .anomaly import detect_many

    if end < start:
        raise ValueError(f"--to ({end}) is before --from ({start}).")
    stores = list(stores if stores is not None else Store.objects.all())
    # A day still running would be stored as a part-day, and the nightly job skips rolled-up days, so
    # the part-day would stay for good.
    now = timezone.now()
    for store in stores:
        if end > due_day(store, now):
            raise ValueError(f"{end} is not complete yet for {store.slug} ({store.timezone}): its last complete "
                             f"day is {due_day(store, now)}.")
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    count = 0
    for store in stores:
        pairs = [(store, day) for day in days]
        rollup_days(pairs)
        if detect:
            detect_many(pairs)  # every day of the range rolled first, each judged on its own window
        count += len(pairs)
        if progress:
            progress(store, count)
    return count
