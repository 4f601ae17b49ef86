"""The desk home page's content: per store, today's numbers and the open items of every duty.

Each app may offer a `desk.py` module with `open_items(store, user) -> list[DeskItem]`; the desk
collects them, so a new duty shows up on the desk without the desk knowing its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps

DUTY_APPS = ("stores", "metrics", "campaigns", "members", "reviews")


@dataclass(frozen=True)
class DeskItem:
    label: str
    count: int
    url: str
    severity: str = "info"  # info | warning | danger


def open_items(store, user) -> list[DeskItem]:
    items: list[DeskItem] = []
    for label in DUTY_APPS:
        if not apps.is_installed(label):
            continue
        try:
            module = import_module(f"{label}.desk")
        except ModuleNotFoundError as exc:
            if exc.name != f"{label}.desk":
                raise
            continue
        items.extend(item for item in module.open_items(store, user) if item.count)
    return items
