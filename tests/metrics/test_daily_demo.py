"""The daily-tracking demo seeder rolls up the demo history and flags yesterday's paid-search collapse."""

import pytest

from metrics import daily_demo
from metrics.models import Anomaly, DailyMetric
from stores import demo

pytestmark = pytest.mark.django_db


def test_daily_demo_rolls_up_history_and_flags_paid_search():
    ctx = demo.seed(days=63)
    daily_demo.seed(ctx)
    first = ctx.stores[0]
    day = ctx.anomaly_day[first.slug]
    assert DailyMetric.objects.filter(store=first, metric="orders", dimension="").count() == 63
    assert Anomaly.objects.filter(store=first, day=day, metric="gmv", dimension="traffic_source",
                                  dimension_value="paid_search").exists()
