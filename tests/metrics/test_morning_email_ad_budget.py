"""The morning email's "Ad budget" section: the store's month and the plans over their budget through the day it
reports (yesterday, store time), by the desk's rule, with absolute links; nothing when all is on pace."""

import html as markup
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.ads_pacing import month_alerts
from campaigns.models import AdDailyPerformance, AdPlan, StoreAdBudget
from metrics.email import send_due_morning_emails
from tests.ads.conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_to_outbox")]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 08:30 on Thu 26 Nov in Shanghai (store A's zone and its manager's): the email reports Wed 25 Nov.
MORNING = datetime(2026, 11, 26, 8, 30, tzinfo=SHANGHAI)
ADS_LINK = "https://desk.example.com/campaigns/ads/?store=store-a#ad-budget"


@pytest.fixture
def manager(store_a):
    return MembershipFactory(store=store_a, user=UserFactory(username="boss", email="boss@example.com"),
                             role="manager")


@pytest.fixture
def search_plan(store_a):
    """100.00 a day from 1 Nov (daily budget 120.00: the plan itself is on pace within its month, using 83 % of it,
    neither over nor underspending), and 50.00 so far this morning, which the email must not count."""
    plan = AdPlanFactory(store=store_a, name="Longjing search", daily_budget=Decimal("120.00"))
    spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 25))
    SnapshotFactory(plan=plan, ts=MORNING - timedelta(minutes=30), spend_today=Decimal("50.00"))
    return plan


def spend_daily(plan, amount: str, first: date, last: date):
    day = first
    while day <= last:
        AdDailyFactory(plan=plan, date=day, spend=Decimal(amount))
        day += timedelta(days=1)


def budget(store, month: date, amount: str):
    StoreAdBudget.objects.create(store=store, month=month, amount=Decimal(amount))


def morning_email(at=MORNING) -> tuple[str, str]:
    """(HTML with its tags and non-breaking spaces plain, text) of the one email sent at `at`."""
    with time_machine.travel(at, tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    return markup.unescape(re.sub(r"<[^>]+>", "", html)).replace("\u00a0", " "), message.body


def test_a_store_on_pace_to_overspend_gets_the_line_with_its_figures(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "2800.00")  # 100.00 a day heads for 3,000.00

    html, text = morning_email()

    line = ("All plans: on pace to spend 3,000.00 CNY of 2,800.00 CNY this month (107 %); "
            "2,500.00 CNY spent through Wed 25 Nov")
    assert "Ad budget" in html and line in html
    assert f"Ad budget:\n* {line}\n  {ADS_LINK}\n" in text
    assert "Longjing search" not in text  # the plan keeps within its own month budget


def test_a_store_already_over_its_budget_says_so_and_where_the_month_ends(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "2000.00")

    _, text = morning_email()

    assert ("* All plans: already spent 2,500.00 CNY of 2,000.00 CNY this month (125 %) through Wed 25 Nov; "
            "on pace for 3,000.00 CNY by the month's end\n") in text


def test_a_store_on_pace_gets_no_ad_budget_section(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "4000.00")

    html, text = morning_email()

    assert "Ad budget" not in html and "Ad budget" not in text
    assert "/campaigns/ads/" not in text


def test_a_plan_on_pace_to_overspend_its_month_is_listed_with_a_link_to_its_page(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "8000.00")  # both plans head for 6,000.00: on pace, 75 %
    hot = AdPlanFactory(store=store_a, name="Display · retargeting", daily_budget=Decimal("80.00"))
    spend_daily(hot, "100.00", date(2026, 11, 1), date(2026, 11, 25))  # 80 × 30 = 2,400.00 for November

    html, text = morning_email()

    line = ("Display · retargeting: already spent 2,500.00 CNY of 2,400.00 CNY this month (104 %) through "
            "Wed 25 Nov; on pace for 3,000.00 CNY by the month's end")
    assert line in html and f"* {line}\n  https://desk.example.com/campaigns/ads/{hot.pk}/\n" in text
    assert "All plans" not in text


def test_a_store_on_pace_to_underspend_gets_the_line_with_its_figures(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "10000.00")  # 100.00 a day heads for 3,000.00: 30 %

    html, text = morning_email()

    line = ("All plans: on pace to spend only 3,000.00 CNY of 10,000.00 CNY this month (30 %); "
            "2,500.00 CNY spent through Wed 25 Nov, 7,500.00 CNY left for 5 more days")
    assert "Ad budget" in html and line in html
    assert f"Ad budget:\n* {line}\n  {ADS_LINK}\n" in text


def test_a_store_underspending_says_how_many_plan_days_its_plans_were_paused(manager, store_a, search_plan):
    """A second plan paused 1–15 Nov per its status history and back since: the store heads for 4,500.00 of
    10,000.00, and the line says 15 of the month's plan-days were paused on purpose."""
    from campaigns.models import AdPlanStatusChange, StatusSource

    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=SHANGHAI), tick=False):
        display = AdPlanFactory(store=store_a, name="Display", daily_budget=Decimal("100.00"))
        AdPlanStatusChange.record(display, StatusSource.FORM)
    for status, at in (("paused", datetime(2026, 11, 1, tzinfo=SHANGHAI)),
                       ("active", datetime(2026, 11, 16, tzinfo=SHANGHAI))):
        previous, display.status = display.status, status
        display.save()
        AdPlanStatusChange.record(display, StatusSource.FORM, at=at, previous=previous)
    spend_daily(display, "100.00", date(2026, 11, 16), date(2026, 11, 25))
    budget(store_a, date(2026, 11, 1), "10000.00")

    _, text = morning_email()

    assert ("* All plans: on pace to spend only 4,500.00 CNY of 10,000.00 CNY this month (45 %); 3,500.00 CNY spent "
            "through Wed 25 Nov (plans paused 15 plan-days), 6,500.00 CNY left for 5 more days\n") in text
    assert "Display:" not in text  # its own month is on pace with the budget of its 15 running days


