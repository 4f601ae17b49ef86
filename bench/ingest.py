"""Ingest benchmark: events/s persisted through the API (gunicorn, concurrent clients) against a raw
Postgres COPY of the same rows into the same table, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench .venv/bin/python bench/ingest.py \
        --events 10000 --rounds 3 --batch 1000 --clients 4 --workers 3

It migrates the database, creates two scratch stores (one fed through the API, one by COPY) and
deletes them afterwards (unless --keep). A share of the batches (--retry) is sent twice, as a
client retrying after a timeout would; the run then checks that every event is stored exactly once
(zero lost, zero duplicated) and that the API's accepted/duplicate counts add up.
Prints the figures and writes bench/results/ingest.md and the "## ingest" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10000, help="events per round to send (and to COPY)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of API then COPY; the median is reported")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--retry", type=float, default=0.05, help="share of batches sent a second time")
    parser.add_argument("--products", type=int, default=200, help="products in the scratch store")
    parser.add_argument("--keep", action="store_true", help="keep the scratch stores and their events")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results files")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (2000 events, 1 round, 2 workers); prints only, writes nothing")
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds, args.workers, args.clients, args.batch = 2000, 1, 2, 2, 500
        args.no_write = True
    return args


def make_events(n: int, skus: list[str], rng: random.Random) -> list[dict]:
    """A realistic mix: each visit starts a session, views 1-3 products, sometimes adds to cart."""
    events = []
    start = datetime.now(UTC) - timedelta(hours=2)
    sources = ["organic_search", "paid_search", "recommendation", "social", "direct", "campaign"]
    visit = 0
    while len(events) < n:
        visit += 1
        sid, vid = f"s{visit}", f"v{rng.randrange(n)}"
        ts = start + timedelta(milliseconds=len(events) * 50)
        landing = rng.choice(skus)
        events.append({"id": f"ev-{len(events)}", "type": "session_start", "ts": ts.isoformat(), "session_id": sid,
                       "visitor_id": vid, "source": rng.choice(sources), "device": rng.choice(["mobile", "desktop"]),
                       "landing_sku": landing})
        for sku in [landing] + rng.sample(skus, rng.randint(0, 2)):
            if len(events) >= n:
                break
            events.append({"id": f"ev-{len(events)}", "type": "product_view", "ts": ts.isoformat(),
                           "session_id": sid, "visitor_id": vid, "sku": sku})
        if len(events) < n and rng.random() < 0.3:
            events.append({"id": f"ev-{len(events)}", "type": "add_to_cart", "ts": ts.isoformat(),
                           "session_id": sid, "visitor_id": vid, "sku": landing})
    return events[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers: int, port: int) -> subprocess.Popen:
    # One store's key sends everything: lift its per-minute limit (it is still counted, so its cost is measured).
    env = dict(os.environ, DB_CONN_MAX_AGE="600", DEBUG="0", LOG_LEVEL="WARNING", API_REQUESTS_PER_MINUTE="100000000")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "opsdesk.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", "--preload"],
        cwd=ROOT, env=env,
    )
    return proc


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited before it was ready")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # polling a starting server, not racing it
    raise SystemExit("gunicorn did not answer /healthz in time")


def send_all(base: str, key: str, batches: list[list[dict]], clients: int):
    """Post every batch from `clients` threads; bodies are encoded before the clock starts."""
    import json

    import requests

    work: queue.Queue = queue.Queue()
    for batch in batches:
        work.put(json.dumps({"events": batch}).encode())
    totals = {"accepted": 0, "duplicates": 0, "requests": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def client():
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            response = session.post(f"{base}/api/v1/events", data=body, timeout=120)
            with lock:
                totals["requests"] += 1
                if response.status_code == 202:
                    body = response.json()
                    totals["accepted"] += body["accepted"]
                    totals["duplicates"] += body["duplicates"]
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, totals, failures


def copy_rows(store_id: int, events: list[dict], product_ids: dict[str, int]) -> float:
    """COPY the same rows into the events table for the COPY store; returns seconds (with commit).

    The rows are formatted as COPY text before the clock starts, so the baseline is the database's
    own loading speed: the strongest comparison for the API.
    """
    from django.db import connection, transaction

    now = datetime.now(UTC).isoformat()

    def field(value) -> str:
        if value is None:
            return "\\N"
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    data = "".join(
        "\t".join(field(v) for v in (
            store_id, e["id"], e["type"], e["ts"], e.get("session_id", ""), e.get("visitor_id", ""),
            e.get("source", ""), e.get("device", ""), product_ids.get(e.get("sku") or e.get("landing_sku")), now,
        )) + "\n"
        for e in events
    ).encode()
    started = time.perf_counter()
    sql = ("COPY metrics_trafficevent (store_id, event_id, type, ts, session_id, visitor_id, source, device, "
           "product_id, received_at) FROM STDIN")
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(data)
    return time.perf_counter() - started


def write_results(text: str) -> None:
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "ingest.md").write_text(text)
    summary = ROOT / "bench" / "RESULTS.md"
    current = summary.read_text() if summary.exists() else "# Benchmark results\n"
    section = re.compile(r"^## ingest\n.*?(?=^## |\Z)", re.S | re.M)
    if section.search(current):
        current = section.sub(lambda _: text.rstrip() + "\n\n", current)
    else:
        current = current.rstrip() + "\n\n" + text.rstrip() + "\n"
    summary.write_text(current)


T0 = time.perf_counter()


def phase(name: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f} s] {name}", file=sys.stderr, flush=True)


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from metrics.models import TrafficEvent
    from stores.models import ApiKey, Product, Store

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a Postgres database: the comparison is with Postgres COPY.")
    phase("django ready")
    call_command("migrate", verbosity=0)
    phase("migrated")
    rng = random.Random(42)
    tag = uuid.uuid4().hex[:8]
    stores = {
        name: Store.objects.create(name=f"bench {name} {tag}", slug=f"bench-{name}-{tag}", country="US",
                                   timezone="America/Los_Angeles", currency="USD")
        for name in ("api", "copy")
    }
    skus = [f"BENCH-{i}" for i in range(args.products)]
    product_ids = {}
    for store in stores.values():
        Product.objects.bulk_create([Product(store=store, sku=s, title=s, price=10) for s in skus])
    product_ids = {
        name: dict(Product.objects.filter(store=store).values_list("sku", "id")) for name, store in stores.items()
    }
    _, key = ApiKey.issue(stores["api"], name="bench")
    rounds = []
    for n in range(args.rounds):
        events = make_events(args.events, skus, rng)
        for e in events:
            e["id"] = f"r{n}-{e['id']}"
        batches = [events[i:i + args.batch] for i in range(0, len(events), args.batch)]
        retried = rng.sample(batches, max(1, int(len(batches) * args.retry))) if args.retry > 0 else []
        sent = batches + retried
        rng.shuffle(sent)
        rounds.append({"events": events, "batches": len(batches), "retried": len(retried),
                       "retried_events": sum(len(b) for b in retried), "sent": sent})

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(args.workers, port)
    failures: list[str] = []
    try:
        wait_ready(base, proc)
        phase("gunicorn ready")
        # Small warm-up requests so imports, validators and connections are not timed.
        warm = make_events(args.workers * 4, skus, random.Random(1))
        for e in warm:
            e["id"] = f"warm-{e['id']}"
        send_all(base, key, [[e] for e in warm], args.workers)
        phase("warmed up")
        # API and COPY take turns, so both meet the same background load; the median round is reported.
        for n, r in enumerate(rounds):
            r["api_seconds"], r["totals"], round_failures = send_all(base, key, r["sent"], args.clients)
            failures += round_failures
            r["copy_seconds"] = copy_rows(stores["copy"].pk, r["events"], product_ids["copy"])
            r["ratio"] = r["copy_seconds"] / r["api_seconds"]
            phase(f"round {n + 1}: API {args.events / r['api_seconds']:,.0f}/s, "
                  f"COPY {args.events / r['copy_seconds']:,.0f}/s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    total = args.events * args.rounds
    stored = TrafficEvent.objects.filter(store=stores["api"]).exclude(event_id__startswith="warm-")
    stored_count = stored.count()
    distinct = stored.values("event_id").distinct().count()
    lost = total - distinct
    duplicated = stored_count - distinct
    accepted = sum(r["totals"]["accepted"] for r in rounds)
    duplicates = sum(r["totals"]["duplicates"] for r in rounds)
    expected_duplicates = sum(r["retried_events"] for r in rounds)
    counts_ok = accepted == total and duplicates == expected_duplicates
    copied = TrafficEvent.objects.filter(store=stores["copy"]).count()

    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    command = "DATABASE_URL=postgres://…/DB .venv/bin/python bench/ingest.py " + shlex.join(sys.argv[1:])
    table = "\n".join(
        f"| {n + 1} | {args.events / r['api_seconds']:,.0f} | {args.events / r['copy_seconds']:,.0f} "
        f"| {r['ratio']:.2f} |"
        for n, r in enumerate(rounds)
    )
    r0 = rounds[0]
    text = f"""## ingest

