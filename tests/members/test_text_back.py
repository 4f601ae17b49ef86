"""Texting a customer back under their reply, from the texts page and the number's conversation: the operator's
words as one SMS through the sending pipeline, once per click, marking the reply answered, shown beside the reply
with its delivery status; refused (nothing sent) for an empty or too long text, 404 for another store's reply."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from members import sending
from members.models import TEXT_BACK, InboundReply, Message, SmsTemplate
from members.sending import Planned, plan
from members.sms import locmem
from opsdesk.desk import open_items
from tests.factories import MembershipFactory, UserFactory
from tests.members.conftest import BAD_ANSWERS, LA_MORNING, make_member
from tests.members.test_conversation import reply, rows
from tests.members.test_webhooks import signed_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_2026")]
PHONE = "+14155550100"


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch):
    """These tests send through the service themselves, not a Celery worker."""
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)


@pytest.fixture
def waiting(client, store_b, operator_b):
    """Grace wrote to our number at 10:00 Los Angeles time; op-b is logged in, five minutes later."""
    member = make_member(store_b, phone=PHONE, name="Grace Hopper")
    reply(client, "Where is my parcel?", "SMin1", LA_MORNING)
    client.force_login(operator_b)
    with time_machine.travel(LA_MORNING + timedelta(minutes=5), tick=False):
        yield member, InboundReply.objects.get(member=member)


def text_back(client, url, received, body, attempt=1):
    return client.post(url, {"text_back": received.pk, "attempt": attempt, "body": body}, follow=True)


def send_all():
    for message in Message.objects.filter(status="queued"):
        sending.send_message(message.pk)


def test_a_double_post_from_the_texts_page_sends_one_text_and_marks_the_reply_answered(client, waiting, operator_b,
                                                                                       fake_twilio):
    member, received = waiting
    url = reverse("members:texts")
    assert f'data-text-back="{received.pk}"' in client.get(url).content.decode()

    first = text_back(client, url, received, "  It left our warehouse today: tracking 1Z999 by text tonight.  ")
    second = text_back(client, url, received, "It left our warehouse today: tracking 1Z999 by text tonight.")
    assert "Text back queued: it goes out now." in first.content.decode()
    assert "That text back was already sent; nothing more was sent." in second.content.decode()
    send_all()
    sent = fake_twilio.sent_to(PHONE)
    assert [m["body"] for m in sent] == ["It left our warehouse today: tracking 1Z999 by text tonight."]

    text = Message.objects.get(flow=TEXT_BACK)
    assert (text.occasion, text.reply, text.status) == (f"text_back:reply {received.pk} answer 1", received, "sent")
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at) == (operator_b, LA_MORNING + timedelta(minutes=5))
    assert not InboundReply.objects.awaiting_answer().exists()
    page = client.get(url).content.decode()
    assert "Tue 24 Nov 10:05 by you" in page  # the reply's Answered column
    assert "Text back again" in page and 'name="attempt" value="2"' in page  # a second answer is a new text


def test_a_text_back_shows_beside_its_reply_in_the_conversation_with_its_delivery(client, waiting, store_b):
    member, received = waiting
    url = reverse("members:conversation", args=[member.pk])
    with time_machine.travel(LA_MORNING + timedelta(minutes=1), tick=False):  # a campaign text after the reply
        template = SmsTemplate.objects.create(store=store_b, name="Sale", flow="campaign", body="Sale today!")
        plan(store_b, "campaign", template, [Planned(member, "campaign:sale")])
    response = text_back(client, url, received, "Sorry for the wait: it ships tomorrow.")
    assert response.redirect_chain[-1][0] == url
    assert "Text back queued: it goes out now." in response.content.decode()
    send_all()
    Message.objects.filter(flow=TEXT_BACK).update(status="delivered")

    shown = rows(client.get(url).content.decode())
    assert shown[0].startswith("Tue 24 Nov 10:00 Customer · Message Store B Where is my parcel? answered Tue 24 Nov "
                               "10:05 by op-b")
    assert shown[1] == "Tue 24 Nov 10:05 Us · text back to this reply Store B Sorry for the wait: it ships tomorrow. " \
                       "Delivered"
    assert shown[2].startswith("Tue 24 Nov 10:00 Us · Automatic answer")  # the app's acknowledgement
    assert shown[3].startswith("Tue 24 Nov 10:05 Us · Campaign: Sale Store B Sale today!")  # after, but not beside
    assert PHONE not in client.get(url).content.decode()  # an operator sees the number masked


@pytest.mark.parametrize("page", ["members:texts", "members:conversation"])
@BAD_ANSWERS
def test_an_empty_or_too_long_text_back_is_refused_with_its_error_and_nothing_is_sent(client, waiting, page, body,
                                                                                       error):
    member, received = waiting
    url = reverse(page, args=[member.pk] if page == "members:conversation" else [])
    response = text_back(client, url, received, body)
    assert response.status_code == 400
    content = response.content.decode()
    assert error in content
    assert f'data-text-back="{received.pk}" open' in content  # the operator's form open, their words kept
    assert not Message.objects.filter(flow=TEXT_BACK).exists()
    assert InboundReply.objects.get(pk=received.pk).answered_at is None
    send_all()
    assert [m.body for m in locmem.outbox] == []


def test_an_operator_of_another_store_gets_404_and_nothing_is_sent(client, waiting, store_a):
    member, received = waiting
    client.force_login(MembershipFactory(store=store_a, user=UserFactory(username="op-a"), role="operator").user)
    assert text_back(client, reverse("members:texts"), received, "Hello from A").status_code == 404
    own = make_member(store_a, phone="+14155550123")  # nor through the conversation of their own member
    assert text_back(client, reverse("members:conversation", args=[own.pk]), received, "Hi").status_code == 404
    assert text_back(client, reverse("members:conversation", args=[member.pk]), received, "Hi").status_code == 404
    assert not Message.objects.filter(flow=TEXT_BACK).exists()
    assert InboundReply.objects.get(pk=received.pk).answered_at is None


def test_an_opted_out_customer_gets_no_text_back_and_the_page_says_why(client, waiting):
    member, received = waiting
    reply(client, "STOP", "SMin2", LA_MORNING + timedelta(minutes=2))
    response = text_back(client, reverse("members:texts"), received, "We will call you")
    assert response.status_code == 400
    assert ("Refused: The customer cannot be texted: the customer opted out of texts (STOP)"
            in response.content.decode())
    assert not Message.objects.filter(flow=TEXT_BACK).exists()


def test_in_quiet_hours_the_text_back_waits_for_nine_their_time(client, waiting):
    member, received = waiting
    with time_machine.travel(LA_MORNING + timedelta(hours=12), tick=False):  # 22:00 in Los Angeles
        response = text_back(client, reverse("members:texts"), received, "We will call you tomorrow")
    assert ("Text back queued: it is quiet hours for the customer, so it goes at 09:00 their time "
            "(America/Los_Angeles) on Wed 25 Nov." in response.content.decode())


def test_the_frequency_cap_neither_holds_back_a_text_back_nor_counts_it(settings, client, waiting, store_b):
    member, received = waiting
    settings.SMS_FREQUENCY_CAP = 2
    sale = SmsTemplate.objects.create(store=store_b, name="Sale", flow="campaign", body="Sale today!")
    plan(store_b, "campaign", sale, [Planned(member, "campaign:sale")])
    text_back(client, reverse("members:texts"), received, "It ships tomorrow.")
    text_back(client, reverse("members:texts"), received, "Tracking number to follow.", attempt=2)
    assert list(Message.objects.filter(flow=TEXT_BACK).values_list("status", flat=True)) == ["queued", "queued"]
    # The number's second text this week, as far as the cap goes: the operator's answers are not campaign texts.
    more = SmsTemplate.objects.create(store=store_b, name="More", flow="campaign", body="More!")
    plan(store_b, "campaign", more, [Planned(member, "campaign:more")])
    assert Message.objects.get(occasion="campaign:more").status == "queued"


def test_a_stale_form_is_refused_and_an_opt_out_reply_has_no_text_back(client, waiting):
    member, received = waiting
    response = text_back(client, reverse("members:texts"), received, "Hello", attempt=3)
    assert response.status_code == 400 and "the next one is answer 1; reload the page" in response.content.decode()
    reply(client, "STOP", "SMin2", LA_MORNING + timedelta(minutes=2))
    stop = InboundReply.objects.get(provider_sid="SMin2")
    assert not re.search(f'data-text-back="{stop.pk}"', client.get(reverse("members:texts")).content.decode())
    assert text_back(client, reverse("members:texts"), stop, "Hello").status_code == 400
    assert not Message.objects.filter(flow=TEXT_BACK).exists()


FAILED_NOTE = "Answer failed: undelivered — text back again or call"


def report(client, text, status, code=""):
    """Twilio's signed delivery report of `text`, as its StatusCallback URL carries it."""
    params = {"MessageSid": text.provider_sid, "MessageStatus": status, **({"ErrorCode": code} if code else {})}
    return signed_post(client, reverse("twilio_status") + f"?m={text.pk}", params)


