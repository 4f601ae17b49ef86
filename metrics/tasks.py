"""Daily-tracking tasks: the nightly rollup and the morning email, both fired hourly by beat.

Each task is thin: it calls a service that a test can call directly, and each service is safe to run
twice (a rolled-up day is skipped, a sent morning email is stopped by its unique row).
"""

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def nightly_rollup() -> list[str]:
    """Roll up (and judge) the last complete day of every store whose local time passed 00:30."""
    from .rollup import run_nightly

    return [f"{store.slug}:{day}" for store, day in run_nightly()]


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_morning_emails(now_iso: str | None = None) -> int:
    """Send the morning email to every manager whose local time is 08:00–11:59 and who has none today.

    `now_iso` (ISO 8601 with offset) replays a given moment; beat leaves it empty.
    """
    from datetime import datetime

    from .email import send_due_morning_emails

    return send_due_morning_emails(datetime.fromisoformat(now_iso) if now_iso else None)
