"""The daily page of a user of several stores: one row a store with its reported day's headline figures.

A chain runs hundreds of stores; a full panel each (tables, breakdowns, chart, peers) was ~10 queries and a
chart a store. Here every store's figures come from a constant number of queries: one read of every store's
daily rows (`compare.read_windows`), one count of open anomalies and one of the reported days' new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count

from opsdesk.lazy import lazy_module
from stores.models import Store

from .compare import WINDOW_COLUMNS, Window, compare_days, comparison_row, read_windows
from .models import Anomaly, AnomalyStatus

pd = lazy_module("pandas")

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

    The figures are the panel's (`compare_days` over the same rows): one query reads every store's days,
    from a week before the earliest day it may report, whatever the number of stores.
    """
    spans = {}
    for store in stores:
        last = asked or store.today(now) - timedelta(days=1)
        first = last - timedelta(days=7 + (0 if asked else FALLBACK_DAYS))
        spans[store.pk] = (first, last)
    rows = read_windows([(pk, lo, hi) for pk, (lo, hi) in spans.items()], "", [*LISTED, *COUNTED])
    result = []
    for store in stores:
        lo, hi = spans[store.pk]
        # A store without a row in its span gets an empty frame: None would make Window read it again.
        window = Window(store, lo, hi, rows=rows.get((store.pk, lo, hi), pd.DataFrame(columns=WINDOW_COLUMNS)))
        found = StoreDay(store=store, day=hi)
        rolled = {d.date() for d in window.days[window.rolled_mask]}
        found.rolled_up = hi in rolled
        if not asked and not found.rolled_up:
            recent = [d for d in rolled if d >= hi - timedelta(days=FALLBACK_DAYS)]
            if recent:
                found.day, found.pending, found.rolled_up = max(recent), hi, True
        frame = compare_days(store, found.day, metrics=[*LISTED, *COUNTED], window=window)
        found.cells = [comparison_row(m, frame.loc[m] if m in frame.index else None) for m in LISTED]
        violations = frame.at["new_violations", "value"] if "new_violations" in frame.index else None
        found.new_violations = 0 if violations is None or pd.isna(violations) else int(violations)
        result.append(found)
    _count_anomalies(result)
    return result


def _count_anomalies(rows: list[StoreDay]) -> None:
    """Open incidents of each store (any day), and the incidents flagged on its reported day: two queries."""
    if not rows:
        return
    ids = [r.store.pk for r in rows]
    leads = Anomaly.objects.filter(store_id__in=ids, part_of__isnull=True)
    open_counts = dict(leads.exclude(status=AnomalyStatus.RESOLVED).values_list("store")
                       .annotate(n=Count("id")).values_list("store", "n"))
    days = [r.day for r in rows]
    # The reported days are a day or two apart (zones, a store still pending): one range, picked in Python.
    on_day = {(pk, day): n for pk, day, n in leads.filter(day__gte=min(days), day__lte=max(days))
              .values_list("store", "day").annotate(n=Count("id")).values_list("store", "day", "n")}
    for r in rows:
        r.open_anomalies = open_counts.get(r.store.pk, 0)
        r.new_anomalies = on_day.get((r.store.pk, r.day), 0)
