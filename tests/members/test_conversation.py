"""A number's conversation: the texts we sent it and its replies in time order, across the user's stores
only — sent through the fake Twilio, replies through the signed inbound webhook."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from members import sending
from members.conversation import thread
from members.models import InboundReply, Message, MessageStatus, SmsTemplate
from members.sending import Planned, plan
from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.members.conftest import LA_MORNING, make_member
from tests.members.test_webhooks import signed_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_2026")]
PHONE = "+14155550100"
# A reply's "Text back" form (tests/members/test_text_back.py), as a row reads.
TEXT_BACK_FORM = " Text back One text: 160 characters, 70 with Chinese or emoji 0 / 160 characters · 1 SMS Send"


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch):
    """These tests send through the service themselves, not a Celery worker."""
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)


@pytest.fixture
def store_c(db):
    return StoreFactory(name="Store C", slug="store-c", timezone="America/Los_Angeles")


def user_of(*stores, role="operator", name="op"):
    user = UserFactory(username=name)
    for store in stores:
        MembershipFactory(store=store, user=user, role=role)
    return user


def send(member, body, occasion, at):
    """Plan a campaign text for `member` and send it through the fake Twilio at `at`."""
    template, _ = SmsTemplate.objects.get_or_create(store=member.store, name=body, flow="campaign",
                                                    defaults={"body": body})
    with time_machine.travel(at, tick=False):
        plan(member.store, "campaign", template, [Planned(member, occasion)], at)
        message = Message.objects.get(member=member, occasion=occasion)
        assert sending.send_message(message.pk, at).status == "sent"
    message.refresh_from_db()
    return message


def reply(client, body, sid, at):
    with time_machine.travel(at, tick=False):
        assert signed_post(client, reverse("twilio_inbound"), {"From": PHONE, "Body": body,
                                                               "MessageSid": sid}).status_code == 200


def rows(page: str) -> list[str]:
    """The thread's rows as plain text, oldest first."""
    table = page.split("<table", 1)[1]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in table.split("<tr>")[2:]]


def test_texts_from_every_store_and_the_replies_read_as_one_thread_in_time_order(client, fake_twilio, store_b,
                                                                                 store_c):
    in_b, in_c = make_member(store_b, phone=PHONE, name="Grace"), make_member(store_c, phone=PHONE, name="Grace")
    send(in_b, "How is your kettle?", "campaign:care", LA_MORNING)
    reply(client, "The lid does not close", "SMin1", LA_MORNING + timedelta(hours=1))
    # The next day: one number gets one text a day, whichever store sends it.
    send(in_c, "20% off socks", "campaign:socks", LA_MORNING + timedelta(days=1, hours=2))
    signed_post(client, reverse("twilio_status"), {"MessageSid": Message.objects.get(member=in_c,
                                                                                      flow="campaign").provider_sid,
                                                   "MessageStatus": "delivered"})
    client.force_login(user_of(store_b, store_c))
    page = client.get(reverse("members:conversation", args=[in_b.pk])).content.decode()
    assert len(fake_twilio.sent_to(PHONE)) == 2
    assert rows(page) == [
        "Tue 24 Nov 10:00 Us · Campaign: How is your kettle? Store B How is your kettle? Sent",
        # One reply, kept once per membership, is one line with both stores (each marks its own copy answered).
        "Tue 24 Nov 11:00 Customer · Message Store B, Store C The lid does not close "
        f"Store B: waiting for an answer Mark answered{TEXT_BACK_FORM} Store C: waiting for an answer Mark answered"
        f"{TEXT_BACK_FORM}",
        # Our acknowledgement, kept once per store as the reply is, is one line too.
        "Tue 24 Nov 11:00 Us · Automatic answer Store B, Store C Thanks, Store B / Store C has your message and "
        "will get back to you. Sent",
        "Wed 25 Nov 12:00 Us · Campaign: 20% off socks Store C 20% off socks Delivered",
    ]


def test_a_store_the_user_cannot_see_never_shows_not_even_as_a_count(client, fake_twilio, store_b, store_c):
    in_b, in_c = make_member(store_b, phone=PHONE), make_member(store_c, phone=PHONE)
    send(in_c, "Secret store C offer", "campaign:c", LA_MORNING - timedelta(days=1))  # one text a number a day
    send(in_b, "How is your kettle?", "campaign:b", LA_MORNING + timedelta(hours=1))
    reply(client, "HELP the kettle is broken", "SMin2", LA_MORNING + timedelta(hours=2))
    client.force_login(user_of(store_b))
    page = client.get(reverse("members:conversation", args=[in_b.pk])).content.decode()
    assert "Store C" not in page and "Secret" not in page and f"/members/{in_c.pk}/" not in page
    assert [row.split(" Us ")[0].split(" Customer ")[0] for row in rows(page)] == [
        "Tue 24 Nov 11:00", "Tue 24 Nov 12:00", "Tue 24 Nov 12:00"]  # the reply, then our answer to it
    # The reply's other copy (store C's) is neither listed nor counted.
    assert "HELP the kettle is broken" in page and page.count("Mark answered") == 1
    assert "Store B: order care and member offers" in page  # our answer named both stores: C is left out
    assert client.get(reverse("members:conversation", args=[in_c.pk])).status_code == 404


