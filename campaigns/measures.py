"""Daily store measures for activity reviews and plan progress, in one place.

Computed straight from the facts (paid orders, session starts, members) for now; when the
nightly daily tables exist this is the one function to switch over. Days are store-local.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from members.models import Member
from metrics.models import EventType, TrafficEvent
from stores.models import Order, Store

MEASURES = ["gmv", "orders", "buyers", "sessions", "new_members"]


def _local_days(stamps, zone: str) -> pd.Series:
    return pd.to_datetime(pd.Series(stamps, dtype="object"), utc=True).dt.tz_convert(zone).dt.date


def daily_measures(store: Store, first: date, last: date) -> pd.DataFrame:
    """One row per store-local day first..last (inclusive, every day present, zeros where nothing
    happened) with columns gmv (float), orders, buyers, sessions, new_members."""
    start, _ = store.day_bounds(first)
    _, end = store.day_bounds(last)
    days = pd.Index([first + timedelta(days=n) for n in range((last - first).days + 1)], name="day")
    frame = pd.DataFrame(0.0, index=days, columns=MEASURES)

    orders = list(Order.objects.filter(store=store).paid_between(start, end)
                  .values_list("paid_at", "total", "buyer_ref"))
    if orders:
        df = pd.DataFrame(orders, columns=["ts", "total", "buyer"])
        df["day"] = _local_days(df["ts"], store.timezone).values
        df["total"] = df["total"].astype(float)
        grouped = df.groupby("day").agg(gmv=("total", "sum"), orders=("total", "size"),
                                        buyers=("buyer", "nunique"))
        frame.loc[grouped.index, ["gmv", "orders", "buyers"]] = grouped[["gmv", "orders", "buyers"]].values

    sessions = list(TrafficEvent.objects.filter(store=store, type=EventType.SESSION_START, ts__gte=start,
                                                ts__lt=end).values_list("ts", flat=True))
    if sessions:
        counts = pd.Series(_local_days(sessions, store.timezone).values).value_counts()
        frame.loc[counts.index, "sessions"] = counts.values

    joined = list(Member.objects.filter(store=store, joined_at__gte=start, joined_at__lt=end)
                  .values_list("joined_at", flat=True))
    if joined:
        counts = pd.Series(_local_days(joined, store.timezone).values).value_counts()
        frame.loc[counts.index, "new_members"] = counts.values
    return frame


def totals(store: Store, first: date, last: date) -> dict[str, float | None]:
    """Sums over first..last plus conversion (% of sessions that became paid orders; None without sessions)."""
    frame = daily_measures(store, first, last)
    sums = {name: float(frame[name].sum()) for name in MEASURES}
    sums["conversion"] = round(100 * sums["orders"] / sums["sessions"], 2) if sums["sessions"] else None
    return sums
