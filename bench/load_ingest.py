"""Bounded load test of the ingest API: N concurrent clients for S seconds against gunicorn on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench .venv/bin/python bench/load_ingest.py \
        --clients 50 --seconds 60

Every client posts small batches of new events as fast as it can, and now and then sends a batch
again (a client retrying after a timeout). At the end the run checks that the events the API
acknowledged (`accepted`) are exactly the events stored, none twice, and prints request latency
percentiles beside the single-client latency measured first in the same run (the unloaded baseline).
Exit status 1 if anything was lost, duplicated or failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import ROOT, free_port, make_events, start_gunicorn, wait_ready  # noqa: E402

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--retry", type=float, default=0.05, help="chance a request re-sends an earlier batch")
    parser.add_argument("--quick", action="store_true", help="10 clients for 10 s")
    return parser.parse_args()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def hammer(base: str, key: str, skus: list[str], clients: int, seconds: float, batch: int, retry: float,
           run: str):
    import requests

    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    totals = {"accepted": 0, "duplicates": 0, "requests": 0, "sent_new": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def client(n: int):
        rng = random.Random(n)
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        sent: list[list[dict]] = []
        seq = 0
        while time.monotonic() < deadline:
            if sent and rng.random() < retry:
                events, new = rng.choice(sent), 0
            else:
                events = make_events(batch, skus, rng)
                for event in events:
                    seq += 1
                    event["id"] = f"{run}-c{n}-{seq}"
                    if "session_id" in event:
                        event["session_id"] = f"{run}-c{n}-{event['session_id']}"
                sent.append(events)
                new = len(events)
            started = time.perf_counter()
            try:
                response = session.post(f"{base}/api/v1/events", data=json.dumps({"events": events}), timeout=60)
            except requests.RequestException as exc:
                with lock:
                    failures.append(repr(exc))
                continue
            took = time.perf_counter() - started
            with lock:
                totals["requests"] += 1
                latencies.append(took)
                if response.status_code == 202:
                    body = response.json()
                    totals["accepted"] += body["accepted"]
                    totals["duplicates"] += body["duplicates"]
                    totals["sent_new"] += new
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, totals, failures


def main() -> None:
    args = parse_args()
    if args.quick:
        args.clients, args.seconds = 10, 10
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from metrics.models import TrafficEvent
    from stores.models import ApiKey, Product, Store

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a Postgres database.")
    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    store = Store.objects.create(name=f"load {tag}", slug=f"load-{tag}", country="US",
                                 timezone="America/Los_Angeles", currency="USD")
    skus = [f"LOAD-{i}" for i in range(100)]
    Product.objects.bulk_create([Product(store=store, sku=s, title=s, price=10) for s in skus])
    _, key = ApiKey.issue(store, name="load")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(args.workers, port)
    try:
        wait_ready(base, proc)
        # Warm every worker (imports, connections) so neither run times a cold start.
        hammer(base, key, skus, args.workers * 2, 3.0, args.batch, 0, "warm")
        baseline, _, _ = hammer(base, key, skus, 1, min(5.0, args.seconds), args.batch, 0, "base")
        latencies, totals, failures = hammer(base, key, skus, args.clients, args.seconds, args.batch, args.retry,
                                             "load")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stored = TrafficEvent.objects.filter(store=store)
    stored_count = stored.count()
    distinct = stored.values("event_id").distinct().count()
    acknowledged = totals["accepted"]
    baseline_events = stored_count - acknowledged  # the warm-up's and the single-client run's events
    ms = [x * 1000 for x in latencies]
    base_ms = [x * 1000 for x in baseline]
    print(f"""## load (ingest API)

{args.clients} clients × {args.seconds:.0f} s, {args.batch} events a request, gunicorn {args.workers} workers,
{os.cpu_count()} cores shared by clients, server and Postgres.

| | requests | p50 ms | p95 ms | p99 ms | max ms |
| --- | ---: | ---: | ---: | ---: | ---: |
| baseline: 1 client | {len(base_ms)} | {statistics.median(base_ms):.1f} | {percentile(base_ms, 95):.1f} | \
{percentile(base_ms, 99):.1f} | {max(base_ms):.1f} |
| load: {args.clients} clients | {len(ms)} | {statistics.median(ms):.1f} | {percentile(ms, 95):.1f} | \
{percentile(ms, 99):.1f} | {max(ms):.1f} |

- throughput under load: {acknowledged / args.seconds:,.0f} events/s acknowledged
- acknowledged (accepted) {acknowledged}, new events sent {totals['sent_new']}, re-sent counted as duplicates
  {totals['duplicates']}; stored {stored_count - baseline_events} (+{baseline_events} warm-up and baseline),
  distinct ids {distinct}: lost **{totals['sent_new'] - acknowledged}**, stored twice **{stored_count - distinct}**
- failed requests: {len(failures)}
""")
    for failure in failures[:5]:
        print("  failure:", failure)
    TrafficEvent.objects.filter(store=store).delete()
    store.delete()
    if failures or stored_count != distinct or totals["sent_new"] != acknowledged:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
