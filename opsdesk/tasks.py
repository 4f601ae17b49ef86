"""Desk-wide Celery tasks: the worker heartbeat, and the nightly upkeep of stored pictures."""

from celery import shared_task
from django.db import OperationalError

from .models import Heartbeat


@shared_task
def heartbeat(name: str = "worker") -> str:
    """Record that a worker is consuming the queue (shown on the desk)."""
    return Heartbeat.beat(name).last_seen.isoformat()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upkeep_pictures() -> str:
    """Nightly: clean the pictures stored before uploads were re-encoded, then sweep the orphan picture files
    (`opsdesk.picture_upkeep`); returns the summary it logs. Safe to run twice."""
    from .picture_upkeep import upkeep_pictures as upkeep  # it imports the apps that own pictures

    return upkeep()
