"""The daily-tracking demo seeder rolls up the demo history and flags the paid-search collapse of the last three
days as one incident."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from campaigns import ads_demo
from metrics import daily_demo, email
from metrics.models import Anomaly, DailyMetric
from stores import demo
from tests.demo_once import seeded_once

# A frozen clock (every seeder reads it): the demo's dates, weekdays and history are the same on every run.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(scope="class")
def ctx(django_db_setup, django_db_blocker):
    with seeded_once(django_db_blocker):
        with time_machine.travel(NOW, tick=False):
            ctx = demo.seed(days=63)
            daily_demo.seed(ctx)
        yield ctx


class TestTheDemoRolledUp:
    """One demo (63 days, rolled up, no ads) seeded at NOW for these tests, each reading it at NOW."""

    def test_daily_demo_rolls_up_history_and_flags_paid_search(self, ctx):
        first = ctx.stores[0]
        day = ctx.anomaly_day[first.slug]
        assert DailyMetric.objects.filter(store=first, metric="orders", dimension="").count() == 63
        assert Anomaly.objects.filter(store=first, day=day, metric="gmv", dimension="traffic_source",
                                      dimension_value="paid_search").exists()

    def test_the_paused_plan_is_one_incident_over_three_days_on_the_list_and_in_the_email(self, ctx, client):
        first = ctx.stores[0]
        start, yesterday = ctx.anomaly_day[first.slug], first.today() - timedelta(days=1)
        assert (start, yesterday) == (date(2026, 11, 23), date(2026, 11, 25))
        lead = Anomaly.objects.get(store=first, day=yesterday, metric="gmv", dimension="", part_of=None)
        assert lead.continues.day == yesterday - timedelta(days=1)
        assert lead.continues.continues.day == start and lead.continues.continues.continues is None
        client.force_login(ctx.operator)
        page = client.get(reverse("metrics:anomalies")).content.decode()
        assert "since Mon 23 Nov, 3rd day" in page
        manager = first.memberships.get(user=ctx.manager)
        assert ", 3rd day" in email.build_message(manager, yesterday).subject


def test_the_explanation_shows_paid_search_spend_beside_its_usual_level():
    ctx = demo.seed(days=63)
    ads_demo.seed(ctx)  # the first store's through-train plan stops spending on the anomaly day
    daily_demo.seed(ctx)
    first = ctx.stores[0]
    gmv = Anomaly.objects.get(store=first, day=ctx.anomaly_day[first.slug], metric="gmv", dimension="")
    spend = re.search(r"ad spend ([\d,]+\.\d\d) CNY, usually ([\d,]+\.\d\d) CNY", gmv.explanation)
    assert spend, gmv.explanation
    assert float(spend[1].replace(",", "")) < float(spend[2].replace(",", "")) * 0.6
