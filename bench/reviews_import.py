"""Benchmark: import the real Olist reviews (optionally N copies with fresh ids) and build the report.

    DATABASE_URL=... .venv/bin/python bench/reviews_import.py [--copies N]

Baseline in the same run: pandas.read_csv of the same bytes (parsing only, nothing written).
Everything happens in one transaction that is rolled back, so the database is left as it was.
"""

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# The benchmark measures the importer on many copies of the file, not the upload page's size limits.
settings.REVIEW_IMPORT_MAX_ROWS = settings.REVIEW_IMPORT_MAX_BYTES = sys.maxsize

import pandas as pd  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from reviews.importers import import_reviews  # noqa: E402
from reviews.reports import build_report  # noqa: E402
from stores.models import Store  # noqa: E402

DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=1, help="Copies of the file, each with fresh review ids.")
    args = parser.parse_args()
    source = DATA / "olist-sample" / "olist_order_reviews_dataset.csv"
    data = source.read_bytes()
    if args.copies > 1:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(rows[0])
        for n in range(args.copies):
            writer.writerows([[f"{n}-{r[0]}", *r[1:]] for r in rows[1:]])
        data = out.getvalue().encode()

    t = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    pandas_s = time.perf_counter() - t

    with transaction.atomic():
        store = Store.objects.create(name="bench", slug="bench-reviews", country="BR", timezone="America/Sao_Paulo",
                                     currency="BRL")
        t = time.perf_counter()
        result = import_reviews(store, data, "olist")
        import_s = time.perf_counter() - t
        t = time.perf_counter()
        again = import_reviews(store, data, "olist")
        reimport_s = time.perf_counter() - t
        t = time.perf_counter()
        report = build_report(store, timezone.now().replace(year=2000), timezone.now())
        report_s = time.perf_counter() - t
        transaction.set_rollback(True)

    lines = [
        f"## reviews_import ({connection.vendor}, copies={args.copies})",
        "",
        f"`.venv/bin/python bench/reviews_import.py --copies {args.copies}`",
        "",
        "| step | rows | seconds | rows/s |",
        "| --- | ---: | ---: | ---: |",
        f"| baseline: pandas.read_csv (parse only) | {len(frame)} | {pandas_s:.2f} | {len(frame) / pandas_s:,.0f} |",
        f"| import_reviews (parse, link, write, open cases) | {result.rows} | {import_s:.2f} | "
        f"{result.rows / import_s:,.0f} |",
        f"| re-import (all already there) | {again.rows} | {reimport_s:.2f} | {again.rows / reimport_s:,.0f} |",
        f"| build_report over all of it | {report.totals['reviews']} | {report_s:.2f} | |",
        "",
        f"created {result.created}, cases {result.cases_opened}, repeated ids {len(result.duplicates_in_file)}; "
        f"re-import created {again.created}",
    ]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "reviews_import.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
