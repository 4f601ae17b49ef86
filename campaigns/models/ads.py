"""Paid promotion: ad plans and their daily performance (spend, clicks, sales)."""

from django.db import models
from django.db.models import Q

from opsdesk.money import MoneyField
from stores.models import Product, Store, TrafficSource

__all__ = ["AdChannel", "AdPlan", "AdPlanStatus", "AdDailyPerformance"]


class AdChannel(models.TextChoices):
    SEARCH = "search", "Through train / search ads"
    DISPLAY = "display", "Display"
    SOCIAL = "social", "Social"
    AFFILIATE = "affiliate", "Affiliate"


# Which traffic source a channel's paid clicks arrive as (feeds the live funnel's cost column).
CHANNEL_SOURCE = {
    AdChannel.SEARCH: TrafficSource.PAID_SEARCH,
    AdChannel.DISPLAY: TrafficSource.RECOMMENDATION,
    AdChannel.SOCIAL: TrafficSource.SOCIAL,
    AdChannel.AFFILIATE: TrafficSource.CAMPAIGN,
}


class AdPlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class AdPlan(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="ad_plans")
    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=100, blank=True, help_text="Campaign id in the ad platform.")
    channel = models.CharField(max_length=20, choices=AdChannel.choices)
    status = models.CharField(max_length=20, choices=AdPlanStatus.choices, default=AdPlanStatus.DRAFT)
    products = models.ManyToManyField(Product, blank=True, related_name="ad_plans")
    daily_budget = MoneyField(default=0)
    total_budget = MoneyField(default=0)
    target_roas = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="adplan_unique_store_name"),
            models.CheckConstraint(
                condition=Q(daily_budget__gte=0) & Q(total_budget__gte=0), name="adplan_budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def traffic_source(self) -> str:
        return CHANNEL_SOURCE[self.channel]


class AdDailyPerformance(models.Model):
    """A plan's results for one store-local day; (plan, date) is unique so a re-import replaces."""

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="daily")
    date = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    spend = MoneyField(default=0)
    orders = models.PositiveIntegerField(default=0)
    sales = MoneyField(default=0)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "date"], name="addaily_unique_plan_date"),
            models.CheckConstraint(condition=Q(spend__gte=0) & Q(sales__gte=0), name="addaily_money_ok"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.date}"
