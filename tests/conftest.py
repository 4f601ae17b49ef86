"""Fixtures every test folder may use: two stores with their own operator, and shared data paths."""

import os
import threading
import time
import warnings
import weakref
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import override_settings

from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.worker import celery_worker  # noqa: F401  (fixture for task tests)

SHARED_DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
OLIST = SHARED_DATA / "olist-sample"

_running_test = "(between tests)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _running_test
    _running_test = item.name
    yield
    _running_test = "(between tests)"


# Sessions opened outside the main thread, while the thread runs: (wrapper, its thread, the test that opened it).
_thread_sessions: list[tuple[weakref.ref, threading.Thread, str]] = []


def _name_session(sender, connection, **kwargs):
    """Name every session this process opens by its thread and test (Postgres keeps 63 characters), so one
    still connected when the run ends says where it came from (workers name theirs: tests/worker.py)."""
    if connection.vendor != "postgresql":
        return
    thread = threading.current_thread()
    name = f"pytest {thread.name}: {_running_test}"[:63]
    with connection.connection.cursor() as cursor:  # the raw connection: not logged, not counted
        cursor.execute("SELECT set_config('application_name', %s, false)", [name])
    if thread is not threading.main_thread():
        _thread_sessions.append((weakref.ref(connection), thread, _running_test))


connection_created.connect(_name_session)


def sessions_left_by_ended_threads() -> list[str]:
    """Sessions whose thread has ended without closing them. Nothing can close them any more: Django's
    wrapper waits in a reference cycle for the garbage collector, connected, so the test database
    cannot be dropped at the end of the run. A thread that is still running is checked again later."""
    left, running = [], []
    for ref, thread, test in _thread_sessions:
        wrapper = ref()
        if wrapper is None or wrapper.connection is None or wrapper.connection.closed:
            continue
        if thread.is_alive():
            running.append((ref, thread, test))
        else:
            left.append(f"{thread.name} (opened in {test})")
            wrapper.connection.close()  # psycopg's own: Django's refuses another thread's; the drop can go on
    _thread_sessions[:] = running
    return left


@pytest.fixture(autouse=True)
def threads_close_their_sessions():
    """Fail the test whose thread ended with its database session still open (close it in the thread's
    `finally`: `connections.close_all()`)."""
    yield
    if left := sessions_left_by_ended_threads():
        pytest.fail("a thread ended with its database session open: " + "; ".join(left), pytrace=False)


@pytest.fixture(autouse=True)
def no_live_snapshot_of_another_test():
    """Start without shared live snapshots (metrics.live_cache): Redis outlives the test database, whose store ids
    and frozen clocks come back in the next test or run. Only this process's keys: Redis also holds the queues."""
    cache = caches["live"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        if keys := list(client.scan_iter(cache.make_key("*"))):
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Hash the tests' passwords with MD5, as Django's testing guide advises: the app's PBKDF2 (1,000,000 rounds)
    costs ~0.8 s a password on this box, and most tests make two or three users (29 Nov: ~1,100 of 2,806 tests
    took 0.5–2 s each). The app itself keeps its hasher; a login still checks the password it was given."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end of the run (just before it is dropped) a warning naming
    every other session still connected to it, which would make Postgres refuse the drop."""
    yield
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 5  # as long as Postgres waits for sessions on their way out
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pid, application_name, backend_start, state, left(query, 200) "
                           "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            others = cursor.fetchall()
            if not others or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    if others:
        warnings.warn("still connected to the test database at the end of the run: " + "; ".join(
            f"pid {pid} {name or '(no application_name)'} since {start:%H:%M:%S} ({state}): {query}"
            for pid, name, start, state, query in others), stacklevel=1)


@pytest.fixture
def olist_dir():
    """The real Olist sample from ../shared/data; skips where it is not checked out beside the repo."""
    if not OLIST.is_dir():
        pytest.skip(f"shared data not found at {OLIST} (set OPSDESK_SHARED_DATA to its folder)")
    return OLIST


@pytest.fixture
def store_a(db):
    return StoreFactory(name="Store A", slug="store-a", timezone="Asia/Shanghai", country="CN", currency="CNY")


@pytest.fixture
def store_b(db):
    return StoreFactory(name="Store B", slug="store-b", timezone="America/Los_Angeles")


@pytest.fixture
def operator_a(store_a):
    return MembershipFactory(store=store_a, user=UserFactory(username="op-a"), role="operator").user


@pytest.fixture
def manager_a(store_a):
    return MembershipFactory(store=store_a, user=UserFactory(username="mgr-a"), role="manager").user


@pytest.fixture
def operator_b(store_b):
    return MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user


@pytest.fixture
def manager_b(store_b):
    return MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager").user


@pytest.fixture
def client_a(client, operator_a):
    client.force_login(operator_a)
    return client
