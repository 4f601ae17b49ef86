"""Benchmark: the desk (home page) for a manager of 10, 100 and 300 stores, the new way (every duty's items read for
all the stores at once, `opsdesk.desk.open_items_by_store`: a fixed number of queries) against the old way in the
same run (each duty's items asked store by store, `open_items(store, user)` a store, as the desk did before).

    DATABASE_URL=postgres://... .venv/bin/python bench/desk.py [--sizes 10,100,300] [--orders 5] [--runs 5]

300 stores in five time zones each get an item of every duty: open violations, a new anomaly with an overdue
action item, an event sign-up deadline and a start this week, a finished activity, two active ad plans with a
month of daily reports and today's hourly snapshots against a store ad budget they overspend, a member's reply
waiting and a failed text, an open bad-review case; and --orders paid orders a day over the last 14 days (the
ad pacing's hourly curve). A manager of the first N stores opens the desk. Each way is timed with Django's test
client as the median of --runs requests after a warm-up, the two ways taking turns; the query count comes from
one more request of each. Every store's items must be the same both ways, or it exits 1. Everything happens in
one transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
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

from campaigns.models import Activity, AdDailyPerformance, AdPlan, AdSpendSnapshot, StoreAdBudget  # noqa: E402
from members.models import InboundReply, Member, Message  # noqa: E402
from metrics.models import ActionItem, Anomaly  # noqa: E402
from opsdesk import desk, views  # noqa: E402
from opsdesk.tenancy import stores_for  # noqa: E402
from reviews.models import Review, ReviewCase  # noqa: E402
from stores.models import Role, Store, StoreMembership, Violation  # noqa: E402

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney", "Europe/London", "America/New_York")

ORDERS_SQL = """
INSERT INTO stores_order (store_id, external_id, status, placed_at, paid_at, total, refund_amount, traffic_source,
                          buyer_ref, buyer_name, buyer_phone, buyer_email, marketing_consent, created_at)
SELECT s, 'D' || s || '-' || i, 'paid', placed, placed + interval '2 minutes', round((15 + random() * 400)::numeric, 2),
       0, 'direct', '', '', '', '', false, placed
FROM unnest(%(stores)s::bigint[]) AS s,
     LATERAL (SELECT i, %(now)s::timestamptz - (random() * 14) * interval '1 day' AS placed
              FROM generate_series(1, %(n)s) AS i) AS o
"""


def old_open_items_by_store(stores, user):
    """The desk before: every duty asked store by store."""
    return {store.pk: desk.open_items(store, user) for store in stores}


@contextmanager
def way(name: str):
    new = views.open_items_by_store
    if name == "old":
        views.open_items_by_store = old_open_items_by_store
    try:
        yield
    finally:
        views.open_items_by_store = new


def request(client: Client, url: str):
    began = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - began) * 1000, response


def fill(stores, orders_a_day: int) -> int:
    """An item of every duty in each store, and the orders of the ad pacing's curve."""
    now = timezone.now()
    Violation.objects.bulk_create(Violation(store=s, external_id=f"V{s.pk}-{i}", kind="late shipment",
                                            occurred_at=now - timedelta(days=i)) for s in stores for i in range(3))
    anomalies = Anomaly.objects.bulk_create(
        Anomaly(store=s, day=s.today(now), metric="gmv", value=1, baseline=2, band_low=1.5, band_high=2.5, change=-0.5,
                score=-5, direction="down", explanation="GMV −50 %") for s in stores)
    ActionItem.objects.bulk_create(ActionItem(anomaly=a, text="Check the ad plan", due_date=a.day - timedelta(days=1))
                                   for a in anomalies)
    activities = []
    for s in stores:
        today = s.today(now)
        activities += [
            Activity(store=s, name="Double 11", kind="platform_event", status="planned",
                     details={"event": "double11", "signup_status": "not_started"},
                     start_date=today + timedelta(days=4), end_date=today + timedelta(days=5),
                     signup_deadline=today + timedelta(days=2)),
            Activity(store=s, name="Weekend sale", kind="store_promotion", status="done",
                     start_date=today - timedelta(days=9), end_date=today - timedelta(days=8))]
    Activity.objects.bulk_create(activities)
    plans = AdPlan.objects.bulk_create(AdPlan(store=s, name=f"Plan {i}", channel="search", status="active",
                                              daily_budget=Decimal("240.00")) for s in stores for i in range(2))
    by_store = {s.pk: s for s in stores}
    daily, snapshots = [], []
    for plan in plans:
        store = by_store[plan.store_id]
        today = store.today(now)
        daily += [AdDailyPerformance(plan=plan, date=today - timedelta(days=d), impressions=1000, clicks=50,
                                     spend=Decimal("300.00"), orders=5, sales=Decimal("400.00"))
                  for d in range(1, today.day)]
        start, _ = store.day_bounds(today)
        hours = int((now - start).total_seconds() // 3600)
        snapshots += [AdSpendSnapshot(plan=plan, ts=start + timedelta(hours=h, minutes=5),
                                      spend_today=Decimal(10 * (h + 1))) for h in range(hours)]
    AdDailyPerformance.objects.bulk_create(daily)
    AdSpendSnapshot.objects.bulk_create(snapshots)
    StoreAdBudget.objects.bulk_create(StoreAdBudget(store=s, month=s.today(now).replace(day=1), amount=Decimal("5000"))
                                      for s in stores)
    members = Member.objects.bulk_create(Member(store=s, phone=f"+1415{s.pk % 10_000_000:07d}", name="Ada",
                                                sms_consent=True, consent_source="bench", joined_at=now)
                                         for s in stores)
    InboundReply.objects.bulk_create(InboundReply(store=m.store, member=m, kind="help", body="HELP",
                                                  provider_sid=f"SMD{m.pk}", received_at=now) for m in members)
    Message.objects.bulk_create(Message(store=m.store, member=m, flow="campaign", occasion="campaign:bench", body="Hi",
                                        status="failed", status_updated_at=now, scheduled_for=now) for m in members)
    reviews = Review.objects.bulk_create(Review(store=s, external_id=f"RD{s.pk}", rating=1, body="broken",
                                                created_at=now - timedelta(hours=30)) for s in stores)
    ReviewCase.objects.bulk_create(ReviewCase(store=r.store, review=r, reason="rating 1",
                                              first_contact_due_at=now - timedelta(hours=6))
                                   for r in reviews)
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL, {"stores": [s.pk for s in stores], "now": now, "n": orders_a_day * 14})
        orders = cursor.rowcount
        cursor.execute("ANALYZE")
    return orders


