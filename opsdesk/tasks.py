"""Desk-wide Celery tasks."""

from celery import shared_task

from .models import Heartbeat


@shared_task
def heartbeat(name: str = "worker") -> str:
    """Record that a worker is consuming the queue (shown on the desk)."""
    return Heartbeat.beat(name).last_seen.isoformat()
