"""Paid promotion: ad plans, their creatives, daily performance and today's hourly spend snapshots."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import post_delete
from django.urls import reverse
from django.utils import timezone

from opsdesk.images import OwnsPictureFile, discard_deleted_picture
from opsdesk.money import MoneyField
from stores.models import Product, Store, TrafficSource

__all__ = [
    "AdChannel", "AdPlan", "AdPlanStatus", "AdPlanStatusChange", "StatusSource", "BidStrategy",
    "AdDailyPerformance", "AdCreative", "AdCreativePerformance", "AdSpendSnapshot", "CHANNEL_SOURCE",
    "DerivedMetrics", "StoreAdBudget", "ratio", "percent", "AdPacingAlertSent",
    "AdPacingAlertDelivery",
]


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


class BidStrategy(models.TextChoices):
    MANUAL_CPC = "manual_cpc", "Manual CPC"
    MAXIMIZE_CLICKS = "max_clicks", "Maximise clicks"
    MAXIMIZE_CONVERSIONS = "max_conversions", "Maximise conversions"
    TARGET_ROAS = "target_roas", "Target ROAS"
    TARGET_CPA = "target_cpa", "Target CPA"
    SMART = "smart", "Platform smart bidding"


def ratio(numerator, denominator, places: str = "0.0001") -> Decimal | None:
    """numerator / denominator as a Decimal, or None when the denominator is zero (no division error)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places))


def percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}\u00a0%"


class DerivedMetrics:
    """CTR, CPC, CVR, CPA, ROAS and ACoS from impressions, clicks, spend, orders and sales.

    None means "not defined" (e.g. CTR with no impressions), never a division error.
    CTR and CVR are fractions (0.0123 = 1.23 %); ROAS is sales / spend; ACoS is spend / sales.
    """

    impressions: int
    clicks: int
    spend: Decimal
    orders: int
    sales: Decimal

    @property
    def ctr(self) -> Decimal | None:
        return ratio(self.clicks, self.impressions)

    @property
    def cpc(self) -> Decimal | None:
        return ratio(self.spend, self.clicks, "0.01")

    @property
    def cvr(self) -> Decimal | None:
        return ratio(self.orders, self.clicks)

    @property
    def cpa(self) -> Decimal | None:
        return ratio(self.spend, self.orders, "0.01")

    @property
    def roas(self) -> Decimal | None:
        return ratio(self.sales, self.spend, "0.01")

    @property
    def acos(self) -> Decimal | None:
        return ratio(self.spend, self.sales)

    # Percent strings for pages ("1.23 %", or "–" when undefined).
    @property
    def ctr_pct(self) -> str:
        return percent(self.ctr)

    @property
    def cvr_pct(self) -> str:
        return percent(self.cvr)

    @property
    def acos_pct(self) -> str:
        return percent(self.acos)


class AdPlanQuerySet(models.QuerySet):
    def shown_as(self, status: str) -> AdPlanQuerySet:
        """Plans whose status reads `status` on the pages (see `AdPlan.shown_status`)."""
        past_end = Q(pk__in=[])
        for store in Store.objects.filter(pk__in=self.values("store")):
            past_end |= Q(store=store, end_date__lt=store.today())
        past_end &= Q(status__in=AdPlan.RUNNING)
        if status == AdPlanStatus.ENDED:
            return self.filter(Q(status=status) | past_end)
        return self.filter(status=status).exclude(past_end)


