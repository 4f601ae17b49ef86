"""Periodic tasks, created idempotently in django-celery-beat's tables by `manage.py setup_schedules`.

Each app may offer a `schedules.py` with `SCHEDULES = [Schedule(...), ...]`; this module collects
them. A schedule is keyed by its name: running the setup again updates it, never duplicates it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import import_module

from django.db import transaction

from .desk import DUTY_APPS


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int | None = None  # either an interval ...
    crontab: dict = field(default_factory=dict)  # ... or crontab fields (minute, hour, ...), in UTC
    kwargs: dict = field(default_factory=dict)


SCHEDULES = [Schedule("opsdesk: worker heartbeat", "opsdesk.tasks.heartbeat", every_seconds=60)]


def all_schedules() -> list[Schedule]:
    found = list(SCHEDULES)
    for label in DUTY_APPS:
        try:
            module = import_module(f"{label}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{label}.schedules":
                raise
            continue
        found.extend(module.SCHEDULES)
    return found


@transaction.atomic
def setup_schedules() -> list[tuple[str, bool]]:
    """Create or update every schedule; returns (name, created) pairs."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    results = []
    for s in all_schedules():
        timing: dict = {"interval": None, "crontab": None}
        if s.every_seconds:
            timing["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=s.every_seconds, period=IntervalSchedule.SECONDS
            )
        else:
            fields = {"minute": "0", "hour": "*", "day_of_week": "*", "day_of_month": "*",
                      "month_of_year": "*", **s.crontab}
            timing["crontab"], _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **fields)
        _, created = PeriodicTask.objects.update_or_create(
            name=s.name, defaults={"task": s.task, "kwargs": json.dumps(s.kwargs), "enabled": True, **timing}
        )
        results.append((s.name, created))
    return results
