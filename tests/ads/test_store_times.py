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

    assert "Last spend increase <span>Thu 26 Nov 02:59 <span class=\"muted\">(America/Los_Angeles time)" in body


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_launch_lists_listing_versions_in_the_stores_time(client_b, store_b):
    product = ProductFactory(store=store_b)
    version = ListingVersion.objects.create(product=product, title="New main picture",
                                            started_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    launch = LaunchPlan.objects.create(store=store_b, product=product, name="Winter tea",
                                       launch_date=date(2026, 11, 20))
    launch.listing_versions.add(version)

    body = client_b.get(reverse("campaigns:ad_launch_detail", args=[launch.pk])).content.decode()

    assert "(times in America/Los_Angeles)" in body
    assert "New main picture <span class=\"muted\">Fri 20 Nov 01:30</span>" in body


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


@pytest.mark.parametrize("now, share", [
    (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), Decimal("0.06")),  # 01:30 PDT: 1.5 of the day's 25 hours
    (datetime(2026, 11, 1, 9, 30, tzinfo=UTC), Decimal("0.1")),  # 01:30 PST, an hour later: 2.5 of 25
    (datetime(2026, 3, 8, 10, 30, tzinfo=UTC), Decimal("0.108696")),  # 03:30 PDT: 2.5 of the day's 23 hours
])
def test_expected_share_on_a_dst_day_counts_the_hours_that_really_went_by(plan_b, now, share):
    from campaigns.ads_pacing import plan_pacing

    with time_machine.travel(now, tick=False):
        assert plan_pacing(plan_b).expected_share == share  # a flat curve: too few orders for a real one


@time_machine.travel(datetime(2026, 11, 1, 9, 30, tzinfo=UTC), tick=False)  # 01:30 PST, the second 01:00 hour
def test_a_plan_on_budget_pace_on_the_clocks_back_day_is_projected_at_its_budget(plan_b):
    from campaigns.ads_pacing import plan_pacing

    SnapshotFactory(plan=plan_b, ts=datetime(2026, 11, 1, 9, 30, tzinfo=UTC), spend_today=Decimal("24.00"))

    pacing = plan_pacing(plan_b)  # 240 over 25 hours: 24 by 2.5 hours in

    assert pacing.projected_day == Decimal("240.00") and not pacing.will_overspend_day
    assert pacing.hourly_expected[0] == Decimal("9.60")  # by 01:00 PDT: one hour of 25
    assert pacing.hourly_expected[1] == Decimal("28.80")  # by 02:00 PST: both 01:00 hours too
    assert pacing.hourly_expected[23] == Decimal("240.00")
