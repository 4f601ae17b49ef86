"""Benchmark: the daily page (`metrics:daily`) for a user of 10, 100 and 300 stores, the new way (one row a
store, `metrics.daily_list.reported_days`: a constant number of queries) against the old way in the same run (a
full panel a store: every metric, breakdowns, peers, the 60-day chart, the day's anomalies).

    DATABASE_URL=postgres://... .venv/bin/python bench/daily_list.py [--sizes 10,100,300] [--days 60] [--runs 5]

300 stores in five time zones each get --days rolled-up days (INSERT … SELECT straight into
metrics_dailymetric): every overall metric, 5 traffic sources and 10 products. A user of the first N stores
opens the page. Each way is timed with Django's test client as the median of --runs requests after a warm-up,
the two ways taking turns; the query count comes from one more request of each. Every row's figures must equal
its store's own panel's, or it exits 1. Everything happens in one transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from metrics import urls as metrics_urls  # noqa: E402
from metrics.daily_list import LISTED, reported_days  # noqa: E402
from metrics.rollup import METRICS  # noqa: E402
from metrics.views import daily as daily_views  # noqa: E402
from opsdesk.tenancy import stores_for  # noqa: E402
from stores.models import Role, Store, StoreMembership  # noqa: E402

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney", "Europe/London", "America/New_York")
SOURCES = ("direct", "paid_search", "organic_search", "social", "email")

# One row a (store, day, metric[, dimension value]); values vary by store and day.
ROWS_SQL = """
INSERT INTO metrics_dailymetric (store_id, day, metric, dimension, dimension_value, value, computed_at)
SELECT s, d::date, m, dim, dv, round((10 + random() * 1000)::numeric, 6), now()
FROM unnest(%(stores)s::bigint[]) AS s,
     generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d,
     (SELECT unnest(%(metrics)s::text[]) AS m, '' AS dim, '' AS dv
      UNION ALL SELECT m, 'traffic_source', src FROM unnest(%(source_metrics)s::text[]) AS m,
                                                       unnest(%(sources)s::text[]) AS src
      UNION ALL SELECT m, 'product', 'p' || p FROM unnest(%(product_metrics)s::text[]) AS m,
                                                   generate_series(1, 10) AS p) AS cells
"""


def old_daily(request):
    """The daily page before the list: a full panel for every store of the user."""
    return daily_views._panels_page(request, list(stores_for(request.user)), timezone.now(),
                                    daily_views._asked_day(request))


@contextmanager
def way(name: str):
    [pattern] = [p for p in metrics_urls.urlpatterns if getattr(p, "name", None) == "daily"]
    new = pattern.callback
    if name == "old":
        pattern.callback = old_daily
    try:
        yield
    finally:
        pattern.callback = new


def request(client: Client, url: str):
    began = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - began) * 1000, response


def same_as_panels(stores) -> bool:
    """Every row's day and figures equal its store's own full panel's, at the same instant."""
    now = timezone.now()
    for row in reported_days(stores, now):
        panel = daily_views._panel(row.store, now, None, 0)
        cells = [{k: v for k, v in r.items() if k not in ("peers", "vs")}
                 for r in panel["rows"] if r["metric"] in LISTED]
        if (row.day, row.pending, row.cells) != (panel["day"], panel["pending"], cells):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,300", help="stores of the user, comma-separated")
    parser.add_argument("--days", type=int, default=60, help="rolled-up days a store (the chart reads 60)")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per way and size (median)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    settings.DEBUG = False
    url = reverse("metrics:daily")
    rows, ok = [], True
    with transaction.atomic():
        stores = [Store.objects.create(name=f"Chain {n:03d}", slug=f"bench-daily-{n:03d}", country="US",
                                       timezone=ZONES[n % len(ZONES)], currency="USD")
                  for n in range(max(sizes))]
        today = timezone.localdate()
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(ROWS_SQL, {
                "stores": [s.pk for s in stores], "first": today - timedelta(days=args.days),
                "last": today, "metrics": list(METRICS), "sources": list(SOURCES),
                "source_metrics": ["visitors", "sessions", "orders", "gmv", "conversion"],
                "product_metrics": ["sub_payments", "units", "pv"]})
            cells = cursor.rowcount
            cursor.execute("ANALYZE metrics_dailymetric")
        fill_s = time.perf_counter() - began
        for size in sizes:
            user = get_user_model().objects.create_user(f"bench-daily-{size}")
            StoreMembership.objects.bulk_create(StoreMembership(user=user, store=s, role=Role.MANAGER)
                                                for s in stores[:size])
            client = Client()
            client.force_login(user)
            times = {"old": [], "new": []}
            for name in ("old", "new"):  # warm-up
                with way(name):
                    request(client, url)
            for _ in range(args.runs):
                for name in ("old", "new"):
                    with way(name):
                        times[name].append(request(client, url)[0])
            counted, sizes_kb = {}, {}
            for name in ("old", "new"):
                with way(name), CaptureQueriesContext(connection) as queries:
                    _, response = request(client, url)
                counted[name], sizes_kb[name] = len(queries), len(response.content) / 1024
            same = same_as_panels(stores[:size])
            ok &= same
            old_ms, new_ms = statistics.median(times["old"]), statistics.median(times["new"])
            rows.append(f"| {size} | {old_ms:,.0f} | {counted['old']:,} | {sizes_kb['old']:,.0f} | {new_ms:,.1f} "
                        f"| {counted['new']} | {sizes_kb['new']:,.0f} | {old_ms / new_ms:,.0f}× "
                        f"| {'yes' if same else 'NO'} |")
        transaction.set_rollback(True)

    lines = [
        f"## daily_list ({connection.vendor}, {max(sizes)} stores in {len(ZONES)} zones, {cells:,} daily cells, "
        f"median of {args.runs} warm requests)",
        "",
        f"`.venv/bin/python bench/daily_list.py --sizes {args.sizes} --days {args.days} --runs {args.runs}`",
        "",
        f"{args.days} rolled-up days a store ({cells:,} cells in all, written in {fill_s:.0f} s); the daily page as a "
        "manager of N stores.",
        "",
        "| stores | page, old: a full panel a store (ms) | queries | KB | page, new: one row a store (ms) | queries "
        "| KB | old / new | rows = panels |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
    ]
    if not ok:
        lines += ["", "FAILED: a row's figures differ from its store's panel."]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "daily_list.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
