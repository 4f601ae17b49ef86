"""Desk-wide records: the background-job heartbeat that shows the worker and beat are alive."""

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """Last time a Celery worker ran the beat-scheduled heartbeat task."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%H:%M:%S}"

    @classmethod
    def beat(cls, name: str = "worker") -> "Heartbeat":
        obj, _ = cls.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})
        return obj
