"""A store's monthly ad budget (all plans together) and its pacing on the ads page, with a frozen clock."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.ads_pacing import store_month_pacing
from campaigns.models import StoreAdBudget
from tests.factories import MembershipFactory, UserFactory

from .conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory, spend_daily, text

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC on 25 Nov is 14:00 there, 24 whole days of November gone.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
ADS = "/campaigns/ads/"


@pytest.fixture
def two_plans(store_a, search_plan):
    """100 + 50 a day on 1–24 Nov (3,600.00), October's spend (not this month's) and 80.00 so far today."""
    display = AdPlanFactory(store=store_a, name="Display")
    spend_daily(search_plan, "100.00", date(2026, 11, 1), date(2026, 11, 24))
    spend_daily(display, "50.00", date(2026, 11, 1), date(2026, 11, 24))
    AdDailyFactory(plan=search_plan, date=date(2026, 10, 31), spend=Decimal("999.00"))
    SnapshotFactory(plan=search_plan, ts=NOW - timedelta(hours=1), spend_today=Decimal("80.00"))
    return search_plan, display


@time_machine.travel(NOW, tick=False)
def test_store_month_sums_every_plan_and_prorates_the_budget_by_the_days_gone(store_a, two_plans):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("6000.00"))

    month = store_month_pacing(store_a)

    assert month.spend == Decimal("3680.00")  # 24 days × 150 + today's 80 so far
    assert month.expected == Decimal("4800.00")  # 6,000 × 24 / 30
    assert month.projected == Decimal("4500.00")  # 150 a day over the whole days gone × 30, today not counted
    assert (month.verdict, month.under_by) == ("under", Decimal("1500.00"))


@time_machine.travel(NOW, tick=False)
def test_ads_page_shows_the_store_month_against_its_budget_with_an_overspend_verdict(client_a, store_a, two_plans):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("4000.00"))

    page = text(client_a.get(ADS + "?store=store-a"))

    assert ("November 2026: spent 3,680.00 CNY of 4,000.00 CNY · 3,200.00 CNY expected by today (24 of 30 days "
            "gone) · on pace for 4,500.00 CNY at the month's end over budget on pace to overspend by 500.00 CNY"
            ) in page


@time_machine.travel(NOW, tick=False)
def test_a_month_without_a_budget_says_so(client_a, store_a, two_plans):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 10, 1), amount=Decimal("4000.00"))

    page = text(client_a.get(ADS))

    assert "November 2026: spent 3,680.00 CNY · no ad budget set for November 2026" in page
    assert "expected by today" not in page


@time_machine.travel(NOW, tick=False)
def test_an_operator_sets_and_then_corrects_the_month_budget(client_a, store_a, two_plans):
    form = {"store": store_a.pk, "month": "2026-11", "amount": "5000"}
    assert client_a.post(ADS + "?store=store-a", form).status_code == 302
    assert client_a.post(ADS, {**form, "amount": "5500.50"}).status_code == 302

    budget = StoreAdBudget.objects.get(store=store_a)
    assert (budget.month, budget.amount, budget.updated_by.username) == (date(2026, 11, 1), Decimal("5500.50"),
                                                                          "op-a")
    assert "spent 3,680.00 CNY of 5,500.50 CNY" in text(client_a.get(ADS))


@time_machine.travel(NOW, tick=False)
def test_a_manager_sets_next_months_budget_before_it_begins(client, store_a, manager_a):
    client.force_login(manager_a)

    assert client.post(ADS, {"store": store_a.pk, "month": "2026-12", "amount": "9000.00"}).status_code == 302

    assert StoreAdBudget.objects.get(store=store_a).month == date(2026, 12, 1)
    assert "no ad budget set for November 2026" in text(client.get(ADS))


@pytest.mark.parametrize(("amount", "error"), [
    ("-5", "The budget cannot be negative."),
    ("five thousand", "Enter the budget as a number, like 12000.00."),
    ("NaN", "Enter the budget as a number, like 12000.00."),
    ("12.345", "Enter the budget to the cent at most (2 decimal places)."),
    ("1e15", "Too large: at most 999,999,999,999.99."),
    ("", "This field is required."),
])
@time_machine.travel(NOW, tick=False)
def test_a_bad_budget_is_refused_beside_the_field_and_nothing_is_saved(client_a, store_a, amount, error):
    response = client_a.post(ADS, {"store": store_a.pk, "month": "2026-11", "amount": amount})

    assert response.status_code == 400
    assert error in text(response)
    assert f'value="{amount}"' in response.content.decode()  # what was typed is kept
    assert not StoreAdBudget.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_month_other_than_this_or_next_is_refused(client_a, store_a):
    response = client_a.post(ADS, {"store": store_a.pk, "month": "2026-10", "amount": "100"})

    assert response.status_code == 400
    assert "Set the budget of November 2026 or December 2026" in text(response)
    assert not StoreAdBudget.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_another_stores_budget_cannot_be_set(client_a, store_b):
    response = client_a.post(ADS, {"store": store_b.pk, "month": "2026-11", "amount": "100"})

    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert not StoreAdBudget.objects.exists()


def test_the_month_is_the_stores_local_month_on_either_side_of_its_midnight(client, store_b):
    """Los Angeles: 23:30 on 30 Nov is still November (UTC says December); 00:30 on 1 Dec is December."""
    user = MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user
    client.force_login(user)
    plan = AdPlanFactory(store=store_b, name="LA search")
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 29))
    StoreAdBudget.objects.create(store=store_b, month=date(2026, 11, 1), amount=Decimal("3000.00"))
    cur = store_b.currency

    with time_machine.travel(datetime(2026, 12, 1, 7, 30, tzinfo=UTC), tick=False):  # 23:30 on 30 Nov in LA
        month = store_month_pacing(store_b)
        assert (month.month_start, month.days_elapsed, month.budget) == (date(2026, 11, 1), 29,
                                                                        Decimal("3000.00"))
        assert (month.projected, month.verdict) == (Decimal("3000.00"), "under")
        assert f"November 2026: spent 2,900.00 {cur} of 3,000.00 {cur}" in text(client.get(ADS))

    with time_machine.travel(datetime(2026, 12, 1, 8, 30, tzinfo=UTC), tick=False):  # 00:30 on 1 Dec in LA
        month = store_month_pacing(store_b)
        assert (month.month_start, month.days_elapsed, month.spend, month.budget) == (date(2026, 12, 1), 0,
                                                                                     Decimal("0.00"), None)
        page = text(client.get(ADS))
        assert f"December 2026: spent 0.00 {cur} · no ad budget set for December 2026" in page
        assert client.post(ADS, {"store": store_b.pk, "month": "2026-12", "amount": "3100"}).status_code == 302
        page = text(client.get(ADS))
        assert "too early to project (no whole day gone yet)" in page  # the 1st: no whole day to go by


def test_on_the_first_a_month_already_over_its_budget_says_so(store_a, search_plan):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 12, 1), amount=Decimal("50.00"))
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), tick=False):  # 10:00 on 1 Dec in Shanghai
        SnapshotFactory(plan=search_plan, ts=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), spend_today=Decimal("80.00"))
        month = store_month_pacing(store_a)
    assert (month.projected, month.verdict, month.over_by) == (None, "over", Decimal("30.00"))


def test_the_budget_is_one_a_store_month_and_never_negative_in_the_database(store_a):
    from django.db import IntegrityError, transaction

    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("1.00"))
    for bad in ({"month": date(2026, 11, 1), "amount": Decimal("2.00")},
                {"month": date(2026, 12, 1), "amount": Decimal("-1.00")},
                {"month": date(2026, 12, 2), "amount": Decimal("1.00")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StoreAdBudget.objects.create(store=store_a, **bad)


@time_machine.travel(NOW, tick=False)
def test_the_desk_warns_of_a_store_month_on_pace_to_overspend_beside_the_plan_alerts(client_a, store_a, two_plans):
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("4000.00"))

    page = text(client_a.get("/"))

    assert "Ad budget of November 2026 on pace to overspend: 4,500.00 of 4,000.00 CNY 1" in page
    assert 'href="/campaigns/ads/?store=store-a#ad-budget"' in client_a.get("/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_desk_says_nothing_of_a_store_month_under_its_budget_or_without_one(client_a, store_a, two_plans):
    assert "Ad budget of" not in text(client_a.get("/"))  # no budget set

    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("6000.00"))

    assert "Ad budget of" not in text(client_a.get("/"))
