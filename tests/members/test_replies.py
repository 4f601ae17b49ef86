"""Members' replies: kept against each membership of the number, answered naming the store, shown to
operators (scoped to their stores) until someone marks them answered."""

import logging

import pytest
from django.urls import reverse

from members.models import InboundReply, ReplyKind
from members.replies import receive
from opsdesk.desk import open_items
from tests.members.conftest import make_member
from tests.members.test_webhooks import signed_post

pytestmark = pytest.mark.django_db


def test_help_is_answered_naming_the_members_stores(client, member_b, store_a):
    make_member(store_a, phone=member_b.phone)
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone,
                                                                "Body": "HELP the kettle is broken"})
    answer = response.content.decode()
    assert "Store A / Store B: order care" in answer and "we will get back to you" in answer


def test_a_complaint_is_kept_against_every_membership_of_the_number(client, member_b, store_a):
    other = make_member(store_a, phone=member_b.phone)
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "HELP the kettle is broken",
                                                    "MessageSid": "SMin1"})
    replies = InboundReply.objects.order_by("store__name")
    assert [(r.member_id, r.store_id, r.kind, r.body) for r in replies] == [
        (other.pk, store_a.pk, ReplyKind.HELP, "HELP the kettle is broken"),
        (member_b.pk, member_b.store_id, ReplyKind.HELP, "HELP the kettle is broken")]
    assert all(r.needs_answer for r in replies)


def test_the_same_reply_delivered_twice_is_kept_once(client, member_b):
    for _ in range(2):
        signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "Where is my parcel?",
                                                        "MessageSid": "SMin2"})
    assert InboundReply.objects.count() == 1


def test_a_reply_delivered_again_is_not_answered_again(client, member_b):
    params = {"From": member_b.phone, "Body": "HELP where is my parcel?", "MessageSid": "SMhelp"}
    first = signed_post(client, reverse("twilio_inbound"), params)
    again = signed_post(client, reverse("twilio_inbound"), params)
    assert "we will get back to you" in first.content.decode()
    assert again.content.strip().endswith(b"<Response />")


def test_an_old_start_delivered_again_does_not_undo_a_later_stop(client, member_b):
    start = {"From": member_b.phone, "Body": "START", "MessageSid": "SMstart"}
    signed_post(client, reverse("twilio_inbound"), start)
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "退订", "MessageSid": "SMstop"})
    signed_post(client, reverse("twilio_inbound"), start)  # a redelivery or a replayed signed request
    member_b.refresh_from_db()
    assert member_b.opted_out_at is not None


def test_any_other_reply_is_kept_and_acknowledged_once_a_day(client, member_b):
    first = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "Where is my parcel?",
                                                            "MessageSid": "SMa"})
    second = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "Hello??",
                                                             "MessageSid": "SMb"})
    assert "Store B has your message" in first.content.decode()
    assert second.content.strip().endswith(b"<Response />")
    assert InboundReply.objects.awaiting_answer().count() == 2


def test_stop_and_start_are_kept_but_need_no_answer(member_b):
    receive(member_b.phone, "STOP")
    receive(member_b.phone, "START")
    assert InboundReply.objects.count() == 2 and not InboundReply.objects.awaiting_answer().exists()


def test_a_reply_from_an_unknown_number_is_not_kept(db):
    assert receive("+14155559999", "HELP").text.startswith("Care and offer texts")
    assert not InboundReply.objects.exists()


def test_replies_never_log_the_whole_number(caplog, member_b):
    with caplog.at_level(logging.DEBUG):
        receive(member_b.phone, "HELP the kettle is broken")
        receive("+14155559999", "hi")
    assert caplog.text and member_b.phone not in caplog.text and "+14155559999" not in caplog.text


def test_texts_page_shows_replies_waiting_with_their_count(client, operator_b, member_b):
    receive(member_b.phone, "HELP the kettle is broken")
    client.force_login(operator_b)
    page = client.get(reverse("members:texts")).content.decode()
    assert "1 reply waiting for an answer" in page and "HELP the kettle is broken" in page


def test_member_page_shows_the_members_replies(client, operator_b, member_b):
    receive(member_b.phone, "The lid does not close")
    client.force_login(operator_b)
    assert "The lid does not close" in client.get(member_b.get_absolute_url()).content.decode()


def test_another_stores_replies_are_not_shown(client_a, member_b):
    receive(member_b.phone, "HELP the kettle is broken")
    page = client_a.get(reverse("members:texts")).content.decode()
    assert "kettle" not in page and "waiting for an answer" in page and "1 repl" not in page


def test_marking_a_reply_answered_takes_it_off_the_count(client, operator_b, member_b):
    receive(member_b.phone, "HELP the kettle is broken")
    reply = InboundReply.objects.get()
    client.force_login(operator_b)
    response = client.post(reverse("members:texts"), {"answered": reply.pk, "back": "member"})
    assert response.status_code == 302 and response["Location"] == member_b.get_absolute_url()
    reply.refresh_from_db()
    assert reply.answered_at and reply.answered_by == operator_b
    assert not InboundReply.objects.awaiting_answer().exists()


@pytest.mark.parametrize("value", ["²", "١", "1_0", " 1", "+1", "99999999999999999999", "x", ""])
def test_marking_answered_with_an_id_that_is_no_number_is_a_404_not_a_server_error(client, operator_b, member_b,
                                                                                   value):
    receive(member_b.phone, "HELP the kettle is broken")
    client.force_login(operator_b)
    assert client.post(reverse("members:texts"), {"answered": value}).status_code == 404
    assert InboundReply.objects.awaiting_answer().count() == 1


def test_another_stores_reply_cannot_be_marked_answered(client_a, member_b):
    receive(member_b.phone, "HELP the kettle is broken")
    reply = InboundReply.objects.get()
    assert client_a.post(reverse("members:texts"), {"answered": reply.pk}).status_code == 404
    reply.refresh_from_db()
    assert reply.answered_at is None


def test_the_desk_counts_replies_waiting_for_an_answer(member_b, operator_b):
    receive(member_b.phone, "HELP the kettle is broken")
    items = {item.label: item.count for item in open_items(member_b.store, operator_b)}
    assert items["Replies from members waiting for an answer"] == 1
