"""What a customer gets back when they text us, as the number's conversation shows it: our own answers
(returned as TwiML) are kept as texts of the number's stores, Twilio's opt-out/opt-in confirmations are
a line where the opt-out took effect, and a webhook Twilio delivers twice is answered once."""

import re
from datetime import timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse

from members import compliance
from members.models import ANSWER, InboundReply, Member, Message, MessageStatus
from tests.factories import StoreFactory
from tests.members.conftest import LA_MORNING, make_member
from tests.members.test_conversation import PHONE, TEXT_BACK_FORM, rows, user_of
from tests.members.test_webhooks import signed_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_2026")]


@pytest.fixture
def store_c(db):
    return StoreFactory(name="Store C", slug="store-c", timezone="America/Los_Angeles")


def text_in(client, body, sid, at=LA_MORNING, phone=PHONE):
    """Post the reply through the signed webhook twice (Twilio retries); the TwiML answers of both."""
    answers = []
    with time_machine.travel(at, tick=False):
        for _ in range(2):
            response = signed_post(client, reverse("twilio_inbound"), {"From": phone, "Body": body, "MessageSid": sid})
            assert response.status_code == 200
            answers.append(ElementTree.fromstring(response.content).findall("Message"))
    return answers


def thread_of(client, member):
    return rows(client.get(reverse("members:conversation", args=[member.pk])).content.decode())


def test_stop_is_confirmed_by_twilio_and_the_conversation_says_where_it_took_effect(client, store_b):
    member = make_member(store_b, phone=PHONE)
    first, again = text_in(client, "STOP", "SMstop1")
    assert first == [] and again == []  # Twilio's Advanced Opt-Out answers an exact STOP: we add nothing
    assert not Message.objects.exists()
    client.force_login(user_of(store_b))
    assert thread_of(client, member) == [
        "Tue 24 Nov 10:00 Customer · Opt-out Store B STOP handled by the app",
        "Tue 24 Nov 10:00 Opted out by texting STOP — Twilio confirms to the customer. No more texts from any store.",
    ]


def test_start_is_confirmed_by_twilio_and_shown_where_texts_may_start_again(client, store_b):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "STOP", "SMstop2")
    first, again = text_in(client, "start", "SMstart2", at=LA_MORNING + timedelta(hours=1))
    assert first == [] and again == []
    member.refresh_from_db()
    assert member.opted_out_at is None
    client.force_login(user_of(store_b))
    assert thread_of(client, member)[2:] == [
        "Tue 24 Nov 11:00 Customer · Opt-in Store B start handled by the app",
        "Tue 24 Nov 11:00 Opted back in by texting start — Twilio confirms to the customer. Texts may start again.",
    ]


@pytest.mark.parametrize("body", ["START", "Yes", "UNSTOP"])
def test_an_exact_opt_in_keyword_is_left_to_twilio_to_confirm(client, store_b, body):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "Stop, please", "SMstop20")
    first, again = text_in(client, body, "SMstart20", at=LA_MORNING + timedelta(hours=1))
    assert first == [] and again == []  # Twilio's Advanced Opt-Out confirms it: a second one would confuse
    member.refresh_from_db()
    assert member.opted_out_at is None


@pytest.mark.parametrize("body", ["Start.", "start!", "ＳＴＡＲＴ", "Yes!!"])
def test_an_opt_in_twilio_does_not_know_gets_our_confirmation_once(client, store_b, body):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "Stop, please", "SMstop21")
    first, again = text_in(client, body, "SMstart21", at=LA_MORNING + timedelta(hours=1))
    assert [m.text for m in first] == ["Store B: you will get our texts again. Reply STOP to stop them."]
    assert again == []  # Twilio delivered the webhook twice: one answer
    member.refresh_from_db()
    assert member.opted_out_at is None
    assert Message.objects.filter(flow=ANSWER, occasion="answer:SMstart21").count() == 1
    client.force_login(user_of(store_b))
    assert thread_of(client, member)[3:] == [
        f"Tue 24 Nov 11:00 Customer · Opt-in Store B {body.strip()} handled by the app",
        f"Tue 24 Nov 11:00 Opted back in by texting {body.strip()} — we confirm to the customer (below). "
        "Texts may start again.",
        f"Tue 24 Nov 11:00 Us · Automatic answer Store B {first[0].text} Sent",
    ]


