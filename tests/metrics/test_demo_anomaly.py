"""The demo's injected anomaly (paid search collapses yesterday in the first store) is found and explained."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from metrics.models import Anomaly
from metrics.rollup import backfill
from stores import demo

# A frozen clock (every seeder reads it): the demo's dates, weekdays and history are the same on every run.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 26, 6, 30, tzinfo=UTC), tick=False):
        yield


def test_detector_finds_demo_paid_search_collapse_and_names_paid_search():
    ctx = demo.seed(days=63)
    first = ctx.stores[0]
    day = ctx.anomaly_day[first.slug]
    backfill(day - timedelta(days=62), day, stores=[first], detect=False)
    from metrics.anomaly import detect_anomalies

    found = {(a.metric, a.dimension_value): a for a in detect_anomalies(first, day)}
    for a in found.values():
        print(a.metric, a.dimension_value, a.score, a.explanation)
    assert ("gmv", "paid_search") in found
    assert "Paid-search GMV" in found[("gmv", "paid_search")].explanation
    gmv = found[("gmv", "")]
    assert gmv.direction == "down"
    assert gmv.root_cause["top_dimension"] == "traffic_source"
    assert gmv.root_cause["top_value"] == "paid_search"
    assert "paid-search" in gmv.explanation
    detect_anomalies(first, day)
    assert Anomaly.objects.filter(store=first, day=day, metric="gmv", dimension="").count() == 1