def texted_back(client, received):
    text_back(client, reverse("members:texts"), received, "It ships tomorrow, tracking by text.")
    send_all()
    return Message.objects.get(flow=TEXT_BACK)


def desk_waiting(store):
    """The desk's count (an item with no count is not shown)."""
    return {i.label: i.count for i in open_items(store, None)}.get("Replies from members waiting for an answer", 0)


def test_an_undelivered_text_back_puts_the_reply_back_to_waiting_and_says_so(client, waiting, store_b, fake_twilio):
    member, received = waiting
    text = texted_back(client, received)
    assert desk_waiting(store_b) == 0

    assert report(client, text, "undelivered", "30003").status_code == 204
    received.refresh_from_db()
    assert (received.answered_at, received.answered_by) == (None, None)
    assert desk_waiting(store_b) == 1
    texts_page = client.get(reverse("members:texts")).content.decode()
    assert "1 reply waiting for an answer" in texts_page and FAILED_NOTE in re.sub(r"<[^>]+>", "", texts_page)
    conversation = client.get(reverse("members:conversation", args=[member.pk])).content.decode()
    assert FAILED_NOTE in re.sub(r"<[^>]+>", "", conversation)

    report(client, text, "undelivered", "30003")  # Twilio retries the callback: nothing more changes
    report(client, text, "failed", "30008")  # nor does another failure (the first one stands)
    assert InboundReply.objects.awaiting_answer().count() == 1
    assert Message.objects.get(pk=text.pk).error_code == "30003"


