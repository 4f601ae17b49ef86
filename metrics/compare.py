"""Comparisons over the daily tables with pandas: history frames, day-over-day and week-over-week.

`history(store, start, end)` gives a day × metric frame (a missing day of a rolled-up store is 0
for additive metrics); `compare_days(store, day)` gives, for every overall metric, the day's value
against the day before and the same weekday a week before.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from stores.models import Store

from .models import DailyMetric
from .rollup import METRICS


class Window:
    """All daily rows of one store between two days, read with one query and sliced in memory.

    Detection and root cause look at the same weeks many times (overall, per source, per product);
    reading them once keeps the nightly run to a handful of queries per store.
    """

    def __init__(self, store: Store, start: date, end: date):
        self.store, self.start, self.end = store, start, end
        rows = list(DailyMetric.objects.filter(store=store, day__gte=start, day__lte=end)
                    .values_list("day", "metric", "dimension", "dimension_value", "value"))
        df = pd.DataFrame(rows, columns=["day", "metric", "dimension", "value_key", "value"])
        df["day"] = pd.to_datetime(df["day"])
        df["value"] = df["value"].astype(float)
        self.rows = df
        self.days = pd.date_range(start, end, freq="D")
        rolled = df[(df["metric"] == "orders") & (df["dimension"] == "")]["day"]
        self.rolled_mask = self.days.isin(pd.DatetimeIndex(rolled))
        self._cache: dict = {}

    def frame(self, dimension: str = "", metrics=None) -> pd.DataFrame:
        key = (dimension, tuple(metrics) if metrics is not None else None)
        if key not in self._cache:
            self._cache[key] = self._build(dimension, metrics)
        return self._cache[key]

    def _build(self, dimension: str, metrics) -> pd.DataFrame:
        df = self.rows[self.rows["dimension"] == dimension]
        if metrics is not None:
            df = df[df["metric"].isin(list(metrics))]
        if df.empty:
            return pd.DataFrame(index=self.days)
        if dimension:
            frame = df.set_index(["day", "metric", "value_key"])["value"].unstack(["metric", "value_key"])
        else:
            frame = df.set_index(["day", "metric"])["value"].unstack("metric")
        frame = frame.reindex(self.days).sort_index(axis=1)
        # A rolled-up day without a row for an additive metric had none of it: that is a real zero.
        additive = np.array([bool((info := METRICS.get(col[0] if isinstance(col, tuple) else col)) and info.additive)
                             for col in frame.columns])
        if additive.any() and self.rolled_mask.any():
            values = frame.to_numpy(dtype=float, copy=True)
            cells = np.ix_(self.rolled_mask, additive)
            block = values[cells]
            block[np.isnan(block)] = 0.0
            values[cells] = block
            frame = pd.DataFrame(values, index=frame.index, columns=frame.columns)
        return frame


def history(store: Store, start: date, end: date, dimension: str = "", metrics=None) -> pd.DataFrame:
    """Overall (dimension "") metrics: index = every day start..end, columns = metric names.

    With a dimension: columns are a (metric, dimension value) MultiIndex.
    """
    return Window(store, start, end).frame(dimension, metrics)


def pct_change(value, before) -> float | None:
    """Relative change as a fraction; None when there is nothing to compare against."""
    if value is None or before is None or pd.isna(value) or pd.isna(before) or before == 0:
        return None
    return float(value) / float(before) - 1.0


def compare_days(store: Store, day: date, metrics=None) -> pd.DataFrame:
    """Rows = overall metrics; columns value, day_before, week_before, dod, wow (fractions)."""
    frame = history(store, day - timedelta(days=7), day, metrics=metrics)
    ts = pd.Timestamp(day)
    names = [m for m in (metrics or METRICS) if m in frame.columns]
    out = pd.DataFrame(index=names, columns=["value", "day_before", "week_before", "dod", "wow"], dtype=float)
    for m in names:
        value = frame.at[ts, m]
        before = frame.at[ts - pd.Timedelta(days=1), m]
        week = frame.at[ts - pd.Timedelta(days=7), m]
        out.loc[m] = [value, before, week, pct_change(value, before), pct_change(value, week)]
    return out.replace({None: np.nan})


def compare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Vectorised DoD and WoW for every column of a day-indexed frame (suffixes _dod, _wow)."""
    dod = frame / frame.shift(1) - 1
    wow = frame / frame.shift(7) - 1
    dod = dod.replace([np.inf, -np.inf], np.nan).add_suffix("_dod")
    wow = wow.replace([np.inf, -np.inf], np.nan).add_suffix("_wow")
    return pd.concat([frame, dod, wow], axis=1)
