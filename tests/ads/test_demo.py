"""The paid-promotion demo tells the same story as the orders: the through-train plan stopped."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from campaigns import ads_demo, ads_desk
from campaigns.ads_pacing import daily_ad_results, pacing_alerts, spend_by_source, store_month_pacing
from campaigns.models import (
    AdChannel,
    AdCreativePerformance,
    AdDailyPerformance,
    AdPlan,
    LaunchPlan,
    StoreAdBudget,
)
from metrics import email
from metrics.figures import metric_value
from stores import demo
from tests.demo_once import seeded_once

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai, 23:30 (Nov 24) in Los Angeles


def seed_ads_demo():
    ctx = demo.seed(days=30)
    ads_demo.seed(ctx)
    return ctx


def check_month_budgets_one_store_on_pace_to_overspend(ctx, client, now):
    jade, pacific = ctx.stores
    with time_machine.travel(now, tick=False):
        assert set(StoreAdBudget.objects.values_list("store__slug", "month")) == {
            (jade.slug, date(2026, 11, 1)), (pacific.slug, date(2026, 11, 1))}
        room, hot = store_month_pacing(jade, now), store_month_pacing(pacific, now)
        assert room.verdict == "under"
        # The month ends above the budget at the current rate, and has not passed it yet.
        assert hot.verdict == "over" and hot.spend < hot.budget < hot.projected
        labels = [i.label for i in ads_desk.open_items(pacific, ctx.operator)]
        assert any(label.startswith("Ad budget of November 2026 on pace to overspend") for label in labels), labels
        assert not any(i.label.startswith("Ad budget") for i in ads_desk.open_items(jade, ctx.operator))
        client.force_login(ctx.operator)
        page = client.get(reverse("campaigns:ads") + f"?store={pacific.slug}").content.decode()
    assert 'id="ad-budget"' in page and "on pace to overspend by" in page


@pytest.fixture(scope="class")
def demo_at_now(django_db_setup, django_db_blocker, tmp_path_factory):
    """(the demo's context, the media folder its creatives' images were saved under)."""
    media_root = tmp_path_factory.mktemp("ads-demo") / "media"
    with seeded_once(django_db_blocker):
        with override_settings(MEDIA_ROOT=media_root), time_machine.travel(NOW, tick=False):
            ctx = seed_ads_demo()
        yield ctx, media_root


class TestTheDemoSeededAtNow:
    """One demo (30 days, ads) seeded at NOW for these tests, each reading it at NOW."""

    @pytest.fixture
    def ctx(self, settings, demo_at_now):
        """The shared demo, with the test's MEDIA_ROOT where its creatives' images are."""
        ctx, settings.MEDIA_ROOT = demo_at_now
        return ctx

    @time_machine.travel(NOW, tick=False)
    def test_demo_story(self, ctx):
        jade, pacific = ctx.stores
        assert AdPlan.objects.filter(store=jade).count() == 5  # one per channel + the launch plan
        search = AdPlan.objects.get(store=jade, channel=AdChannel.SEARCH, launch_plans=None)
        anomaly = ctx.anomaly_day[jade.slug]
        assert search.daily.get(date=anomaly).spend == 0
        assert search.daily.get(date=anomaly - timedelta(days=1)).spend > 0
        # ads are consistent with orders: paid-search sales never exceed the store's paid-search GMV
        assert all(r.sales >= 0 and r.orders >= 0 for r in AdDailyPerformance.objects.all())
        assert {a.kind for a in pacing_alerts(jade, NOW) if a.plan == search} == {"stopped"}
        pacific_alerts = {(a.plan.name, a.kind) for a in pacing_alerts(pacific, NOW)}
        assert ("Display · retargeting", "overspend_day") in pacific_alerts
        items = {i.label: i.count for i in ads_desk.open_items(jade, ctx.operator)}
        assert items["Ad plans stopped spending"] == 1
        assert spend_by_source(jade, jade.today(NOW), NOW)["paid_search"] == 0
        assert spend_by_source(jade, jade.today(NOW), NOW)["social"] > 0
        morning = daily_ad_results(jade, anomaly)
        assert next(p for p in morning["plans"] if p["plan"] == search.name)["spend"] == 0
        assert AdCreativePerformance.objects.filter(creative__plan=search).exists()
        launch = LaunchPlan.objects.filter(store=jade).get()
        assert launch.checklist.count() == 7
        (launch_plan,) = launch.ad_plans.all()
        assert launch_plan.products.get() == launch.product and launch_plan.daily.exists()

    # Early and late in the month (28 Nov: Los Angeles 12:00, most of the month spent): on pace, not over already.
    def test_demo_month_budgets_one_store_on_pace_to_overspend_early_in_the_month(self, ctx, client):
        check_month_budgets_one_store_on_pace_to_overspend(ctx, client, NOW)

    @time_machine.travel(NOW, tick=False)
    def test_demo_morning_email_tells_the_manager_the_store_on_pace_to_overspend(self, ctx, settings):
        settings.SITE_URL = "https://desk.example.com"
        jade, pacific = ctx.stores
        parts = {}
        for store in (jade, pacific):
            manager = store.memberships.get(user=ctx.manager)
            message = email.build_message(manager, store.today(NOW) - timedelta(days=1))
            parts[store] = (message.body, message.alternatives[0][0])
        link = f"https://desk.example.com/campaigns/ads/?store={pacific.slug}#ad-budget"
        for part in parts[pacific]:
            assert "Ad budget" in part and "All plans" in part and "on pace to spend" in part and link in part
        assert not any("All plans" in part for part in parts[jade])  # the first store's budget leaves room

    @time_machine.travel(NOW, tick=False)
    def test_a_newcomer_sees_a_plan_paused_for_days_and_resumed_judged_on_its_running_days(self, ctx, client):
        jade = ctx.stores[0]  # Wed 25 Nov in Shanghai: paused Thu 19 Nov 10:00, running again Tue 24 Nov 09:00
        plan = AdPlan.objects.get(store=jade, channel=AdChannel.DISPLAY)
        assert not plan.daily.filter(date__range=(date(2026, 11, 20), date(2026, 11, 23))).exists()
        assert plan.daily.filter(date=date(2026, 11, 24)).exists()
        client.force_login(ctx.manager)
        page = client.get(reverse("campaigns:ad_detail", args=[plan.pk])).content.decode()
        budget = metric_value(plan.daily_budget * 26, "money")
        assert f"(paused 4 days: budget for the 26 running days {budget})" in page
        history = page[page.index('id="status-history"'):page.index("</section>", page.index('id="status-history"'))]
        assert history.index("Active <span>Tue 24 Nov 09:00") < history.index("Paused <span>Thu 19 Nov 10:00")
        assert "Tue 24 Nov 09:00 <span class=\"muted\">(Asia/Shanghai time)</span> · Olivia" in history
        assert "Thu 19 Nov 10:00 <span class=\"muted\">(Asia/Shanghai time)</span> · Marco" in history
        client.force_login(ctx.operator)
        page = client.get(reverse("campaigns:ads") + f"?store={jade.slug}").content.decode()
        assert "4 plan-days paused left out" in page


def test_demo_month_budgets_one_store_on_pace_to_overspend_late_in_the_month(media, client):
    """Its own demo, seeded on 28 Nov (Los Angeles 12:00, most of the month spent): on pace, not over already."""
    now = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        ctx = seed_ads_demo()
    check_month_budgets_one_store_on_pace_to_overspend(ctx, client, now)
