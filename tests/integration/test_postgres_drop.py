"""Postgres drops the importer's connection mid-import: the import is rolled back whole, and a retry succeeds.

The import runs as `manage.py import_csv` in its own process (as an operator would run it); the test
watches pg_stat_activity for that process's transaction to start writing, then terminates its backend.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.db import connection

from stores.models import Order, OrderLine
from tests.factories import StoreFactory
from tests.worker import ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 2500


def write_orders(path, n: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "placed_at", "paid_at", "total", "sku", "title", "quantity", "unit_price",
                         "payment_type", "traffic_source"])
        for i in range(n):
            writer.writerow([f"F{i}", "2026-11-20T10:00:00+00:00", "2026-11-20T10:01:00+00:00", "12.50",
                             f"SKU-{i % 20}", "Tea", 1, "12.50", "credit_card", "direct"])


def database_url(app_name: str) -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={quote(app_name)}")


def start_import(path, slug: str, app_name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(app_name)}
    return subprocess.Popen([sys.executable, "manage.py", "import_csv", "orders", str(path), "--store", slug],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def writing_backend(app_name: str) -> int | None:
    """The importer's backend pid once its transaction has written something (it holds a transaction id)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND backend_xid IS NOT NULL",
                       [app_name])
        row = cursor.fetchone()
    return row[0] if row else None


def test_import_killed_mid_way_leaves_nothing_and_a_retry_imports_everything_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk")
    store = StoreFactory(slug="fault-store", currency="USD")
    path = tmp_path / "orders.csv"
    write_orders(path, ORDERS)

    importer = start_import(path, store.slug, "opsdesk-fault-import")
    pid = wait_for(lambda: writing_backend("opsdesk-fault-import") or importer.poll() is not None, timeout=120)
    assert pid is not True, "the import finished before the test could cut its connection"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    _, err = importer.communicate(timeout=120)
    assert importer.returncode != 0
    assert "terminat" in err.lower() or "connection" in err.lower(), err[-2000:]
    assert Order.objects.filter(store=store).count() == 0
    assert OrderLine.objects.filter(order__store=store).count() == 0

    retry = start_import(path, store.slug, "opsdesk-fault-retry")
    out, err = retry.communicate(timeout=300)
    assert retry.returncode == 0, err[-2000:]
    assert Order.objects.filter(store=store).count() == ORDERS
    assert OrderLine.objects.filter(order__store=store).count() == ORDERS
