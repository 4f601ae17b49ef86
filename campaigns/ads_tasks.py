"""Paid-promotion tasks: close plans whose end date has passed, email new pacing alerts (each safe to run any
number of times)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from stores.models import Store

from .ads_alerts import send_pacing_alerts
from .models import AdPlan, AdPlanStatus, AdPlanStatusChange, StatusSource


def end_finished_plans(now: datetime | None = None) -> int:
    """Mark active or paused plans whose end date is before their store's local today as ended, each change
    recorded in the plan's status history."""
    now = now or timezone.now()
    ended = 0
    for store in Store.objects.filter(ad_plans__status__in=AdPlan.RUNNING).distinct():
        with transaction.atomic():
            # Locked, so a second run at the same moment finds them ended and records nothing twice.
            ids = list(AdPlan.objects.select_for_update().filter(
                store=store, status__in=AdPlan.RUNNING, end_date__lt=store.today(now)).values_list("pk", flat=True))
            AdPlan.objects.filter(pk__in=ids).update(status=AdPlanStatus.ENDED)
            AdPlanStatusChange.objects.bulk_create(
                AdPlanStatusChange(plan_id=pk, status=AdPlanStatus.ENDED, source=StatusSource.END_DATE, at=now)
                for pk in ids)
        ended += len(ids)
    return ended


@shared_task(name="campaigns.ads_tasks.end_finished_plans", acks_late=True)
def end_finished_plans_task() -> int:
    return end_finished_plans()


@shared_task(name="campaigns.ads_tasks.send_pacing_alerts", acks_late=True)
def send_pacing_alerts_task() -> int:
    return send_pacing_alerts()