def test_a_plan_on_pace_to_underspend_is_listed_but_a_paused_one_is_not(manager, store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "11000.00")  # the three plans head for 9,000.00: the store is on pace
    starved = AdPlanFactory(store=store_a, name="Display · prospecting", daily_budget=Decimal("300.00"))
    paused = AdPlanFactory(store=store_a, name="Display · paused", daily_budget=Decimal("300.00"), status="paused")
    for plan in (starved, paused):
        spend_daily(plan, "100.00", date(2026, 11, 1), date(2026, 11, 25))  # 3,000.00 of 9,000.00 for November

    html, text = morning_email()

    line = ("Display · prospecting: on pace to spend only 3,000.00 CNY of 9,000.00 CNY this month (33 %); "
            "2,500.00 CNY spent through Wed 25 Nov, 6,500.00 CNY left for 5 more days")
    assert line in html and f"* {line}\n  https://desk.example.com/campaigns/ads/{starved.pk}/\n" in text
    assert "Display · paused" not in text and "All plans" not in text


def test_a_months_first_days_get_no_underspend_line(manager, store_a, search_plan):
    """At 08:30 on 5 Nov the email reports 4 Nov: four days are too few to call a month starved."""
    budget(store_a, date(2026, 11, 1), "10000.00")

    _, text = morning_email(datetime(2026, 11, 5, 8, 30, tzinfo=SHANGHAI))

    assert "Ad budget" not in text


def test_the_links_are_absolute_and_open_the_stores_ads_page(manager, store_a, search_plan, client):
    budget(store_a, date(2026, 11, 1), "2800.00")

    morning_email()

    html = mail.outbox[0].alternatives[0][0]
    assert f'href="{ADS_LINK}"' in html
    client.force_login(manager.user)
    with time_machine.travel(MORNING, tick=False):
        page = client.get(ADS_LINK.removeprefix("https://desk.example.com"))
    assert page.status_code == 200
    assert 'id="ad-budget"' in page.content.decode() and "on pace to overspend by" in page.content.decode()


def test_another_stores_budget_never_appears(manager, store_a, store_b, search_plan):
    budget(store_a, date(2026, 11, 1), "4000.00")  # store A on pace
    b_plan = AdPlanFactory(store=store_b, name="B search", daily_budget=Decimal("10.00"))
    spend_daily(b_plan, "777.00", date(2026, 11, 1), date(2026, 11, 25))
    budget(store_b, date(2026, 11, 1), "1000.00")  # store B far over, its plan too

    html, text = morning_email()

    for part in (html, text):
        assert "Ad budget" not in part and "B search" not in part and "777" not in part and "store-b" not in part


def test_on_the_first_the_email_says_how_last_month_ended(manager, store_a, search_plan):
    """At 08:30 on 1 Dec the email reports Mon 30 Nov: month to date through yesterday is the whole of November,
    so the line says how November ended. December's budget (already passed this morning) waits for 2 Dec."""
    AdDailyFactory(plan=search_plan, date=date(2026, 11, 30), spend=Decimal("500.00"))  # 26–29 Nov unreported
    budget(store_a, date(2026, 11, 1), "2800.00")
    budget(store_a, date(2026, 12, 1), "10.00")
    first = datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)
    SnapshotFactory(plan=search_plan, ts=first - timedelta(minutes=10), spend_today=Decimal("60.00"))

    _, text = morning_email(first)

    assert "* All plans: November 2026 ended at 3,000.00 CNY of 2,800.00 CNY (107 %)\n" in text
    assert "December" not in text


def test_the_section_costs_the_same_queries_for_one_plan_or_many(store_a, search_plan):
    budget(store_a, date(2026, 11, 1), "100.00")
    day = date(2026, 11, 25)
    with CaptureQueriesContext(connection) as one:
        assert month_alerts(store_a, day).store is not None
    for n in range(6):
        plan = AdPlanFactory(store=store_a, daily_budget=Decimal("10.00"), total_budget=Decimal("9000.00"))
        spend_daily(plan, "50.00", date(2026, 10, 30 + n % 2), date(2026, 11, 25))
    with CaptureQueriesContext(connection) as many:
        assert len(month_alerts(store_a, day).plans) == 6
    assert len(many) == len(one) <= 6  # the status history of all plans is one of them


def test_a_plan_whose_reports_stop_gets_a_missing_reports_line_not_underspend(manager, store_a, search_plan):
    """Reports of 24–25 Nov not imported yet: the plan heads for 3,000.00 of 4,050.00 from its reported days (74 %),
    not 2,760.00 (68 %, underspending) as if those days spent nothing; the store's 4,000.00 likewise."""
    AdDailyPerformance.objects.filter(plan=search_plan, date__gte=date(2026, 11, 24)).delete()
    search_plan.daily_budget = Decimal("135.00")
    search_plan.created_at = datetime(2026, 10, 20, tzinfo=SHANGHAI)  # watched all month (auto_now_add)
    AdPlan.objects.bulk_update([search_plan], ["daily_budget", "created_at"])
    budget(store_a, date(2026, 11, 1), "4000.00")

    html, text = morning_email()

    line = "Longjing search: no ad report since Tue 24 Nov"
    assert line in html and f"* {line}\n  https://desk.example.com/campaigns/ads/import/\n" in text
    assert "only" not in text and "All plans" not in text
