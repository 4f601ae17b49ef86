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
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from stores.models import Store

from . import live

log = logging.getLogger(__name__)

LOCK_SECONDS = 10  # a computation whose process died frees its store's lock after this
WAIT_STEP = 0.05  # seconds between looks for the snapshot another request is computing
WAIT_STEPS = 40  # 2 s in all; then compute it here rather than keep the operator waiting longer


def shared_snapshot(store: Store) -> dict:
    """The store's live snapshot, computed at most once per LIVE_SHARED_SECONDS for all its viewers."""
    fresh_for = settings.LIVE_SHARED_SECONDS
    if fresh_for <= 0:
        return live.snapshot(store)
    key = snapshot_key(store)
    kept = _cache_call("get", key)
    if _age(kept) < fresh_for:
        return kept["snapshot"]
    if _cache_call("add", f"{key}:computing", 1, LOCK_SECONDS, failed=True):
        try:
            return _compute(store, key, fresh_for)
        finally:
            _cache_call("delete", f"{key}:computing")
    if _age(kept) < 2 * fresh_for:  # someone is computing: the previous one, at most one interval older
        return kept["snapshot"]
    for _ in range(WAIT_STEPS):
        time.sleep(WAIT_STEP)
        kept = _cache_call("get", key)
        if _age(kept) < fresh_for:
            return kept["snapshot"]
    return live.snapshot(store)


def snapshot_key(store: Store) -> str:
    # Slug, zone and currency are in the snapshot (links, as_of, money): an edit of them starts a new entry.
    return f"live:{store.pk}:{store.slug}:{store.timezone}:{store.currency}"


def _compute(store: Store, key: str, fresh_for: int) -> dict:
    now = timezone.now()
    snapshot = live.snapshot(store, now)
    # Kept a little past its second interval (while the next one is computed), then Redis drops it.
    _cache_call("set", key, {"at": now, "snapshot": snapshot}, 2 * fresh_for + LOCK_SECONDS)
    return snapshot


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
