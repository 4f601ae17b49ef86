"""Facts recorded after the night (yesterday's order export, a corrected ad report, a penalty notice) count:
the rolled-up day is rolled up and judged again, and a day not rolled up yet is left to the nightly job."""

from datetime import date, timedelta

import pytest

from metrics.models import Anomaly, DailyMetric
from metrics.rollup import refresh_days, roll_and_judge
from tests.factories import OrderFactory
from tests.metrics.test_anomaly import seed_daily

DAY = date(2026, 5, 6)  # a Wednesday

pytestmark = pytest.mark.django_db


def gmv(store, day):
    return DailyMetric.objects.get(store=store, day=day, metric="gmv", dimension="").value


def test_an_export_imported_the_morning_after_replaces_the_empty_day_and_its_false_alarm(store_a):
    seed_daily(store_a, DAY, 90)
    usual = gmv(store_a, DAY)
    roll_and_judge([(store_a, DAY)])  # the night ran before the day's orders were exported
    assert gmv(store_a, DAY) == 0
    assert Anomaly.objects.filter(store=store_a, day=DAY, metric="gmv", direction="down").exists()

    start, _ = store_a.day_bounds(DAY)
    OrderFactory(store=store_a, placed_at=start + timedelta(hours=9), total=usual)
    assert refresh_days(store_a, [DAY, DAY + timedelta(days=1)]) == [DAY]

    assert gmv(store_a, DAY) == usual
    assert not Anomaly.objects.filter(store=store_a, day=DAY, metric="gmv", dimension="").exists()
    assert not DailyMetric.objects.filter(store=store_a, day=DAY + timedelta(days=1)).exists()  # the night's job
