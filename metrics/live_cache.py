"""One live snapshot per store, shared for a few seconds by everyone watching that store.

Every open live page polls live.json every few seconds; without sharing, five operators on one store
computed the same snapshot five times per interval. The snapshot holds only store-level figures (nothing
in it depends on who asks), so it is kept in the "live" cache (Redis, shared by every web process) under
the store's id, and a request of another store can never read it. Each entry carries the time it was
computed, which is the snapshot's own `as_of`: the page says how old the figures are.

- Fresh for LIVE_SHARED_SECONDS (the poll interval): served as is.
- Older: the first request takes a short lock (cache.add) and computes; the others meanwhile serve the
  previous snapshot if it is at most one more interval old, or wait briefly for the new one.
- The cache unreachable, or no snapshot within WAIT: the request computes its own, as before. Never an error.

New facts end a snapshot early. Every channel that writes something the live view shows (events, orders,
refunds, ad spend, a listing's title) calls `facts_arrived` in its transaction, once per batch and only when the
batch stored something new (a retried batch does not); once that commits, one INCR raises the store's
generation. A snapshot carries the generation read before it was computed and is served only while that is still
the store's, so an order shows on the next poll, not an interval later. A computation an event landed in is not
stored (its figures may miss it) and, being tagged with the older generation, would not be served if it were.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.utils import timezone

from stores.models import Store

from . import live

log = logging.getLogger(__name__)

LOCK_SECONDS = 10  # a computation whose process died frees its store's lock after this
WAIT_STEP = 0.05  # seconds between looks for the snapshot another request is computing
WAIT_STEPS = 40  # 2 s in all; then compute it here rather than keep the operator waiting longer


def shared_snapshot(store: Store) -> dict:
    """The store's live snapshot, computed at most once per LIVE_SHARED_SECONDS and per generation of its facts
    for all its viewers."""
    fresh_for = settings.LIVE_SHARED_SECONDS
    if fresh_for <= 0:
        return live.snapshot(store)
    key, lock = snapshot_key(store), f"{snapshot_key(store)}:computing"
    found = _cache_call("get_many", [key, generation_key(store)], failed={})
    kept, generation = found.get(key), found.get(generation_key(store))
    if _current(kept, generation, fresh_for):
        return kept["snapshot"]
    if _cache_call("add", lock, 1, LOCK_SECONDS, failed=True):
        try:
            return _compute(store, key, generation, fresh_for)
        finally:
            _cache_call("delete", lock)
    if _current(kept, generation, 2 * fresh_for):  # someone is computing: the previous one, same facts, ≤1 older
        return kept["snapshot"]
    for _ in range(WAIT_STEPS):
        time.sleep(WAIT_STEP)
        found = _cache_call("get_many", [key, generation_key(store), lock], failed={})
        kept, generation = found.get(key), found.get(generation_key(store))
        if _current(kept, generation, fresh_for):
            return kept["snapshot"]
        # The other computation ended without a current snapshot (an event landed in it): compute it here.
        if lock not in found and _cache_call("add", lock, 1, LOCK_SECONDS):
            try:
                return _compute(store, key, generation, fresh_for)
            finally:
                _cache_call("delete", lock)
    return live.snapshot(store)


def snapshot_key(store: Store) -> str:
    # Slug, zone and currency are in the snapshot (links, as_of, money): an edit of them starts a new entry.
    return f"live:{store.pk}:{store.slug}:{store.timezone}:{store.currency}"


def generation_key(store: Store) -> str:
    return f"live:{store.pk}:generation"


def facts_arrived(store: Store) -> None:
    """Something the live view shows of `store` (events, orders, refunds, ad spend, a listing) was written in the
    current transaction: once it commits, its shared snapshot is out of date. One INCR per call, so a channel calls
    it once per batch, after writing, and not for a batch that stored nothing new (a retry, a duplicate delivery)."""
    transaction.on_commit(partial(bump_generation, store), robust=True)


def bump_generation(store: Store) -> None:
    """Raise the store's generation (run after the commit of new facts): snapshots computed before are not served."""
    cache = caches["live"]
    try:
        if isinstance(cache, RedisCache):
            # Django's incr() is EXISTS + INCR and refuses a missing key; INCR alone creates it (a raw int, which
            # the cache reads back as one).
            cache._cache.get_client(write=True).incr(cache.make_and_validate_key(generation_key(store)))
        elif not cache.add(generation_key(store), 1, None):  # the demo's own memory, without Redis
            cache.incr(generation_key(store))
    except Exception:
        # The facts are stored; without the bump the snapshot is at most one interval late, as before.
        log.warning("live snapshot cache unavailable (generation of store %s)", store.pk, exc_info=True)


def _compute(store: Store, key: str, generation: int | None, fresh_for: int) -> dict:
    now = timezone.now()
    snapshot = live.snapshot(store, now)
    # Facts that arrived while it was computed may be missing from it: then the next request computes anew.
    if _cache_call("get", generation_key(store)) == generation:
        # Kept a little past its second interval (while the next one is computed), then Redis drops it.
        _cache_call(
            "set", key, {"at": now, "generation": generation, "snapshot": snapshot}, 2 * fresh_for + LOCK_SECONDS
        )
    return snapshot


def _current(kept: dict | None, generation: int | None, fresh_for: int) -> bool:
    """Whether the kept snapshot is younger than `fresh_for` seconds and computed with the store's facts as they
    are now (the same generation)."""
    return _age(kept) < fresh_for and kept.get("generation") == generation


def _age(kept: dict | None) -> float:
    """Seconds since the kept snapshot was computed; infinite without one (or one from a later clock)."""
    if not kept:
        return float("inf")
    age = (timezone.now() - kept["at"]).total_seconds()
    return age if age >= 0 else float("inf")


def _cache_call(method: str, *args, failed=None):
    """A call on the "live" cache; when the cache is down, `failed` instead (then every request computes its own)."""
    try:
        return getattr(caches["live"], method)(*args)
    except Exception:
        log.warning("live snapshot cache unavailable (%s)", method, exc_info=True)
        return failed


def computed_at(store: Store) -> datetime | None:
    """When the store's shared snapshot was computed (None without one): for tests and the bench."""
    kept = _cache_call("get", snapshot_key(store))
    return kept["at"] if kept else None
