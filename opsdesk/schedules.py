"""Periodic tasks, created idempotently in django-celery-beat's tables by `manage.py setup_schedules`.

Each app may offer a `schedules.py` with `SCHEDULES = [Schedule(...), ...]`; this module collects
them. A schedule is keyed by its name: running the setup again updates it, never duplicates it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from .desk import duty_modules


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int | None = None  # either an interval ...
    crontab: dict = field(default_factory=dict)  # ... or crontab fields (minute, hour, ...), in UTC
    kwargs: dict = field(default_factory=dict)
    setting: str = ""  # the name of a boolean setting that turns the schedule on; empty: always on


SCHEDULES = [
    Schedule("opsdesk: worker heartbeat", "opsdesk.tasks.heartbeat", every_seconds=60),
    Schedule("opsdesk: clean legacy pictures and sweep orphan picture files", "opsdesk.tasks.upkeep_pictures",
             crontab={"minute": "20", "hour": "4"}),
]


def is_on(schedule: Schedule) -> bool:
    return not schedule.setting or bool(getattr(settings, schedule.setting, False))


def all_schedules(include_off: bool = False) -> list[Schedule]:
    """Every app's schedules that are on (with `include_off`, also those whose setting is off)."""
    found = list(SCHEDULES)
    for module in duty_modules("schedules"):
        found.extend(module.SCHEDULES)
    return found if include_off else [s for s in found if is_on(s)]


@transaction.atomic
def setup_schedules() -> list[tuple[str, bool]]:
    """Create or update every schedule; returns (name, created) pairs. A schedule whose setting is off is
    disabled if it exists (a demo's beat entry in a database later run without the demo), never created."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    results = []
    for s in all_schedules(include_off=True):
        if not is_on(s):
            PeriodicTask.objects.filter(name=s.name).update(enabled=False)
            continue
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