def test_an_opt_in_twilio_does_not_know_is_confirmed_in_chinese_to_a_chinese_stores_member(client, db):
    store = StoreFactory(name="茶叶店", slug="tea", country="CN", timezone="Asia/Shanghai")
    phone = "+8613800138001"
    make_member(store, phone=phone)
    text_in(client, "退订", "SMstop22", phone=phone)
    first, _ = text_in(client, "ＳＴＡＲＴ", "SMstart22", phone=phone, at=LA_MORNING + timedelta(hours=1))
    assert [m.text for m in first] == ["您已重新订阅茶叶店的短信。回复T退订。"]


def test_an_opt_in_confirmation_names_only_the_stores_whose_texts_come_back(client, store_b, store_c):
    """Store C never had the customer's consent: lifting the opt-out brings none of its texts back, so our
    confirmation neither names it nor promises its texts."""
    make_member(store_b, phone=PHONE)
    never_consented = make_member(store_c, phone=PHONE, sms_consent=False, consent_source="")
    text_in(client, "Stop, please", "SMstop24")
    first, _ = text_in(client, "Start.", "SMstart24", at=LA_MORNING + timedelta(hours=1))
    assert [m.text for m in first] == ["Store B: you will get our texts again. Reply STOP to stop them."]
    never_consented.refresh_from_db()
    assert never_consented.opted_out_at is None and not never_consented.sms_consent
    # What each store's operators read in the conversation says the same; Store C's never sees Store B named.
    client.force_login(user_of(store_c, name="op-c"))
    assert thread_of(client, never_consented)[-2:] == [
        "Tue 24 Nov 11:00 Customer · Opt-in Store C Start. handled by the app",
        "Tue 24 Nov 11:00 Opted back in by texting Start.. No texts start: the customer has not agreed to texts."]
    client.force_login(user_of(store_b, store_c, name="op-bc"))
    assert thread_of(client, never_consented)[-2:] == [
        "Tue 24 Nov 11:00 Opted back in by texting Start. — we confirm to the customer (below). Texts may start "
        "again, except from Store C (the customer has not agreed to its texts).",
        "Tue 24 Nov 11:00 Us · Automatic answer Store B Store B: you will get our texts again. Reply STOP to stop "
        "them. Sent"]


def test_an_opt_in_that_brings_back_no_stores_texts_promises_none(client, store_b):
    member = make_member(store_b, phone=PHONE, sms_consent=False, consent_source="")
    text_in(client, "Stop, please", "SMstop25")
    first, _ = text_in(client, "Start.", "SMstart25", at=LA_MORNING + timedelta(hours=1))
    assert [m.text for m in first] == [
        "You are no longer unsubscribed. A store texts you only once you agree to its texts."]
    member.refresh_from_db()
    assert member.opted_out_at is None and not member.sms_consent


def test_an_opt_in_from_a_number_that_was_not_opted_out_gets_no_answer(client, store_b):
    """Nothing changed for them: a lone "Yes!" from a number that gets our texts most likely answers our text's
    question ("Did your parcel arrive?"), and "you will get our texts again" would puzzle them."""
    member = make_member(store_b, phone=PHONE)
    first, again = text_in(client, "Yes!", "SMyes23")
    assert first == [] and again == [] and not Message.objects.exists()
    member.refresh_from_db()
    assert member.opted_out_at is None