class AdPlan(models.Model):
    """A paid-promotion plan (an ad platform's campaign): channel, products, budgets, bidding, schedule."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="ad_plans")
    name = models.CharField(max_length=200, help_text="Exactly as in the ad platform: reports are matched by it.")
    external_id = models.CharField(max_length=100, blank=True, help_text="Campaign id in the ad platform.")
    channel = models.CharField(max_length=20, choices=AdChannel.choices)
    status = models.CharField(max_length=20, choices=AdPlanStatus.choices, default=AdPlanStatus.DRAFT)
    products = models.ManyToManyField(Product, blank=True, related_name="ad_plans")
    daily_budget = MoneyField(default=0)
    total_budget = MoneyField(default=0, help_text="0 means no total cap.")
    bid_strategy = models.CharField(max_length=20, choices=BidStrategy.choices, default=BidStrategy.MANUAL_CPC)
    target_roas = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    hour_from = models.PositiveSmallIntegerField(
        default=0, help_text="Store-local hour the ads start showing each day (0-23)."
    )
    hour_to = models.PositiveSmallIntegerField(
        default=24, help_text="Store-local hour the ads stop each day (1-24, exclusive)."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    RUNNING = (AdPlanStatus.ACTIVE, AdPlanStatus.PAUSED)  # what ends once the end date has passed
    objects = AdPlanQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="adplan_unique_store_name"),
            models.CheckConstraint(
                condition=Q(daily_budget__gte=0) & Q(total_budget__gte=0), name="adplan_budget_not_negative",
                violation_error_message="Budgets cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="adplan_dates_in_order",
                violation_error_message="The end date is before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(hour_from__gte=0) & Q(hour_from__lt=F("hour_to")) & Q(hour_to__lte=24),
                name="adplan_hours_valid",
                violation_error_message="Hours must satisfy 0 ≤ from < to ≤ 24 (store-local).",
            ),
            models.CheckConstraint(
                condition=Q(target_roas__isnull=True) | Q(target_roas__gt=0), name="adplan_target_roas_positive",
                violation_error_message="The target ROAS must be above 0.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:ad_detail", args=[self.pk])

    @property
    def shown_status(self) -> str:
        """The status as of the store's today: an active or paused plan past its end date has ended, even
        before the hourly `end_finished_plans` task records it."""
        if self.status in self.RUNNING and self.end_date and self.end_date < self.store.today():
            return AdPlanStatus.ENDED
        return self.status

    @property
    def shown_status_label(self) -> str:
        return AdPlanStatus(self.shown_status).label

    @property
    def traffic_source(self) -> str:
        return CHANNEL_SOURCE[self.channel]

    def runs_on(self, day) -> bool:
        """Whether the plan's date window includes the store-local `day`."""
        return (self.start_date is None or self.start_date <= day) and (self.end_date is None or day <= self.end_date)

    def runs_at_hour(self, hour: int) -> bool:
        return self.hour_from <= hour < self.hour_to


class StatusSource(models.TextChoices):
    FORM = "form", "plan form"
    ADMIN = "admin", "admin"
    END_DATE = "end_date", "end date passed"
    DEMO = "demo", "demo"
    RECORD_BEGAN = "record_began", "status when the record began"


class AdPlanStatusChange(models.Model):
    """One status a plan was set to, when and by whom: what pacing reads to tell the days it was set to run."""

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=AdPlanStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    source = models.CharField(max_length=20, choices=StatusSource.choices)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["plan", "at"], name="adplanstatus_plan_at")]

    def __str__(self) -> str:
        return f"{self.plan} {self.status} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, plan: AdPlan, source: str, by=None, at=None, previous: str | None = None
               ) -> AdPlanStatusChange | None:
        """Record the plan's (saved) status unless it is `previous`, its status before the save (None: a new
        plan). Call it in the transaction that saved the plan, so the history never misses a change."""
        if previous == plan.status:
            return None
        return cls.objects.create(plan=plan, status=plan.status, source=source,
                                  by=by if getattr(by, "is_authenticated", False) else None, at=at or timezone.now())


class AdDailyPerformance(DerivedMetrics, models.Model):
    """A plan's results for one store-local day; (plan, date) is unique so a re-import replaces."""

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="daily")
    date = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    spend = MoneyField(default=0)
    orders = models.PositiveIntegerField(default=0)
    sales = MoneyField(default=0)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "date"], name="addaily_unique_plan_date"),
            models.CheckConstraint(condition=Q(spend__gte=0) & Q(sales__gte=0), name="addaily_money_ok",
                                   violation_error_message="Spend and sales cannot be negative."),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.date}"


def creative_upload_path(instance, filename: str) -> str:
    """A random name under ads/creatives/<store id>/: the uploader's file name is never used as a path."""
    ext = PurePosixPath(filename).suffix.lower().lstrip(".")
    ext = {"jpeg": "jpg"}.get(ext, ext)
    return f"{AdCreative.picture_folder}/{instance.plan.store_id}/{uuid.uuid4().hex}.{ext}"


class AdCreative(OwnsPictureFile, models.Model):
    """An ad's picture with its headline and text, attached to one plan. A replaced or deleted creative's picture
    file and thumbnail are deleted once the change commits (OwnsPictureFile)."""

    picture_field = "image"
    picture_folder = "ads/creatives"

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="creatives")
    name = models.CharField(max_length=200, help_text="As in the ad platform's report (matched by it).")
    headline = models.CharField(max_length=150)
    text = models.TextField(blank=True)
    image = models.ImageField(upload_to=creative_upload_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_filename = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "name"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="adcreative_unique_plan_name")]

    def __str__(self) -> str:
        return self.name


post_delete.connect(discard_deleted_picture, sender=AdCreative)


