"""Fixtures every test folder may use: two stores with their own operator, and shared data paths."""

import os
from pathlib import Path

import pytest

from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.worker import celery_worker  # noqa: F401  (fixture for task tests)

SHARED_DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
OLIST = SHARED_DATA / "olist-sample"


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

