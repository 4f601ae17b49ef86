"""Fixtures every test folder may use: two stores with their own operator, and shared data paths."""

import os
import time
import warnings
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.worker import celery_worker  # noqa: F401  (fixture for task tests)

SHARED_DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
OLIST = SHARED_DATA / "olist-sample"


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
def client_a(client, operator_a):
    client.force_login(operator_a)
    return client

