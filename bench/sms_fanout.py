"""SMS fan-out benchmark: one campaign to N members through real Celery workers on Redis, the
twilio backend (official client) and the fake Twilio over HTTP with latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench REDIS_URL=redis://127.0.0.1:6379/8 \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 CELERY_QUEUE=opsdesk-bench \
        .venv/bin/python bench/sms_fanout.py --members 2000 --rate 50 --latency 0.05 --concurrency 4

It migrates the database, creates a scratch store (in a zone where it is daytime, so quiet hours do
not defer the run) with N consenting members, then measures: time to plan the Message rows, time
to enqueue one send task per row, time until every text reached the fake Twilio, the achieved rate
against SMS_RATE_PER_SECOND, and duplicates / lost texts (both must be 0). The scratch store is
deleted afterwards unless --keep. Prints the figures and writes bench/results/sms_fanout.md and the
"## sms fanout" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members in the campaign (default 100000)")
    parser.add_argument("--rate", type=float, default=50.0, help="SMS_RATE_PER_SECOND for the workers")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake Twilio takes per request")
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes (prefork)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds of sending")
    parser.add_argument("--keep", action="store_true", help="keep the scratch store and its messages")
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
    pattern = re.compile(r"^## sms fanout\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    import members.tasks  # noqa: F401  (imports the Twilio client now, not inside the timed enqueue)
    from members import flows
    from members.models import Member, Message, MessageStatus, SmsTemplate
    from opsdesk.celery import app
    from stores.models import Store
    from tests.fake_twilio import FakeTwilio
    from tests.worker import WorkerProcess

    if not settings.CELERY_BROKER_URL.startswith("redis://") or "postgres" not in settings.DATABASES["default"][
            "ENGINE"]:
        sys.exit("Needs Postgres and Redis: set DATABASE_URL and CELERY_BROKER_URL (see the docstring).")
    call_command("migrate", verbosity=0)
    fake = FakeTwilio(account_sid="ACbench", auth_token="bench-token", latency=args.latency).start()
    settings.SMS_BACKEND, settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "twilio", "ACbench", "bench-token"
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = "+15005550006", fake.base_url

    Store.objects.filter(slug="bench-sms").delete()
    store = Store.objects.create(name="Bench SMS", slug="bench-sms", country="US", currency="USD",
                                 timezone=daytime_zone(timezone.now()))
    now = timezone.now()
    Member.objects.bulk_create([Member(store=store, phone=f"+1415{i:07d}", name=f"Member {i}", sms_consent=True,
                                       joined_at=now) for i in range(args.members)], batch_size=10_000)
    template = SmsTemplate.objects.create(store=store, name="Bench", flow="campaign",
                                          body="Hi {first_name}, a little thank-you from {store}.")
    app.control.purge()
    tmp = Path(tempfile.mkdtemp(prefix="sms-fanout-"))
    worker = WorkerProcess(tmp, settings.CELERY_TASK_DEFAULT_QUEUE, concurrency=args.concurrency, extra_env={
        "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "ACbench", "TWILIO_AUTH_TOKEN": "bench-token",
        "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE": fake.base_url,
        "SMS_RATE_PER_SECOND": str(args.rate), "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "60"})
    # Send nothing while planning, so "time to queue" is measured on its own.
    from members import sending

    real_dispatch, sending.dispatch_due = sending.dispatch_due, lambda *a, **k: 0
    try:
        t0 = time.perf_counter()
        planned = flows.start_campaign(store, template)
        t_plan = time.perf_counter() - t0
        sending.dispatch_due = real_dispatch
        t1 = time.perf_counter()
        enqueued = sending.dispatch_due()
        t_queue = time.perf_counter() - t1
        worker.start()
        t2 = time.perf_counter()
        deadline = t2 + args.timeout
        while time.perf_counter() < deadline:
            done = Message.objects.filter(store=store).exclude(status__in=[MessageStatus.QUEUED,
                                                                          MessageStatus.SENDING]).count()
            if done >= planned.created:
                break
            time.sleep(0.5)
        t_send = time.perf_counter() - t2
    finally:
        sending.dispatch_due = real_dispatch
        worker.stop()
        fake.stop()

    with fake.lock:
        per_number = Counter(m["to"] for m in fake.sent)
        times = list(fake.accepted_at)
    statuses = Counter(Message.objects.filter(store=store).values_list("status", flat=True))
    duplicates = sum(n - 1 for n in per_number.values() if n > 1)
    lost = args.members - len(per_number)
    spread = (max(times) - min(times)) if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / spread if spread else 0.0
    if not args.keep:
        store.delete()

    command = ("DATABASE_URL=postgres://…/DB REDIS_URL=redis://…/D CELERY_BROKER_URL=redis://…/D "
               "CELERY_QUEUE=… .venv/bin/python bench/sms_fanout.py " + shlex.join(sys.argv[1:]))
    load = os.getloadavg()[0]
    section = f"""## sms fanout

One campaign to {args.members:,} members: Message rows planned in the database (one per member and
occasion), one Celery send task each, {args.concurrency} prefork worker processes on Redis (persistent
database connections, DB_CONN_MAX_AGE=60), the twilio
backend (official client) against the fake Twilio over HTTP with {args.latency * 1000:.0f} ms latency per
request, pacing by the shared Redis limiter at SMS_RATE_PER_SECOND = {args.rate:g}. Run on
{datetime.now(UTC):%Y-%m-%d} (2 CPU cores shared with the database, Redis, the fake server and other
work; load average {load:.1f} at the end).

| step | seconds | per second |
| --- | ---: | ---: |
| plan {planned.created:,} Message rows (render, segments, insert) | {t_plan:.2f} | {planned.created / t_plan:,.0f} |
| enqueue {enqueued:,} send tasks | {t_queue:.2f} | {enqueued / t_queue if t_queue else 0:,.0f} |
| send until every text reached Twilio | {t_send:.2f} | {len(times) / t_send if t_send else 0:,.1f} |

- achieved rate at the provider: **{achieved:.1f}/s** against a configured **{args.rate:g}/s**
  (first to last accepted text)
- duplicates: **{duplicates}**, lost: **{lost}** (texts accepted by the fake Twilio: {len(times):,};
  message statuses: {dict(statuses)})

Command: `{command}`
"""
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