def test_an_opt_out_twilio_does_not_know_gets_our_confirmation_kept_once_with_its_delivery(client, store_b):
    member = make_member(store_b, phone=PHONE)
    first, again = text_in(client, "Stop, please", "SMstop3")
    assert len(first) == 1 and again == []  # the retry gets no second confirmation
    answer = Message.objects.get()
    assert (answer.member, answer.flow, answer.body, answer.status) == (
        member, ANSWER, first[0].text, MessageStatus.SENT)
    assert first[0].text.startswith("Store B: you are unsubscribed")
    # Twilio reports the answer's delivery to the status webhook named in the TwiML, as for any text.
    action = urlsplit(first[0].get("action"))
    assert f"{action.scheme}://{action.netloc}" == "https://desk.example.com"
    signed_post(client, f"{action.path}?{action.query}", {"MessageSid": "SManswer3", "MessageStatus": "delivered"})
    client.force_login(user_of(store_b))
    assert thread_of(client, member) == [
        "Tue 24 Nov 10:00 Customer · Opt-out Store B Stop, please handled by the app",
        "Tue 24 Nov 10:00 Opted out by texting Stop, please — we confirm to the customer (below). "
        "No more texts from any store.",
        f"Tue 24 Nov 10:00 Us · Automatic answer Store B {first[0].text} Delivered",
    ]


def test_help_is_answered_once_and_still_waits_for_a_person(client, store_b):
    member = make_member(store_b, phone=PHONE)
    first, again = text_in(client, "HELP the kettle is broken", "SMhelp4")
    assert len(first) == 1 and again == []
    assert Message.objects.get().body == first[0].text
    assert InboundReply.objects.count() == 1
    client.force_login(user_of(store_b))
    assert thread_of(client, member) == [
        "Tue 24 Nov 10:00 Customer · Help Store B HELP the kettle is broken waiting for an answer"
        " Mark answered" + TEXT_BACK_FORM,
        f"Tue 24 Nov 10:00 Us · Automatic answer Store B {first[0].text} Sent",
    ]


def test_any_other_text_is_acknowledged_once_a_day_and_counted_as_waiting(client, store_b):
    member = make_member(store_b, phone=PHONE)
    first, again = text_in(client, "where is my order?", "SMfree5")
    later, _ = text_in(client, "hello??", "SMfree6", at=LA_MORNING + timedelta(hours=2))
    assert len(first) == 1 and again == [] and later == []
    assert first[0].text == "Thanks, Store B has your message and will get back to you."
    client.force_login(user_of(store_b))
    assert thread_of(client, member) == [
        "Tue 24 Nov 10:00 Customer · Message Store B where is my order? waiting for an answer"
        " Mark answered" + TEXT_BACK_FORM,
        f"Tue 24 Nov 10:00 Us · Automatic answer Store B {first[0].text} Sent",
        "Tue 24 Nov 12:00 Customer · Message Store B hello?? waiting for an answer Mark answered" + TEXT_BACK_FORM,
    ]
    assert "2 replies waiting for an answer" in client.get(reverse("members:texts")).content.decode()


def test_the_database_refuses_a_second_answer_to_one_reply(client, store_b):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "HELP", "SMhelp7")
    answer = Message.objects.get()
    with pytest.raises(IntegrityError):
        Message.objects.create(store=store_b, member=member, flow=ANSWER, occasion=answer.occasion, body="again",
                               status=MessageStatus.SENT, scheduled_for=LA_MORNING)


def test_even_with_the_reply_record_gone_a_redelivery_gets_no_second_answer(client, store_b):
    make_member(store_b, phone=PHONE)
    first, _ = text_in(client, "HELP", "SMhelp8")
    InboundReply.objects.all().delete()
    again, _ = text_in(client, "HELP", "SMhelp8")
    assert len(first) == 1 and again == [] and Message.objects.count() == 1


