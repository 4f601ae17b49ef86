"""Fixtures for the store tests."""

import pytest

from tests.factories import StoreFactory


@pytest.fixture
def shop(db):
    """A Shopify store in Los Angeles with its webhook secret (tests/stores/test_shopify_webhook.py signs with it)."""
    return StoreFactory(slug="linen-and-wax", timezone="America/Los_Angeles", currency="USD", country="US",
                        webhook_secret="shpss_4f0c2e7d9a1b")
