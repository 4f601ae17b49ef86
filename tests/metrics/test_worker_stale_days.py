"""A late order reaches a real worker: the commit that marked its rolled-up day has the day rebuilt there."""

from datetime import datetime, time, timedelta

import pytest

from metrics.ingest import ingest_events
from metrics.models import DailyMetric, StaleDay
from metrics.rollup import rollup_day
from tests.factories import ProductFactory, StoreFactory
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_a_late_api_order_is_counted_in_its_rolled_up_day_by_the_worker(celery_worker):
    # The worker runs on the real clock, so the day is the store's real yesterday.
    store = StoreFactory(timezone="Asia/Shanghai", country="CN", currency="CNY")
    ProductFactory(store=store, sku="MUG-1")
    yesterday = store.today() - timedelta(days=1)
    rollup_day(store, yesterday)
    paid_at = datetime.combine(yesterday, time(10, 0), tzinfo=store.zone).isoformat()
    ingest_events(
        store,
        [
            {
                "id": "o-1",
                "type": "order_paid",
                "ts": paid_at,
                "order_id": "A1",
                "total": "50.00",
                "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "50.00"}],
            }
        ],
    )

    def gmv():
        return DailyMetric.objects.get(store=store, day=yesterday, metric="gmv", dimension="").value

    wait_for(lambda: gmv() == 50, timeout=60)
    assert not StaleDay.objects.filter(store=store).exists()  # removed in the rebuild's transaction
    assert "metrics.tasks.refresh_stale_days" in celery_worker.log()