def test_a_late_delivered_report_answers_the_reply_again_by_the_operator_who_sent_it(client, waiting, store_b,
                                                                                      operator_b, fake_twilio):
    member, received = waiting
    text = texted_back(client, received)
    assert text.sent_by == operator_b
    report(client, text, "undelivered", "30003")
    assert desk_waiting(store_b) == 1
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-c"), role="operator").user)

    report(client, text, "delivered")  # Twilio sends delivered after undelivered now and then: the customer has it
    assert Message.objects.get(pk=text.pk).status == "delivered"
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at, received.answered_with) == (
        operator_b, LA_MORNING + timedelta(minutes=5), text)
    assert desk_waiting(store_b) == 0
    page = re.sub(r"<[^>]+>", "", client.get(reverse("members:texts")).content.decode())
    assert "Answer failed" not in page and "Tue 24 Nov 10:05 by op-b" in page  # op-c reads who answered


def test_a_late_delivered_report_leaves_a_reply_marked_by_hand_after_the_failure_as_it_is(client, waiting, store_b,
                                                                                         fake_twilio):
    member, received = waiting
    first = texted_back(client, received)
    report(client, first, "undelivered", "30003")
    op_c = MembershipFactory(store=store_b, user=UserFactory(username="op-c"), role="operator").user
    client.force_login(op_c)
    with time_machine.travel(LA_MORNING + timedelta(minutes=20), tick=False):  # op-c called the customer
        client.post(reverse("members:texts"), {"answered": received.pk})
    report(client, first, "delivered")
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at, received.answered_with) == (
        op_c, LA_MORNING + timedelta(minutes=20), None)


def test_a_late_delivered_report_of_an_earlier_answer_leaves_the_reply_waiting_for_the_later_one(
        client, waiting, store_b, fake_twilio):
    member, received = waiting
    first = texted_back(client, received)
    report(client, first, "undelivered", "30003")
    with time_machine.travel(LA_MORNING + timedelta(minutes=30), tick=False):
        text_back(client, reverse("members:texts"), received, "Sorry, trying again: it ships tomorrow.", attempt=2)
        send_all()
    again = Message.objects.get(flow=TEXT_BACK, occasion__endswith="answer 2")
    report(client, again, "failed", "30008")
    assert desk_waiting(store_b) == 1
    report(client, first, "delivered")  # the operator's latest answer is the one that failed: they still call
    assert InboundReply.objects.get(pk=received.pk).answered_at is None
    assert desk_waiting(store_b) == 1


