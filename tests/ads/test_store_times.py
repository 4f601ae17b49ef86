"""Times on the paid-promotion pages are the store's own, with its zone named, as on the product page."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import LaunchPlan
from stores.models import ListingVersion
from tests.factories import MembershipFactory, ProductFactory, UserFactory

from .conftest import SnapshotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_b(client, store_b):
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user)
    return client


@time_machine.travel(datetime(2026, 11, 26, 13, 0, tzinfo=UTC), tick=False)  # 05:00 in Los Angeles
def test_last_spend_increase_is_shown_in_the_stores_time(client_b, plan_b):
    SnapshotFactory(plan=plan_b, ts=datetime(2026, 11, 26, 10, 59, 59, tzinfo=UTC), spend_today=Decimal("12"))

    body = client_b.get(reverse("campaigns:ad_detail", args=[plan_b.pk])).content.decode()

    assert "Last spend increase <span>2026-11-26 02:59 <span class=\"muted\">(America/Los_Angeles time)" in body


def test_launch_lists_listing_versions_in_the_stores_time(client_b, store_b):
    product = ProductFactory(store=store_b)
    version = ListingVersion.objects.create(product=product, title="New main picture",
                                            started_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    launch = LaunchPlan.objects.create(store=store_b, product=product, name="Winter tea",
                                       launch_date=date(2026, 11, 20))
    launch.listing_versions.add(version)

    body = client_b.get(reverse("campaigns:ad_launch_detail", args=[launch.pk])).content.decode()

    assert "(times in America/Los_Angeles)" in body
    assert "New main picture <span class=\"muted\">2026-11-20 01:30</span>" in body


# Los Angeles: clocks go back 02:00 → 01:00 on 1 Nov 2026 (25 h day) and forward 02:00 → 03:00 on 8 Mar 2026.
@time_machine.travel(datetime(2026, 11, 1, 19, 30, tzinfo=UTC), tick=False)  # 11:30 PST
def test_a_plan_opening_at_nine_on_the_clocks_back_day_is_not_stopped_two_and_a_half_hours_later(plan_b):
    from campaigns.ads_pacing import plan_pacing

    plan_b.hour_from, plan_b.hour_to = 9, 21
    plan_b.save()
    SnapshotFactory(plan=plan_b, ts=datetime(2026, 10, 31, 23, 0, tzinfo=UTC), spend_today=Decimal("80"))

    assert plan_pacing(plan_b).stopped_hours is None  # open since 09:00 local, not since 08:00


@time_machine.travel(datetime(2026, 3, 8, 18, 30, tzinfo=UTC), tick=False)  # 11:30 PDT
def test_spend_by_hour_on_the_clocks_forward_day_falls_in_its_local_hour(plan_b):
    from campaigns.ads_pacing import plan_pacing

    ten_fifty_nine = datetime(2026, 3, 8, 17, 59, 59, tzinfo=UTC)
    SnapshotFactory(plan=plan_b, ts=ten_fifty_nine, spend_today=Decimal("60"))

    actual = plan_pacing(plan_b).hourly_actual

    assert actual[9] == Decimal("0") and actual[10] == Decimal("60")  # by 10:00 nothing, by 11:00 60
