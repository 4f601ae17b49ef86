"""Plans: a store's year → month → week plans with goals tied to real metrics, and tasks.

One model with a level and a parent: a month plan hangs under its year plan, a week plan under
the month plan its Monday falls in. Periods follow the calendar in the store's zone: a year
plan starts on 1 January, a month plan on the 1st, a week plan on a Monday.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from stores.models import Store

__all__ = ["Plan", "PlanLevel", "PlanGoal", "PlanMetric", "PlanTask"]


class PlanLevel(models.TextChoices):
    YEAR = "year", "Year"
    MONTH = "month", "Month"
    WEEK = "week", "Week"


PARENT_LEVEL = {PlanLevel.MONTH: PlanLevel.YEAR, PlanLevel.WEEK: PlanLevel.MONTH}


def period_of(level: str, start: date) -> tuple[date, date]:
    """First and last day of the plan period of `level` that contains `start`."""
    if level == PlanLevel.YEAR:
        return date(start.year, 1, 1), date(start.year, 12, 31)
    if level == PlanLevel.MONTH:
        return start.replace(day=1), start.replace(day=calendar.monthrange(start.year, start.month)[1])
    monday = start - timedelta(days=start.weekday())
    return monday, monday + timedelta(days=6)


class Plan(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="plans")
    level = models.CharField(max_length=10, choices=PlanLevel.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    period_start = models.DateField()
    period_end = models.DateField()
    title = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_start", "level"]
        constraints = [
            models.UniqueConstraint(fields=["store", "level", "period_start"], name="plan_unique_store_level_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="plan_period_order",
                                   violation_error_message="The period ends before it starts."),
            models.CheckConstraint(
                condition=Q(level="year", parent__isnull=True) | Q(~Q(level="year"), parent__isnull=False),
                name="plan_parent_by_level",
                violation_error_message="A year plan has no parent; a month or week plan needs one.",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.default_title()

    def save(self, *args, **kwargs):
        self.snap_period()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:plan_detail", args=[self.pk])

    def default_title(self) -> str:
        if self.level == PlanLevel.YEAR:
            return f"{self.period_start.year} plan"
        if self.level == PlanLevel.MONTH:
            return f"{self.period_start:%B %Y} plan"
        return f"Week of {self.period_start.day} {self.period_start:%b %Y}"

    def snap_period(self) -> None:
        """Move period_start to the start of its year/month/week and set period_end."""
        if self.period_start and self.level in PlanLevel.values:
            self.period_start, self.period_end = period_of(self.level, self.period_start)

    def clean_fields(self, exclude=None):
        self.snap_period()
        super().clean_fields(exclude)

    def clean(self):
        super().clean()
        if not self.period_start or not self.level:
            return
        want = PARENT_LEVEL.get(self.level)
        if want is None:
            if self.parent_id:
                raise ValidationError({"parent": "A year plan has no parent."})
            return
        if self.parent is None:
            level = self.get_level_display().lower()
            raise ValidationError({"parent": f"A {level} plan needs a {want} plan above it."})
        if self.parent.level != want or self.parent.store_id != self.store_id:
            raise ValidationError({"parent": f"The parent must be a {want} plan of the same store."})
        if not (self.parent.period_start <= self.period_start <= self.parent.period_end):
            raise ValidationError({"parent": "The plan's period must start inside its parent's period."})


class PlanMetric(models.TextChoices):
    GMV = "gmv", "GMV"
    ORDERS = "orders", "Paid orders"
    CONVERSION = "conversion", "Conversion rate (%)"
    NEW_MEMBERS = "new_members", "New members"


class PlanGoal(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="goals")
    metric = models.CharField(max_length=20, choices=PlanMetric.choices)
    target = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["plan", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="plangoal_unique_metric"),
            models.CheckConstraint(condition=Q(target__gte=0), name="plangoal_target_not_negative",
                                   violation_error_message="A goal's target cannot be negative."),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.target}"


class PlanTask(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    due = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "done_at", "due", "id"]

    def __str__(self) -> str:
        return self.title
