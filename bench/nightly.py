"""Nightly rollup + comparison time for N stores against hand-written SQL GROUP BYs over the same facts.

For each size N it creates N stores with one day of facts (orders, lines, payments; 60 orders per
store) and 112 days of rolled-up history, then times, in the same run:
  * ours: for every store rollup_day (SQL aggregates through the ORM, replace in a transaction)
    + compare_days + detect_anomalies (pandas, seasonal baseline, root cause when flagged);
  * baseline: three hand-written SQL GROUP BY queries over all stores at once (orders by store and
    source, lines by store and product, payments by store and type) — the floor of the aggregation.
Runs in a throwaway test database (created and dropped). Use Postgres: DATABASE_URL=postgres://...

Run:  .venv/bin/python bench/nightly.py [--sizes 10,100] [--orders 60]     (add 1000 for the big run)
Writes bench/results/nightly.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

DAY = date(2026, 5, 6)
SOURCES = ["organic_search", "paid_search", "recommendation", "social", "direct"]
TYPES = ["alipay", "wechat", "credit_card", "voucher"]


def make_stores(n: int, orders_per_store: int, tag: str):
    from metrics.models import DailyMetric
    from stores.models import Order, OrderLine, Payment, Product, Store

    rng = random.Random(n)
    stores = Store.objects.bulk_create([
        Store(name=f"Bench {tag}{i}", slug=f"bench-{tag}{i}", country="CN", timezone="Asia/Shanghai", currency="CNY")
        for i in range(n)])
    products = Product.objects.bulk_create([
        Product(store=s, sku=f"P{j}", title=f"Product {j}", price=Decimal(10 + j)) for s in stores for j in range(12)])
    by_store = {}
    for p in products:
        by_store.setdefault(p.store_id, []).append(p)
    start = datetime(2026, 5, 6, 0, 0).astimezone()  # any instant inside the day is enough for paid_at below
    orders, lines, pays = [], [], []
    for s in stores:
        lo, hi = s.day_bounds(DAY)
        for k in range(orders_per_store):
            ts = lo + (hi - lo) * rng.random()
            orders.append(Order(store=s, external_id=f"{k}", placed_at=ts, paid_at=ts, total=Decimal(0),
                                traffic_source=rng.choice(SOURCES), buyer_ref=f"b{rng.randrange(500)}"))
    Order.objects.bulk_create(orders, batch_size=5000)
    for o in orders:
        total = Decimal(0)
        for line_no in range(1, rng.choice([1, 1, 2, 3]) + 1):
            p = rng.choice(by_store[o.store_id])
            lines.append(OrderLine(order=o, line_no=line_no, product=p, quantity=1, unit_price=p.price,
                                   amount=p.price))
            total += p.price
        o.total = total
        pays.append(Payment(order=o, type=rng.choice(TYPES), amount=total))
    Order.objects.bulk_update(orders, ["total"], batch_size=5000)
    OrderLine.objects.bulk_create(lines, batch_size=5000)
    Payment.objects.bulk_create(pays, batch_size=5000)
    history = []
    for s in stores:
        for back in range(1, 113):
            day = DAY - timedelta(days=back)
            # History shaped like the day's facts (about 27 per order), so a typical night flags little.
            n_orders = round(orders_per_store * rng.uniform(0.9, 1.1))
            gmv = Decimal(f"{n_orders * 27 * rng.uniform(0.95, 1.05):.2f}")
            for metric, value in (("gmv", gmv), ("orders", n_orders), ("aov", gmv / n_orders),
                                  ("sub_payments", gmv), ("buyers", n_orders)):
                history.append(DailyMetric(store=s, day=day, metric=metric, value=value))
            for src in SOURCES:
                for metric, value in (("gmv", gmv), ("orders", Decimal(n_orders))):
                    history.append(DailyMetric(store=s, day=day, metric=metric, dimension="traffic_source",
                                               dimension_value=src, value=value / len(SOURCES)))
    DailyMetric.objects.bulk_create(history, batch_size=5000)
    del start
    return stores


BASELINE_SQL = [
    """SELECT o.store_id, o.traffic_source, COUNT(*), COUNT(DISTINCT o.buyer_ref), SUM(o.total)
       FROM stores_order o WHERE o.store_id = ANY(%(ids)s) AND o.paid_at >= %(lo)s AND o.paid_at < %(hi)s
       GROUP BY ROLLUP (o.store_id, o.traffic_source)""",
    """SELECT o.store_id, l.product_id, SUM(l.amount), SUM(l.quantity), COUNT(DISTINCT l.order_id)
       FROM stores_orderline l JOIN stores_order o ON o.id = l.order_id
       WHERE o.store_id = ANY(%(ids)s) AND o.paid_at >= %(lo)s AND o.paid_at < %(hi)s
       GROUP BY ROLLUP (o.store_id, l.product_id)""",
    """SELECT o.store_id, p.type, SUM(p.amount), COUNT(DISTINCT p.order_id)
       FROM stores_payment p JOIN stores_order o ON o.id = p.order_id
       WHERE o.store_id = ANY(%(ids)s) AND o.paid_at >= %(lo)s AND o.paid_at < %(hi)s
       GROUP BY ROLLUP (o.store_id, p.type)""",
]


def run(n: int, orders: int) -> dict:
    from metrics.anomaly import detect_anomalies, holiday_calendar
    from metrics.compare import compare_days
    from metrics.rollup import rollup_day

    holiday_calendar("CN", {DAY.year - 1, DAY.year})  # warm the per-process holiday cache, as a worker has
    t0 = time.perf_counter()
    stores = make_stores(n, orders, tag=f"n{n}-")
    t_setup = time.perf_counter() - t0
    lo, hi = stores[0].day_bounds(DAY)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        for sql in BASELINE_SQL:
            cur.execute(sql, {"ids": [s.pk for s in stores], "lo": lo, "hi": hi})
            cur.fetchall()
    t_sql = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in stores:
        rollup_day(s, DAY)
    t_rollup = time.perf_counter() - t0
    t0 = time.perf_counter()
    flagged = 0
    for s in stores:
        compare_days(s, DAY)
        flagged += len(detect_anomalies(s, DAY))
    t_compare = time.perf_counter() - t0
    return {"n": n, "setup": t_setup, "sql": t_sql, "rollup": t_rollup, "compare": t_compare, "flagged": flagged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100", help="comma-separated store counts (add 1000 for the big run)")
    parser.add_argument("--orders", type=int, default=60, help="orders per store on the day (default 60)")
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        setup_test_environment()
        connection.settings_dict["TEST"]["NAME"] = f"bench_{connection.settings_dict['NAME']}"
        old = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            run(1, args.orders)  # warm imports and caches
            cProfile.runctx("run(3, args.orders)", globals(), locals(), "/tmp/nightly.prof")
        finally:
            connection.creation.destroy_test_db(old, verbosity=0)
        pstats.Stats("/tmp/nightly.prof").sort_stats("cumulative").print_stats(30)
        return
    if connection.vendor != "postgresql":
        sys.exit("bench/nightly.py needs Postgres: set DATABASE_URL=postgres://...")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = [run(int(n), args.orders) for n in args.sizes.split(",")]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    lines = ["## nightly", "", f"Command: `DATABASE_URL=postgres://… .venv/bin/python bench/nightly.py --sizes "
             f"{args.sizes} --orders {args.orders}` (Postgres 2-core shared box).", "",
             "| stores | rollup (s) | comparison + detection (s) | ours total (s) | per store (ms) | "
             "hand-written SQL GROUP BYs (s) | ours / SQL | anomalies flagged |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        total = r["rollup"] + r["compare"]
        lines.append(f"| {r['n']} | {r['rollup']:.2f} | {r['compare']:.2f} | {total:.2f} | "
                     f"{total / r['n'] * 1000:.0f} | {r['sql']:.3f} | {total / max(r['sql'], 1e-9):.0f}× | "
                     f"{r['flagged']} |")
    lines += ["", "Rollup alone vs SQL: " + ", ".join(
        f"{r['n']} stores {r['rollup'] / max(r['sql'], 1e-9):.0f}×" for r in results) + ".",
              "Per-store time is flat across sizes when the work is linear."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "nightly.md").write_text(text)


if __name__ == "__main__":
    main()
