"""The daily page's breakdowns of a store-day: traffic sources, top products and the payment-type mix,
each against the day before and the same weekday a week before.

Built from the window the overview already read (metrics.compare.Window): no query per source,
product or payment type; the product titles are one lookup for the products shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from opsdesk.lazy import lazy_module

from .anomaly import dimension_labels
from .compare import Window, compare_breakdown, compare_shares, comparison_row
from .models import Dimension
from .rollup import METRICS

pd = lazy_module("pandas")

SOURCE_METRICS = ["visitors", "sessions", "orders", "gmv", "conversion"]
PRODUCT_METRICS = ["sub_payments", "units"]
REFUND_METRICS = ["refunds", "refunded_units"]  # by product only where the channel names the refunded items
TOP_PRODUCTS = 10


@dataclass
class Breakdowns:
    """What the page shows under a store's overview; rows are dicts the daily templates read."""

    day: date
    sources: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    other_products: int = 0  # products that sold that day beyond the top ones
    other_sub_payments: float = 0.0  # and what they sold together
    product_refunds: bool = False  # whether the product rows carry refund cells (any on the three days)
    payment_types: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sources or self.products or self.payment_types)


def day_breakdowns(window: Window, day: date) -> Breakdowns:
    """The breakdowns of `day`; `window` must cover day − 7 … day (one read of the store's rows)."""
    out = Breakdowns(day)
    if not window.rolled_mask[window.days.get_loc(pd.Timestamp(day))]:
        return out  # not rolled up (yet): the earlier days alone would read as a day of gaps
    sources = compare_breakdown(window, day, Dimension.TRAFFIC_SOURCE, SOURCE_METRICS)
    # A source that had anything on one of the three days is listed: one that stopped is news.
    sources = sources[_seen(sources)]
    if not sources.empty:
        sources = sources.sort_values([("gmv", "value"), ("visitors", "value")], ascending=False, na_position="last")
        labels = dimension_labels(window.store, Dimension.TRAFFIC_SOURCE, sources.index)
        out.sources = [_row(key, labels[key], r, SOURCE_METRICS) for key, r in sources.iterrows()]

    products = compare_breakdown(window, day, Dimension.PRODUCT, PRODUCT_METRICS + REFUND_METRICS)
    if not products.empty:
        refunds = products.loc[:, pd.IndexSlice["refunds", ["value", "day_before", "week_before"]]]
        out.product_refunds = bool(refunds.fillna(0).ne(0).any(axis=None))
        # A product refunded that day is listed though it sold nothing: a return is news about it too.
        listed = products[(products[("sub_payments", "value")] > 0) | (products[("refunds", "value")] > 0)]
        listed = listed.sort_values([("sub_payments", "value"), ("units", "value"), ("refunds", "value")],
                                    ascending=False)
        top, rest = listed.iloc[:TOP_PRODUCTS], listed.iloc[TOP_PRODUCTS:]
        metrics = PRODUCT_METRICS + (REFUND_METRICS if out.product_refunds else [])
        labels = dimension_labels(window.store, Dimension.PRODUCT, list(top.index))
        out.products = [_row(key, _product_label(key, labels), r, metrics)
                        for key, r in top.iterrows()]
        out.other_products, out.other_sub_payments = len(rest), float(rest[("sub_payments", "value")].sum())

    shares = compare_shares(window, day, Dimension.PAYMENT_TYPE, "payments")
    payments = compare_breakdown(window, day, Dimension.PAYMENT_TYPE, ["payments"])
    if not shares.empty:
        shares = shares[shares[["value", "day_before", "week_before"]].fillna(0).ne(0).any(axis=1)]
        shares = shares.sort_values("value", ascending=False, na_position="last")
        labels = dimension_labels(window.store, Dimension.PAYMENT_TYPE, shares.index)
        out.payment_types = [
            {
                **_row(key, labels[key], payments.loc[key], ["payments"]),
                "share": {**_cell(r, "payment_share"), "good_when_up": None},
            }
            for key, r in shares.iterrows()
        ]
    return out


def _seen(frame: pd.DataFrame) -> pd.Series:
    """Values with a non-zero number on the day, the day before or a week before."""
    earlier = frame.loc[:, pd.IndexSlice[:, ["value", "day_before", "week_before"]]]
    return earlier.fillna(0).ne(0).any(axis=1)


def _row(key: str, label: str, r: pd.Series, metrics: list[str]) -> dict:
    return {"key": key, "label": label, "cells": [_cell(r[m], m) for m in metrics]}


def _cell(r: pd.Series, metric: str) -> dict:
    return comparison_row(metric, r, METRICS[metric].short_label)


def _product_label(key: str, labels: dict[str, str]) -> str:
    return "Lines without a product" if key == "unknown" else labels[key]
