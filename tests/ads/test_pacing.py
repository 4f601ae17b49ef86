"""Pacing with a frozen clock: overspend projections, stopped spending, expected curve, desk items."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from campaigns import ads_desk
from campaigns.ads_pacing import daily_ad_results, group, pacing_alerts, plan_pacing, spend_by_source, watched_plans
from campaigns.models import AdChannel, AdDailyPerformance, AdPlanStatus
from tests.factories import MembershipFactory, OrderFactory

from .conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC is 14:00 local, 14/24 of a flat day.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def local(hour, minute=0):
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def feed(plan, values_by_local_hour):
    for hour, value in values_by_local_hour.items():
        SnapshotFactory(plan=plan, ts=local(hour), spend_today=Decimal(value))


def kinds(store):
    return sorted((a.plan.name, a.kind) for a in pacing_alerts(store, NOW))


@time_machine.travel(NOW, tick=False)
def test_fast_spender_is_projected_over_its_daily_budget(store_a, search_plan):
    feed(search_plan, {9: "90", 13: "200"})  # flat curve: 200 / (14/24) = 342.86 > 240
    pacing = plan_pacing(search_plan, NOW)
    assert pacing.curve_basis == "flat"
    assert pacing.spend_today == Decimal("200")
    assert pacing.projected_day == Decimal("342.86")
    assert kinds(store_a) == [("Longjing search", "overspend_day")]


@time_machine.travel(NOW, tick=False)
def test_overspend_alerts_name_the_currency_of_the_budget_too(store_a, search_plan):
    capped = AdPlanFactory(store=store_a, name="Capped", total_budget=Decimal("1000"), end_date=TODAY)
    AdDailyFactory(plan=capped, date=TODAY - timedelta(days=1), spend=Decimal("900"))
    feed(capped, {13: "120"})
    feed(search_plan, {9: "90", 13: "200"})
    messages = sorted(a.message for a in pacing_alerts(store_a, NOW))
    assert messages == ["Capped: on pace for 1,105.71 CNY in all, total budget 1,000.00 CNY",
                        "Longjing search: on pace for 342.86 CNY today, daily budget 240.00 CNY"]


def test_the_watched_plans_are_the_active_ones_inside_their_dates_grouped_by_store(store_a, store_b, search_plan):
    """`watched_plans` and `group` are public: the pacing alert email (campaigns/ads_alerts.py) reads them too."""
    AdPlanFactory(store=store_a, name="Paused", status=AdPlanStatus.PAUSED)
    AdPlanFactory(store=store_a, name="Ended yesterday", end_date=TODAY - timedelta(days=1))
    AdPlanFactory(store=store_a, name="Starts tomorrow", start_date=TODAY + timedelta(days=1))
    AdPlanFactory(store=store_b, name="B search")
    by_store = group(watched_plans([store_a, store_b], NOW), lambda plan: plan.store.name)
    assert {store: sorted(plan.name for plan in plans) for store, plans in by_store.items()} == {
        "Store A": ["Longjing search"], "Store B": ["B search"]}


@time_machine.travel(NOW, tick=False)
def test_plan_on_pace_raises_nothing(store_a, search_plan):
    feed(search_plan, {9: "60", 13: "120"})  # 205.71 <= 240
    assert plan_pacing(search_plan, NOW).projected_day == Decimal("205.71")
    assert kinds(store_a) == []


@time_machine.travel(NOW, tick=False)
def test_total_budget_overrun_counts_spend_before_today(store_a):
    plan = AdPlanFactory(store=store_a, name="Capped", total_budget=Decimal("1000"), end_date=TODAY)
    AdDailyFactory(plan=plan, date=TODAY - timedelta(days=1), spend=Decimal("900"))
    feed(plan, {13: "120"})
    assert plan_pacing(plan, NOW).projected_total == Decimal("1105.71")
    assert kinds(store_a) == [("Capped", "overspend_total")]


@time_machine.travel(NOW, tick=False)
def test_no_spend_increase_for_three_hours_is_stopped(store_a, search_plan):
    feed(search_plan, {8: "30", 10: "70", 11: "70", 12: "70", 13: "70"})  # last rise at 10:00, now 14:00
    pacing = plan_pacing(search_plan, NOW)
    assert pacing.stopped_hours == 4.0
    assert kinds(store_a) == [("Longjing search", "stopped")]


@time_machine.travel(local(12, 30), tick=False)
def test_two_and_a_half_quiet_hours_are_not_yet_stopped(store_a, search_plan):
    feed(search_plan, {8: "30", 10: "70", 11: "70", 12: "70"})
    assert not plan_pacing(search_plan, local(12, 30)).stopped


@time_machine.travel(NOW, tick=False)
def test_hourly_fed_plan_with_no_spend_today_is_stopped(store_a, search_plan):
    SnapshotFactory(plan=search_plan, ts=local(22) - timedelta(days=1), spend_today=Decimal("230"))
    feed(search_plan, {9: "0", 13: "0"})
    assert plan_pacing(search_plan, NOW).stopped_hours == 16.0  # since 22:00 yesterday


@time_machine.travel(local(1), tick=False)
def test_round_the_clock_plan_quiet_since_yesterday_is_stopped_just_after_midnight(store_a, search_plan):
    SnapshotFactory(plan=search_plan, ts=local(20) - timedelta(days=1), spend_today=Decimal("100"))
    SnapshotFactory(plan=search_plan, ts=local(23) - timedelta(days=1), spend_today=Decimal("100"))
    assert plan_pacing(search_plan, local(1)).stopped_hours == 5.0
    evening_plan = AdPlanFactory(store=store_a, name="Evenings", hour_from=0, hour_to=23)
    SnapshotFactory(plan=evening_plan, ts=local(20) - timedelta(days=1), spend_today=Decimal("100"))
    assert not plan_pacing(evening_plan, local(1)).stopped  # its window opened an hour ago


@time_machine.travel(NOW, tick=False)
def test_a_plan_that_spent_its_daily_budget_is_capped_not_stopped(store_a, search_plan):
    # 240 spent by 10:00: the platform stops serving it; that is not a plan that broke ("stopped", danger).
    feed(search_plan, {8: "100", 10: "238.50", 11: "238.50", 12: "238.50", 13: "238.50"})
    assert not plan_pacing(search_plan, NOW).stopped
    assert kinds(store_a) == [("Longjing search", "overspend_day")]  # it did run out early


@time_machine.travel(local(1), tick=False)
def test_a_plan_that_ended_yesterday_on_its_budget_is_not_stopped_after_midnight(store_a, search_plan):
    SnapshotFactory(plan=search_plan, ts=local(20) - timedelta(days=1), spend_today=Decimal("240"))
    SnapshotFactory(plan=search_plan, ts=local(23) - timedelta(days=1), spend_today=Decimal("240"))
    assert not plan_pacing(search_plan, local(1)).stopped
    with time_machine.travel(local(3, 30), tick=False):  # nothing spent in the new day's first 3.5 hours
        assert plan_pacing(search_plan, local(3, 30)).stopped_hours == 3.5


@time_machine.travel(NOW, tick=False)
def test_not_fed_paused_or_off_hours_plans_are_not_stopped(store_a):
    AdPlanFactory(store=store_a, name="Never fed")
    paused = AdPlanFactory(store=store_a, name="Paused", status=AdPlanStatus.PAUSED)
    feed(paused, {8: "10"})
    morning = AdPlanFactory(store=store_a, name="Mornings", hour_from=6, hour_to=12)
    feed(morning, {8: "10"})
    ended = AdPlanFactory(store=store_a, name="Ended yesterday", end_date=TODAY - timedelta(days=1))
    feed(ended, {8: "10"})
    assert kinds(store_a) == []


@time_machine.travel(NOW, tick=False)
def test_expected_curve_follows_the_last_14_days_orders(store_a, search_plan):
    # 60 paid orders, all at 20:00 local: by 14:00 nothing is expected yet, so there is no projection.
    for d in range(1, 61):
        paid = local(20) - timedelta(days=1 + d % 14)
        OrderFactory(store=store_a, placed_at=paid, paid_at=paid)
    feed(search_plan, {13: "200"})
    pacing = plan_pacing(search_plan, NOW)
    assert pacing.curve_basis.startswith("paid orders by hour")
    assert pacing.expected_share == 0
    assert pacing.projected_day is None
    assert pacing.hourly_expected[19] == Decimal("0.00") and pacing.hourly_expected[20] == Decimal("240.00")
    assert kinds(store_a) == []


@time_machine.travel(NOW, tick=False)
def test_desk_counts_plans_by_alert(store_a, search_plan, operator_a):
    feed(search_plan, {9: "90", 13: "200"})
    other = AdPlanFactory(store=store_a, name="Quiet")
    feed(other, {8: "5", 9: "5", 10: "5"})
    items = {i.label: (i.count, i.severity) for i in ads_desk.open_items(store_a, operator_a)}
    assert items == {"Ad plans stopped spending": (1, "danger"), "Ad plans on pace to overspend": (1, "warning")}


@time_machine.travel(NOW, tick=False)
def test_spend_by_source_uses_snapshots_today_and_reports_for_past_days(store_a, search_plan):
    social = AdPlanFactory(store=store_a, name="Social", channel=AdChannel.SOCIAL)
    feed(search_plan, {9: "90", 13: "200"})
    SnapshotFactory(plan=search_plan, ts=local(15), spend_today=Decimal("999"))  # in the future: ignored
    AdDailyFactory(plan=social, date=TODAY, spend=Decimal("12.00"))
    assert spend_by_source(store_a, TODAY, NOW) == {"paid_search": Decimal("200"), "social": Decimal("12.00")}
    AdDailyFactory(plan=search_plan, date=TODAY - timedelta(days=1), spend=Decimal("230.00"))
    assert spend_by_source(store_a, TODAY - timedelta(days=1), NOW) == {
        "paid_search": Decimal("230.00"), "social": Decimal("0.00")}


def test_daily_ad_results_by_plan_and_source(store_a, search_plan):
    day = date(2026, 11, 24)
    other = AdPlanFactory(store=store_a, name="Tea search 2", channel=AdChannel.SEARCH)
    AdDailyFactory(plan=search_plan, date=day, spend=Decimal("100"), sales=Decimal("500"), clicks=40)
    AdDailyFactory(plan=other, date=day, spend=Decimal("50"), sales=Decimal("100"), clicks=10)
    AdPlanFactory(store=store_a, name="Idle display", channel=AdChannel.DISPLAY)
    result = daily_ad_results(store_a, day)
    assert [p["plan"] for p in result["plans"]] == ["Idle display", "Longjing search", "Tea search 2"]
    assert result["plans"][1]["roas"] == Decimal("5.00")
    sources = {s["source"]: s for s in result["sources"]}
    assert sources["paid_search"]["spend"] == Decimal("150") and sources["paid_search"]["roas"] == Decimal("4.00")
    assert sources["recommendation"]["roas"] is None
    assert result["total"]["clicks"] == 50 and result["currency"] == "CNY"


def test_derived_metrics_by_hand():
    row = AdDailyPerformance(impressions=2000, clicks=50, spend=Decimal("75.00"), orders=4, sales=Decimal("300.00"))
    assert (row.ctr, row.cpc, row.cvr, row.cpa, row.roas, row.acos) == (
        Decimal("0.0250"), Decimal("1.50"), Decimal("0.0800"), Decimal("18.75"), Decimal("4.00"), Decimal("0.2500"))
    assert row.ctr_pct == "2.50\u00a0%"
    empty = AdDailyPerformance(impressions=0, clicks=0, spend=Decimal(0), orders=0, sales=Decimal(0))
    assert (empty.ctr, empty.cpc, empty.cvr, empty.cpa, empty.roas, empty.acos) == (None,) * 6
    assert empty.ctr_pct == "–"


LATE = datetime(2026, 11, 25, 15, 2, tzinfo=UTC)  # 23:02 in Shanghai: 96.5 % of a flat day gone


@time_machine.travel(LATE, tick=False)
def test_a_plan_fed_hourly_that_spent_nothing_projects_zero_not_too_early(client_a, search_plan):
    feed(search_plan, {9: "0", 22: "0"})

    assert plan_pacing(search_plan).projected_day == Decimal("0.00")
    body = client_a.get(search_plan.get_absolute_url()).content.decode()
    assert "Projected day <span>0.00" in body


@time_machine.travel(LATE, tick=False)
def test_a_plan_with_no_hourly_data_today_says_so_instead_of_zero_and_raises_nothing(client_a, store_a, search_plan):
    AdDailyFactory(plan=search_plan, date=TODAY - timedelta(days=1))  # reported the morning after, never hourly

    pacing = plan_pacing(search_plan)
    assert not pacing.fed_today and pacing.projected_day is None
    assert pacing.hourly_actual == [None] * 24
    assert pacing_alerts(store_a, LATE) == []
    body = client_a.get(search_plan.get_absolute_url()).content.decode()
    assert "Spend so far <span><span class=\"muted\">no hourly data today</span> of 240.00" in body
    assert "Projected day <span><span class=\"muted\">no hourly data today</span>" in body


@time_machine.travel(NOW, tick=False)
def test_pacing_chart_ends_at_the_spend_the_page_shows_when_today_is_reported_without_snapshots(search_plan):
    from campaigns.ads_charts import pacing as pacing_chart

    AdDailyFactory(plan=search_plan, date=TODAY, spend=Decimal("150.00"))  # an intraday report, no hourly feed
    today = plan_pacing(search_plan)

    spend_line = pacing_chart([today], "Today")["data"][1]

    assert today.spend_today == Decimal("150.00")
    assert spend_line["name"] == "Spend so far" and spend_line["y"][14] == 150.0  # 14:00-15:00 local, now; not 0


@time_machine.travel(NOW, tick=False)
def test_the_pacing_chart_labels_every_third_hour_upright_so_no_label_is_cut_off(search_plan):
    from campaigns.ads_charts import pacing

    feed(search_plan, {9: "60", 13: "120"})
    axis = pacing([plan_pacing(search_plan)], "Today")["layout"]["xaxis"]

    assert axis["tickvals"] == ["03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "24:00"]
    assert axis["tickangle"] == 0 and axis["automargin"] is True


def test_month_projection_averages_the_reported_days_not_today_still_under_way(search_plan):
    from campaigns.ads_pacing import month_pacing

    for day in range(1, 11):  # 100.00 a day on 1–10 Nov; the 11th is today, not reported yet
        AdDailyFactory(plan=search_plan, date=date(2026, 11, day), spend=Decimal("100.00"))

    month = month_pacing(search_plan, date(2026, 11, 11))

    assert month.spend == Decimal("1000.00")
    assert month.projected == Decimal("3000.00")  # 100 a day × 30 days, not 1000 / 11 × 30 = 2727.27


def test_month_budget_is_capped_by_what_is_left_of_the_total_budget(store_a):
    from campaigns.ads_pacing import month_pacing

    plan = AdPlanFactory(store=store_a, start_date=date(2026, 10, 1), end_date=date(2026, 11, 30),
                         total_budget=Decimal("10000.00"))
    AdDailyFactory(plan=plan, date=date(2026, 10, 20), spend=Decimal("9000.00"))
    AdDailyFactory(plan=plan, date=date(2026, 11, 1), spend=Decimal("100.00"))

    month = month_pacing(plan, date(2026, 11, 2))

    assert month.budget == Decimal("1000.00")  # 10,000 in all, 9,000 spent in October; not 10,000 for November
    assert month.will_overspend  # 100 a day for 30 days


def test_month_chart_budget_line_stops_at_what_is_left_of_the_total_budget(store_a):
    from campaigns.ads_charts import month_pacing as month_chart
    from campaigns.ads_pacing import month_pacing

    plan = AdPlanFactory(store=store_a, daily_budget=Decimal("100.00"), start_date=date(2026, 10, 1),
                         end_date=date(2026, 11, 30), total_budget=Decimal("10000.00"))
    AdDailyFactory(plan=plan, date=date(2026, 10, 20), spend=Decimal("9000.00"))

    line = month_chart(plan, date(2026, 11, 2))["data"][0]

    assert line["name"] == "Budget to date"
    assert line["y"][9] == 1000.0 and line["y"][-1] == 1000.0  # not 3,000 by 30 Nov
    assert max(line["y"]) == float(month_pacing(plan, date(2026, 11, 2)).budget)


def test_roas_chart_labels_a_plan_without_spend_instead_of_drawing_zero(store_a, search_plan):
    from campaigns.ads_charts import roas_by_plan
    from campaigns.ads_pacing import plan_totals
    from campaigns.models import AdPlan

    idle = AdPlanFactory(store=store_a, name="Idle display")
    AdDailyFactory(plan=search_plan, date=date(2026, 11, 1), spend=Decimal("100.00"), sales=Decimal("400.00"))
    AdDailyFactory(plan=idle, date=date(2026, 11, 1), spend=Decimal("0.00"), sales=Decimal("0.00"))

    chart = roas_by_plan(plan_totals(AdPlan.objects.filter(store=store_a).order_by("name")), "ROAS")

    bars = chart["data"][0]
    assert list(bars["y"]) == ["Idle display (no spend)", "Longjing search"]
    assert list(bars["x"]) == [None, 4.0]  # no bar at all, not a 0.00 one beside a plan that earns nothing


@time_machine.travel(NOW, tick=False)
def test_a_plan_without_a_daily_budget_reads_no_cap_not_spent_beyond_zero(client_a, store_a):
    plan = AdPlanFactory(store=store_a, name="Smart bidding", daily_budget=Decimal("0.00"))
    feed(plan, {9: "120", 13: "300"})

    detail = client_a.get(plan.get_absolute_url())
    body = detail.content.decode()
    assert "Daily budget <span>no cap</span>" in body
    assert "300.00\u00a0CNY <span class=\"muted\">(no daily cap)</span>" in body and "of 0.00" not in body
    assert "(no cap)" in body  # this month: no daily cap, no total cap
    lines = [t["name"] for t in detail.context["charts"]["pacing"]["data"]]
    assert lines == ["Spend so far"]  # no budget line at 0 under 300 spent
    listed = client_a.get("/campaigns/ads/").content.decode()
    assert "300.00 · no cap" in re.sub(r"<[^>]+>", "", listed)  # spent today, on the plans list


def test_month_of_a_plan_capped_only_by_its_total_budget_warns_of_overspending_it(store_a):
    from campaigns.ads_pacing import month_pacing

    plan = AdPlanFactory(store=store_a, daily_budget=Decimal("0.00"), total_budget=Decimal("10000.00"))
    AdDailyFactory(plan=plan, date=date(2026, 10, 20), spend=Decimal("9000.00"))
    AdDailyFactory(plan=plan, date=date(2026, 11, 1), spend=Decimal("100.00"))

    month = month_pacing(plan, date(2026, 11, 2))

    assert month.budget == Decimal("1000.00")  # what the total budget had left, not 0 × 30 days
    assert month.will_overspend  # 100 a day for 30 days


@time_machine.travel(NOW, tick=False)
def test_pacing_alerts_of_two_stores_say_which_store_and_write_thousands(client_a, operator_a, store_a, store_b):
    """Two stores may each run a 'Display · retargeting': the alert names the store the plan is in, and a
    projection of thousands is written 1,234.56 as every amount beside it."""
    MembershipFactory(store=store_b, user=operator_a)
    AdPlanFactory(store=store_b, name="Display · retargeting")
    ours = AdPlanFactory(store=store_a, name="Display · retargeting", daily_budget=Decimal("1200.00"))
    feed(ours, {9: "500", 13: "1000"})  # flat curve: 1000 / (14/24) = 1714.29 > 1200
    body = client_a.get(reverse("campaigns:ads")).content.decode()
    alerts = body.split('id="pacing-alerts"')[1].split("</section>")[0]
    assert "Display · retargeting: on pace for 1,714.29 CNY today, daily budget 1,200.00 CNY" in alerts
    assert f"{store_a.name}</span>" in alerts and store_b.name not in alerts


@time_machine.travel(NOW, tick=False)
def test_a_plan_quiet_for_days_says_how_long_in_whole_hours_and_a_short_spell_in_minutes(store_a, search_plan):
    """'no spend for 91.9 h' read like a decimal to work out; the desk says waits as the shipping warnings do."""
    SnapshotFactory(plan=search_plan, ts=NOW - timedelta(hours=91, minutes=54), spend_today=Decimal("230"))
    feed(search_plan, {9: "0", 13: "0"})
    assert [alert.message for alert in pacing_alerts(store_a, NOW)] == [
        "Longjing search: no spend for 91 h while active (today 0.00 CNY)"]
    quiet = AdPlanFactory(store=store_a, name="Quiet since 9:30")
    SnapshotFactory(plan=quiet, ts=local(9, 30), spend_today=Decimal("40"))
    feed(quiet, {13: "40"})
    assert plan_pacing(quiet, NOW).stopped_words == "4 h 30 min"
