"""The demo's traffic: consistent with the seeded orders, with yesterday's paid-search collapse."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from metrics import demo as metrics_demo
from metrics import live
from metrics.models import TrafficEvent
from stores import demo as stores_demo
from stores import listing

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai, 04:00 in Los Angeles


@pytest.fixture(scope="module")
def ctx(django_db_setup, django_db_blocker):
    """Seeded once for the module (it takes seconds) and removed afterwards."""
    with django_db_blocker.unblock():
        with time_machine.travel(NOW, tick=False):
            ctx = stores_demo.seed(days=9, now=NOW)
            metrics_demo.seed(ctx)
        yield ctx
        stores_demo.remove_demo()
        for user in (ctx.operator, ctx.manager):
            user.delete()


def test_every_demo_store_gets_two_weeks_of_traffic_up_to_now(ctx):
    for store in ctx.stores:
        events = TrafficEvent.objects.filter(store=store)
        first = events.order_by("ts").first().ts
        assert first >= store.day_bounds(store.today(NOW) - timedelta(days=metrics_demo.DAYS - 1))[0]
        assert events.order_by("-ts").first().ts < NOW
        assert events.filter(type="session_start").count() > 1000


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
