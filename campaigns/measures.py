"""Daily store measures for activity reviews and plan progress, in one place.

Computed from the facts (paid orders, session starts, members), not the nightly daily tables: a
running activity's review and plan progress include today, which no rollup covers yet, and new
members are not rolled up. Sessions are the exception: a year plan would count millions of events,
so days whose rollup holds take its session count (the same count of session starts), and only
the others are counted from the events. Days are store-local.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from members.models import Member
from metrics.models import DailyMetric, EventType, TrafficEvent
from metrics.rollup import day_runs, trusted_days
from opsdesk.lazy import lazy_module
from stores.models import Order, Store

pd = lazy_module("pandas")

MEASURES = ["gmv", "orders", "buyers", "sessions", "new_members"]


def daily_measures(store: Store, first: date, last: date) -> pd.DataFrame:
    """One row per store-local day first..last (inclusive, every day present, zeros where nothing
    happened) with columns gmv (float), orders, buyers, sessions, new_members. Summed in SQL by the
    store-local day (TruncDate in the store's zone), so a DST day counts its 23 or 25 hours."""
    start, _ = store.day_bounds(first)
    _, end = store.day_bounds(last)
    zone = store.zone
    days = pd.Index([first + timedelta(days=n) for n in range((last - first).days + 1)], name="day")
    frame = pd.DataFrame(0.0, index=days, columns=MEASURES)

    orders = (Order.objects.filter(store=store).paid_between(start, end)
              .annotate(day=TruncDate("paid_at", tzinfo=zone)).values("day")
              .annotate(gmv=Sum("total"), orders=Count("id"), buyers=Count("buyer_ref", distinct=True))
              .order_by())
    for row in orders:
        frame.loc[row["day"], ["gmv", "orders", "buyers"]] = [float(row["gmv"]), row["orders"], row["buyers"]]

    rolled = trusted_days(store, first, last)
    for day, n in DailyMetric.objects.filter(store=store, metric="sessions", dimension="", day__in=rolled) \
            .values_list("day", "value"):
        frame.loc[day, "sessions"] = int(n)
    for run_first, run_last in day_runs(first, last, rolled):
        run_start, run_end = store.day_bounds(run_first)[0], store.day_bounds(run_last)[1]
        sessions = (TrafficEvent.objects.filter(store=store, type=EventType.SESSION_START, ts__gte=run_start,
                                                ts__lt=run_end)
                    .annotate(day=TruncDate("ts", tzinfo=zone)).values("day").annotate(n=Count("id")).order_by())
        for row in sessions:
            frame.loc[row["day"], "sessions"] = row["n"]

    joined = (Member.objects.filter(store=store, joined_at__gte=start, joined_at__lt=end)
              .annotate(day=TruncDate("joined_at", tzinfo=zone)).values("day").annotate(n=Count("id")).order_by())
    for row in joined:
        frame.loc[row["day"], "new_members"] = row["n"]
    return frame


def totals(store: Store, first: date, last: date) -> dict[str, float | None]:
    """Sums over first..last plus conversion (% of sessions that became paid orders; None without sessions)."""
    frame = daily_measures(store, first, last)
    sums = {name: float(frame[name].sum()) for name in MEASURES}
    sums["conversion"] = round(100 * sums["orders"] / sums["sessions"], 2) if sums["sessions"] else None
    return sums
