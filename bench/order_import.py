"""Benchmark: a month's order export (opsdesk's columns) built from the real Olist items, imported as an
import job, the way the upload page does it.

    DATABASE_URL=... .venv/bin/python bench/order_import.py [--rows 100000]

The file has `--rows` lines: the Olist sample's order items (5,153 of them, grouped into orders as in
Olist, paid with the order's Olist payment type) repeated with fresh order ids until there are enough,
each copy's buyer a phone number of its own so paid orders enrol members as real ones do. Measured:

- the upload (storing the file and queueing the job: what the operator's request waits for);
- the job (`stores.tasks.run_import`, in this process: parse, check every row, write, roll up);
- running the job again (a redelivered message: must import nothing and take no time);
- uploading the same file again (every order already there: must create nothing);
- a file with one bad line at the end (nothing written, the line named).

Baseline in the same run: the same checks and writes on the largest file the old in-request upload took
(ORDER_IMPORT_MAX_ROWS was 5,000), scaled per row. Everything happens in a throw-away store that is deleted
at the end; files go to a temporary MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="opsdesk-bench-media-")
os.environ["CELERY_BROKER_URL"] = "memory://"  # the upload's task message goes nowhere: this process runs the job

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402

from stores import import_jobs  # noqa: E402
from stores.importers import import_orders  # noqa: E402
from stores.models import ImportJob, Order, Store  # noqa: E402
from stores.tasks import run_import  # noqa: E402

DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
HEADER = ["order_id", "placed_at", "paid_at", "status", "total", "traffic_source", "buyer_phone", "sku", "title",
          "quantity", "unit_price", "freight", "payment_type"]
SOURCES = ["direct", "organic_search", "paid_search", "social", "recommendation", "campaign"]


def olist_orders() -> list[tuple[str, list[dict], str]]:
    """(olist order id, its items, payment type) for every order of the items file."""
    folder = DATA / "olist-sample"
    items: dict[str, list[dict]] = defaultdict(list)
    with open(folder / "olist_order_items_dataset.csv", newline="") as f:
        for row in csv.DictReader(f):
            items[row["order_id"]].append(row)
    payments = {}
    with open(folder / "olist_order_payments_dataset.csv", newline="") as f:
        for row in csv.DictReader(f):
            payments.setdefault(row["order_id"], row["payment_type"])
    known = {"credit_card", "debit_card", "boleto", "voucher"}
    return [(oid, lines, payments.get(oid) if payments.get(oid) in known else "credit_card")
            for oid, lines in items.items()]


def order_file(rows: int) -> tuple[bytes, int]:
    """An opsdesk order CSV of `rows` lines and how many orders it holds."""
    orders = olist_orders()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    written = count = copy = 0
    while written < rows:
        for n, (oid, lines, ptype) in enumerate(orders):
            lines = lines[: rows - written]
            if not lines:
                break
            # Olist's shipping limit is a few days after the purchase: placed three days before it.
            placed = datetime.fromisoformat(lines[0]["shipping_limit_date"]) - timedelta(days=3)
            total = sum(float(x["price"]) + float(x["freight_value"]) for x in lines)
            phone = f"+5511{9_0000_0000 + (copy * len(orders) + n) % 1_0000_0000:09d}"
            for i, line in enumerate(lines):
                head = i == 0
                writer.writerow([
                    f"{oid[:12]}-{copy}",
                    f"{placed:%Y-%m-%dT%H:%M:%S}-03:00" if head else "",
                    f"{placed + timedelta(minutes=20):%Y-%m-%dT%H:%M:%S}-03:00" if head else "",
                    "delivered" if head else "", f"{total:.2f}" if head else "",
                    SOURCES[n % len(SOURCES)] if head else "", phone if head else "",
                    line["product_id"][:16], f"Olist {line['product_id'][:8]}", 1, line["price"],
                    line["freight_value"], ptype if head else "",
                ])
            written += len(lines)
            count += 1
        copy += 1
    return out.getvalue().encode(), count


def upload(store: Store, data: bytes, name: str) -> tuple[ImportJob, float]:
    started = time.perf_counter()
    job = import_jobs.start(store, None, "orders", SimpleUploadedFile(name, data, "text/csv"))
    return job, time.perf_counter() - started


def run(job: ImportJob) -> tuple[ImportJob, float]:
    started = time.perf_counter()
    run_import(job.pk)
    took = time.perf_counter() - started
    job.refresh_from_db()
    return job, took


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=5000)
    args = parser.parse_args()
    data, orders = order_file(args.rows)
    store = Store.objects.create(name="bench orders", slug="bench-order-import", country="BR",
                                 timezone="America/Sao_Paulo", currency="BRL")
    ok = True
    try:
        base_data, base_orders = order_file(args.baseline_rows)
        base_store = Store.objects.create(name="bench orders base", slug="bench-order-import-base", country="BR",
                                          timezone="America/Sao_Paulo", currency="BRL")
        started = time.perf_counter()
        import_orders(base_store, base_data)
        base_s = time.perf_counter() - started
        base_store.delete()

        job, upload_s = upload(store, data, "orders-month.csv")
        before_mb = peak_rss_mb()
        job, first_s = run(job)
        ok &= job.status == ImportJob.Status.DONE and job.created == orders
        peak_mb = peak_rss_mb()
        again_job, again_s = run(job)
        ok &= again_job.created == orders and Order.objects.filter(store=store).count() == orders
        same, _ = upload(store, data, "orders-month.csv")
        same, same_s = run(same)
        ok &= same.status == ImportJob.Status.DONE and same.created == 0 and same.duplicates == orders
        bad = data + b"BAD-1,yesterday,,,5.00,,,SKU-1,Thing,1,5.00,,\n"
        bad_job, _ = upload(store, bad, "orders-bad.csv")
        bad_job, bad_s = run(bad_job)
        ok &= bad_job.status == ImportJob.Status.FAILED and bad_job.errors[0][0] == args.rows + 2
        ok &= Order.objects.filter(store=store).count() == orders
        size_mb = len(data) / 2**20
        print(f"## order_import ({connection.vendor}, {args.rows:,} rows = {orders:,} orders, {size_mb:.1f} MB)\n")
        print(f"`.venv/bin/python bench/order_import.py --rows {args.rows}`; load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
        print("| step | s | rows/s |")
        print("| --- | ---: | ---: |")
        print(f"| upload: store the file, queue the job (the request) | {upload_s:.2f} | |")
        print(f"| job: check every row, write {orders:,} orders + members | {first_s:.1f} | "
              f"{args.rows / first_s:,.0f} |")
        print(f"| the same job again (redelivered message) | {again_s:.3f} | |")
        print(f"| the same file uploaded again (all already there) | {same_s:.1f} | {args.rows / same_s:,.0f} |")
        print(f"| one bad line at the end: refused, nothing written | {bad_s:.1f} | {args.rows / bad_s:,.0f} |")
        print(f"| baseline: `import_orders` on {args.baseline_rows:,} rows ({base_orders:,} orders), "
              f"the old in-request limit | {base_s:.1f} | {args.baseline_rows / base_s:,.0f} |")
        limit_mb = settings.ORDER_IMPORT_MAX_BYTES / 2**20
        # The job's own share: what the peak rose by while it ran (the file's bytes, built before, are not in it).
        print(f"\nPeak memory of the process {peak_mb:,.0f} MB, {peak_mb - before_mb:,.0f} MB of it added by the "
              f"job (peak RSS {before_mb:,.0f} MB before it). ORDER_IMPORT_MAX_ROWS "
              f"{settings.ORDER_IMPORT_MAX_ROWS:,}, ORDER_IMPORT_MAX_BYTES {limit_mb:g} MB.")
        print(f"Second run imported nothing again: {again_job.created == orders}; re-upload created {same.created}, "
              f"already there {same.duplicates:,}; bad line named: {bad_job.errors[:1]}")
    finally:
        store.delete()
    if not ok:
        print("CHECK FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
