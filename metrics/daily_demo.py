"""Demo data for daily tracking: roll up the demo history and judge the last days.

Called as `metrics.daily_demo.seed(ctx)` with the stores.demo.DemoContext, after the other demo
seeders (so traffic events, ad results and reviews are in the rollup). Yesterday's injected
paid-search collapse in the first store shows up as anomalies with their root cause.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .anomaly import detect_anomalies
from .rollup import rollup_day

ROLLED_DAYS = 70  # enough for the 60-day charts and the detector's history; keeps the demo seed quick
JUDGED_DAYS = 3


def seed(ctx) -> None:
    now = timezone.now()
    for store in ctx.stores:
        yesterday = store.today(now) - timedelta(days=1)
        for back in range(min(ctx.days, ROLLED_DAYS), 0, -1):
            rollup_day(store, yesterday - timedelta(days=back - 1))
        for back in range(JUDGED_DAYS, 0, -1):
            detect_anomalies(store, yesterday - timedelta(days=back - 1))
