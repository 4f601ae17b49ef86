"""Ad plan status history: every status change is recorded (who, when), shown on the plan page, and pacing reads
it: days a plan was paused all day are neither days it should have spent on nor days of its month's budget, and a
plan resumed today is not stalled for the week it was paused (frozen clock)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from campaigns.ads_pacing import month_pacing, plan_pacing
from campaigns.ads_tasks import end_finished_plans
from campaigns.models import AdPlanStatus, AdPlanStatusChange, StatusSource

from .conftest import AdPlanFactory, SnapshotFactory, spend_daily, text

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC on 25 Nov is 14:00 there, 24 whole days of November gone.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ADS = "/campaigns/ads/"


def shanghai(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_fixed_timezone(8 * 60))


@pytest.fixture
def plan(store_a):
    """Active since October, its history recorded from its creation."""
    with time_machine.travel(shanghai(date(2026, 10, 20), 9), tick=False):
        plan = AdPlanFactory(store=store_a, name="Longjing search")
        AdPlanStatusChange.record(plan, StatusSource.FORM)
    return plan


def set_status(plan, status: str, at: datetime) -> None:
    previous = plan.status
    plan.status = status
    plan.save()
    AdPlanStatusChange.record(plan, StatusSource.FORM, at=at, previous=previous)


def edit_data(plan, **changes) -> dict:
    data = {"name": plan.name, "external_id": "", "channel": plan.channel, "status": plan.status, "products": "",
            "daily_budget": plan.daily_budget, "total_budget": plan.total_budget, "bid_strategy": plan.bid_strategy,
            "target_roas": "", "start_date": "", "end_date": "", "hour_from": 0, "hour_to": 24, "notes": ""}
    return {**data, **changes}


@time_machine.travel(NOW, tick=False)
def test_a_week_paused_and_resumed_is_left_out_of_the_month_and_its_budget(plan):
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 11)))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(date(2026, 11, 18)))
    spend_daily(plan, "200.00", date(2026, 11, 1), date(2026, 11, 10))
    spend_daily(plan, "200.00", date(2026, 11, 18), date(2026, 11, 24))

    month = month_pacing(plan, TODAY)

    # 23 running days × 240.00; 200.00 over the 17 days it ran and the 6 left is 83 % of that, not 64 % of 7,200.00.
    assert (month.paused_by_status, month.run_days, month.budget) == (7, 23, Decimal("5520.00"))
    assert month.projected == Decimal("200.00") * (17 + 6)
    assert (month.verdict, month.missing_since) == ("under", None)


@time_machine.travel(NOW, tick=False)
def test_a_plan_paused_at_the_month_start_is_judged_on_the_budget_of_its_running_days(client_a, store_a):
    with time_machine.travel(shanghai(date(2026, 10, 20), 9), tick=False):
        plan = AdPlanFactory(store=store_a, name="Longjing search", daily_budget=Decimal("100.00"))
        AdPlanStatusChange.record(plan, StatusSource.FORM)
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 1)))  # 16:00 UTC on 31 Oct
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(date(2026, 11, 16)))
    spend_daily(plan, "100.00", date(2026, 11, 16), date(2026, 11, 24))

    month = month_pacing(plan, TODAY)
    page = text(client_a.get(f"{ADS}{plan.pk}/"))

    assert (month.budget, month.projected, month.verdict) == (Decimal("1500.00"), Decimal("1500.00"), "under")
    assert "paused 15 days: budget for the 15 running days 1,500.00" in page
    assert "underspending" not in page


@time_machine.travel(NOW, tick=False)
def test_a_day_paused_for_part_of_it_counts_as_running(plan):
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 10), 15))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(date(2026, 11, 12), 9))
    spend_daily(plan, "240.00", date(2026, 11, 1), date(2026, 11, 24))

    assert month_pacing(plan, TODAY).paused_by_status == 1  # 11 Nov only: 10 and 12 Nov ran part of the day


@time_machine.travel(NOW, tick=False)
def test_a_plan_resumed_today_is_neither_stalled_nor_missing_reports_for_its_paused_week(client_a, plan):
    spend_daily(plan, "200.00", date(2026, 11, 1), date(2026, 11, 17))
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 18)))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(TODAY, 12))  # 2 h ago, fed hourly since, nothing spent yet
    SnapshotFactory(plan=plan, ts=NOW - timedelta(minutes=30), spend_today=Decimal("0.00"))

    month = month_pacing(plan, TODAY)
    desk = text(client_a.get("/"))
    page = text(client_a.get(f"{ADS}{plan.pk}/"))

    assert (month.missing_since, month.verdict, month.projected) == (None, "under", Decimal("4600.00"))
    assert not plan_pacing(plan, NOW).stopped
    assert "No ad report since" not in page and "Ad reports missing" not in desk
    assert "Ad plans stopped spending" not in desk


@time_machine.travel(NOW, tick=False)
def test_a_plan_quiet_since_long_before_it_was_resumed_is_still_stopped(plan):
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 24), 20))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(TODAY, 9))  # 5 h ago, nothing spent since
    SnapshotFactory(plan=plan, ts=NOW - timedelta(hours=4), spend_today=Decimal("0.00"))

    assert plan_pacing(plan, NOW).stopped_hours == 5.0


@time_machine.travel(NOW, tick=False)
def test_status_changes_on_the_form_are_listed_newest_first_in_store_time_with_who(client_a, plan):
    client_a.post(f"{ADS}{plan.pk}/edit/", edit_data(plan, status=AdPlanStatus.PAUSED))
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        client_a.post(f"{ADS}{plan.pk}/edit/", edit_data(plan, status=AdPlanStatus.ACTIVE, notes="back"))
        client_a.post(f"{ADS}{plan.pk}/edit/", edit_data(plan, status=AdPlanStatus.ACTIVE, notes="again"))
        page = text(client_a.get(f"{ADS}{plan.pk}/"))

    history = page[page.index("Status history"):]
    assert history.index("Active Wed 25 Nov 14:30 (Asia/Shanghai time) · op-a") < history.index(
        "Paused Wed 25 Nov 14:00 (Asia/Shanghai time) · op-a") < history.index("Active Tue 20 Oct 09:00")
    assert plan.status_changes.count() == 3  # saving it active again changed nothing


@time_machine.travel(NOW, tick=False)
def test_another_stores_user_can_neither_change_nor_read_the_history(client, store_b, plan):
    from tests.factories import MembershipFactory, UserFactory

    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b")).user)

    edit = client.post(f"{ADS}{plan.pk}/edit/", edit_data(plan, status=AdPlanStatus.PAUSED))
    page = client.get(f"{ADS}{plan.pk}/")

    assert (edit.status_code, page.status_code) == (404, 404)
    plan.refresh_from_db()
    assert (plan.status, plan.status_changes.count()) == (AdPlanStatus.ACTIVE, 1)


@time_machine.travel(NOW, tick=False)
def test_a_refused_edit_records_no_status_change(client_a, plan):
    response = client_a.post(f"{ADS}{plan.pk}/edit/", edit_data(plan, status=AdPlanStatus.PAUSED, hour_to=30))

    assert response.status_code == 200
    assert plan.status_changes.count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_new_plan_and_the_end_of_its_dates_are_recorded(client_a, store_a, plan):
    client_a.post(f"{ADS}new/", {**edit_data(plan, name="New plan", end_date="2026-11-30"), "store": store_a.pk})
    with time_machine.travel(datetime(2026, 12, 1, 1, tzinfo=UTC), tick=False):
        assert end_finished_plans() == 1
        assert end_finished_plans() == 0

    statuses = list(store_a.ad_plans.get(name="New plan").status_changes.values_list("status", "source", "by"))
    assert [s[:2] for s in statuses] == [(AdPlanStatus.ENDED, StatusSource.END_DATE),
                                         (AdPlanStatus.ACTIVE, StatusSource.FORM)]
    assert statuses[1][2] is not None


@pytest.mark.django_db(transaction=True)
def test_the_migration_records_each_existing_plans_status_when_the_record_began():
    from tests.migrating import migrate_to, migrate_to_latest

    try:
        apps = migrate_to(("campaigns", "0009_activity_series"))
        Store, AdPlan = apps.get_model("stores", "Store"), apps.get_model("campaigns", "AdPlan")
        store = Store.objects.create(name="s", slug="s", country="CN", timezone="Asia/Shanghai", currency="CNY")
        AdPlan.objects.create(store=store, name="Paused", channel="search", status="paused")
        AdPlan.objects.create(store=store, name="Active", channel="search", status="active")

        with time_machine.travel(NOW, tick=False):
            apps = migrate_to(("campaigns", "0010_ad_plan_status_history"))

        rows = apps.get_model("campaigns", "AdPlanStatusChange").objects.order_by("plan__name")
        assert list(rows.values_list("plan__name", "status", "at", "source")) == [
            ("Active", "active", NOW, "record_began"), ("Paused", "paused", NOW, "record_began")]
    finally:
        migrate_to_latest()


def paused_first_half(store, name: str) -> object:
    """100.00 a day, active since October, paused 1–15 Nov (from midnight on the 1st) and back on the 16th, spending
    100.00 a day since."""
    with time_machine.travel(shanghai(date(2026, 10, 20), 9), tick=False):
        plan = AdPlanFactory(store=store, name=name, daily_budget=Decimal("100.00"))
        AdPlanStatusChange.record(plan, StatusSource.FORM)
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 1)))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(date(2026, 11, 16)))
    spend_daily(plan, "100.00", date(2026, 11, 16), date(2026, 11, 24))
    return plan


def running_all_month(store, name: str) -> object:
    with time_machine.travel(shanghai(date(2026, 10, 20), 9), tick=False):
        plan = AdPlanFactory(store=store, name=name, daily_budget=Decimal("100.00"))
        AdPlanStatusChange.record(plan, StatusSource.FORM)
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 24))
    return plan


@time_machine.travel(NOW, tick=False)
def test_the_month_charts_budget_line_is_flat_over_the_paused_days_and_ends_at_the_months_budget(client_a, store_a):
    plan = paused_first_half(store_a, "Longjing search")

    line = client_a.get(f"{ADS}{plan.pk}/").context["charts"]["month"]["data"][0]

    assert line["name"] == "Budget to date"
    assert line["y"][:15] == [0.0] * 15  # 1–15 Nov paused: no budget accrues
    assert (line["y"][15], line["y"][23], line["y"][-1]) == (100.0, 900.0, 1500.0)  # 16 Nov on; not 3,000.00
    assert line["y"][-1] == float(month_pacing(plan, TODAY).budget)


@time_machine.travel(NOW, tick=False)
def test_the_stores_expected_spend_leaves_out_its_plans_paused_days_and_the_page_counts_them(client_a, store_a):
    from campaigns.ads_pacing import store_month_pacing
    from campaigns.models import StoreAdBudget

    running_all_month(store_a, "Display")
    paused_first_half(store_a, "Longjing search")
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("4500.00"))

    month = store_month_pacing(store_a)
    page = text(client_a.get(ADS))

    # Their run days: 24 + 9 of 30 + 15 budgeted plan-days gone, so 3,300.00 of 4,500.00 by today, not 24 / 30.
    assert (month.spend, month.expected, month.projected) == (Decimal("3300.00"), Decimal("3300.00"),
                                                              Decimal("4500.00"))
    assert (month.paused_by_status, month.verdict) == (15, "under")
    assert "3,300.00 CNY expected by today (24 of 30 days gone; 15 plan-days paused left out)" in page


@time_machine.travel(NOW, tick=False)
def test_the_desk_says_how_many_plan_days_were_paused_beside_a_store_month_underspending(client_a, store_a):
    from campaigns.models import StoreAdBudget

    running_all_month(store_a, "Display")
    paused_first_half(store_a, "Longjing search")
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("10000.00"))

    desk = text(client_a.get("/"))

    assert "Ad budget of November 2026 on pace to underspend: 4,500.00 of 10,000.00 CNY (45 %; 15 plan-days paused)" \
        in desk


@time_machine.travel(NOW, tick=False)
def test_a_plan_paused_since_the_first_and_resumed_today_says_so_and_the_store_counts_its_days_left(
        client_a, store_a):
    from campaigns.ads_pacing import store_month_pacing
    from campaigns.models import StoreAdBudget

    running_all_month(store_a, "Display")
    with time_machine.travel(shanghai(date(2026, 10, 20), 9), tick=False):
        plan = AdPlanFactory(store=store_a, name="Longjing search", daily_budget=Decimal("100.00"))
        AdPlanStatusChange.record(plan, StatusSource.FORM)
    set_status(plan, AdPlanStatus.PAUSED, shanghai(date(2026, 11, 1)))
    set_status(plan, AdPlanStatus.ACTIVE, shanghai(TODAY, 12))
    StoreAdBudget.objects.create(store=store_a, month=date(2026, 11, 1), amount=Decimal("5000.00"))

    month = month_pacing(plan, TODAY)
    store_month = store_month_pacing(store_a)
    page = text(client_a.get(f"{ADS}{plan.pk}/"))

    assert (month.resumed_today, month.projected, month.budget) == (True, None, Decimal("600.00"))
    assert "(paused 24 days: budget for the 6 running days 600.00) · set active today: no spend yet to project " \
        "from" in page
    # Its 6 days left at its daily budget, not nothing: 2,400.00 + 600.00 (Display) + 600.00 is 72 %, not starved.
    assert (store_month.projected, store_month.verdict) == (Decimal("3600.00"), "under")


def admin_form(plan, **changes) -> dict:
    """The admin change form of `plan` as saved, its read-only history inline's management form included."""
    rows = list(plan.status_changes.values_list("pk", flat=True))
    data = {"store": plan.store_id, "name": plan.name, "external_id": "", "channel": plan.channel,
            "status": plan.status, "daily_budget": plan.daily_budget, "total_budget": plan.total_budget,
            "bid_strategy": plan.bid_strategy, "target_roas": "", "start_date": "", "end_date": "", "hour_from": 0,
            "hour_to": 24, "notes": plan.notes, "status_changes-TOTAL_FORMS": len(rows),
            "status_changes-INITIAL_FORMS": len(rows), "status_changes-MIN_NUM_FORMS": 0,
            "status_changes-MAX_NUM_FORMS": 0,
            **{f"status_changes-{i}-id": pk for i, pk in enumerate(rows)},
            **{f"status_changes-{i}-plan": plan.pk for i in range(len(rows))}}
    return {**data, **changes}


@time_machine.travel(NOW, tick=False)
def test_a_status_changed_in_the_admin_is_recorded_with_who_and_a_save_with_the_same_status_records_nothing(
        client, plan):
    from django.urls import reverse

    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    url = reverse("admin:campaigns_adplan_change", args=[plan.pk])

    paused = client.post(url, admin_form(plan, status=AdPlanStatus.PAUSED))
    plan.refresh_from_db()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        again = client.post(url, admin_form(plan, notes="same status"))

    assert (paused.status_code, again.status_code) == (302, 302)
    plan.refresh_from_db()
    assert (plan.status, plan.notes) == (AdPlanStatus.PAUSED, "same status")
    assert list(plan.status_changes.values_list("status", "source", "by", "at")) == [
        (AdPlanStatus.PAUSED, StatusSource.ADMIN, root.pk, NOW),
        (AdPlanStatus.ACTIVE, StatusSource.FORM, None, shanghai(date(2026, 10, 20), 9))]
