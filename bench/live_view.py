"""Live view server time on a store with a long event history (Postgres).

Generates one store with --events historical traffic events spread over --days days up to now
(sessions with product views and carts, ~3 % of sessions paying), loads them with COPY, then times
over --requests runs each:

  live service    metrics.live.snapshot(store)              (what the page and the JSON are built from)
  live endpoint   GET /metrics/<slug>/live.json             (Django test client: middleware, session, JSON)
  today's hours not kept  the live service with its per-process copy of today's finished hours
                  dropped before every run (all of today read from the events each time)
  nothing kept    the live service with nothing kept: yesterday, last week and all of today read
                  every run (the first request of a process, or after a late event)
and, in the same run, the baselines it is compared with:
  naive ORM       metrics.live.naive_snapshot: one query per window, source and funnel step
  no type index   the live service with the event_store_type_ts index dropped (in a rolled-back transaction)

The store's zone is chosen so that it is about 20:00 there now: "today so far" is most of a day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench .venv/bin/python bench/live_view.py
    DATABASE_URL=... .venv/bin/python bench/live_view.py --events 10000000 --days 365   # the >= 10 M run
    DATABASE_URL=... .venv/bin/python bench/live_view.py --reuse    # again on the store left by the last run

Every timed run reads today's last stretch (from the latest UTC hour at least 30 minutes ago) from
the events; today's earlier hours (metrics.live_today) and yesterday's and last week's session times
(metrics.live_history) are kept per process between runs as the live service does, and the "not
kept" rows show the price of reading them.

Prints the figures and writes bench/results/live_view.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from metrics import live, live_history, live_today  # noqa: E402
from stores.models import Product, Store, StoreMembership  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SLUG = "bench-live"


def zone_at_20h(now: datetime) -> str:
    """An Etc/GMT zone where the local clock reads about 20:00 now (Etc signs are inverted)."""
    offset = (20 - now.hour + 12) % 24 - 12
    return "Etc/GMT" + ("-" if offset > 0 else "+") + str(abs(offset)) if offset else "Etc/GMT"


def make_store(now: datetime, products: int) -> Store:
    old = Store.objects.filter(slug=SLUG).first()
    if old:
        # Millions of events: one plain DELETE without triggers (the store goes with them, so no
        # change notes are needed), then the ORM deletes the rest.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM metrics_trafficevent WHERE store_id = %s", [old.pk])
        old.delete()
    store = Store.objects.create(name="Bench live", slug=SLUG, country="CN", timezone=zone_at_20h(now),
                                 currency="CNY")
    Product.objects.bulk_create([Product(store=store, sku=f"B{i}", title=f"Bench product {i}", price=10 + i)
                                 for i in range(products)])
    return store


# One statement generates the sessions (in time order), their product views and carts, and the paid
# orders (3 % of sessions, 5 minutes after the session began), all in Postgres: 10 M events take a
# few minutes, not the hour a Python generator would. Triggers are off for the load (session_
# replication_role = replica): the rows are consistent by construction, and the change notes are
# for edits of days someone may already have cached, which a new store cannot have.
GENERATE_SQL = """
WITH s AS MATERIALIZED (
    SELECT i, %(start)s::timestamptz + (i + random()) * %(step)s * interval '1 second' AS ts,
           random() AS r, floor(random() * %(visitors)s)::bigint AS v, floor(random() * 4)::int AS views,
           random() < 0.35 AS carts, random() < 0.03 AS buys, lpad(i::text, 10, '0') AS n
    FROM generate_series(0, %(sessions)s - 1) AS i
), sessions AS (
    SELECT *, CASE WHEN r < 0.30 THEN 'organic_search' WHEN r < 0.58 THEN 'paid_search'
                   WHEN r < 0.75 THEN 'recommendation' WHEN r < 0.85 THEN 'social' WHEN r < 0.95 THEN 'direct'
                   WHEN r < 0.98 THEN 'campaign' ELSE 'other' END AS source
    FROM s
), events AS (
    INSERT INTO metrics_trafficevent (store_id, event_id, type, ts, session_id, visitor_id, source, device,
                                      product_id, received_at)
    SELECT %(store)s, e.event_id, e.type, e.ts, 's' || e.n, 'v' || e.v, e.source, 'mobile', e.product, e.ts
    FROM (
        SELECT 's' || n AS event_id, 'session_start' AS type, ts, n, v, source, NULL::bigint AS product
        FROM sessions
        UNION ALL
        SELECT 'v' || n || '-' || k, 'product_view', ts + (5 + k * 40 * random()) * interval '1 second', n, v, source,
               (%(products)s::bigint[])[1 + floor(%(n_products)s * random() ^ 3)::int]
        FROM sessions CROSS JOIN LATERAL generate_series(1, views) AS k
        UNION ALL
        SELECT 'c' || n, 'add_to_cart', ts + (60 + 200 * random()) * interval '1 second', n, v, source,
               (%(products)s::bigint[])[1 + floor(%(n_products)s * random() ^ 3)::int]
        FROM sessions WHERE carts AND views > 0
    ) AS e
    WHERE e.ts < %(now)s
    ORDER BY e.ts  -- the order a storefront sends them in: a day's events lie together on disk
    RETURNING 1
)
INSERT INTO stores_order (store_id, external_id, status, placed_at, paid_at, total, refund_amount, traffic_source,
                          buyer_ref, buyer_name, buyer_phone, buyer_email, marketing_consent, created_at)
