"""A plan paused for part of the month and running again is judged on the days it ran: its average daily spend
over those days, projected over the days it ran and the days left, on the desk, the ads pages and the morning
email alike (frozen clock). These plans have no status history (made before the record began): the days they ran
are their reported days with spend or impressions, and days without any before a later day with some are the
pause (test_status_history.py has plans whose history says so)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.ads_pacing import month_alerts, month_pacing, store_month_pacing
from campaigns.models import AdDailyPerformance, StoreAdBudget

from .conftest import AdDailyFactory, SnapshotFactory, spend_daily, text

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC on 25 Nov is 14:00 there, 24 whole days of November gone, 6 left
# (today included). The plan's daily budget is 240.00: 7,200.00 for November.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ADS = "/campaigns/ads/"


def paused_a_week(plan, rate: str, reported_while_paused: bool = True):
    """`rate` a day on 1–10 Nov, nothing on 11–17 Nov (paused: stock ran out), `rate` again on 18–24 Nov; 100.00 so
    far today. The paused days are reported as zeros, or not at all (a hole between two reports)."""
    spend_daily(plan, rate, date(2026, 11, 1), date(2026, 11, 10))
    if reported_while_paused:
        for day in range(11, 18):
            AdDailyFactory(plan=plan, date=date(2026, 11, day), impressions=0, clicks=0, spend=Decimal("0.00"),
                           orders=0, sales=Decimal("0.00"))
    spend_daily(plan, rate, date(2026, 11, 18), date(2026, 11, 24))
    SnapshotFactory(plan=plan, ts=NOW - timedelta(hours=1), spend_today=Decimal("100.00"))


@pytest.fixture
def budget_a(store_a):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("7200.00"))
    return store_a


@pytest.mark.parametrize("reported_while_paused", [True, False], ids=["zeros", "no-rows"])
@time_machine.travel(NOW, tick=False)
def test_a_plan_paused_a_week_at_its_old_rate_again_is_not_underspending(search_plan, reported_while_paused):
    paused_a_week(search_plan, "230.00", reported_while_paused)

    month = month_pacing(search_plan, TODAY)

    # 230.00 over the 17 days it ran and the 6 left; the calendar average (3,910.00 / 24 × 30) would say 4,887.50,
    # 68 % of the budget: underspending.
    assert month.projected == Decimal("230.00") * (17 + 6) == Decimal("5290.00")
    assert (month.paused_days, month.verdict) == (7, "under")


@time_machine.travel(NOW, tick=False)
def test_the_desk_and_the_plan_page_agree_the_paused_plan_is_on_pace(client_a, budget_a, search_plan):
    paused_a_week(search_plan, "230.00")

    desk = text(client_a.get("/"))
    plan_page = text(client_a.get(f"{ADS}{search_plan.pk}/"))
    ads = text(client_a.get(ADS + "?store=store-a"))

    assert store_month_pacing(budget_a).projected == Decimal("5290.00")
    assert "on pace to underspend" not in desk
    assert ("This month 3,910.00 CNY of 7,200.00 CNY · on pace for 5,290.00 CNY (at its rate of the days it ran; "
            "7 days without spend before it ran again left out)") in plan_page
    assert "underspending" not in plan_page
    assert "on pace for 5,290.00 CNY at the month's end under budget" in ads


@time_machine.travel(NOW, tick=False)
def test_a_paused_week_then_slow_spending_is_still_underspending_at_its_running_rate(client_a, budget_a, search_plan):
    paused_a_week(search_plan, "120.00")

    month = month_pacing(search_plan, TODAY)

    assert month.projected == Decimal("120.00") * (17 + 6) == Decimal("2760.00")  # not 2,040.00 / 24 × 30
    assert month.verdict == "underspend"
    desk = text(client_a.get("/"))
    assert "Ad budget of November 2026 on pace to underspend: 2,760.00 of 7,200.00 CNY (38 %)" in desk
    assert ("on pace for 2,760.00 CNY (at its rate of the days it ran; 7 days without spend before it ran again left "
            "out) underspending only 38 % of the budget") in text(client_a.get(f"{ADS}{search_plan.pk}/"))


@time_machine.travel(NOW, tick=False)
def test_a_plan_spending_slowly_every_day_is_still_underspending(client_a, budget_a, search_plan):
    spend_daily(search_plan, "120.00", date(2026, 11, 1), date(2026, 11, 24))

    month = month_pacing(search_plan, TODAY)

    assert (month.projected, month.paused_days, month.verdict) == (Decimal("3600.00"), 0, "underspend")
    desk = text(client_a.get("/"))
    assert "Ad budget of November 2026 on pace to underspend: 3,600.00 of 7,200.00 CNY (50 %)" in desk


@time_machine.travel(NOW, tick=False)
def test_an_active_plan_quiet_since_its_last_spend_is_stalled_not_paused(client_a, budget_a, search_plan):
    """Days without spend after its last day with some still count as days of 0: it may be starved or disapproved."""
    spend_daily(search_plan, "230.00", date(2026, 11, 1), date(2026, 11, 24))
    AdDailyPerformance.objects.filter(plan=search_plan, date__gt=date(2026, 11, 10)).update(spend=0, impressions=0,
                                                                                            clicks=0)

    month = month_pacing(search_plan, TODAY)

    assert (month.paused_days, month.projected, month.verdict) == (0, Decimal("2875.00"), "underspend")
    assert "Ad budget of November 2026 on pace to underspend" in text(client_a.get("/"))


@time_machine.travel(NOW, tick=False)
def test_three_days_at_full_speed_after_a_pause_are_not_on_pace_to_overspend(search_plan):
    """Its 240.00 a day is projected over its 3 days and the 6 left (2,160.00), not over the month's 30 days (7,200.00,
    past what its total budget has left)."""
    search_plan.total_budget = Decimal("3000.00")
    search_plan.save()
    for day in range(1, 22):
        AdDailyFactory(plan=search_plan, date=date(2026, 11, day), impressions=0, clicks=0, spend=Decimal("0.00"),
                       orders=0, sales=Decimal("0.00"))
    spend_daily(search_plan, "240.00", date(2026, 11, 22), date(2026, 11, 24))

    month = month_pacing(search_plan, TODAY)

    assert (month.budget, month.projected) == (Decimal("3000.00"), Decimal("2160.00"))
    assert month.verdict == "under"


def test_the_morning_email_judges_the_paused_plan_the_same(budget_a, search_plan):
    """Through the complete 24 Nov (the email of 25 Nov): the day reported is among the days it ran."""
    paused_a_week(search_plan, "230.00")

    with time_machine.travel(NOW, tick=False):
        alerts = month_alerts(budget_a, date(2026, 11, 24))

    assert not alerts
