"""Data migrations of the members app, run on the real database with Django's migration executor."""

from datetime import UTC, datetime, timedelta
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


@pytest.fixture
def at_0021(transactional_db):
    """The schema with `answered_with` and `sent_by`, before their backfill."""
    apps = migrate_to(("members", "0021_reply_answered_with"))
    yield apps
    migrate_to_latest()


def test_backfill_keeps_on_each_reply_the_operators_answer_that_marked_it(at_0021):
    Store, Member = at_0021.get_model("stores", "Store"), at_0021.get_model("members", "Member")
    InboundReply, Message = at_0021.get_model("members", "InboundReply"), at_0021.get_model("members", "Message")
    operator = at_0021.get_model("auth", "User").objects.create(username="op-b")
    store = Store.objects.create(name="B", slug="store-b", country="US", timezone="America/Los_Angeles", currency="USD")
    member = Member.objects.create(store=store, phone="+14155550100", joined_at=WHEN, sms_consent=True)

    def answered(sid, at, answers):
        reply = InboundReply.objects.create(store=store, member=member, kind="message", body="Where is it?",
                                            provider_sid=sid, received_at=WHEN, answered_at=at,
                                            answered_by=operator if at else None)
        texts = [Message.objects.create(store=store, member=member, flow="text_back", reply=reply, body="Soon",
                                        occasion=f"text_back:reply {reply.pk} answer {n}", scheduled_for=WHEN)
                 for n, _ in enumerate(answers, 1)]
        for text, created in zip(texts, answers, strict=True):
            Message.objects.filter(pk=text.pk).update(created_at=created)
        return reply, texts

    _, (first, second) = answered("SM1", WHEN, [WHEN, WHEN + timedelta(minutes=9)])
    _, (later,) = answered("SM2", WHEN + timedelta(minutes=5), [WHEN + timedelta(minutes=7)])
    answered("SM3", None, [])

    migrate_to(("members", "0022_backfill_reply_answered_with"))

    answer_of = dict(InboundReply.objects.values_list("provider_sid", "answered_with"))
    assert answer_of == {"SM1": first.pk, "SM2": None, "SM3": None}
    senders = dict(Message.objects.values_list("pk", "sent_by"))
    assert senders == {first.pk: operator.pk, second.pk: None, later.pk: None}
