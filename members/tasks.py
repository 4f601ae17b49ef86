"""Celery tasks for members and texts: thin wrappers around members.flows / members.sending."""

from collections import Counter

from celery import shared_task

from . import flows, sending
from .services import refresh_segments
from .sms import twilio as _twilio  # noqa: F401  (imported before the pool forks, not on each first text)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_messages(message_ids: list[int]) -> dict:
    """Send a batch of texts, each at most once; rows hit by transient faults or held by another task
    come back in a new task when they are due (the dispatcher is the safety net if that one is lost)."""
    outcomes = sending.send_batch(message_ids)
    for delay, ids in sending.retries_by_delay(outcomes).items():
        send_messages.apply_async((ids,), countdown=delay)
    return dict(Counter(outcome.status for outcome in outcomes.values()))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_message(self, message_id: int) -> str:
    """Send one text at most once (tasks enqueued before batching; still safe to run)."""
    outcome = sending.send_message(message_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def dispatch_due_messages() -> int:
    """Enqueue due texts (deferred ones, retries whose task was lost, stale claims)."""
    return sending.dispatch_due()


@shared_task(acks_late=True)
def send_holiday_greetings() -> int:
    return flows.holiday_care().created


@shared_task(acks_late=True)
def send_after_sales_care() -> int:
    return flows.after_sales_care().created


@shared_task(acks_late=True)
def send_monthly_benefits() -> int:
    return flows.benefits().created


@shared_task(acks_late=True)
def refresh_member_segments() -> int:
    from stores.models import Store

    return sum(sum(refresh_segments(store).values()) for store in Store.objects.all())