def arguments(description: str) -> argparse.Namespace:
    """The options every many-stores bench takes (desk, ads page)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="10,100,300", help="stores of the manager, comma-separated")
    parser.add_argument("--orders", type=int, default=5, help="paid orders a store and day, last 14 days")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per way and size (median)")
    return parser.parse_args()


def chain(prefix: str, count: int, orders_a_day: int) -> tuple[list[Store], int, float]:
    """`count` stores across ZONES, each `fill`ed; returns them, the orders written and the seconds it took."""
    stores = [Store.objects.create(name=f"Chain {n:03d}", slug=f"{prefix}-{n:03d}", country="US",
                                   timezone=ZONES[n % len(ZONES)], currency="USD")
              for n in range(count)]
    began = time.perf_counter()
    orders = fill(stores, orders_a_day)
    return stores, orders, time.perf_counter() - began


def manager_client(username: str, stores) -> tuple[object, Client]:
    """A manager of `stores`, logged in."""
    user = get_user_model().objects.create_user(username)
    StoreMembership.objects.bulk_create(StoreMembership(user=user, store=s, role=Role.MANAGER) for s in stores)
    client = Client()
    client.force_login(user)
    return user, client


def timed(client: Client, url: str, way, runs: int) -> dict[str, float]:
    """The median ms of `runs` requests each way ("old", "new"), after a warm-up, the two ways taking turns."""
    times = {"old": [], "new": []}
    for name in times:  # warm-up
        with way(name):
            request(client, url)
    for _ in range(runs):
        for name in times:
            with way(name):
                times[name].append(request(client, url)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    args = arguments(__doc__.split("\n\n")[0])
    sizes = [int(s) for s in args.sizes.split(",")]
    settings.DEBUG = False
    url = reverse("desk")
    rows, ok = [], True
    with transaction.atomic():
        stores, orders, fill_s = chain("bench-desk", max(sizes), args.orders)
        for size in sizes:
            user, client = manager_client(f"bench-desk-{size}", stores[:size])
            ms = timed(client, url, way, args.runs)
            counted = {}
            for name in ("old", "new"):
                with way(name), CaptureQueriesContext(connection) as queries:
                    request(client, url)
                counted[name] = len(queries)
            mine = list(stores_for(user))
            new = desk.open_items_by_store(mine, user)
            same = new == old_open_items_by_store(mine, user) and all(len(i) >= 10 for i in new.values())
            ok &= same
            old_ms, new_ms = ms["old"], ms["new"]
            rows.append(f"| {size} | {old_ms:,.0f} | {counted['old']:,} | {new_ms:,.0f} | {counted['new']} "
                        f"| {old_ms / new_ms:,.1f}× | {'yes' if same else 'NO'} |")
        transaction.set_rollback(True)

    lines = [
        f"## desk ({connection.vendor}, {max(sizes)} stores in {len(ZONES)} zones, an item of every duty a store, "
        f"median of {args.runs} warm requests)",
        "",
        f"`.venv/bin/python bench/desk.py --sizes {args.sizes} --orders {args.orders} --runs {args.runs}`",
        "",
        f"Every duty's items in each store, {orders:,} paid orders for the ad pacing's curve (written in "
        f"{fill_s:.0f} s); the desk as a manager of N stores.",
        "",
        "| stores | desk, old: store by store (ms) | queries | desk, new: all stores at once (ms) | queries "
        "| old / new | same items |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
    ]
    if not ok:
        lines += ["", "FAILED: a store's items differ between the two ways (or a duty's item is missing)."]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "desk.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