class AdCreativePerformance(DerivedMetrics, models.Model):
    """A creative's results for one day (from reports with a creative column); unique per (creative, date)."""

    creative = models.ForeignKey(AdCreative, on_delete=models.CASCADE, related_name="daily")
    date = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    spend = MoneyField(default=0)
    orders = models.PositiveIntegerField(default=0)
    sales = MoneyField(default=0)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["creative", "date"], name="adcreativeperf_unique_creative_date"),
            models.CheckConstraint(condition=Q(spend__gte=0) & Q(sales__gte=0), name="adcreativeperf_money_ok",
                                   violation_error_message="Spend and sales cannot be negative."),
        ]

    def __str__(self) -> str:
        return f"{self.creative} {self.date}"


class AdSpendSnapshot(models.Model):
    """A plan's cumulative spend for its store-local day as read at `ts` (fed by the API, imports, demo)."""

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="spend_snapshots")
    ts = models.DateTimeField()
    spend_today = MoneyField()

    class Meta:
        ordering = ["plan", "ts"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "ts"], name="adsnapshot_unique_plan_ts"),
            models.CheckConstraint(condition=Q(spend_today__gte=0), name="adsnapshot_spend_not_negative",
                                   violation_error_message="Spend cannot be negative."),
        ]
        indexes = [models.Index(fields=["plan", "-ts"], name="adsnapshot_plan_ts")]

    def __str__(self) -> str:
        return f"{self.plan} {self.ts:%Y-%m-%d %H:%M} {self.spend_today}"


class StoreAdBudget(models.Model):
    """What a store means to spend on ads, all plans together, in one store-local month (its currency)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="ad_budgets")
    month = models.DateField(help_text="The month's first day.")
    amount = MoneyField(help_text="In the store's currency.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "month"]
        constraints = [
            models.UniqueConstraint(fields=["store", "month"], name="storeadbudget_unique_store_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="storeadbudget_amount_not_negative",
                                   violation_error_message="The budget cannot be negative."),
            models.CheckConstraint(condition=Q(month__day=1), name="storeadbudget_month_first_day",
                                   violation_error_message="A month budget is dated on the month's first day."),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.month:%Y-%m} {self.amount}"


class AdPacingAlertSent(models.Model):
    """One pacing alert episode emailed to its store's people: a plan's quiet spell (from when it stopped spending),
    a store-local day it was on pace to overspend, or a total budget it was on pace to overspend; or the all-clear of
    a quiet spell emailed, once the plan spends again. Inserted before the email goes; its unique constraint makes a
    second beat run, or a retried task, skip the episode instead of sending it twice."""

    STOPPED = "stopped"
    OVERSPEND_DAY = "overspend_day"
    OVERSPEND_TOTAL = "overspend_total"
    RESUMED = "resumed"  # the all-clear of a stopped episode: its episode_start is the stopped one's
    KINDS = [(STOPPED, "Stopped spending"), (OVERSPEND_DAY, "On pace to overspend the day"),
             (OVERSPEND_TOTAL, "On pace to overspend the total budget"), (RESUMED, "Spending again (all-clear)")]

    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="pacing_alerts_sent")
    kind = models.CharField(max_length=20, choices=KINDS)
    # Stopped: when its spend last rose (the quiet spell's start), and its all-clear (resumed) the same; overspend:
    # the start of the store-local day; total: when an hourly run last found the plan under pace by the margin (the
    # previous episode's ended_at), or when the plan was made.
    episode_start = models.DateTimeField()
    # Total overspend: the total budget it was on pace to pass, so a budget changed later is a new episode; 0 else.
    budget = MoneyField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Total overspend: when an hourly run found the plan back under pace by the margin (ads_alerts.
    # TOTAL_BACK_UNDER_SHARE), ending the episode (going over again with the same budget is then a new one); null
    # while it lasts.
    ended_at = models.DateTimeField(null=True, blank=True)
    # The email's line as written when claimed, so a send retried later tells what the others were told.
    words = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["plan", "-episode_start"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "episode_start", "budget"],
                                    name="adpacingalert_unique_episode"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.kind} {self.episode_start:%Y-%m-%d %H:%M}"


class AdPacingAlertDelivery(models.Model):
    """One person's email of a pacing alert episode (their membership of its store), written with the episode's claim
    for each person who keeps the alerts on; unique, so each person is sent an episode once. Taken (sent_at set)
    before the email goes, so a racing run skips it; a failed send gives it back for the next hourly run, until the
    episode is too old to tell (campaigns.ads_alerts.RETRY_FOR) and the run gives up (gave_up_at)."""

    alert = models.ForeignKey(AdPacingAlertSent, on_delete=models.CASCADE, related_name="deliveries")
    membership = models.ForeignKey("stores.StoreMembership", on_delete=models.CASCADE,
                                   related_name="ad_alert_deliveries")
    sent_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "membership"], name="adpacingalertdelivery_unique_person"),
        ]

    def __str__(self) -> str:
        return f"{self.alert} to membership {self.membership_id}"