Events persisted through `POST /api/v1/events` (gunicorn, {args.workers} workers, {args.clients} client threads,
{args.batch} events per batch, {r0['retried']} of {r0['batches']} batches per round sent twice, as a retrying
client would) against a raw Postgres `COPY` of the same rows into the same `metrics_trafficevent` table,
{args.rounds} rounds of {args.events} events each, API and COPY taking turns, on {datetime.now(UTC):%Y-%m-%d}
({os.cpu_count()} CPU cores shared by the clients, gunicorn and Postgres; load average
{os.getloadavg()[0]:.1f} at the end, as other work shared the machine, so single rounds are noisy).

| round | API events/s | COPY events/s | API / COPY |
| ---: | ---: | ---: | ---: |
{table}

- median ratio API / COPY: **{median['ratio']:.2f}** (issue target ≥ 0.5)
- lost events: **{lost}**, duplicated events: **{duplicated}** ({stored_count} stored through the API,
  {copied} by COPY); API counts: {accepted} accepted, {duplicates} duplicates (expected {total} and
  {expected_duplicates}){'' if counts_ok else ' — MISMATCH'}; failed requests: {len(failures)}

Command: `{command}`
"""
    print(text)
    if failures:
        print("failures:", *failures[:5], sep="\n  ")
    if not args.no_write:
        write_results(text)
    if not args.keep:
        for store in stores.values():
            TrafficEvent.objects.filter(store=store).delete()
            store.delete()
    if lost or duplicated or failures or not counts_ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
