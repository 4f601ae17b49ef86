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


def history(store: Store, start: date, end: date, dimension: str = "", metrics=None) -> pd.DataFrame:
    """Overall (dimension "") metrics: index = every day start..end, columns = metric names.

    With a dimension: columns are a (metric, dimension value) MultiIndex.
    """
    qs = DailyMetric.objects.filter(store=store, day__gte=start, day__lte=end, dimension=dimension)
    if metrics is not None:
        qs = qs.filter(metric__in=list(metrics))
    rows = list(qs.values_list("day", "metric", "dimension_value", "value"))
    days = pd.date_range(start, end, freq="D")
    rolled = set(DailyMetric.objects.filter(store=store, day__gte=start, day__lte=end, metric="orders",
                                            dimension="").values_list("day", flat=True))
    if not rows:
        return pd.DataFrame(index=days)
    df = pd.DataFrame(rows, columns=["day", "metric", "value_key", "value"])
    df["day"] = pd.to_datetime(df["day"])
    df["value"] = df["value"].astype(float)
    if dimension:
        frame = df.pivot_table(index="day", columns=["metric", "value_key"], values="value", aggfunc="sum")
    else:
        frame = df.pivot_table(index="day", columns="metric", values="value", aggfunc="sum")
    frame = frame.reindex(days)
    # A rolled-up day without a row for an additive metric had none of it: that is a real zero.
    rolled_mask = frame.index.isin(pd.to_datetime(sorted(rolled)))
    additive = [col for col in frame.columns
                if (info := METRICS.get(col[0] if isinstance(col, tuple) else col)) and info.additive]
    if additive and rolled_mask.any():
        frame.loc[rolled_mask, additive] = frame.loc[rolled_mask, additive].fillna(0.0)
    return frame


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
