"""Daily-tracking tasks: the nightly rollup and the morning email, both fired hourly by beat, the
rebuild of days late facts changed (after their commit, and swept every 5 minutes), and the daily
pruning of the live view's change notes.

Each task is thin: it calls a service that a test can call directly, and each service is safe to run
twice (a rolled-up day is skipped, a sent morning email is stopped by its unique row).
"""

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def nightly_rollup() -> int:
    """Find every store whose last complete day is due and not rolled up; one chunk task per CHUNK stores.

    Chunks run in parallel on the workers and a failed chunk retries alone. Returns the chunks sent.
    """
    from .rollup import CHUNK, due_store_days

    due = [(store.pk, day.isoformat()) for store, day in due_store_days()]
    chunks = [due[at:at + CHUNK] for at in range(0, len(due), CHUNK)]
    for chunk in chunks:
        nightly_rollup_chunk.delay(chunk)
    return len(chunks)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def nightly_rollup_chunk(store_days: list[list]) -> list[str]:
    """Roll up and judge one chunk of [store id, ISO day] pairs; a day rolled up meanwhile is skipped."""
    from datetime import date

    from stores.models import Store

    from .rollup import roll_and_judge, rolled_up

    stores = Store.objects.in_bulk([pk for pk, _ in store_days])
    pairs = [(stores[pk], date.fromisoformat(day)) for pk, day in store_days if pk in stores]
    done = rolled_up(pairs)
    todo = [(s, d) for s, d in pairs if (s.pk, d) not in done]
    return [f"{store.slug}:{day}" for store, day in roll_and_judge(todo)]


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_morning_emails(now_iso: str | None = None) -> int:
    """Send the morning email to every manager whose local time is 08:00–11:59 and who has none today.

    `now_iso` (ISO 8601 with offset) replays a given moment; beat leaves it empty.
    """
    from datetime import datetime

    from .email import send_due_morning_emails

    return send_due_morning_emails(datetime.fromisoformat(now_iso) if now_iso else None)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def prune_event_changes() -> int:
    """Delete the live view's EventChange notes older than it ever looks (safe to run twice)."""
    from django.utils import timezone

    from .live_history import prune_notes

    return prune_notes(timezone.now())


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_stale_days(store_id: int | None = None) -> list[str]:
    """Rebuild the days late facts marked (`metrics.stale_days`): one store's, enqueued after the commit
    that marked them, or every store's, beat's sweep every 5 minutes. Safe to run twice."""
    from .stale_days import refresh_stale_days as rebuild

    return [f"{store.slug}:{day}" for store, day in rebuild(None if store_id is None else [store_id])]


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def demo_traffic() -> dict[str, dict[str, int]]:
    """The demo storefront (only with the DEMO_TRAFFIC setting): the demo stores' sessions, views, carts
    and paid orders of the minutes since the last run. Safe to run twice: a minute's events are stored once."""
    from .demo_live import feed

    return feed()
