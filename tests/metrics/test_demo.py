"""The demo's traffic: consistent with the seeded orders over the whole rolled-up history, with the paid-search
collapse of the last three days in sessions, so the demo's anomalies are explained by visitors and sessions."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import Q

from metrics import daily_demo, live
from metrics import demo as metrics_demo
from metrics.models import Anomaly, DailyMetric, TrafficEvent
from stores import demo as stores_demo
from stores import listing
from tests.demo_once import seeded_once

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai, 04:00 in Los Angeles
DAYS = 42  # beyond the live view's two weeks; the detector needs 3 same weekdays and 2 weeks of spread


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker):
    """Seeded and rolled up once for the module (it takes seconds) and removed afterwards, leaving no row."""
    with seeded_once(django_db_blocker):
        with time_machine.travel(NOW, tick=False):
            ctx = stores_demo.seed(days=DAYS, now=NOW)
            metrics_demo.seed(ctx)
            daily_demo.seed(ctx)
        yield ctx


def test_every_demo_store_gets_traffic_from_its_first_rolled_up_day_up_to_now(ctx):
    for store in ctx.stores:
        events = TrafficEvent.objects.filter(store=store)
        first_day = store.today(NOW) - timedelta(days=DAYS)
        assert events.order_by("ts").first().ts.astimezone(store.zone).date() == first_day
        assert events.order_by("-ts").first().ts < NOW
        assert events.filter(type="session_start").count() > 1000


def test_every_rolled_up_day_with_orders_has_visitors(ctx):
    for store in ctx.stores:
        days = DailyMetric.objects.filter(store=store, dimension="")
        with_orders = set(days.filter(metric="orders", value__gt=0).values_list("day", flat=True))
        with_visitors = set(days.filter(metric="visitors", value__gt=0).values_list("day", flat=True))
        assert len(with_orders) == DAYS
        assert with_orders - with_visitors == set()


def test_each_sources_conversion_stays_in_its_usual_range_every_day_but_paid_search_while_paused(ctx):
    for store in ctx.stores:
        rates = DailyMetric.objects.filter(store=store, metric="conversion", dimension="traffic_source",
                                           dimension_value__in=["organic_search", "paid_search"])
        if store == ctx.stores[0]:  # its through-train plan is paused from the anomaly day on
            rates = rates.exclude(Q(day__gte=ctx.anomaly_day[store.slug], dimension_value="paid_search"))
        for day, source, rate in rates.values_list("day", "dimension_value", "value"):
            assert 0.04 < rate < 0.3, (store.slug, day, source, rate)


def test_yesterdays_gmv_drop_is_explained_by_paid_search_sessions_and_visitors(ctx):
    jade = ctx.stores[0]
    gmv = Anomaly.objects.get(store=jade, day=ctx.anomaly_day[jade.slug], metric="gmv", dimension="")
    assert "paid-search GMV" in gmv.explanation
    assert "sessions −9" in gmv.explanation, gmv.explanation
    assert "Metric tree: visitors" in gmv.explanation, gmv.explanation
    assert Anomaly.objects.filter(store=jade, day=gmv.day, metric="sessions", dimension="traffic_source",
                                  dimension_value="paid_search").exists()


def test_an_explanation_names_each_number_once(ctx):
    jade = ctx.stores[0]
    sessions = Anomaly.objects.get(store=jade, day=ctx.anomaly_day[jade.slug], metric="sessions", dimension="")
    assert "paid-search sessions −9" in sessions.explanation, sessions.explanation
    assert "(sessions" not in sessions.explanation


def test_live_view_shows_sensible_numbers(ctx):
    jade = ctx.stores[0]
    data = live.snapshot(jade, NOW)
    today = data["kpis"]["today"]
    assert today["orders"] > 0
    assert 0.03 < today["conversion"] < 0.2
    for row in data["funnel"]:
        assert row["sessions"] >= row["viewed"] >= row["carted"]


def test_yesterdays_paid_search_collapse_shows_in_sessions(ctx):
    jade, pacific = ctx.stores
    for store, collapsed in ((jade, True), (pacific, False)):
        yesterday = store.today(NOW) - timedelta(days=1)
        day = TrafficEvent.objects.filter(store=store, type="session_start", source="paid_search")
        y = day.filter(ts__range=store.day_bounds(yesterday)).count()
        week = day.filter(ts__range=store.day_bounds(yesterday - timedelta(days=7))).count()
        assert (y < week * 0.4) is collapsed


def test_featured_product_has_a_clear_listing_verdict(ctx):
    product = ctx.stores[0].products.get(listing_versions__isnull=False, listing_versions__note__startswith="Edition")
    result = listing.report(product, now=NOW)
    assert product.title.endswith(metrics_demo.TITLE_SUFFIX)
    assert not result.versions[1].version.title.endswith(metrics_demo.TITLE_SUFFIX)
    assert result.conversion.significant
    assert "better" in result.conversion.verdict
