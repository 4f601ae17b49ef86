"""The daily page of a user of several stores: one row a store with its reported day's headline figures.

A chain runs hundreds of stores; a full panel each (tables, breakdowns, chart, peers) was ~10 queries and a
chart a store. Here every store's figures come from a constant number of queries: one read of every store's
overall daily rows of the listed metrics, one count of open anomalies and one of the reported days' new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, FloatField
from django.db.models.functions import Cast

from stores.models import Store

from .compare import comparison_row, pct_change
from .models import Anomaly, AnomalyStatus, DailyMetric
from .rollup import METRICS

# The row's figures, the panel's headline metrics it leads with (GMV = visitors × conversion × AOV).
LISTED = ["gmv", "orders", "visitors", "conversion", "aov"]
# Read too, shown as a count beside the anomalies rather than as a column with changes.
COUNTED = ["new_violations"]
FALLBACK_DAYS = 7  # as the panel: the last day rolled up within a week before yesterday


@dataclass
class StoreDay:
    """One store's row: the day reported (and the yesterday still pending, if it fell back) and its figures."""

    store: Store
    day: date
    pending: date | None = None  # yesterday, not rolled up yet: `day` is the last day that is
    rolled_up: bool = False
    cells: list[dict] = field(default_factory=list)  # metrics.compare.comparison_row of each LISTED metric
    new_violations: int = 0
    new_anomalies: int = 0
    open_anomalies: int = 0


def reported_days(stores: list[Store], now: datetime, asked: date | None = None) -> list[StoreDay]:
    """Each store's reported day, in the order given: `asked`, or the store's own local yesterday, or (before
    yesterday is rolled up) the last day of the week before it that is, as the per-store panel picks it.

    The figures are the panel's (`compare.compare_days` rules: a rolled-up day without a row of an additive
    metric had 0 of it; a metric with no row in the week compared is unknown). One query reads every store's
    days, from a week before the earliest day it may report; the rest is dictionary look-ups, not a frame a
    store (a frame a store was most of the page's time for hundreds of stores).
    """
    spans = {}
    for store in stores:
        last = asked or store.today(now) - timedelta(days=1)
        spans[store.pk] = (last - timedelta(days=7 + (0 if asked else FALLBACK_DAYS)), last)
    values = _read(spans)
    rolled = {(pk, day) for pk, day, metric in values if metric == "orders"}
    result = []
    for store in stores:
        last = spans[store.pk][1]
        found = StoreDay(store=store, day=last, rolled_up=(store.pk, last) in rolled)
        if not asked and not found.rolled_up:
            earlier = (last - timedelta(days=n) for n in range(1, FALLBACK_DAYS + 1))
            if (day := next((d for d in earlier if (store.pk, d) in rolled), None)) is not None:
                found.day, found.pending, found.rolled_up = day, last, True
        found.cells = [comparison_row(m, _compared(values, rolled, store.pk, found.day, m)) for m in LISTED]
        violations = _compared(values, rolled, store.pk, found.day, "new_violations")
        found.new_violations = int(violations["value"] or 0) if violations else 0
        result.append(found)
    _count_anomalies(result)
    return result


def _read(spans: dict[int, tuple[date, date]]) -> dict[tuple[int, date, str], float]:
    """The overall rows of LISTED and COUNTED metrics (and orders, which say a day is rolled up) in every
    store's span, by (store id, day, metric): one query over the days all spans cover (a day or two apart)."""
    if not spans:
        return {}
    rows = DailyMetric.objects.filter(
        store_id__in=list(spans), dimension="", metric__in={*LISTED, *COUNTED, "orders"},
        day__gte=min(lo for lo, _ in spans.values()), day__lte=max(hi for _, hi in spans.values()),
    ).values_list("store_id", "day", "metric", Cast("value", FloatField()))  # float8, as compare.read_windows
    return {(pk, day, metric): value for pk, day, metric, value in rows
            if spans[pk][0] <= day <= spans[pk][1]}


def _compared(values, rolled, pk: int, day: date, metric: str) -> dict | None:
    """A metric's value on `day`, the day before and a week before with DoD and WoW, as `compare.compare_days`
    makes them from the store's week; None (all unknown) when the week has no row of it."""
    week = [day - timedelta(days=n) for n in range(8)]
    if not any((pk, d, metric) in values for d in week):
        return None
    additive = METRICS[metric].additive

    def on(d: date) -> float | None:
        value = values.get((pk, d, metric))
        return 0.0 if value is None and additive and (pk, d) in rolled else value

    value, before, week_before = on(day), on(week[1]), on(week[7])
    return {"value": value, "day_before": before, "week_before": week_before,
            "dod": pct_change(value, before), "wow": pct_change(value, week_before)}


def _count_anomalies(rows: list[StoreDay]) -> None:
    """Open incidents of each store (any day), and the incidents flagged on its reported day: two queries."""
    if not rows:
        return
    ids = [r.store.pk for r in rows]
    leads = Anomaly.objects.filter(store_id__in=ids, part_of__isnull=True)
    # An incident running over several days is one, counted on its latest day (as the panel and the desk count).
    open_counts = dict(leads.filter(continued_by__isnull=True).exclude(status=AnomalyStatus.RESOLVED)
                       .values_list("store").annotate(n=Count("id")).values_list("store", "n"))
    days = [r.day for r in rows]
    # The reported days are a day or two apart (zones, a store still pending): one range, picked in Python.
    on_day = {(pk, day): n for pk, day, n in leads.filter(day__gte=min(days), day__lte=max(days))
              .values_list("store", "day").annotate(n=Count("id")).values_list("store", "day", "n")}
    for r in rows:
        r.open_anomalies = open_counts.get(r.store.pk, 0)
        r.new_anomalies = on_day.get((r.store.pk, r.day), 0)
