"""Store activities: promotions, platform events, gifts, bundles and content posts."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from opsdesk.money import MoneyField
from stores.models import Product, Store

__all__ = ["Activity", "ActivityKind", "ActivityStatus"]


class ActivityKind(models.TextChoices):
    STORE_PROMOTION = "store_promotion", "Store promotion"
    PLATFORM_EVENT = "platform_event", "Official platform event"
    GIFT = "gift", "Gift / lottery"
    RELATED_SALES = "related_sales", "Related sales / bundle"
    CONTENT = "content", "Content post"


class ActivityStatus(models.TextChoices):
    IDEA = "idea", "Idea"
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REVIEWED = "reviewed", "Reviewed"


class Activity(models.Model):
    """An activity runs over store-local days start_date..end_date (both inclusive)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    status = models.CharField(max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.IDEA)
    start_date = models.DateField()
    end_date = models.DateField()
    products = models.ManyToManyField(Product, blank=True, related_name="activities")
    budget = MoneyField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="activity_dates_in_order"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="activity_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name
