"""Paid-promotion tasks: close plans whose end date has passed (safe to run any number of times)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from stores.models import Store

from .models import AdPlan, AdPlanStatus


def end_finished_plans(now: datetime | None = None) -> int:
    """Mark active or paused plans whose end date is before their store's local today as ended."""
    now = now or timezone.now()
    ended = 0
    for store in Store.objects.filter(ad_plans__status__in=AdPlan.RUNNING).distinct():
        ended += AdPlan.objects.filter(store=store, status__in=AdPlan.RUNNING,
                                       end_date__lt=store.today(now)).update(status=AdPlanStatus.ENDED)
    return ended


@shared_task(name="campaigns.ads_tasks.end_finished_plans", acks_late=True)
def end_finished_plans_task() -> int:
    return end_finished_plans()
