"""Texting the customer from a bad-review case: through the members' sending pipeline, once per click, logged in
the contact log with its delivery status, never a call for the SLA, refused for opted-out or missing numbers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from members import sending
from members.models import Flow, InboundReply, Member, Message, MessageStatus, SavedAnswer, SmsTemplate
from members.sms import locmem
from reviews.models import CaseStatus, ContactAttempt, ContactOutcome, ReviewCase
from tests.factories import MembershipFactory, OrderFactory, UserFactory
from tests.members.conftest import BAD_ANSWERS, LA_MORNING, make_member
from tests.members.test_saved_answers import filled, offered
from tests.members.test_webhooks import signed_post
from tests.reviews.conftest import make_case

pytestmark = pytest.mark.django_db

CARE = "Sorry about your order {order}, {first_name}: we tried to call you. Reply here or call us at +1 415 555 0199."


@pytest.fixture(autouse=True)
def sms(settings):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_RATE_PER_SECOND = 0
    settings.SITE_URL = "https://desk.example.com"
    settings.TWILIO_AUTH_TOKEN = "test-token"
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


@pytest.fixture
def clock():
    with time_machine.travel(LA_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client_b(client, operator_b):
    client.force_login(operator_b)
    return client


@pytest.fixture
def care_template(store_b):
    return SmsTemplate.objects.create(store=store_b, name="Sorry", flow=Flow.REVIEW_CARE, body=CARE)


@pytest.fixture
def case(store_b, clock):
    make_member(store_b, phone="+14155550100", name="Grace Hopper")
    order = OrderFactory(store=store_b, buyer_phone="(415) 555-0100", name="#1042")
    return make_case(store_b, order=order)  # linked by the order's buyer phone, as most imported reviews are


def text(client, case, attempt=1):
    return client.post(case.get_absolute_url(), {"action": "text", "attempt": attempt}, follow=True)


def test_an_operator_texts_the_customer_and_the_contact_log_shows_it_with_its_delivery(client_b, case, care_template,
                                                                                       operator_b):
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert "Sorry about your order #1042, Grace: we tried to call you." in page  # the preview
    assert "+14155550100" not in page.replace('tel:+14155550100', "")  # masked for an operator, as the call link's

    response = text(client_b, case)
    assert "Text queued: it goes out now." in response.content.decode()
    message = Message.objects.get()
    assert (message.flow, message.occasion) == ("review_care", f"review_care:case {case.pk} text 1")
    contact = ContactAttempt.objects.get()
    assert (contact.outcome, contact.by, contact.message) == (ContactOutcome.TEXTED, operator_b, message)

    assert sending.send_message(message.pk).status == "sent"
    assert [m.body for m in locmem.outbox] == [
        "Sorry about your order #1042, Grace: we tried to call you. Reply here or call us at +1 415 555 0199."]
    message.refresh_from_db()
    signed_post(Client(), reverse("twilio_status") + f"?m={message.pk}",
                {"MessageSid": message.provider_sid, "MessageStatus": "delivered"})
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert 'data-text-status="delivered">Delivered</span>' in page


def test_a_double_click_or_a_retried_post_sends_one_text(client_b, case, care_template):
    first, second = text(client_b, case), text(client_b, case)
    assert first.status_code == second.status_code == 200
    assert "That text was already sent; nothing more was sent." in second.content.decode()
    assert Message.objects.count() == 1 and ContactAttempt.objects.count() == 1
    for message in Message.objects.all():
        sending.send_message(message.pk)
        sending.send_message(message.pk)
    assert len(locmem.outbox) == 1


def test_a_second_text_later_is_a_new_text(client_b, case, care_template, clock):
    text(client_b, case)
    clock.shift(timedelta(days=1))
    text(client_b, case, attempt=2)
    assert sorted(Message.objects.values_list("occasion", flat=True)) == [
        f"review_care:case {case.pk} text 1", f"review_care:case {case.pk} text 2"]


def test_a_text_is_no_call_the_first_call_stays_due_and_the_case_does_not_move(client_b, case, care_template, clock):
    text(client_b, case)
    clock.shift(timedelta(hours=25))
    case = ReviewCase.objects.get(pk=case.pk)
    assert case.first_contact_at is None and case.status == CaseStatus.NEW
    assert case.is_overdue()


def test_an_opted_out_customer_is_not_texted_and_the_page_says_why(client_b, case, care_template, clock):
    Member.objects.update(opted_out_at=LA_MORNING - timedelta(days=2))
    response = text(client_b, case)
    assert response.status_code == 400
    assert "Refused: The customer cannot be texted: the customer opted out of texts (STOP)" in \
        response.content.decode()
    assert not Message.objects.exists() and not ContactAttempt.objects.exists()


def test_a_case_without_a_phone_is_not_texted(client_b, store_b, care_template, clock):
    case = make_case(store_b)
    response = text(client_b, case)
    assert response.status_code == 400
    assert "There is no phone number" in response.content.decode()
    assert not Message.objects.exists()


def test_an_invalid_number_is_not_texted(client_b, case, care_template):
    Member.objects.update(phone_invalid_at=LA_MORNING)
    assert text(client_b, case).status_code == 400
    assert not Message.objects.exists()


def test_without_a_bad_review_text_the_page_says_who_writes_one(client_b, case):
    response = text(client_b, case)
    assert response.status_code == 400
    assert "The store has no active text for bad-review cases" in response.content.decode()


def test_in_quiet_hours_the_text_waits_for_nine_and_the_operator_is_told(client_b, case, care_template, clock):
    clock.move_to(LA_MORNING.replace(hour=6))  # 22:00 the evening before in Los Angeles
    response = text(client_b, case).content.decode()
    assert "it is quiet hours for the customer, so it goes at 09:00 their time (America/Los_Angeles)" in response
    message = Message.objects.get()
    assert message.scheduled_for == LA_MORNING.replace(hour=17)  # 09:00 in Los Angeles
    assert sending.send_message(message.pk).status == "not_due" and locmem.outbox == []


def test_the_frequency_cap_does_not_hold_back_a_care_text_but_it_counts_for_the_flows(settings, client_b, case,
                                                                                      care_template, store_b):
    from members.sending import Planned, plan

    settings.SMS_FREQUENCY_CAP = 1
    text(client_b, case)
    assert Message.objects.get().status == MessageStatus.QUEUED
    campaign = SmsTemplate.objects.create(store=store_b, name="Thanks", flow="campaign", body="Thanks {first_name}")
    assert plan(store_b, "campaign", campaign, [Planned(Member.objects.get(), "campaign:x")]).capped == 1


def test_the_text_shows_in_the_members_conversation(client_b, case, care_template):
    text(client_b, case)
    member = Member.objects.get()
    page = client_b.get(reverse("members:conversation", args=[member.pk])).content.decode()
    assert f"Bad-review · case {case.pk} text 1" in page
    assert "Sorry about your order #1042" in page


def test_another_stores_case_cannot_be_texted(client, store_a, case, care_template):
    client.force_login(MembershipFactory(store=store_a, user=UserFactory(username="op-a"), role="operator").user)
    assert text(client, case).status_code == 404
    assert not Message.objects.exists()


def test_the_text_needs_the_pages_csrf_token(operator_b, case, care_template):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_b)
    assert client.post(case.get_absolute_url(), {"action": "text", "attempt": 1}).status_code == 403
    assert not Message.objects.exists()


def test_a_texted_outcome_cannot_be_logged_as_a_call(client_b, case):
    response = client_b.post(case.get_absolute_url(), {"action": "contact", "outcome": "texted"})
    assert response.status_code == 400
    assert not ContactAttempt.objects.exists()


def test_a_bad_review_text_carries_no_coupon_and_is_no_campaign(client, store_b, care_template):
    bad = SmsTemplate(store=store_b, name="With coupon", flow=Flow.REVIEW_CARE, body="Sorry! Here is {coupon}")
    with pytest.raises(Exception, match="issues no coupon"):
        bad.full_clean()
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager").user)
    assert client.post(reverse("members:campaign", args=[care_template.pk])).status_code == 400
    assert not Message.objects.exists()


def reply(body, sid):
    """The customer texts our number back (Twilio's signed inbound webhook)."""
    signed_post(Client(), reverse("twilio_inbound"), {"From": "+14155550100", "Body": body, "MessageSid": sid})


def replies_on(page: str) -> list[str]:
    """The replies shown under the case's texts, in page order: 'time · from · body' per reply."""
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li data-reply>(.*?)</li>", page)]


def test_the_customers_replies_show_under_the_text_in_time_order_in_store_time_and_masked(client_b, case,
                                                                                          care_template, clock):
    reply("Is my refund coming?", "SMearlier")  # before the case's text: not an answer to it
    clock.shift(timedelta(minutes=30))
    text(client_b, case)
    sending.send_message(Message.objects.get(flow="review_care").pk)
    clock.shift(timedelta(minutes=5))
    reply("I am at work, call me after 6pm", "SMr1")
    clock.shift(timedelta(minutes=12))
    reply("STOP", "SMr2")

    page = client_b.get(case.get_absolute_url()).content.decode()
    # 10:35 and 10:47 in Los Angeles, the store's zone (18:35 and 18:47 UTC)
    assert replies_on(page) == [
        "Tue 24 Nov 10:35 · Reply from +14*****0100 I am at work, call me after 6pm",
        "Tue 24 Nov 10:47 · Reply from +14*****0100 · Opt-out STOP"]
    assert page.index("Sorry about your order #1042, Grace: we tried") < page.index("I am at work")
    assert "Is my refund coming?" not in page


def test_a_manager_sees_the_replies_number_masked_too(client, store_b, case, care_template, clock):
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager").user)
    text(client, case)
    clock.shift(timedelta(minutes=5))
    reply("Call me now please", "SMr1")
    page = client.get(case.get_absolute_url()).content.decode()
    assert replies_on(page) == ["Tue 24 Nov 10:05 · Reply from +14*****0100 Call me now please"]


def test_each_reply_shows_under_the_text_it_came_after(client_b, case, care_template, clock):
    text(client_b, case)
    clock.shift(timedelta(hours=2))
    reply("Who is this?", "SMr1")
    clock.shift(timedelta(days=1))
    text(client_b, case, attempt=2)
    clock.shift(timedelta(minutes=3))
    reply("OK, call at 4", "SMr2")
    page = client_b.get(case.get_absolute_url()).content.decode()
    first, second = page.split('data-text-status="queued"')[1:3]  # the log's two texts, oldest first
    assert replies_on(first) == ["Tue 24 Nov 12:00 · Reply from +14*****0100 Who is this?"]
    assert replies_on(second) == ["Wed 25 Nov 12:03 · Reply from +14*****0100 OK, call at 4"]


def test_only_the_stores_own_replies_of_the_number_show_on_its_case(client_b, store_a, store_b, case, care_template,
                                                                    clock):
    other_store = make_member(store_a, phone="+14155550100", name="Grace Hopper")
    stranger = make_member(store_b, phone="+14155550199", name="Someone Else")
    text(client_b, case)
    clock.shift(timedelta(minutes=5))
    reply("Call me", "SMr1")  # kept for both memberships of the number: shown once
    InboundReply.objects.create(store=store_a, member=other_store, kind="message", body="About my Store A order",
                                provider_sid="SMa", received_at=LA_MORNING + timedelta(minutes=6))
    InboundReply.objects.create(store=store_b, member=stranger, kind="message", body="Another customer",
                                provider_sid="SMs", received_at=LA_MORNING + timedelta(minutes=7))
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert replies_on(page) == ["Tue 24 Nov 10:05 · Reply from +14*****0100 Call me"]
    assert "About my Store A order" not in page and "Another customer" not in page


def test_a_case_without_a_text_shows_no_replies(client_b, case, care_template, clock):
    reply("Hello?", "SMr1")
    assert replies_on(client_b.get(case.get_absolute_url()).content.decode()) == []


def answer(client, case, reply_pk, body, attempt=1):
    return client.post(
        case.get_absolute_url(), {"action": "answer", "reply": reply_pk, "attempt": attempt, "body": body}, follow=True
    )


def texted_and_replied(client, case, body="I am at work, call me after 6pm", sid="SMr1"):
    """The case's text went out and the customer replied 5 minutes later: the store's copy of the reply."""
    text(client, case)
    sending.send_message(Message.objects.get(occasion=f"review_care:case {case.pk} text 1").pk)
    with time_machine.travel(LA_MORNING + timedelta(minutes=5), tick=False):
        reply(body, sid)
    return InboundReply.objects.get(provider_sid=sid, member__store=case.store)


def test_an_operator_answers_a_reply_from_the_case_once_and_the_reply_shows_answered(
    client_b, case, care_template, operator_b, clock
):
    received = texted_and_replied(client_b, case)
    clock.shift(timedelta(minutes=10))
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert f'<li data-reply-answer="{received.pk}">' in page and "Answered by" not in page

    first = answer(client_b, case, received.pk, "Sure, Lin will call you at 6:30 today.")
    second = answer(client_b, case, received.pk, "Sure, Lin will call you at 6:30 today.")  # a double-click
    assert "Answer queued: it goes out now." in first.content.decode()
    assert "That answer was already sent; nothing more was sent." in second.content.decode()
    sent = Message.objects.get(occasion=f"review_care:case {case.pk} reply {received.pk} answer 1")
    assert sent.body == "Sure, Lin will call you at 6:30 today." and sent.flow == Flow.REVIEW_CARE
    for message in Message.objects.all():
        sending.send_message(message.pk)
    assert [m.body for m in locmem.outbox][1:] == ["Sure, Lin will call you at 6:30 today."]  # after the case's text

    received.refresh_from_db()
    assert (received.answered_by, received.answered_at) == (operator_b, LA_MORNING + timedelta(minutes=10))
    page = client_b.get(case.get_absolute_url()).content.decode()
    # The contact log: who answered which reply, when (store time) and how the text went.
    assert (
        "Tue 24 Nov 10:10 · Answered a reply of Tue 24 Nov 10:05 · op-b · "
        '<span class="badge" data-text-status="sent">Sent</span>' in page
    )
    assert "Answered by you Tue 24 Nov 10:10" in page
    # The same record as the members' texts page's "Mark answered": no longer waiting there or on the desk.
    assert not InboundReply.objects.filter(store=case.store).awaiting_answer().exists()
    # An answer in writing is no call: the first call is still due, and overdue once its time has passed.
    clock.shift(timedelta(days=2))
    case = ReviewCase.objects.get(pk=case.pk)
    assert case.first_contact_at is None and case.is_overdue() and case.status == CaseStatus.NEW
    assert "first call due" in client_b.get(case.get_absolute_url()).content.decode()


@BAD_ANSWERS
def test_an_empty_or_too_long_answer_is_refused_with_the_forms_error_and_nothing_is_sent(
    client_b, case, care_template, clock, body, error
):
    received = texted_and_replied(client_b, case)
    response = answer(client_b, case, received.pk, body)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert list(Message.objects.filter(flow=Flow.REVIEW_CARE).values_list("occasion", flat=True)) == [
        f"review_care:case {case.pk} text 1"
    ]
    assert not ContactAttempt.objects.filter(outcome=ContactOutcome.ANSWERED).exists()
    received.refresh_from_db()
    assert received.answered_at is None
    assert ReviewCase.objects.get(pk=case.pk).first_contact_at is None


def test_a_case_answer_reported_undelivered_puts_the_reply_back_to_waiting(client_b, case, care_template, clock):
    received = texted_and_replied(client_b, case)
    clock.shift(timedelta(minutes=10))
    answer(client_b, case, received.pk, "Sure, Lin will call you at 6:30 today.")
    sent = Message.objects.get(occasion=f"review_care:case {case.pk} reply {received.pk} answer 1")
    sending.send_message(sent.pk)
    sent.refresh_from_db()
    signed_post(client_b, reverse("twilio_status") + f"?m={sent.pk}",
                {"MessageSid": sent.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert InboundReply.objects.awaiting_answer().filter(pk=received.pk).exists()
    page = re.sub(r"<[^>]+>", "", client_b.get(reverse("members:texts")).content.decode())
    assert "Answer failed: undelivered — text back again or call" in page


def test_a_case_answer_delivered_after_all_answers_the_reply_again_by_its_operator(client_b, store_b, case,
                                                                                   care_template, operator_b, clock):
    received = texted_and_replied(client_b, case)
    clock.shift(timedelta(minutes=10))
    answer(client_b, case, received.pk, "Sure, Lin will call you at 6:30 today.")
    sent = Message.objects.get(occasion=f"review_care:case {case.pk} reply {received.pk} answer 1")
    assert sent.sent_by == operator_b
    sending.send_message(sent.pk)
    sent.refresh_from_db()
    for status, code in [("undelivered", "30003"), ("delivered", "")]:  # Twilio's late receipt
        signed_post(client_b, reverse("twilio_status") + f"?m={sent.pk}",
                    {"MessageSid": sent.provider_sid, "MessageStatus": status, **({"ErrorCode": code} if code else {})})
    received.refresh_from_db()
    assert (received.answered_by, received.answered_with) == (operator_b, sent)
    client_b.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-c"), role="operator").user)
    assert "Answered by op-b Tue 24 Nov 10:10" in client_b.get(case.get_absolute_url()).content.decode()


def test_a_case_answer_not_sent_because_the_customer_opted_out_puts_the_reply_back_to_waiting(
        client_b, case, care_template, clock):
    received = texted_and_replied(client_b, case)
    clock.shift(timedelta(minutes=10))
    answer(client_b, case, received.pk, "Sure, Lin will call you at 6:30 today.")
    clock.shift(timedelta(minutes=1))
    reply("STOP", "SMr2")  # before the send step took the answer
    sent = Message.objects.get(occasion=f"review_care:case {case.pk} reply {received.pk} answer 1")
    sending.send_message(sent.pk)
    assert Message.objects.get(pk=sent.pk).status == MessageStatus.SKIPPED
    assert InboundReply.objects.awaiting_answer().filter(pk=received.pk).exists()
    page = re.sub(r"<[^>]+>", "", client_b.get(case.get_absolute_url()).content.decode())
    assert "Answer not sent: the customer opted out — call" in page and "Answered by" not in page


def test_an_operator_of_another_store_cannot_answer_a_reply(client_b, store_a, case, care_template, clock):
    received = texted_and_replied(client_b, case)
    client_b.force_login(MembershipFactory(store=store_a, user=UserFactory(username="op-a"), role="operator").user)
    assert answer(client_b, case, received.pk, "Hello from Store A").status_code == 404
    # Nor under a case of their own store with the other store's reply.
    own = make_case(store_a, order=OrderFactory(store=store_a, buyer_phone="(415) 555-0100"))
    assert answer(client_b, own, received.pk, "Hello from Store A").status_code == 404
    assert Message.objects.filter(body="Hello from Store A").count() == 0
    assert InboundReply.objects.get(pk=received.pk).answered_at is None


def test_an_opted_out_customer_gets_no_answer(client_b, case, care_template, clock):
    received = texted_and_replied(client_b, case)
    Member.objects.update(opted_out_at=LA_MORNING + timedelta(minutes=6))
    response = answer(client_b, case, received.pk, "We will call you")
    assert response.status_code == 400
    assert "Refused: The customer cannot be texted: the customer opted out of texts (STOP)" in response.content.decode()
    assert not Message.objects.filter(body="We will call you").exists()


def test_two_open_cases_of_one_number_each_show_only_their_own_reply(client_b, store_b, case, care_template, clock):
    other = make_case(store_b, order=OrderFactory(store=store_b, buyer_phone="+14155550100", name="#1043"))
    text(client_b, case)
    clock.shift(timedelta(minutes=5))
    reply("The mug came broken", "SMr1")  # after case 1's text
    clock.shift(timedelta(minutes=5))
    text(client_b, other)
    clock.shift(timedelta(minutes=5))
    reply("And the teapot is the wrong colour", "SMr2")  # after case 2's text, the latest to the number

    first = client_b.get(case.get_absolute_url()).content.decode()
    second = client_b.get(other.get_absolute_url()).content.decode()
    assert replies_on(first) == ["Tue 24 Nov 10:05 · Reply from +14*****0100 The mug came broken"]
    assert replies_on(second) == ["Tue 24 Nov 10:15 · Reply from +14*****0100 And the teapot is the wrong colour"]

    # A reply is answered from the case it shows under only.
    teapot = InboundReply.objects.get(provider_sid="SMr2")
    response = answer(client_b, case, teapot.pk, "Sorry about the teapot")
    assert response.status_code == 400
    assert (
        f"That reply is not shown under this case: it answers the text of case {other.pk}" in response.content.decode()
    )
    assert answer(client_b, other, teapot.pk, "Sorry about the teapot").status_code == 200
    assert Message.objects.filter(body="Sorry about the teapot").count() == 1


def test_the_answer_form_offers_the_stores_saved_answers_not_another_stores(client, store_a, store_b, case,
                                                                             care_template, clock):
    SavedAnswer.objects.create(store=store_b, title="Call back", body="We will call you after 6pm today.")
    SavedAnswer.objects.create(store=store_a, title="Other store", body="Not for this case.")
    user = UserFactory(username="op-ab")  # works in both stores: the case's own answers only
    for store in (store_a, store_b):
        MembershipFactory(store=store, user=user, role="operator")
    client.force_login(user)
    received = texted_and_replied(client, case)
    page = client.get(case.get_absolute_url()).content.decode()
    assert offered(page, f"answer-{received.pk}") == ["Call back"]
    assert "Not for this case." not in page


def test_the_case_offers_its_saved_answers_filled_for_the_customer(client_b, case, care_template, clock):
    SavedAnswer.objects.create(store=case.store, title="Call back",
                               body="Hi {first_name}, {store} will call you after 6pm today.")
    received = texted_and_replied(client_b, case)
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert filled(page, f"answer-{received.pk}", "Call back") == "Hi Grace, Store B will call you after 6pm today."


ORDER_ANSWER = "Hi {first_name}, about your order {order}: we will call you after 6pm."


def test_the_case_offers_an_answer_using_order_filled_with_the_cases_order(client_b, case, care_template, clock):
    SavedAnswer.objects.create(store=case.store, title="About the order", body=ORDER_ANSWER)
    received = texted_and_replied(client_b, case)
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert filled(page, f"answer-{received.pk}", "About the order") == (
        "Hi Grace, about your order #1042: we will call you after 6pm.")
    # The same reply on the texts page knows no order: the answer is not offered there.
    assert "About the order" not in client_b.get(reverse("members:texts")).content.decode()


def test_an_order_without_a_name_fills_order_with_its_id(client_b, case, care_template, clock):
    type(case.review.order).objects.filter(pk=case.review.order_id).update(name="")
    SavedAnswer.objects.create(store=case.store, title="About the order", body=ORDER_ANSWER)
    received = texted_and_replied(client_b, case)
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert filled(page, f"answer-{received.pk}", "About the order") == (
        f"Hi Grace, about your order #{case.review.order.external_id}: we will call you after 6pm.")


def test_the_case_answer_box_has_a_counter_and_a_refused_long_answer_says_so_under_it(client_b, case, care_template,
                                                                                      clock):
    received = texted_and_replied(client_b, case)
    box = f"answer-{received.pk}"
    page = client_b.get(case.get_absolute_url()).content.decode()
    assert f'aria-describedby="{box}-count"' in page
    assert re.search(rf'id="{box}-count" data-sms-counter="{box}"[^>]*>0 / 160 characters · 1 SMS</p>', page)

    response = answer(client_b, case, received.pk, "好" * 75)
    assert response.status_code == 400
    content = response.content.decode()
    assert "The answer is 75 characters long; one text holds 70 with characters beyond plain Latin" in content
    assert re.search(rf'id="{box}-count"[^>]*>Too long for one text: 75 / 70 — shorten it</p>', content)
    assert not Message.objects.filter(body__startswith="好").exists()
