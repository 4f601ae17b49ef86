"""Sending pace: at most SMS_RATE_PER_SECOND texts per second across every worker.

A reservation limiter (GCRA without burst) kept in Redis: each send reserves the next free slot
(`tat` = theoretical arrival time, advanced by 1/rate per send) in one Lua call using Redis's own
clock, and waits until its slot. Because the reservation is shared in Redis it holds for any
number of workers and processes, unlike Celery's per-worker `rate_limit`. Without Redis (the
SQLite demo on the filesystem broker) the same rule runs per process. A rate of 0 means no limit.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache

import redis
from django.conf import settings

KEY = "opsdesk:sms:pace"
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil((tat + interval - now) * 1000) + 1000)
return tostring(tat - now)
"""


class LocalPacer:
    def __init__(self):
        self.lock = threading.Lock()
        self.tat = 0.0

    def reserve(self, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            self.tat = max(self.tat, now)
            wait = self.tat - now
            self.tat += interval
            return wait


_local = LocalPacer()


def redis_url() -> str | None:
    for url in (settings.REDIS_URL, settings.CELERY_BROKER_URL):
        if url and url.startswith(("redis://", "rediss://")):
            return url
    return None


@lru_cache(maxsize=4)
def _script(url: str):
    return redis.Redis.from_url(url).register_script(RESERVE)


def reserve_slot(rate: float | None = None) -> float:
    """Reserve the next sending slot; returns how many seconds to wait for it (0 if free now)."""
    rate = settings.SMS_RATE_PER_SECOND if rate is None else rate
    if not rate or rate <= 0:
        return 0.0
    url = redis_url()
    if url is None:
        return _local.reserve(1.0 / rate)
    return max(0.0, float(_script(url)(keys=[KEY], args=[1.0 / rate])))


def wait_for_slot(rate: float | None = None) -> float:
    """Block until this process may send the next text; returns the seconds waited."""
    wait = reserve_slot(rate)
    if wait > 0:
        time.sleep(wait)
    return wait
