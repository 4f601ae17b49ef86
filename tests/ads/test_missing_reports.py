"""A plan whose daily reports stop before yesterday (imported a day or two late) is missing reports, not
underspending: its month is projected from the reported days, and the desk and its page say to import them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from campaigns.ads_pacing import month_pacing, store_month_pacing
from campaigns.models import AdPlan, AdPlanStatus, StoreAdBudget

from .conftest import spend_daily, text

pytestmark = pytest.mark.django_db

# 14:00 on Thu 26 Nov in Shanghai (store A): yesterday is 25 Nov; the reports stop on 23 Nov.
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
MISSING = "Ad reports missing for Longjing search since Tue 24 Nov"


@pytest.fixture
def late_plan(store_a, search_plan):
    """100.00 a day reported for 1–23 Nov, 24–25 Nov not imported yet. Daily budget 135.00: 4,050.00 for November.
    From the reported days it heads for 3,000.00 (74 %, on pace); counting 24–25 Nov as 0 it would head for
    2,760.00 (68 %, underspending). The store's 4,000.00 likewise (75 % against 69 %)."""
    search_plan.daily_budget = Decimal("135.00")
    search_plan.created_at = datetime(2026, 10, 20, tzinfo=UTC)  # watched all month (created_at is auto_now_add)
    AdPlan.objects.bulk_update([search_plan], ["daily_budget", "created_at"])
    spend_daily(search_plan, "100.00", date(2026, 11, 1), date(2026, 11, 23))
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("4000.00"))
    return search_plan


@time_machine.travel(NOW, tick=False)
def test_a_plan_whose_reports_stop_is_missing_reports_not_underspending(client_a, store_a, late_plan):
    month = month_pacing(late_plan, date(2026, 11, 26))
    store_month = store_month_pacing(store_a)
    desk = text(client_a.get("/"))
    page = text(client_a.get(late_plan.get_absolute_url()))

    assert (month.projected, month.verdict, month.missing_since) == (Decimal("3000.00"), "under", date(2026, 11, 24))
    assert (store_month.projected, store_month.verdict) == (Decimal("3000.00"), "under")
    assert f"{MISSING} 1" in desk and "underspend" not in desk
    assert 'href="/campaigns/ads/import/"' in client_a.get("/").content.decode()
    assert "missing reports No ad report since Tue 24 Nov" in page and "underspending" not in page
    ads = text(client_a.get("/campaigns/ads/?store=store-a"))
    assert "missing reports Longjing search: no ad report since Tue 24 Nov, projected from its reported days" in ads
    assert "on pace for 3,000.00 CNY at the month's end" in ads and "underspending" not in ads


@time_machine.travel(NOW, tick=False)
def test_once_the_late_reports_arrive_with_low_spend_the_month_is_underspending(client_a, store_a, late_plan):
    spend_daily(late_plan, "0.00", date(2026, 11, 24), date(2026, 11, 25))

    month = month_pacing(late_plan, date(2026, 11, 26))
    desk = text(client_a.get("/"))

    assert (month.projected, month.verdict, month.missing_since) == (Decimal("2760.00"), "underspend", None)
    assert "Ad budget of November 2026 on pace to underspend: 2,760.00 of 4,000.00 CNY (69 %) 1" in desk
    assert "Ad reports missing" not in desk
    assert "underspending only 68 % of the budget" in text(client_a.get(late_plan.get_absolute_url()))


@time_machine.travel(NOW, tick=False)
def test_a_plan_reported_through_yesterday_is_judged_as_before(client_a, store_a, late_plan):
    spend_daily(late_plan, "100.00", date(2026, 11, 24), date(2026, 11, 25))

    month = month_pacing(late_plan, date(2026, 11, 26))

    assert (month.projected, month.verdict, month.missing_since) == (Decimal("3000.00"), "under", None)
    assert "Ad reports missing" not in text(client_a.get("/"))


@time_machine.travel(NOW, tick=False)
def test_a_paused_plan_gets_no_missing_reports_item(client_a, store_a, late_plan):
    late_plan.status = AdPlanStatus.PAUSED
    late_plan.save()

    assert month_pacing(late_plan, date(2026, 11, 26)).missing_since is None
    assert "Ad reports missing" not in text(client_a.get("/"))
    assert "missing reports" not in text(client_a.get(late_plan.get_absolute_url()))
