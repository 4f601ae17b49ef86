"""Benchmark: the ads page for a manager of 10, 100 and 300 stores, the new way (every shown store's totals,
pacing, alerts and month read at once: a fixed number of queries) against the old way in the same run (the 30
days' totals, the pacing with its alerts and the budget line's month asked store by store, as the page did before).

    DATABASE_URL=postgres://... .venv/bin/python bench/many_stores.py [--sizes 10,100,300] [--orders 5] [--runs 5]

The stores are bench/desk.py's (`fill`): five time zones, two active ad plans a store with a month of daily
reports and today's hourly snapshots, a store ad budget, --orders paid orders a day over the last 14 days (the
pacing's hourly curve), and an item of every other duty. A manager of the first N stores opens the ads page. Each
way is timed with Django's test client as the median of --runs requests after a warm-up, the two ways taking
turns; the query count comes from one more request of each, both at one frozen instant, when the page must be
the same both ways (its CSRF tokens aside), or it exits 1. Everything happens in one transaction that is rolled back.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import time_machine
from desk import ZONES, arguments, chain, manager_client, request, timed  # bench/desk.py: sets Django up
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import ads_pacing
from campaigns.models import AdPlan, AdPlanStatus
from stores.models import Store

NEW = {name: getattr(ads_pacing, name) for name in ("plan_totals", "listed_pacing", "stores_month_pacing")}


def old_plan_totals(plans, since=None, until=None, last_days=None, now=None):
    """The totals before: with `last_days`, one sum a store over its own days."""
    if not last_days:
        return NEW["plan_totals"](plans, since, until)
    by_plan = {}
    for store in Store.objects.filter(pk__in=plans.values("store")):
        today = store.today(now)
        for row in NEW["plan_totals"](plans.filter(store=store), today - timedelta(days=last_days - 1), today):
            by_plan[row.plan.pk] = row
    return [by_plan[pk] for pk in plans.values_list("pk", flat=True) if pk in by_plan]


def old_listed_pacing(stores, listed, now=None):
    """The pacing before: each store's watched plans, curve, snapshots and reports read store by store."""
    now = now or timezone.now()
    pacings, alerts = {}, []
    for store in stores:
        today = store.today(now)
        watched = [plan for plan in AdPlan.objects.filter(store=store, status=AdPlanStatus.ACTIVE)
                   .select_related("store") if plan.runs_on(today)]
        plans = {plan.pk: plan for plan in [*watched, *(p for p in listed if p.store_id == store.pk)]}
        store_pacings = ads_pacing.plans_pacing(store, list(plans.values()), now)
        alerts += ads_pacing._alerts(watched, store_pacings, store.currency)
        pacings.update(store_pacings)
    return pacings, alerts


def old_stores_month_pacing(stores, now=None):
    """The budget lines before: `store_month_pacing` a store."""
    return {store.pk: NEW["stores_month_pacing"]([store], now)[store.pk] for store in stores}


OLD = {"plan_totals": old_plan_totals, "listed_pacing": old_listed_pacing,
       "stores_month_pacing": old_stores_month_pacing}


@contextmanager
def way(name: str):
    for attr, function in (OLD if name == "old" else NEW).items():
        setattr(ads_pacing, attr, function)
    try:
        yield
    finally:
        for attr, function in NEW.items():
            setattr(ads_pacing, attr, function)


def page(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def main() -> int:
    args = arguments(__doc__.split("\n\n")[0])
    sizes = [int(s) for s in args.sizes.split(",")]
    settings.DEBUG = False
    url = reverse("campaigns:ads")
    rows, ok = [], True
    with transaction.atomic():
        stores, orders, fill_s = chain("bench-many", max(sizes), args.orders)
        for size in sizes:
            _, client = manager_client(f"bench-many-{size}", stores[:size])
            ms = timed(client, url, way, args.runs)
            counted, pages = {}, {}
            # At one instant: the pacing's "expected by now" moves while 300 stores' page is computed.
            with time_machine.travel(timezone.now(), tick=False):
                for name in ("old", "new"):
                    with way(name), CaptureQueriesContext(connection) as queries:
                        pages[name] = page(request(client, url)[1])
                    counted[name] = len(queries)
            same = pages["old"] == pages["new"] and pages["new"].count("bench-many-") >= size
            ok &= same
            old_ms, new_ms = ms["old"], ms["new"]
            rows.append(f"| {size} | {old_ms:,.0f} | {counted['old']:,} | {new_ms:,.0f} | {counted['new']} "
                        f"| {old_ms / new_ms:,.1f}× | {'yes' if same else 'NO'} |")
        transaction.set_rollback(True)

    lines = [
        f"## many stores: ads page ({connection.vendor}, {max(sizes)} stores in {len(ZONES)} zones, two active "
        f"plans a store, median of {args.runs} warm requests)",
        "",
        f"`.venv/bin/python bench/many_stores.py --sizes {args.sizes} --orders {args.orders} --runs {args.runs}`",
        "",
        f"bench/desk.py's stores, {orders:,} paid orders for the pacing's curve (written in {fill_s:.0f} s); the ads "
        "page as a manager of N stores.",
        "",
        "| stores | ads page, old: store by store (ms) | queries | new: all stores at once (ms) | queries "
        "| old / new | same page |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
    ]
    if not ok:
        lines += ["", "FAILED: the page differs between the two ways (or a store is missing from it)."]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "many_stores.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
