"""Store tasks: rolling up again the days an order delivered late changed (webhook, ingest API), for the
messages queued before `metrics.stale_days` took that over."""

from datetime import date

from celery import shared_task
from django.db import OperationalError, transaction

from .models import Store


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_order_days(store_id: int, days: list[str]) -> list[str]:
    """Roll up and judge again those of the store's ISO `days` that are already rolled up; returns the days
    redone. A deleted store is nothing to do. Nothing enqueues it any more (late orders now mark their
    days in `metrics.StaleDay`); it stays for the messages queued before that change."""
    from metrics.rollup import refresh_days  # metrics builds on stores, not the other way round

    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return []
    with transaction.atomic():  # refresh_days's store lock lasts while it works
        return [day.isoformat() for day in refresh_days(store, [date.fromisoformat(d) for d in days])]


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_import(job_id: int) -> str | None:
    """Import an uploaded CSV (`stores.import_jobs.run`); safe to deliver twice. Returns the job's status."""
    from .import_jobs import run

    job = run(job_id)
    return job.status if job else None


@shared_task
def requeue_import_jobs() -> list[int]:
    """The sweep: queue again import jobs whose task was lost (`stores.import_jobs.requeue_stale`)."""
    from .import_jobs import requeue_stale

    return requeue_stale()


@shared_task
def prune_import_jobs() -> int:
    """Nightly: delete finished import jobs past IMPORT_JOB_RETENTION_DAYS (`stores.import_jobs.prune`)."""
    from .import_jobs import prune

    return prune()
