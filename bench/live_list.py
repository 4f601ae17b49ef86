"""Benchmark: the real-time list (`metrics:live`, every store of the user with today's sales so far against
yesterday at the same local clock time) for a chain of 10, 100 and 300 stores, counted the new way (one grouped
query for all stores, `metrics.live.so_far_by_store`) against the old way in the same run (two `sales_summary`
queries a store, today's and yesterday's window).

    DATABASE_URL=postgres://... .venv/bin/python bench/live_list.py [--sizes 10,100,300] [--orders 40] [--days 30]

300 stores in five time zones (Shanghai, Los Angeles, Sydney, London, New York) each get --orders paid orders a
day over the last --days days (INSERT … SELECT); a manager of the first N stores opens the page. Each way is
timed with Django's test client as the median of --runs requests after a warm-up, the two ways taking turns;
the query count comes from one more request of each; the two functions alone are timed the same way. They must
give the same figures for every store at the same instant, or it exits 1. Everything happens in one transaction
that is rolled back, so the database is left as it was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
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

from metrics import live  # noqa: E402
from stores.models import Role, Store, StoreMembership  # noqa: E402
from stores.services import sales_summary  # noqa: E402

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney", "Europe/London", "America/New_York")

ORDERS_SQL = """
INSERT INTO stores_order (store_id, external_id, status, placed_at, paid_at, delivered_at, refunded_at, total,
                          refund_amount, traffic_source, buyer_ref, buyer_name, buyer_phone, buyer_email,
                          marketing_consent, created_at)
SELECT s, 'L' || lpad(i::text, 8, '0'), 'paid', placed, placed + interval '2 minutes', NULL, NULL,
       round((15 + random() * 400)::numeric, 2), 0, 'direct',
       CASE WHEN random() < 0.1 THEN '' ELSE 'c' || floor(random() * 2000)::int END, '', '', '', false, placed
FROM unnest(%(stores)s::bigint[]) AS s,
     LATERAL (SELECT i, %(now)s::timestamptz - (random() * %(days)s) * interval '1 day' AS placed
              FROM generate_series(1, %(n)s) AS i) AS o
"""


def old_so_far_by_store(stores, now):
    """The old way: for each store, one sales_summary query per window (today so far, yesterday same time)."""
    result = {}
    for store in stores:
        today, yesterday, _ = live.windows(store, now)
        result[store.pk] = (sales_summary(store, today.start, today.end),
                            sales_summary(store, yesterday.start, yesterday.end))
    return result


@contextmanager
def old_way():
    new = live.so_far_by_store
    live.so_far_by_store = old_so_far_by_store
    try:
        yield
    finally:
        live.so_far_by_store = new


def request(client: Client, url: str):
    began = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - began) * 1000, response


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,300", help="stores of the user, comma-separated")
    parser.add_argument("--orders", type=int, default=40, help="paid orders a store a day")
    parser.add_argument("--days", type=int, default=30, help="days of orders before now")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per way and size (median)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    settings.DEBUG = False
    now = timezone.now()
    url = reverse("metrics:live")
    rows, ok = [], True
    with transaction.atomic():
        stores = [Store.objects.create(name=f"Chain {n:03d}", slug=f"bench-chain-{n:03d}", country="US",
                                       timezone=ZONES[n % len(ZONES)], currency="USD")
                  for n in range(max(sizes))]
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(ORDERS_SQL, {"stores": [s.pk for s in stores], "now": now, "days": args.days,
                                        "n": args.orders * args.days})
            orders = cursor.rowcount
            cursor.execute("ANALYZE stores_order")
        fill_s = time.perf_counter() - began
        for size in sizes:
            user = get_user_model().objects.create_user(f"bench-chain-{size}")
            StoreMembership.objects.bulk_create(StoreMembership(user=user, store=s, role=Role.MANAGER)
                                                for s in stores[:size])
            client = Client()
            client.force_login(user)
            times = {"old": [], "new": []}
            for way in ("old", "new"):  # warm-up
                with old_way() if way == "old" else _nothing():
                    request(client, url)
            for _ in range(args.runs):
                for way in ("old", "new"):
                    with old_way() if way == "old" else _nothing():
                        times[way].append(request(client, url)[0])
            counted = {}
            for way in ("old", "new"):
                with old_way() if way == "old" else _nothing(), CaptureQueriesContext(connection) as queries:
                    request(client, url)
                counted[way] = len(queries)
            calls = {"old": [], "new": []}
            for _ in range(args.runs):
                for way, function in (("old", old_so_far_by_store), ("new", live.so_far_by_store)):
                    began = time.perf_counter()
                    function(stores[:size], now)
                    calls[way].append((time.perf_counter() - began) * 1000)
            at = timezone.now()
            new = live.so_far_by_store(stores[:size], at)
            same = old_so_far_by_store(stores[:size], at) == new and len(new) == size
            ok &= same
            old_ms, new_ms = statistics.median(times["old"]), statistics.median(times["new"])
            old_fn, new_fn = statistics.median(calls["old"]), statistics.median(calls["new"])
            rows.append(f"| {size} | {old_ms:,.1f} | {counted['old']} | {new_ms:,.1f} | {counted['new']} "
                        f"| {old_ms / new_ms:.1f}× | {old_fn:,.1f} | {new_fn:,.1f} | {old_fn / new_fn:.1f}× "
                        f"| {'yes' if same else 'NO'} |")
        plan = _plan(stores, now)
        transaction.set_rollback(True)

    lines = [
        f"## live_list ({connection.vendor}, {max(sizes)} stores in {len(ZONES)} zones, {orders:,} orders, "
        f"median of {args.runs} warm requests)",
        "",
        f"`.venv/bin/python bench/live_list.py --sizes {args.sizes} --orders {args.orders} --days {args.days} "
        f"--runs {args.runs}`",
        "",
        f"{args.orders} paid orders a store a day over {args.days} days ({orders:,} in all, written in "
        f"{fill_s:.0f} s); the real-time list page as a manager of N stores, and the sales function alone.",
        "",
        "| stores | page, old: 2 queries a store (ms) | queries | page, new: one grouped query (ms) | queries "
        "| old / new | function alone, old (ms) | new (ms) | old / new | same figures |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        "",
        f"The grouped query's plan for {max(sizes)} stores (Postgres EXPLAIN ANALYZE, top nodes):",
        "",
        *[f"    {line}" for line in plan],
    ]
    if not ok:
        lines += ["", "FAILED: the two ways gave different figures."]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "live_list.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


@contextmanager
def _nothing():
    yield


def _plan(stores, now) -> list[str]:
    """EXPLAIN ANALYZE of the grouped query, to show it walks one index range a window."""
    if connection.vendor != "postgresql":
        return ["(not Postgres)"]
    with CaptureQueriesContext(connection) as queries:
        live.so_far_by_store(stores, now)
    sql = queries.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}")  # noqa: S608 - our own query, as run
        lines = [row[0] for row in cursor.fetchall()]
    return [line for line in lines if "->" in line or not line.startswith(" ")][:12]


if __name__ == "__main__":
    sys.exit(main())
