"""Live view server time on a store with a long event history (Postgres).

Generates one store with --events historical traffic events spread over --days days up to now
(sessions with product views and carts, ~3 % of sessions paying), loads them with COPY, then times
over --requests runs each:

  live service    metrics.live.snapshot(store)              (what the page and the JSON are built from)
  live endpoint   GET /metrics/<slug>/live.json             (Django test client: middleware, session, JSON)
and, in the same run, the baselines it is compared with:
  naive ORM       metrics.live.naive_snapshot: one query per window, source and funnel step
  no type index   the live service with the event_store_type_ts index dropped (in a rolled-back transaction)

The store's zone is chosen so that it is about 20:00 there now: "today so far" is most of a day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench .venv/bin/python bench/live_view.py
    DATABASE_URL=... .venv/bin/python bench/live_view.py --events 10000000 --days 365   # the >= 10 M run

Prints the figures and writes bench/results/live_view.md.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from metrics import live  # noqa: E402
from stores.models import Product, Store, StoreMembership  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SOURCES = np.array(["organic_search", "paid_search", "recommendation", "social", "direct", "campaign", "other"])
SOURCE_P = np.array([0.30, 0.28, 0.17, 0.10, 0.10, 0.03, 0.02])
SLUG = "bench-live"


def zone_at_20h(now: datetime) -> str:
    """An Etc/GMT zone where the local clock reads about 20:00 now (Etc signs are inverted)."""
    offset = (20 - now.hour + 12) % 24 - 12
    return "Etc/GMT" + ("-" if offset > 0 else "+") + str(abs(offset)) if offset else "Etc/GMT"


def make_store(now: datetime, products: int) -> Store:
    Store.objects.filter(slug=SLUG).delete()
    store = Store.objects.create(name="Bench live", slug=SLUG, country="CN", timezone=zone_at_20h(now),
                                 currency="CNY")
    Product.objects.bulk_create([Product(store=store, sku=f"B{i}", title=f"Bench product {i}", price=10 + i)
                                 for i in range(products)])
    return store


def copy_frame(table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def generate(store: Store, now: datetime, n_events: int, days: int, seed: int = 7, chunk: int = 1_000_000) -> dict:
    """Sessions (1 start + ~1.4 views + ~0.25 carts each) over `days` up to now, COPYed in chunks; then orders."""
    rng = np.random.default_rng(seed)
    product_ids = np.array(store.products.order_by("pk").values_list("pk", flat=True))
    popularity = rng.pareto(1.5, len(product_ids)) + 1
    popularity /= popularity.sum()
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    per_session = 1 + 1.4 + 0.25
    sessions_total = int(n_events / per_session)
    written = sessions = 0
    order_rows = []
    while written < n_events:
        n_sessions = min(chunk, sessions_total - sessions) if sessions < sessions_total else 1000
        offsets = np.sort(rng.random(n_sessions)) * span
        ts = pd.to_datetime(start) + pd.to_timedelta(offsets, unit="s")
        sids = np.char.add("s", np.arange(sessions, sessions + n_sessions).astype(str))
        source = rng.choice(SOURCES, n_sessions, p=SOURCE_P)
        visitors = np.char.add("v", rng.integers(0, max(1, sessions_total // 3), n_sessions).astype(str))
        n_views = rng.poisson(1.4, n_sessions)
        n_carts = rng.binomial(n_views, 0.18)
        frames = [pd.DataFrame({"type": "session_start", "ts": ts, "session_id": sids, "visitor_id": visitors,
                                "source": source, "product_id": pd.array([None] * n_sessions, dtype="Int64")})]
        for kind, counts, lag in (("product_view", n_views, 40), ("add_to_cart", n_carts, 90)):
            idx = np.repeat(np.arange(n_sessions), counts)
            frames.append(pd.DataFrame({
                "type": kind, "ts": ts[idx] + pd.to_timedelta(rng.integers(5, lag * 10, len(idx)), unit="s"),
                "session_id": sids[idx], "visitor_id": visitors[idx], "source": source[idx],
                "product_id": pd.array(rng.choice(product_ids, len(idx), p=popularity), dtype="Int64")}))
        frame = pd.concat(frames, ignore_index=True)
        frame = frame[frame["ts"] < pd.Timestamp(now)]
        frame = frame.iloc[: n_events - written]
        frame.insert(0, "event_id", np.char.add("e", np.arange(written, written + len(frame)).astype(str)))
        frame.insert(0, "store_id", store.pk)
        frame["device"] = "mobile"
        frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        frame["received_at"] = frame["ts"]
        copy_frame("metrics_trafficevent", frame)
        buyers = rng.random(n_sessions) < 0.03
        order_rows.append(pd.DataFrame({"ts": ts[buyers], "source": source[buyers], "buyer": visitors[buyers]}))
        written += len(frame)
        sessions += n_sessions
    orders = pd.concat(order_rows, ignore_index=True)
    orders = orders[orders["ts"] + pd.Timedelta(minutes=5) < pd.Timestamp(now)]
    paid = (orders["ts"] + pd.Timedelta(minutes=5)).dt.strftime("%Y-%m-%d %H:%M:%S+00")
    totals = np.round(rng.gamma(2.0, 60.0, len(orders)), 2)
    copy_frame("stores_order", pd.DataFrame({
        "store_id": store.pk, "external_id": np.char.add("o", np.arange(len(orders)).astype(str)), "status": "paid",
        "placed_at": orders["ts"].dt.strftime("%Y-%m-%d %H:%M:%S+00"), "paid_at": paid, "total": totals,
        "refund_amount": 0, "traffic_source": orders["source"], "buyer_ref": orders["buyer"], "buyer_name": "",
        "buyer_phone": "", "buyer_email": "", "marketing_consent": False, "created_at": paid}))
    ids = ",".join(str(p) for p in product_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO stores_orderline (order_id, line_no, product_id, sku, title, quantity, unit_price, amount,"
            " freight) SELECT o.id, 1, (ARRAY[" + ids + "])[1 + o.id %% %s], '', '', 1, o.total, o.total, 0"
            " FROM stores_order o WHERE o.store_id = %s", [len(product_ids), store.pk])
        cursor.execute("ANALYZE metrics_trafficevent")
        cursor.execute("ANALYZE stores_order")
        cursor.execute("ANALYZE stores_orderline")
    return {"events": written, "orders": len(orders)}


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

    results = {
        "live service": timed(lambda: live.snapshot(store), args.requests),
        "live endpoint (JSON)": timed(lambda: client.get(url), args.requests),
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
