"""The desk home page's content: per store, today's numbers and the open items of every duty.

Each app may offer a `desk.py` module with `open_items_by_store(stores, user) -> {store id: [DeskItem]}`, which
reads all the stores at once (a fixed number of queries however many stores the user has), and
`open_items(store, user) -> list[DeskItem]` for one store; the desk collects them, so a new duty shows up on the
desk without the desk knowing its models. A module with `open_items` only is asked store by store.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.db.models import Count, QuerySet

DUTY_APPS = ("stores", "metrics", "campaigns", "members", "reviews")


@dataclass(frozen=True)
class DeskItem:
    label: str
    count: int
    url: str
    severity: str = "info"  # info | warning | danger
    detail: str = ""  # said after the count, e.g. "oldest paid 61 h ago"


def duty_modules(name: str, *, skip: tuple[str, ...] = ()):
    """Each installed duty app's module `name` (`desk`, `schedules`, `demo`), in duty order, for the apps that
    have one: the project calls into the apps this way, so none of them has to know the others."""
    for label in DUTY_APPS:
        if label in skip or not apps.is_installed(label):
            continue
        try:
            yield import_module(f"{label}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{label}.{name}":
                raise


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    """Every duty's open items (those with a count) of each of `stores`, by store id, each store's in duty order."""
    stores = list(stores)
    items: dict[int, list[DeskItem]] = {store.pk: [] for store in stores}
    if not stores:
        return items
    for module in duty_modules("desk"):
        if hasattr(module, "open_items_by_store"):
            found = module.open_items_by_store(stores, user)
        else:
            found = {store.pk: module.open_items(store, user) for store in stores}
        for store in stores:
            items[store.pk].extend(item for item in found[store.pk] if item.count)
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]


def counts_by_store(queryset: QuerySet, via: str = "store") -> dict[int, int]:
    """Rows of `queryset` per store id (reached through the `via` lookup), in one query; a store without any
    is absent (read it with `.get(pk, 0)`)."""
    return dict(queryset.order_by().values(via).annotate(n=Count("pk")).values_list(via, "n"))