def test_an_answer_to_a_number_of_two_stores_is_one_line_and_names_only_the_stores_you_see(
        client, store_b, store_c):
    in_b, in_c = make_member(store_b, phone=PHONE), make_member(store_c, phone=PHONE)
    first, _ = text_in(client, "HELP", "SMhelp9")
    assert first[0].text.startswith("Store B / Store C: order care")
    assert Message.objects.filter(flow=ANSWER).count() == 2  # one copy per store, as the reply
    client.force_login(user_of(store_b, store_c, name="both"))
    assert thread_of(client, in_b)[1] == (f"Tue 24 Nov 10:00 Us · Automatic answer Store B, Store C "
                                          f"{first[0].text} Sent")
    client.force_login(user_of(store_b, name="b-only"))
    for page in (reverse("members:conversation", args=[in_b.pk]), in_b.get_absolute_url()):
        content = client.get(page).content.decode()
        assert "Store C" not in content and "Store B: order care" in content, page
    assert "Store C" not in client.get(reverse("members:texts")).content.decode()  # which shows no bodies
    assert client.get(reverse("members:conversation", args=[in_c.pk])).status_code == 404


def test_another_stores_user_sees_nothing_of_it(client, store_a, store_b):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "Stop, please", "SMstop10")
    client.force_login(user_of(store_a, name="a-only"))
    assert client.get(reverse("members:conversation", args=[member.pk])).status_code == 404
    texts = client.get(reverse("members:texts")).content.decode()
    assert "unsubscribed" not in texts and "Stop, please" not in texts


def test_our_answers_do_not_count_against_the_frequency_cap(client, store_b):
    member = make_member(store_b, phone=PHONE)
    text_in(client, "HELP", "SMhelp11")
    assert compliance.recent_text_counts(store_b, LA_MORNING) == {}
    assert compliance.texted_days(store_b, LA_MORNING) == {}
    assert Member.objects.textable().filter(pk=member.pk).exists()


def test_phone_numbers_are_not_logged_whole(client, store_b, caplog):
    make_member(store_b, phone=PHONE)
    text_in(client, "Stop, please", "SMstop12")
    assert caplog.text and PHONE not in caplog.text and re.search(r"\+14\*+0100", caplog.text)


def test_a_help_from_a_number_of_no_store_is_answered_once_however_often_twilio_delivers_it(client, db):
    stranger = "+14155550000"
    first, again = text_in(client, "HELP", "SMhelp-stranger", phone=stranger)
    assert [m.text for m in first] == ["Care and offer texts from our stores. Reply STOP to stop them, START to get "
                                       "them again."]
    assert again == []
    later, _ = text_in(client, "HELP", "SMhelp-stranger-2", phone=stranger, at=LA_MORNING + timedelta(days=1))
    assert len(later) == 1  # a new HELP is a new question


def test_the_admin_shows_a_staff_member_the_answer_without_the_stores_they_cannot_see(client, store_b, store_c):
    from django.contrib.auth.models import Permission

    make_member(store_b, phone=PHONE), make_member(store_c, phone=PHONE)
    first, _ = text_in(client, "HELP", "SMhelp13")
    assert first[0].text.startswith("Store B / Store C: order care")
    staff = user_of(store_b, name="staff-b")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_message", "change_message"]))
    client.force_login(staff)
    answer = Message.objects.get(store=store_b, flow=ANSWER)
    page = client.get(reverse("admin:members_message_change", args=[answer.pk]))
    content = page.content.decode()
    assert page.status_code == 200 and "Store B: order care" in content and "Store C" not in content
    client.post(reverse("admin:members_message_change", args=[answer.pk]), {})  # saving keeps the text whole
    answer.refresh_from_db()
    assert answer.body == first[0].text


def test_a_store_renamed_after_the_answer_is_still_not_named_to_those_who_cannot_see_it(client, store_b, store_c):
    in_b, _ = make_member(store_b, phone=PHONE), make_member(store_c, phone=PHONE)
    first, _ = text_in(client, "where is my parcel?", "SMfree14")
    assert first[0].text == "Thanks, Store B / Store C has your message and will get back to you."
    store_c.name = "Store C Outlet"
    store_c.save()
    client.force_login(user_of(store_b, name="b-only"))
    for page in (reverse("members:conversation", args=[in_b.pk]), in_b.get_absolute_url()):
        content = client.get(page).content.decode()
        assert "Store C" not in content and "Thanks, Store B has your message" in content, page
