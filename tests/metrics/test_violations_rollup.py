"""A violation entered or imported for a day that is already rolled up updates that day's numbers at once;
a day the nightly job has not reached is left to it."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse

from metrics.models import DailyMetric
from metrics.rollup import rollup_day
from stores.violations_import import import_violations
from tests.factories import ViolationFactory

pytestmark = pytest.mark.django_db


def day_value(store, day, metric):
    return DailyMetric.objects.filter(store=store, day=day, metric=metric, dimension="").values_list(
        "value", flat=True).first()


def test_entering_a_violation_for_yesterday_after_the_rollup_updates_yesterdays_numbers(client_a, store_a):
    yesterday = store_a.today() - timedelta(days=1)
    ViolationFactory(store=store_a, occurred_at=datetime.combine(yesterday, time(9), tzinfo=store_a.zone), points=2)
    rollup_day(store_a, yesterday)
    client_a.post(reverse("metrics:violation_entry", args=[store_a.slug]), {
        "external_id": "N-1", "kind": "Slow reply", "occurred_at": f"{yesterday}T23:30", "points": 3,
        "amount": "0", "status": "open", "description": ""})
    assert day_value(store_a, yesterday, "new_violations") == 2
    assert day_value(store_a, yesterday, "violation_points") == 5


def test_importing_violations_refreshes_only_the_rolled_up_days_in_store_time(store_a):
    yesterday = store_a.today() - timedelta(days=1)
    earlier = yesterday - timedelta(days=1)
    rollup_day(store_a, yesterday)
    # 23:30 in Shanghai is 15:30 UTC: yesterday in the store, whatever the server zone.
    result = import_violations(store_a, "external_id,kind,occurred_at,points,amount\n"
                                        f"V-1,late,{yesterday} 23:30,4,10\n"
                                        f"V-2,late,{earlier} 12:00,1,0\n")
    assert result.refreshed == [yesterday]
    assert day_value(store_a, yesterday, "new_violations") == 1
    assert day_value(store_a, yesterday, "violation_points") == 4
    assert not DailyMetric.objects.filter(store=store_a, day=earlier).exists()  # left to the nightly job


def test_moving_a_record_to_another_day_refreshes_the_day_it_left(store_a):
    yesterday = store_a.today() - timedelta(days=1)
    earlier = yesterday - timedelta(days=1)
    header = "external_id,kind,occurred_at,points,amount\n"
    import_violations(store_a, header + f"V-1,late,{earlier} 12:00,4,10\n")
    rollup_day(store_a, earlier)
    assert day_value(store_a, earlier, "new_violations") == 1
    import_violations(store_a, header + f"V-1,late,{yesterday} 12:00,4,10\n")
    assert day_value(store_a, earlier, "new_violations") == 0
