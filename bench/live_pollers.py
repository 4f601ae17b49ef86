"""Many operators polling one store's live view: with the shared snapshot (metrics.live_cache) and without.

N pollers (1, 5, 20 by default), each a different operator of the store with its own logged-in client, ask
GET /metrics/<slug>/live.json back to back for --seconds, in threads of this one process (one web process
serving them all); then the same with LIVE_SHARED_SECONDS=0 (every request computes its own snapshot, as
before the cache). Prints requests/s and median/p95 latency of each, and how many snapshots were computed.
The store is bench/live_view.py's (about 20:00 local, --events over --days), made anew unless --reuse.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/live_pollers.py
    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/live_pollers.py --reuse --seconds 10

Writes bench/results/live_pollers.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from live_view import SLUG, generate, make_store, zone_at_20h  # noqa: E402

from metrics import live, live_cache  # noqa: E402
from stores.models import Store, StoreMembership  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

User = get_user_model()


def run(store: Store, users: list, seconds: float) -> dict:
    """Every user polls back to back for `seconds`; latencies of all requests and the snapshots computed."""
    url = f"/metrics/{store.slug}/live.json"
    latencies: list[float] = []
    computed = [0]
    real = live.snapshot

    def counted(*args, **kwargs):
        computed[0] += 1
        return real(*args, **kwargs)

    live.snapshot = counted
    start = threading.Barrier(len(users) + 1)
    stop = [0.0]

    def poller(user):
        client = Client()
        client.force_login(user)
        mine = []
        try:
            start.wait()
            while time.perf_counter() < stop[0]:
                t0 = time.perf_counter()
                assert client.get(url).status_code == 200
                mine.append((time.perf_counter() - t0) * 1000)
        finally:
            connections.close_all()
        latencies.extend(mine)

    threads = [threading.Thread(target=poller, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    stop[0] = time.perf_counter() + seconds
    start.wait()
    for thread in threads:
        thread.join()
    live.snapshot = real
    return {"requests": len(latencies), "rps": len(latencies) / seconds,
            "p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95)),
            "computed": computed[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="historical events to generate (default 200k)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--pollers", default="1,5,20", help="numbers of concurrent pollers (default 1,5,20)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds each variant runs (default 10)")
    parser.add_argument("--reuse", action="store_true", help="keep the bench store of the last live bench")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or "redis" not in settings.CACHES["live"]["BACKEND"].lower():
        sys.exit("Set DATABASE_URL to Postgres and REDIS_URL to Redis: this bench measures the shared deployment.")
    call_command("migrate", verbosity=0)
    now = timezone.now()
    store = Store.objects.filter(slug=SLUG).first() if args.reuse else None
    if store is None:
        store = make_store(now, args.products)
        generate(store, now, args.events, args.days)
    else:
        store.timezone = zone_at_20h(now)
        store.save(update_fields=["timezone"])
    counts = (store.events.count(), store.orders.count())
    users = []
    for n in range(max(int(p) for p in args.pollers.split(","))):
        user = User.objects.filter(username=f"bench-poller-{n}").first() or UserFactory(username=f"bench-poller-{n}")
        StoreMembership.objects.get_or_create(user=user, store=store)
        users.append(user)
    live.snapshot(store)  # warm this process's kept days, as a running web process has them
    shared = settings.LIVE_SHARED_SECONDS or 5
    rows = []
    for n in (int(p) for p in args.pollers.split(",")):
        for label, seconds in (("computed per request", 0), (f"shared for {shared} s", shared)):
            settings.LIVE_SHARED_SECONDS = seconds
            caches["live"].delete(live_cache.snapshot_key(store))
            rows.append((n, label, run(store, users[:n], args.seconds)))
            print(n, label, rows[-1][2], flush=True)
    load_avg = os.getloadavg()[0]
    lines = ["## live view, many pollers", "",
             f"store with {counts[0]:,} events, {counts[1]:,} orders (zone {store.timezone}); pollers are threads of "
             f"one process asking live.json back to back for {args.seconds:g} s; machine load average "
             f"{load_avg:.1f} on {os.cpu_count()} CPUs", "",
             "| pollers | snapshot | requests/s | p50 ms | p95 ms | snapshots computed |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for n, label, r in rows:
        lines.append(f"| {n} | {label} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['computed']} |")
    size = "--reuse" if args.reuse else f"--events {args.events} --days {args.days}"
    lines += ["", f"command: `DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/live_pollers.py "
              f"{size} --pollers {args.pollers} --seconds {args.seconds:g}`", ""]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "live_pollers.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
