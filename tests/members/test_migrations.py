"""Data migrations of the members app, run on the real database with Django's migration executor."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = ("members", "0004_message_order")
BACKFILL = ("members", "0005_backfill_message_order")
WHEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def at_0004(transactional_db):
    """The schema as it was before the backfill; put back to the latest migrations afterwards."""
    apps = migrate_to(BEFORE)
    yield apps
    migrate_to_latest()


def test_backfill_links_each_care_text_to_its_own_stores_order(at_0004):
    Store, Member = at_0004.get_model("stores", "Store"), at_0004.get_model("members", "Member")
    Order, Message = at_0004.get_model("stores", "Order"), at_0004.get_model("members", "Message")
    for slug in ("store-a", "store-b"):
        store = Store.objects.create(name=slug, slug=slug, country="US", timezone="America/Los_Angeles", currency="USD")
        member = Member.objects.create(store=store, phone="+14155550100", joined_at=WHEN, sms_consent=True)
        Order.objects.create(store=store, external_id="7001", placed_at=WHEN, total=Decimal("50.00"))
        for flow, occasion in [
            ("after_sales", "after_sales:order 7001"),
            ("after_sales", "after_sales:order 9999"),
            ("campaign", "campaign:1:2026-11-20"),
        ]:
            Message.objects.create(
                store=store, member=member, flow=flow, occasion=occasion, body="Hi", scheduled_for=WHEN
            )

    migrate_to(BACKFILL)
    migrate_to(BEFORE)
    migrate_to(BACKFILL)  # a second run finds nothing left to link

    for slug in ("store-a", "store-b"):
        linked = {
            text.occasion: text.order
            for text in Message.objects.filter(store__slug=slug).select_related("order__store")
        }
        assert linked["after_sales:order 7001"].store.slug == slug
        assert linked["after_sales:order 9999"] is None  # its order is gone: sending skips it, "order not found"
        assert linked["campaign:1:2026-11-20"] is None
