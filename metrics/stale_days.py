"""Rolled-up days that late facts changed: the `StaleDay` outbox and the rebuild that empties it.

The nightly job rolls up each store-local day once. An order, a refund or traffic events recorded
later for a day already rolled up (a late webhook, a delayed API batch) mark that day in the same
transaction as the facts (`mark_stale_days`). After the commit a task rebuilds the store's marked
days; a beat sweep every 5 minutes rebuilds whatever a stopped worker or a lost task left
(`refresh_stale_days`). A mark is only removed by a rebuild that saw it, so no late fact is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.db.models import Q

from stores.models import Store

from .models import StaleDay
from .rollup import refresh_days, rolled_up


def mark_stale_days(store: Store, days: Iterable[date]) -> list[date]:
    """Mark those of the store-local `days` that are past and already rolled up, in the caller's
    transaction (call it after writing the facts), and have a worker rebuild them once it commits.
    Returns the days marked; a request touching only today (the live case) costs no query. The live view's
    shared snapshot is the channel's to end (`live_cache.facts_arrived`), when its batch stored something new."""
    past = sorted(day for day in set(days) if day < store.today())
    if not past:
        return []
    _wait_for_running_rollup(store)
    done = rolled_up([(store, day) for day in past])
    marked = [day for day in past if (store.pk, day) in done]
    if marked:
        StaleDay.mark(store.pk, marked)
        from .tasks import refresh_stale_days as rebuild

        # robust: the facts and the marks are stored whatever the broker says; the sweep rebuilds them.
        transaction.on_commit(lambda: rebuild.delay(store.pk), robust=True)
    return marked


def _wait_for_running_rollup(store: Store) -> None:
    """Wait for a rollup of the store that is running now (it holds the store row FOR UPDATE).

    Without it, a day rolled up while this transaction writes would read neither these facts (not
    committed yet) nor be seen as rolled up here (its rows not committed yet), and stay wrong. KEY
    SHARE conflicts only with FOR UPDATE: concurrent requests of the store do not wait on each other,
    and a rollup that starts after this waits for the commit, so it reads these facts. SQLite runs
    one writer at a time and needs nothing."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Store._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [store.pk])  # noqa: S608


def refresh_stale_days(store_ids: Iterable[int] | None = None) -> list[tuple[Store, date]]:
    """Roll up and judge again every marked day (of the given stores, or of all), then remove the marks.

    One transaction per store, stores in id order, each locked while its marks are read, its days
    rebuilt (`metrics.rollup.refresh_days`) and the marks deleted. A mark whose count changed since it
    was read (a late fact arrived meanwhile) stays for the next run, and so does a day whose rebuild
    failed; a day no longer rolled up is left to the nightly job. Returns the store-days rebuilt;
    running it again with nothing marked meanwhile does nothing.
    """
    marked = StaleDay.objects.all()
    if store_ids is not None:
        marked = marked.filter(store_id__in=list(store_ids))
    rebuilt: list[tuple[Store, date]] = []
    for store_id in sorted(set(marked.values_list("store_id", flat=True))):
        with transaction.atomic():
            store = Store.objects.select_for_update().filter(pk=store_id).first()
            if store is None:  # deleted meanwhile, its marks with it
                continue
            rows = list(StaleDay.objects.filter(store=store).values_list("pk", "day", "marks"))
            days = [day for _, day, _ in rows]
            was_rolled_up = {day for _, day in rolled_up([(store, day) for day in days])}
            redone = set(refresh_days(store, days))
            failed = was_rolled_up - redone
            seen = [Q(pk=pk, marks=marks) for pk, day, marks in rows if day not in failed]
            if seen:
                StaleDay.objects.filter(Q.create(seen, connector=Q.OR)).delete()
            rebuilt += [(store, day) for day in sorted(redone)]
    return rebuilt
