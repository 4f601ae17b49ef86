"""The launch-week report: the product's views, orders and GMV with the launch's ad spend, day by day."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.ads_launches import launch_week_report, week_totals
from campaigns.models import Activity, LaunchPlan
from metrics.models import EventType, TrafficEvent
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory

from .conftest import AdDailyFactory, AdPlanFactory

pytestmark = pytest.mark.django_db
LAUNCH = date(2026, 11, 10)


def at_local(day, hour):  # Asia/Shanghai
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def test_launch_week_day_by_day(store_a):
    product, other = ProductFactory(store=store_a), ProductFactory(store=store_a)
    plan = AdPlanFactory(store=store_a, name="Launch search")
    unrelated = AdPlanFactory(store=store_a, name="Old search")
    launch = LaunchPlan.objects.create(store=store_a, product=product, name="Launch", launch_date=LAUNCH)
    launch.ad_plans.add(plan)
    # 00:30 local on launch day is still the previous UTC day: counted on the launch day.
    for n, (day, hour) in enumerate([(LAUNCH, 0), (LAUNCH, 12), (LAUNCH + timedelta(days=1), 9)]):
        TrafficEvent.objects.create(store=store_a, event_id=f"v{n}", type=EventType.PRODUCT_VIEW,
                                    ts=at_local(day, hour) + timedelta(minutes=30), product=product)
    TrafficEvent.objects.create(store=store_a, event_id="x", type=EventType.PRODUCT_VIEW, ts=at_local(LAUNCH, 9),
                                product=other)
    order = OrderFactory(store=store_a, placed_at=at_local(LAUNCH, 20), paid_at=at_local(LAUNCH, 20))
    OrderLineFactory(order=order, product=product, quantity=2, amount=Decimal("80.00"))
    OrderLineFactory(order=order, product=other, amount=Decimal("999.00"))
    late = OrderFactory(store=store_a, placed_at=at_local(LAUNCH + timedelta(days=7), 1),
                        paid_at=at_local(LAUNCH + timedelta(days=7), 1))  # day 8: outside the week
    OrderLineFactory(order=late, product=product, amount=Decimal("50.00"))
    AdDailyFactory(plan=plan, date=LAUNCH, spend=Decimal("40.00"), sales=Decimal("160.00"))
    AdDailyFactory(plan=unrelated, date=LAUNCH, spend=Decimal("500.00"))

    days = launch_week_report(launch, today=LAUNCH + timedelta(days=20))
    assert [d.day for d in days] == [LAUNCH + timedelta(days=i) for i in range(7)]
    first = days[0]
    assert (first.views, first.orders, first.units, first.gmv) == (2, 1, 2, Decimal("80.00"))
    assert (first.ad_spend, first.roas) == (Decimal("40.00"), Decimal("4.00"))
    assert days[1].views == 1 and days[1].orders == 0 and days[1].roas is None
    total = week_totals(days)
    assert (total.views, total.orders, total.gmv) == (3, 1, Decimal("80.00"))


def test_report_stops_at_today_and_is_empty_before_launch(store_a):
    launch = LaunchPlan.objects.create(store=store_a, product=ProductFactory(store=store_a), name="L",
                                       launch_date=LAUNCH)
    assert len(launch_week_report(launch, today=LAUNCH + timedelta(days=2))) == 3
    assert launch_week_report(launch, today=LAUNCH - timedelta(days=1)) == []


def test_launch_page_writes_roas_as_a_multiple_and_names_the_gmv_line(client_a, store_a):
    """ROAS reads '4.00×' as on the plans list (a bare 4.00 reads like money), the chart's line of the
    product's GMV is called GMV (not 'Sales', beside a table whose 'Ad sales' is another number), the money
    columns name their currency, and a linked activity opens."""
    product = ProductFactory(store=store_a)
    plan = AdPlanFactory(store=store_a, name="Launch search")
    launch = LaunchPlan.objects.create(store=store_a, product=product, name="Launch", launch_date=LAUNCH)
    launch.ad_plans.add(plan)
    activity = Activity.objects.create(store=store_a, name="New-arrival coupon", kind="store_promotion",
                                       start_date=LAUNCH, end_date=LAUNCH)
    launch.activities.add(activity)
    AdDailyFactory(plan=plan, date=LAUNCH, spend=Decimal("40.00"), sales=Decimal("160.00"))
    page = client_a.get(reverse("campaigns:ad_launch_detail", args=[launch.pk]))
    week = page.content.decode().split('id="launch-week"')[1].split("</table>")[0]
    assert '<td class="num">4.00×</td>' in week and '<th class="num">4.00×</th>' in week
    assert '<th class="num">GMV (CNY)</th><th class="num">Ad spend (CNY)</th>' in week
    assert [trace["name"] for trace in page.context["chart"]["data"]] == ["Ad spend", "GMV"]
    assert f'<a href="{activity.get_absolute_url()}">New-arrival coupon</a>' in page.content.decode()