def test_a_text_back_again_that_is_delivered_answers_the_reply_for_good(client, waiting, store_b, operator_b,
                                                                        fake_twilio):
    member, received = waiting
    first = texted_back(client, received)
    report(client, first, "undelivered", "30003")
    assert desk_waiting(store_b) == 1
    with time_machine.travel(LA_MORNING + timedelta(minutes=30), tick=False):
        text_back(client, reverse("members:texts"), received, "Sorry, trying again: it ships tomorrow.", attempt=2)
        send_all()
    again = Message.objects.get(flow=TEXT_BACK, occasion__endswith="answer 2")
    report(client, again, "delivered")
    report(client, again, "undelivered", "30003")  # a late failure report does not undo delivered
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at) == (operator_b, LA_MORNING + timedelta(minutes=30))
    assert desk_waiting(store_b) == 0
    assert "Answer failed" not in client.get(reverse("members:texts")).content.decode()


def test_a_reply_marked_answered_by_hand_after_the_failure_stays_answered(client, waiting, store_b, operator_b,
                                                                           fake_twilio):
    member, received = waiting
    text = texted_back(client, received)
    report(client, text, "undelivered", "30003")
    with time_machine.travel(LA_MORNING + timedelta(minutes=20), tick=False):  # the operator called the customer
        client.post(reverse("members:texts"), {"answered": received.pk})
    report(client, text, "undelivered", "30003")
    report(client, text, "failed", "30008")
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at) == (operator_b, LA_MORNING + timedelta(minutes=20))
    assert desk_waiting(store_b) == 0
    assert "Answer failed" not in client.get(reverse("members:texts")).content.decode()


def test_a_text_back_twilio_refuses_at_the_send_step_puts_the_reply_back_to_waiting(client, waiting, fake_twilio):
    member, received = waiting
    fake_twilio.refuse(PHONE, 30006)  # a landline: no sid, so no status report will follow
    text = texted_back(client, received)
    assert (text.status, text.error_code) == ("failed", "30006")
    assert InboundReply.objects.get(pk=received.pk).answered_at is None
    page = re.sub(r"<[^>]+>", "", client.get(reverse("members:texts")).content.decode())
    assert "Answer failed: failed — text back again or call" in page


def test_an_earlier_answers_failure_leaves_the_reply_answered_by_a_later_one(client, waiting, operator_b, fake_twilio):
    member, received = waiting
    first = texted_back(client, received)
    report(client, first, "undelivered", "30003")
    with time_machine.travel(LA_MORNING + timedelta(minutes=30), tick=False):
        text_back(client, reverse("members:texts"), received, "Calling you now instead.", attempt=2)
        send_all()
    report(client, first, "failed", "30008")  # still the first answer's report: the second may yet reach them
    received.refresh_from_db()
    assert (received.answered_by, received.answered_at) == (operator_b, LA_MORNING + timedelta(minutes=30))


def test_a_reply_marked_by_hand_the_moment_an_answer_was_queued_stays_answered_when_that_answer_fails(
        client, waiting, store_b, operator_b, fake_twilio):
    member, received = waiting
    op_c = MembershipFactory(store=store_b, user=UserFactory(username="op-c"), role="operator").user
    client.force_login(op_c)
    client.post(reverse("members:texts"), {"answered": received.pk})  # op-c called, in the very second op-b texts
    client.force_login(operator_b)
    text = texted_back(client, received)
    report(client, text, "undelivered", "30003")
    received.refresh_from_db()
    assert (received.answered_by, received.answered_with) == (op_c, None)
    assert desk_waiting(store_b) == 0


def test_a_text_back_not_sent_because_the_customer_opted_out_meanwhile_puts_the_reply_back_to_waiting(
        client, waiting, store_b):
    member, received = waiting
    text_back(client, reverse("members:texts"), received, "It ships tomorrow, tracking by text.")
    assert desk_waiting(store_b) == 0
    reply(client, "STOP", "SMin2", LA_MORNING + timedelta(minutes=6))  # before the send step took the text
    send_all()
    assert Message.objects.get(flow=TEXT_BACK).skip_reason == "opted out"
    assert InboundReply.objects.get(pk=received.pk).answered_at is None
    assert desk_waiting(store_b) == 1
    note = "Answer not sent: the customer opted out — call"
    assert note in re.sub(r"<[^>]+>", "", client.get(reverse("members:texts")).content.decode())
    conversation = client.get(reverse("members:conversation", args=[member.pk])).content.decode()
    assert note in re.sub(r"<[^>]+>", "", conversation)
