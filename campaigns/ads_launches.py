"""Product launches: the launch-week report (the first 7 store-local days from the launch date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from metrics.models import EventType, TrafficEvent
from opsdesk.money import to_money
from stores.models import OrderLine

from .models import AdDailyPerformance, LaunchPlan, ratio

LAUNCH_WEEK = 7


@dataclass
class LaunchDay:
    day: date
    views: int
    orders: int
    units: int
    gmv: Decimal
    ad_spend: Decimal
    ad_sales: Decimal

    @property
    def roas(self) -> Decimal | None:
        """Ad-attributed sales over ad spend, as the ad platforms report them."""
        return ratio(self.ad_sales, self.ad_spend, "0.01")

    @property
    def conversion(self) -> Decimal | None:
        return ratio(self.orders, self.views)


def launch_week_report(launch: LaunchPlan, today: date | None = None) -> list[LaunchDay]:
    """Day by day for the launch week: product views, paid orders and GMV of the product, ad spend and ROAS.

    Days after `today` (store-local) are left out: the week is reported as far as it has happened.
    """
    store = launch.store
    zone = store.zone
    first = launch.launch_date
    last = first + timedelta(days=LAUNCH_WEEK - 1)
    if today is not None:
        last = min(last, today)
    if last < first:
        return []
    start, _ = store.day_bounds(first)
    _, end = store.day_bounds(last)
    views = dict(
        TrafficEvent.objects.filter(store=store, product=launch.product, type=EventType.PRODUCT_VIEW,
                                    ts__gte=start, ts__lt=end)
        .annotate(d=TruncDate("ts", tzinfo=zone)).values("d").annotate(n=Count("id")).values_list("d", "n"))
    sales = {
        r["d"]: r for r in OrderLine.objects.filter(order__store=store, product=launch.product,
                                                     order__paid_at__gte=start, order__paid_at__lt=end)
        .annotate(d=TruncDate("order__paid_at", tzinfo=zone)).values("d")
        .annotate(orders=Count("order", distinct=True), units=Sum("quantity"), gmv=Sum("amount"))
    }
    ads = {
        r["date"]: r for r in AdDailyPerformance.objects.filter(plan__in=launch.ad_plans.all(), date__gte=first,
                                                                 date__lte=last)
        .values("date").annotate(spend=Sum("spend"), sales=Sum("sales"))
    }
    days = []
    for i in range((last - first).days + 1):
        d = first + timedelta(days=i)
        s, a = sales.get(d, {}), ads.get(d, {})
        days.append(LaunchDay(day=d, views=views.get(d, 0), orders=s.get("orders") or 0, units=s.get("units") or 0,
                              gmv=to_money(s.get("gmv") or 0), ad_spend=to_money(a.get("spend") or 0),
                              ad_sales=to_money(a.get("sales") or 0)))
    return days


def week_totals(days: list[LaunchDay]) -> LaunchDay | None:
    if not days:
        return None
    return LaunchDay(day=days[0].day, views=sum(d.views for d in days), orders=sum(d.orders for d in days),
                     units=sum(d.units for d in days), gmv=sum((d.gmv for d in days), Decimal(0)),
                     ad_spend=sum((d.ad_spend for d in days), Decimal(0)),
                     ad_sales=sum((d.ad_sales for d in days), Decimal(0)))
