"""Two imports of the same batch at the same moment (Postgres): one writes, the other adds nothing."""

import threading

import pytest
from django.db import connection, connections

from reviews.importers import import_reviews
from reviews.models import Review, ReviewCase
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_imports_of_one_batch_write_each_review_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for real concurrent transactions")
    store = StoreFactory()
    items = [{"id": f"c{n}", "rating": 1 if n % 10 == 0 else 5, "created_at": "2026-02-01T10:00:00Z"}
             for n in range(300)]
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(import_reviews(store, items))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure of either import
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert failures == []
    assert sorted(r.created for r in results) == [0, 300]
    assert Review.objects.filter(store=store).count() == 300
    assert ReviewCase.objects.filter(store=store).count() == 30
