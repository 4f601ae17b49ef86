"""Benchmark: importing a through-train report (N plans × D days) and re-importing it (idempotent path).

Compares with a naive baseline in the same run: one update_or_create per row.
Run:  DATABASE_URL=... .venv/bin/python bench/ads_import.py --plans 20 --days 90
Writes bench/results/ads_import.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from campaigns.ads_importers import import_ad_report  # noqa: E402
from campaigns.models import AdDailyPerformance, AdPlan  # noqa: E402
from stores.models import Store  # noqa: E402


def report(plans: int, days: int) -> bytes:
    lines = ["日期,计划名称,展现量,点击量,花费,成交笔数,成交金额"]
    start = date(2026, 1, 1)
    for p in range(plans):
        for d in range(days):
            lines.append(f"{start + timedelta(days=d)},Plan {p},{1000 + d},{50 + p},{12.5 + d},{p % 5},{99.9 + d}")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    raw = report(args.plans, args.days)
    rows = args.plans * args.days
    with transaction.atomic():
        store = Store.objects.create(name="Bench", slug="bench-ads-import", country="CN", timezone="Asia/Shanghai",
                                     currency="CNY")
        AdPlan.objects.bulk_create([AdPlan(store=store, name=f"Plan {p}", channel="search")
                                    for p in range(args.plans)])
        t = time.perf_counter()
        import_ad_report(store, raw)
        first = time.perf_counter() - t
        t = time.perf_counter()
        again = import_ad_report(store, raw)
        second = time.perf_counter() - t
        assert again.updated == rows and AdDailyPerformance.objects.filter(plan__store=store).count() == rows
        plans = {p.name: p for p in AdPlan.objects.filter(store=store)}
        t = time.perf_counter()
        for line in raw.decode().splitlines()[1:]:
            d, name, impressions, clicks, spend, orders, sales = line.split(",")
            AdDailyPerformance.objects.update_or_create(
                plan=plans[name], date=d, defaults=dict(impressions=impressions, clicks=clicks, spend=spend,
                                                        orders=orders, sales=sales))
        naive = time.perf_counter() - t
        transaction.set_rollback(True)
    text = (f"## ads_import ({connection.vendor}, {rows} rows: {args.plans} plans × {args.days} days)\n\n"
            f"| step | seconds | rows/s |\n| --- | --- | --- |\n"
            f"| first import | {first:.2f} | {rows / first:,.0f} |\n"
            f"| re-import (replace) | {second:.2f} | {rows / second:,.0f} |\n"
            f"| baseline: update_or_create per row | {naive:.2f} | {rows / naive:,.0f} |\n\n"
            f"Command: `.venv/bin/python bench/ads_import.py --plans {args.plans} --days {args.days}`\n")
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "ads_import.md").write_text(text)


if __name__ == "__main__":
    main()
