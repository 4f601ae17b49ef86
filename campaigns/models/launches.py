"""Product launches: a new product's listing versions, ad plans and activities, with a checklist."""

from django.db import models
from django.urls import reverse

from stores.models import ListingVersion, Product, Store

from .activities import Activity
from .ads import AdPlan

__all__ = ["LaunchPlan", "LaunchStatus", "LaunchChecklistItem", "DEFAULT_LAUNCH_CHECKLIST"]

DEFAULT_LAUNCH_CHECKLIST = [
    "Listing title, main picture and detail page reviewed",
    "Price and stock set; SKU linked in the platform",
    "Search ad plan created with daily budget and target ROAS",
    "Creatives uploaded (at least two to compare)",
    "Launch activity planned (coupon / new-arrival event)",
    "Metrics to watch agreed: views, orders, GMV, ad spend, ROAS",
    "Launch-week review booked for day 8",
]


class LaunchStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    LAUNCHED = "launched", "Launched"
    REVIEWED = "reviewed", "Reviewed"


class LaunchPlan(models.Model):
    """The launch of one new product on launch_date (store-local), and what supports it."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="launch_plans")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="launch_plans")
    name = models.CharField(max_length=200)
    launch_date = models.DateField()
    status = models.CharField(max_length=20, choices=LaunchStatus.choices, default=LaunchStatus.PLANNING)
    listing_versions = models.ManyToManyField(ListingVersion, blank=True, related_name="launch_plans")
    ad_plans = models.ManyToManyField(AdPlan, blank=True, related_name="launch_plans")
    activities = models.ManyToManyField(Activity, blank=True, related_name="launch_plans")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-launch_date"]
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="launchplan_unique_store_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:ad_launch_detail", args=[self.pk])

    def add_default_checklist(self) -> None:
        LaunchChecklistItem.objects.bulk_create(
            [LaunchChecklistItem(launch=self, position=i, title=t) for i, t in enumerate(DEFAULT_LAUNCH_CHECKLIST)],
            ignore_conflicts=True,
        )


class LaunchChecklistItem(models.Model):
    launch = models.ForeignKey(LaunchPlan, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["launch", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["launch", "title"], name="launchitem_unique_title")]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None