SELECT %(store)s, 'o' || n, 'paid', ts, ts + interval '5 minutes', round((20 + 200 * random())::numeric, 2), 0,
       source, 'v' || v, '', '', '', false, ts + interval '5 minutes'
FROM sessions WHERE buys AND ts + interval '5 minutes' < %(now)s
"""


def generate(store: Store, now: datetime, n_events: int, days: int, seed: int = 7) -> dict:
    """About `n_events` events over `days` up to now (1 session start + 1.5 views + 0.26 carts a session)."""
    product_ids = list(store.products.order_by("pk").values_list("pk", flat=True))
    sessions = round(n_events / 2.76)
    span = days * 86400
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT setseed(%s)", [seed / 1000])
        cursor.execute(GENERATE_SQL, {
            "start": now - timedelta(days=days), "step": span / sessions, "visitors": max(1, sessions // 3),
            "sessions": sessions, "store": store.pk, "products": product_ids, "n_products": len(product_ids),
            "now": now})
        ids = ",".join(str(p) for p in product_ids)
        cursor.execute(
            "INSERT INTO stores_orderline (order_id, line_no, product_id, sku, title, quantity, unit_price, amount,"
            " freight) SELECT o.id, 1, (ARRAY[" + ids + "])[1 + o.id %% %s], '', '', 1, o.total, o.total, 0"
            " FROM stores_order o WHERE o.store_id = %s", [len(product_ids), store.pk])
    with connection.cursor() as cursor:
        for table in ("metrics_trafficevent", "stores_order", "stores_orderline"):
            cursor.execute(f"ANALYZE {table}")
    return {"events": store.events.count(), "orders": store.orders.count()}


def timed(fn, runs: int) -> dict:
    """Wall-clock percentiles, plus this process's CPU per run (the Django side, without Postgres)."""
    fn()  # warm-up: connections, plans, imports
    samples, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"p50": float(np.percentile(samples, 50)), "p95": float(np.percentile(samples, 95)),
            "max": max(samples), "cpu": float(np.median(cpu)), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="historical events to generate (default 200k)")
    parser.add_argument("--days", type=int, default=365, help="days of history they span (default 365)")
    parser.add_argument("--requests", type=int, default=50, help="timed runs per variant (default 50)")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the bench store from the last run")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a Postgres database: this bench measures COPY-loaded data on Postgres.")
    call_command("migrate", verbosity=0)
    now = timezone.now()
    t0 = time.perf_counter()
    store = Store.objects.filter(slug=SLUG).first() if args.reuse else None
    reused = store is not None
    if store is None:
        store = make_store(now, args.products)
        counts = generate(store, now, args.events, args.days)
    else:
        # Keep "about 20:00 local" (the history simply ends when it was generated).
        store.timezone = zone_at_20h(now)
        store.save(update_fields=["timezone"])
        counts = {"events": store.events.count(), "orders": store.orders.count()}
    load_s = time.perf_counter() - t0
    today = live.windows(store, timezone.now())[0]
    today_events = store.events.filter(ts__gte=today.start).count()
    user = UserFactory(username="bench-live-operator")
    StoreMembership.objects.get_or_create(user=user, store=store)
    client = Client()
    client.force_login(user)
    url = f"/metrics/{store.slug}/live.json"
    assert client.get(url).status_code == 200

    def today_not_kept():
        live_today.clear()
        live.snapshot(store)

    def cold():
        live_history.clear()
        live_today.clear()
        live.snapshot(store)

    results = {
        "live service": timed(lambda: live.snapshot(store), args.requests),
        "live endpoint (JSON)": timed(lambda: client.get(url), args.requests),
        "live service, today's finished hours not kept (all of today read every run)":
            timed(today_not_kept, max(10, args.requests // 3)),
        "live service, nothing kept (today and the past days read every run)": timed(cold, max(10, args.requests // 3)),
        "baseline: naive ORM": timed(lambda: live.naive_snapshot(store), max(10, args.requests // 5)),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX event_store_type_ts")
        results["baseline: without the (store, type, ts) index"] = timed(lambda: live.snapshot(store),
                                                                          max(10, args.requests // 5))
        transaction.set_rollback(True)

    load_avg = os.getloadavg()[0]
    header = (f"store with {counts['events']:,} events over {args.days} days ({today_events:,} today so far, "
              f"zone {store.timezone}), {counts['orders']:,} orders; load {load_s:.1f} s; "
              f"machine load average {load_avg:.1f} on {os.cpu_count()} CPUs")
    lines = ["## live view", "", header, "",
             "| variant | p50 ms | p95 ms | max ms | Django CPU ms (median) | runs |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['cpu']:.1f} | {r['runs']} |")
    size = "--reuse" if reused else f"--events {args.events} --days {args.days}"
    lines += ["", f"command: `DATABASE_URL=postgres://… .venv/bin/python bench/live_view.py {size} "
              f"--requests {args.requests}`", ""]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "live_view.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
