"""Benchmark: the morning email's anomaly chart images for a store with three anomalies (a 1200×480 desktop image and
a 600×240 phone image each), the new way (`metrics.email.email_charts`: all six in one kaleido batch drawn in
`EXPORT_TABS` browser tabs at once) against the old way in the same run (each image its own `figure_png` export, one
at a time).

    DATABASE_URL=postgres://... .venv/bin/python bench/email_charts.py [--runs 7] [--tabs 3]

A store with 56 days of orders (one a day on the last) gets three open anomalies (GMV, orders, average order value)
of its last day. Each way builds the email's figures and their PNGs; the browser is started (and warmed up) before
timing, the two ways take turns, and each figure is the median of --runs. --tabs sets the browser's tabs (1: a batch
without parallel drawing). The images must be the same bytes both ways, or it exits 1. Everything happens in one
transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from metrics import charts  # noqa: E402
from metrics.email import CHART_DAYS, CHART_HEIGHT, FOR_DESKTOP, FOR_PHONE, InlineImages, email_charts  # noqa: E402
from metrics.models import Anomaly  # noqa: E402
from metrics.rollup import rollup_days  # noqa: E402
from stores.models import Order, Store  # noqa: E402

DAY = date(2026, 5, 4)


def store_with_three_anomalies() -> list[Anomaly]:
    store = Store.objects.create(name="Bench charts", slug="bench-email-charts", country="CN",
                                 timezone="Asia/Shanghai", currency="CNY")
    days = [DAY - timedelta(days=n) for n in range(55, -1, -1)]
    orders = [Order(store=store, external_id=f"C{d:%m%d}-{i}", status="paid", total=Decimal(100 if d < DAY else 20),
                    placed_at=(at := datetime(d.year, d.month, d.day, 12, tzinfo=store.zone)), paid_at=at)
              for d in days for i in range(2 if d < DAY else 1)]
    Order.objects.bulk_create(orders)
    rollup_days([(store, d) for d in days])
    return [Anomaly.objects.create(store=store, day=DAY, metric=metric, value=value, baseline=usual,
                                   band_low=usual * 0.8, band_high=usual * 1.2, change=value / usual - 1,
                                   score=-9, direction="down", explanation=f"{metric} fell")
            for metric, value, usual in (("gmv", 20, 200), ("orders", 1, 2), ("aov", 20, 100))]


def one_by_one(anomalies: list[Anomaly]) -> list[bytes | None]:
    """The old way: the same figures, each image its own export."""
    pngs = []
    for a in anomalies:
        figures = charts.email_figures(a, days=CHART_DAYS, height=CHART_HEIGHT)
        pngs += [charts.figure_png(fig, *size) for fig, size in zip(figures, (FOR_DESKTOP, FOR_PHONE), strict=True)]
    return pngs


def batched(anomalies: list[Anomaly]) -> list[bytes | None]:
    images = InlineImages()
    for a in anomalies:
        a.is_open = True
    email_charts(anomalies, images)
    return list(images.images.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tabs", type=int, default=charts.EXPORT_TABS)
    args = parser.parse_args()
    charts.EXPORT_TABS = args.tabs
    times = {"one by one (old)": [], "batched (new)": []}
    with transaction.atomic():
        anomalies = store_with_three_anomalies()
        t = time.perf_counter()
        old, new = one_by_one(anomalies), batched(anomalies)  # starts the browser, warms both ways
        started = time.perf_counter() - t
        same = old == new and all(old) and len(old) == 6
        for _ in range(args.runs):
            for name, way in (("one by one (old)", one_by_one), ("batched (new)", batched)):
                t = time.perf_counter()
                way(anomalies)
                times[name].append(time.perf_counter() - t)
        transaction.set_rollback(True)
    load = os.getloadavg()[0]
    print(f"## email charts (3 anomalies = 6 images, {args.tabs} browser tabs, median of {args.runs}, "
          f"load average {load:.1f} on {os.cpu_count()} cores)\n")
    print("| way | median | min | max |\n| --- | ---: | ---: | ---: |")
    for name, ts in times.items():
        print(f"| {name} | " + " | ".join(f"{f(ts) * 1000:,.0f} ms" for f in (statistics.median, min, max)) + " |")
    old_median, new_median = (statistics.median(ts) for ts in times.values())
    print(f"\n- batched / one by one: **{new_median / old_median:.2f}×**")
    print(f"- browser start + first email (not timed above): {started:.1f} s")
    print(f"- images the same bytes both ways: **{'yes' if same else 'NO'}** ({sum(map(len, new)):,} bytes)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
