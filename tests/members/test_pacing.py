"""The shared limiter on real Redis: the slots it hands out, from any number of threads, never put more
than SMS_RATE_PER_SECOND texts into one second."""

import threading
from bisect import bisect_left

import pytest
import redis

from members import pacing


@pytest.fixture
def limiter(settings):
    url = pacing.redis_url()
    if url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    redis.Redis.from_url(url).delete(pacing.KEY)
    yield
    redis.Redis.from_url(url).delete(pacing.KEY)


def most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect_left(times, t + 1.0, i) - i for i, t in enumerate(times))


def test_slots_from_many_threads_never_exceed_the_rate_in_any_second(limiter, settings):
    settings.SMS_RATE_MARGIN = 0.04
    slots: list[float] = []

    def reserve_fifteen():
        for _ in range(15):
            slots.append(pacing.reserve(20)[1])

    threads = [threading.Thread(target=reserve_fifteen) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slots) == 60
    assert most_in_any_second(slots) == 20  # 19.2 a second (20/s less the 4 % margin): never 21
    assert max(slots) - min(slots) == pytest.approx(59 / (20 * 0.96), abs=1e-3)  # Lua prints 14 digits


def test_a_rate_of_zero_never_waits(settings):
    assert pacing.reserve_slot(0) == 0.0
