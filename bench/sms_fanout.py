"""SMS fan-out benchmark: one campaign to N members through real Celery workers on Redis, the
twilio backend (official client) and the fake Twilio over HTTP with latency, in its own process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench REDIS_URL=redis://127.0.0.1:6379/8 \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 CELERY_QUEUE=opsdesk-bench \
        .venv/bin/python bench/sms_fanout.py --members 100000 --rate 250

It migrates the database, creates a scratch store (in a zone where it is daytime, so quiet hours do
not defer the run) with N consenting members, then measures: time to plan the Message rows, time
to enqueue the batched send tasks (SMS_BATCH_SIZE rows each), time until every text reached the fake
Twilio, the achieved rate against SMS_RATE_PER_SECOND, the most texts that reached Twilio in any
1-second window, and duplicates / lost texts (both must be 0).

Baseline, in the same run and against the same fake Twilio and rate: the previous design, one
Celery task per message (`members.tasks.send_message`), on --baseline-members members with
--baseline-concurrency worker processes (the configured rate is the other yardstick: the ceiling).

The fake Twilio and the Celery workers run as separate processes, each stopped by its recorded PID.
Scratch stores are deleted afterwards unless --keep. Prints the figures and writes
bench/results/sms_fanout.md and the "## sms fanout" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

SID, TOKEN, FROM = "ACbench", "bench-token", "+15005550006"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members in the campaign (default 100000)")
    parser.add_argument("--rate", type=float, default=250.0, help="SMS_RATE_PER_SECOND for the workers")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake Twilio takes per request")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--threads", type=int, default=16, help="SMS_SEND_THREADS: sending threads per process")
    parser.add_argument("--batch", type=int, default=200, help="SMS_BATCH_SIZE: messages per send task")
    parser.add_argument("--baseline-members", type=int, default=2000,
                        help="members for the one-task-per-message baseline (0: skip it)")
    parser.add_argument("--baseline-concurrency", type=int, default=4, help="worker processes for the baseline")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds of sending")
    parser.add_argument("--keep", action="store_true", help="keep the scratch stores and their messages")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results files")
    return parser.parse_args()


def daytime_zone(now: datetime) -> str:
    offset = (13 - now.hour + 12) % 24 - 12
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")


def write_results(section: str) -> None:
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "sms_fanout.md").write_text(section)
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    # up to the next other section (run_all wraps this script's own "## sms fanout" in its section)
    pattern = re.compile(r"^## sms fanout\n.*?(?=^## (?!sms fanout)|\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


class FakeTwilioProcess:
    """tests/fake_twilio.py as its own process; its PID is recorded and it is stopped by that PID."""

    def __init__(self, folder: Path, latency: float):
        self.folder, self.latency = folder, latency
        self.record = folder / "twilio-sent.tsv"
        self.pidfile = folder / "twilio.pid"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> FakeTwilioProcess:
        port_file = self.folder / "twilio.port"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_twilio", "--account-sid", SID, "--auth-token", TOKEN,
             "--latency", str(self.latency), "--port-file", str(port_file), "--record", str(self.record)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(self.folder / "twilio.log").open("w"))
        self.pidfile.write_text(str(self.proc.pid))
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the fake Twilio did not start; see {self.folder / 'twilio.log'}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(int(self.pidfile.read_text()), signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def texts(self) -> list[tuple[float, float, str]]:
        """(received, accepted, To) of every text accepted so far."""
        rows = []
        for line in self.record.read_text().splitlines():
            received, accepted, to, _sid = line.split("\t")
            rows.append((float(received), float(accepted), to))
        return rows


@dataclass
class Run:
    members: int
    created: int
    queued: int
    t_plan: float
    t_queue: float
    t_send: float
    texts: int
    achieved: float
    burst: int
    cpu: dict
    duplicates: int
    lost: int
    statuses: dict


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *[int(c) for c in (children.read_text().split() if children.exists() else [])]]


def postgres_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
            and (p / "comm").exists() and (p / "comm").read_text().strip() == "postgres"]


def max_in_window(times: list[float], width: float = 1.0) -> int:
    """The most events in any half-open window [t, t + width)."""
    times = sorted(times)
    return max((bisect_left(times, t + width, i) - i for i, t in enumerate(times)), default=0)


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    import members.tasks  # noqa: F401  (imports the Twilio client now, not inside the timed enqueue)
    from members import flows, sending
    from members.models import Member, Message, MessageStatus, SmsTemplate
    from opsdesk.celery import app
    from stores.models import Store
    from tests.worker import WorkerProcess

    if not settings.CELERY_BROKER_URL.startswith("redis://") or "postgres" not in settings.DATABASES["default"][
            "ENGINE"]:
        sys.exit("Needs Postgres and Redis: set DATABASE_URL and CELERY_BROKER_URL (see the docstring).")
    call_command("migrate", verbosity=0)
    tmp = Path(tempfile.mkdtemp(prefix="sms-fanout-"))
    fake = FakeTwilioProcess(tmp, args.latency).start()
    settings.SMS_BACKEND, settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "twilio", SID, TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = FROM, fake.base_url
    settings.SMS_BATCH_SIZE = args.batch
    worker_env = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
                  "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_BASE": fake.base_url, "SMS_RATE_PER_SECOND": str(args.rate),
                  "SMS_SEND_THREADS": str(args.threads), "SMS_BATCH_SIZE": str(args.batch), "LOG_LEVEL": "WARNING",
                  "DB_CONN_MAX_AGE": "60"}
    stores = []

    def scratch_store(slug: str, n: int, prefix: str):
        Store.objects.filter(slug=slug).delete()
        store = Store.objects.create(name=f"Bench {slug}", slug=slug, country="US", currency="USD",
                                     timezone=daytime_zone(timezone.now()))
        stores.append(store)
        now = timezone.now()
        Member.objects.bulk_create([Member(store=store, phone=f"{prefix}{i:07d}", name=f"Member {i}",
                                           sms_consent=True, joined_at=now) for i in range(n)], batch_size=10_000)
        template = SmsTemplate.objects.create(store=store, name="Bench", flow="campaign",
                                              body="Hi {first_name}, a little thank-you from {store}.")
        return store, template

    def enqueue_one_task_per_message(store) -> int:
        """The previous dispatcher: one send_message task per due row."""
        ids = list(Message.objects.filter(store=store, status=MessageStatus.QUEUED).values_list("pk", flat=True))
        Message.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
        with app.producer_or_acquire() as producer:
            for pk in ids:
                members.tasks.send_message.apply_async((pk,), producer=producer)
        return len(ids)

    def run(name: str, n: int, prefix: str, enqueue, concurrency: int) -> Run:
        store, template = scratch_store(f"bench-sms-{name}", n, prefix)
        app.control.purge()
        folder = tmp / name
        folder.mkdir()
        worker = WorkerProcess(folder, settings.CELERY_TASK_DEFAULT_QUEUE, concurrency=concurrency,
                               extra_env=worker_env)
        real_dispatch, sending.dispatch_due = sending.dispatch_due, lambda *a, **k: 0
        try:  # send nothing while planning, so "time to queue" is measured on its own
            t0 = time.perf_counter()
            planned = flows.start_campaign(store, template)
            t_plan = time.perf_counter() - t0
            sending.dispatch_due = real_dispatch
            t1 = time.perf_counter()
            queued = enqueue(store)
            t_queue = time.perf_counter() - t1
            worker.start()
            groups = {"workers": lambda: process_tree(worker.pid), "fake Twilio": lambda: [fake.proc.pid],
                      "Postgres (all)": postgres_pids}
            cpu_before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
            t2 = time.perf_counter()
            deadline = t2 + args.timeout
            open_rows = Message.objects.filter(store=store, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
            while open_rows.exists() and time.perf_counter() < deadline:
                time.sleep(0.5)
            t_send = time.perf_counter() - t2
            cpu = {name: cpu_seconds(pids()) - cpu_before[name] for name, pids in groups.items()}
        finally:
            sending.dispatch_due = real_dispatch
            worker.stop()
        texts = [t for t in fake.texts() if t[2].startswith(prefix)]
        received = sorted(t[0] for t in texts)
        spread = received[-1] - received[0] if len(received) > 1 else 0.0
        per_number = Counter(t[2] for t in texts)
        return Run(members=n, created=planned.created, queued=queued, t_plan=t_plan, t_queue=t_queue, t_send=t_send,
                   texts=len(texts), achieved=(len(received) - 1) / spread if spread else 0.0,
                   burst=max_in_window(received), cpu=cpu, duplicates=sum(c - 1 for c in per_number.values() if c > 1),
                   lost=n - len(per_number),
                   statuses=dict(Counter(Message.objects.filter(store=store).values_list("status", flat=True))))

    try:
        baseline = None
        if args.baseline_members:
            baseline = run("baseline", args.baseline_members, "+1416", enqueue_one_task_per_message,
                           args.baseline_concurrency)
        batched = run("batched", args.members, "+1415", lambda store: sending.dispatch_due(), args.concurrency)
    finally:
        fake.stop()
        if not args.keep:
            for store in stores:
                store.delete()

    command = ("DATABASE_URL=postgres://…/DB REDIS_URL=redis://…/D CELERY_BROKER_URL=redis://…/D "
               "CELERY_QUEUE=… flock /tmp/opsdesk-bench.lock .venv/bin/python bench/sms_fanout.py "
               + shlex.join(sys.argv[1:]))
    load = os.getloadavg()

    def cpu_per_text(r: Run) -> str:
        return ", ".join(f"{name} {seconds * 1000 / max(1, r.texts):.1f} ms" for name, seconds in r.cpu.items())

    def row(label: str, r: Run, design: str) -> str:
        return (f"| {label}: {design} | {r.members:,} | {r.t_plan:.1f} s ({r.created / r.t_plan:,.0f}/s) | "
                f"{r.t_queue:.2f} s ({r.queued / r.t_queue if r.t_queue else 0:,.0f}/s) | {r.t_send:.1f} s | "
                f"**{r.achieved:.1f}/s** ({r.achieved / args.rate:.0%}) | {r.burst} | {r.duplicates} | {r.lost} |")

    rows = [row("batched", batched, f"{-(-batched.queued // args.batch):,} tasks of {args.batch}, "
                f"{args.concurrency} processes × {args.threads} threads")]
    if baseline:
        rows.append(row("baseline", baseline, f"one task per message, {args.baseline_concurrency} processes"))
    section = f"""## sms fanout

One campaign through real Celery workers on Redis (persistent database connections), the twilio backend
(official client) against the fake Twilio in its own process over HTTP with {args.latency * 1000:.0f} ms latency
per request, paced by the shared Redis limiter at SMS_RATE_PER_SECOND = **{args.rate:g}** (the ceiling: the
achieved rate must reach it and no 1-second window may exceed it). Baseline in the same run: the previous
design, one Celery task per message. Rates and bursts are measured at the fake Twilio, from the time each
accepted request arrived. Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (2 CPU cores shared with Postgres,
Redis, the fake Twilio and other work; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end).

| run | members | plan rows | enqueue | send all | achieved (of {args.rate:g}/s) | max in 1 s | duplicates | lost |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

- batched: {batched.texts:,} texts accepted by the fake Twilio; message statuses {batched.statuses};
  CPU per text while sending: {cpu_per_text(batched)}
{f"- baseline: {baseline.texts:,} texts accepted; message statuses {baseline.statuses}; CPU per text while sending: "
 f"{cpu_per_text(baseline)}" if baseline else ""}

Command: `{command}`

"""
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
