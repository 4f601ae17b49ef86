"""A month on pace to leave much of its ad budget unspent (starved or stalled campaigns): the same rule as
overspend (`MonthPacing.alert`) puts it on the desk and the ads pages, with a frozen clock."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.ads_pacing import month_pacing, store_month_pacing
from campaigns.models import AdPlanStatus, StoreAdBudget

from .conftest import AdPlanFactory, SnapshotFactory, spend_daily, text

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC on 25 Nov is 14:00 there, 24 whole days of November gone.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
ADS = "/campaigns/ads/"


@pytest.fixture
def starved_store(store_a, search_plan):
    """140.00 a day on 1–24 Nov and 80.00 so far today against 10,000.00 for November: heads for 4,200.00 (42 %)."""
    spend_daily(search_plan, "140.00", date(2026, 11, 1), date(2026, 11, 24))
    SnapshotFactory(plan=search_plan, ts=NOW - timedelta(hours=1), spend_today=Decimal("80.00"))
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("10000.00"))
    return store_a


@time_machine.travel(NOW, tick=False)
def test_the_desk_warns_of_a_store_month_on_pace_to_underspend(client_a, starved_store):
    page = text(client_a.get("/"))

    assert "Ad budget of November 2026 on pace to underspend: 4,200.00 of 10,000.00 CNY (42 %) 1" in page
    assert "on pace to overspend: " not in page
    assert 'href="/campaigns/ads/?store=store-a#ad-budget"' in client_a.get("/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_ads_page_says_the_store_month_is_underspending_and_by_how_much(client_a, starved_store):
    page = text(client_a.get(ADS + "?store=store-a"))

    assert ("November 2026: spent 3,440.00 CNY of 10,000.00 CNY · 8,000.00 CNY expected by today (24 of 30 days "
            "gone) · on pace for 4,200.00 CNY at the month's end underspending on pace to use only 42 % of the "
            "budget, leaving 5,800.00 CNY unspent") in page


@time_machine.travel(NOW, tick=False)
def test_a_month_that_uses_most_of_its_budget_is_not_underspending(client_a, starved_store, settings):
    settings.AD_UNDERSPEND_SHARE = 0.4  # 42 % is then enough

    assert store_month_pacing(starved_store).verdict == "under"
    assert "Ad budget of" not in text(client_a.get("/"))
    assert "under budget on pace to end 5,800.00 CNY under" in text(client_a.get(ADS))


@pytest.mark.parametrize(("utc_day", "days_gone", "flagged"), [(5, 4, False), (6, 5, True)])
def test_a_months_first_days_do_not_cry_underspend(client_a, store_a, search_plan, utc_day, days_gone, flagged):
    """Four whole days are too few to project a starved month from; from the fifth the same pace is flagged."""
    spend_daily(search_plan, "140.00", date(2026, 11, 1), date(2026, 11, utc_day - 1))
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("10000.00"))

    with time_machine.travel(datetime(2026, 11, utc_day, 6, 0, tzinfo=UTC), tick=False):
        month = store_month_pacing(store_a)
        desk = text(client_a.get("/"))

    assert (month.days_elapsed, month.projected) == (days_gone, Decimal("4200.00"))
    assert (month.verdict == "underspend") is flagged
    assert ("Ad budget of November 2026 on pace to underspend: 4,200.00 of 10,000.00 CNY (42 %)" in desk) is flagged


@time_machine.travel(NOW, tick=False)
def test_a_store_month_without_a_budget_is_never_underspending(client_a, store_a, search_plan):
    spend_daily(search_plan, "140.00", date(2026, 11, 1), date(2026, 11, 24))

    assert store_month_pacing(store_a).alert is False
    assert "Ad budget of" not in text(client_a.get("/"))


@time_machine.travel(NOW, tick=False)
def test_a_plans_page_says_its_month_is_underspending(client_a, store_a):
    plan = AdPlanFactory(store=store_a, name="Display", daily_budget=Decimal("300.00"))  # 9,000.00 for November
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 24))  # heads for 3,000.00: 33 %

    page = text(client_a.get(plan.get_absolute_url()))

    assert ("This month 2,400.00 CNY of 9,000.00 CNY · on pace for 3,000.00 CNY underspending only 33 % of the "
            "budget") in page


@pytest.mark.parametrize("status", [AdPlanStatus.PAUSED, AdPlanStatus.ENDED, AdPlanStatus.DRAFT])
@time_machine.travel(NOW, tick=False)
def test_a_plan_that_is_not_running_is_not_underspending(client_a, store_a, status):
    plan = AdPlanFactory(store=store_a, name="Display", daily_budget=Decimal("300.00"), status=status)
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 24))

    month = month_pacing(plan, date(2026, 11, 25))

    assert (month.projected, month.budget, month.verdict, month.alert) == (
        Decimal("3000.00"), Decimal("9000.00"), "under", False)
    assert "underspending" not in text(client_a.get(plan.get_absolute_url()))


@time_machine.travel(NOW, tick=False)
def test_a_plan_whose_dates_ended_this_month_is_not_underspending_the_days_it_does_not_run(store_a):
    """Ended on 20 Nov: its month is its 20 days (6,000.00), spent at 100.00 a day; nothing is left to spend on."""
    plan = AdPlanFactory(store=store_a, daily_budget=Decimal("300.00"), end_date=date(2026, 11, 20))
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 20))

    month = month_pacing(plan, date(2026, 11, 25))

    assert (month.budget, month.projected, month.days_left, month.alert) == (
        Decimal("6000.00"), Decimal("2000.00"), 0, False)


@time_machine.travel(NOW, tick=False)
def test_a_month_on_pace_to_overspend_is_still_over_not_underspending(client_a, starved_store):
    StoreAdBudget.objects.filter(store=starved_store).update(amount=Decimal("4000.00"))

    assert store_month_pacing(starved_store).verdict == "over"
    assert "Ad budget of November 2026 on pace to overspend: 4,200.00 of 4,000.00 CNY 1" in text(client_a.get("/"))
