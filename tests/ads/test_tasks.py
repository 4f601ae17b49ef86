"""Ending finished plans follows each store's local day and is safe to run twice."""

from datetime import UTC, date, datetime

import pytest

from campaigns.ads_schedules import SCHEDULES
from campaigns.ads_tasks import end_finished_plans
from campaigns.models import AdPlanStatus

from .conftest import AdPlanFactory

pytestmark = pytest.mark.django_db


def test_plans_end_after_their_stores_midnight(store_a, store_b):
    # 2026-11-25 17:00 UTC: already the 26th in Shanghai, still the 25th in Los Angeles.
    now = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    a = AdPlanFactory(store=store_a, end_date=date(2026, 11, 25))
    b = AdPlanFactory(store=store_b, end_date=date(2026, 11, 25))
    draft = AdPlanFactory(store=store_a, end_date=date(2026, 11, 1), status=AdPlanStatus.DRAFT)
    assert end_finished_plans(now) == 1
    assert end_finished_plans(now) == 0
    for plan in (a, b, draft):
        plan.refresh_from_db()
    assert (a.status, b.status, draft.status) == (AdPlanStatus.ENDED, AdPlanStatus.ACTIVE, AdPlanStatus.DRAFT)


def test_schedule_names_the_registered_task():
    from campaigns.ads_tasks import end_finished_plans_task, send_pacing_alerts_task

    assert [s.task for s in SCHEDULES] == [end_finished_plans_task.name, send_pacing_alerts_task.name]