def test_each_text_says_what_became_of_it(client, store_b):
    member = make_member(store_b, phone=PHONE)
    common = {"store": store_b, "member": member, "flow": "campaign", "body": "Hi"}
    Message.objects.create(**common, occasion="campaign:1", status=MessageStatus.SKIPPED,
                           skip_reason="frequency cap: 3 texts in 7 days", scheduled_for=LA_MORNING)
    Message.objects.create(**common, occasion="campaign:2", status=MessageStatus.UNDELIVERED, error_code="30006",
                           scheduled_for=LA_MORNING + timedelta(hours=1))
    Message.objects.create(**common, occasion="campaign:3", status=MessageStatus.QUEUED,
                           scheduled_for=LA_MORNING + timedelta(days=1))
    client.force_login(user_of(store_b))
    statuses = [row.rsplit(" Hi ", 1)[1] for row in rows(client.get(reverse("members:conversation",
                                                                            args=[member.pk])).content.decode())]
    assert statuses == ["Skipped (frequency cap: 3 texts in 7 days)",
                        "Undelivered landline or unreachable carrier (30006)",
                        "Queued · not before Wed 25 Nov 10:00"]


def test_operators_see_the_number_masked_managers_whole(client, store_b):
    member = make_member(store_b, phone=PHONE)
    url = reverse("members:conversation", args=[member.pk])
    client.force_login(user_of(store_b))
    page = client.get(url).content.decode()
    assert "+14*****0100" in page and PHONE not in page
    client.force_login(user_of(store_b, role="manager", name="mgr"))
    assert f"Conversation with {PHONE}" in client.get(url).content.decode()


def test_the_member_page_and_the_texts_list_lead_to_the_conversation(client, fake_twilio, store_b):
    member = make_member(store_b, phone=PHONE)
    send(member, "How is your kettle?", "campaign:care", LA_MORNING)
    reply(client, "Fine thanks", "SMin3", LA_MORNING + timedelta(hours=1))
    client.force_login(user_of(store_b))
    link = f'href="{reverse("members:conversation", args=[member.pk])}"'
    assert link in client.get(member.get_absolute_url()).content.decode()
    # the reply, the text and our acknowledgement of the reply
    assert client.get(reverse("members:texts")).content.decode().count(link) == 3


def test_marking_a_reply_answered_from_the_conversation_comes_back_to_it(client, store_b):
    member = make_member(store_b, phone=PHONE)
    reply(client, "Where is my parcel?", "SMin4", LA_MORNING)
    client.force_login(user_of(store_b))
    response = client.post(reverse("members:texts"), {"answered": InboundReply.objects.get().pk,
                                                      "back": "conversation"})
    assert response["Location"] == reverse("members:conversation", args=[member.pk])
    assert re.search(r"answered \w{3} \d{1,2} Nov", client.get(response["Location"]).content.decode())


def test_a_long_thread_shows_the_newest_entries_without_a_gap(store_b, store_c):
    in_b, in_c = make_member(store_b, phone=PHONE), make_member(store_c, phone=PHONE)
    for hour in range(6):  # texts on even hours, a reply (kept in both stores) on odd ones
        at = LA_MORNING + timedelta(hours=hour)
        if hour % 2:
            InboundReply.objects.bulk_create([InboundReply(store=m.store, member=m, kind="message", body=f"r{hour}",
                                                           provider_sid=f"SM{hour}", received_at=at)
                                              for m in (in_b, in_c)])
        else:
            Message.objects.create(store=store_b, member=in_b, flow="campaign", occasion=f"c:{hour}",
                                   body=f"t{hour}", status=MessageStatus.SENT, sent_at=at, scheduled_for=at)
    shown = thread(Message.objects.all(), InboundReply.objects.all(), limit=3)
    assert [e.body for e in shown.entries] == ["r3", "t4", "r5"] and shown.earlier
    everything = thread(Message.objects.all(), InboundReply.objects.all(), limit=6)
    assert [e.body for e in everything.entries] == ["t0", "r1", "t2", "r3", "t4", "r5"] and not everything.earlier
