"""A case's text through the real path: the case page's POST, a real Celery worker on Redis and Postgres, the fake
Twilio over HTTP, and Twilio's signed status callback back into the case's contact log. A repeated POST, Twilio
answering 500 and a worker killed while Twilio holds the text never send it twice, nor lose it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members import sending
from members.models import Flow, InboundReply, Member, Message, MessageStatus, SmsTemplate
from reviews.models import ContactAttempt
from tests.factories import MembershipFactory, OrderFactory, StoreFactory, UserFactory
from tests.members import test_worker_integration as worker_tests
from tests.members.test_webhooks import signed_post
from tests.members.test_worker_integration import daytime_zone, texts_per_number
from tests.reviews.conftest import make_case
from tests.worker import wait_for

pytestmark = pytest.mark.worker

# The members' worker fixtures: real workers sending to the fake Twilio over HTTP, stopped by PID.
fake, start_worker = worker_tests.fake, worker_tests.start_worker

PHONE = "+14155550100"
CARE = "Sorry about your order {order}, {first_name}: we tried to call you. Reply here or call us at +1 415 555 0199."
SITE = "https://desk.example.com"  # the SITE_URL the workers put in the status callback


@pytest.fixture
def case(transactional_db, settings):
    settings.SITE_URL = SITE  # the page and the webhook check signatures over the URL Twilio was given
    store = StoreFactory(name="Pacific", slug="pacific", timezone=daytime_zone())
    Member.objects.create(store=store, phone=PHONE, name="Grace Hopper", sms_consent=True, timezone=store.timezone,
                          joined_at=timezone.now())
    SmsTemplate.objects.create(store=store, name="Sorry", flow=Flow.REVIEW_CARE, body=CARE)
    return make_case(store, order=OrderFactory(store=store, buyer_phone=PHONE, name="#1042"))


@pytest.fixture
def operator(case):
    client = Client()
    client.force_login(MembershipFactory(store=case.store, user=UserFactory(username="op"), role="operator").user)
    return client


def text(client, case, attempt=1) -> str:
    response = client.post(case.get_absolute_url(), {"action": "text", "attempt": attempt}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def sent_once():
    return Message.objects.filter(status=MessageStatus.SENT).count() == 1


def report(fake, status: str) -> None:
    """Twilio's signed status callback for the one text it took, to the URL the worker gave it."""
    (taken,) = fake.sent
    path = taken["status_callback"].removeprefix(SITE)
    response = signed_post(Client(), path, {"MessageSid": taken["sid"], "MessageStatus": status},
                           token="worker-token")
    assert response.status_code == 204


def test_a_repeated_post_texts_the_customer_once_and_the_delivery_shows_in_the_contact_log(start_worker, fake,
                                                                                          case, operator):
    start_worker()
    assert "Text queued: it goes out now." in text(operator, case)
    assert "That text was already sent; nothing more was sent." in text(operator, case)  # a double-click
    wait_for(sent_once, timeout=60)
    assert "That text was already sent" in text(operator, case)  # the browser resubmits the form later
    sending.dispatch_due()  # beat's every-minute dispatch finds nothing left to send

    assert texts_per_number(fake) == {PHONE: 1}
    assert fake.sent[0]["body"] == CARE.replace("{order}", "#1042").replace("{first_name}", "Grace")
    message = Message.objects.get()
    assert message.occasion == f"review_care:case {case.pk} text 1" and message.provider_sid == fake.sent[0]["sid"]
    assert ContactAttempt.objects.get().message == message
    assert 'data-text-status="sent">Sent</span>' in operator.get(case.get_absolute_url()).content.decode()

    report(fake, "delivered")
    assert 'data-text-status="delivered">Delivered</span>' in operator.get(case.get_absolute_url()).content.decode()
    report(fake, "sent")  # Twilio's reports may arrive out of order: a late "sent" does not undo "delivered"
    assert 'data-text-status="delivered">Delivered</span>' in operator.get(case.get_absolute_url()).content.decode()


def test_twilio_answering_500_is_retried_and_the_text_goes_once(start_worker, fake, case, operator):
    start_worker()
    fake.fail_next(2, status=500)
    text(operator, case)
    wait_for(sent_once, timeout=60)
    assert texts_per_number(fake) == {PHONE: 1}
    assert [method for method, _ in fake.requests].count("POST") == 3  # two refused, one taken
    assert Message.objects.get().attempts == 3
    report(fake, "undelivered")
    page = operator.get(case.get_absolute_url()).content.decode()
    assert 'data-text-status="undelivered">Undelivered</span>' in page


def test_a_worker_killed_while_twilio_holds_the_text_is_not_sent_again(start_worker, fake, case, operator, settings):
    """Twilio takes the text but its answer is slow; the worker dies waiting for it. The next worker claims the
    stale text, asks Twilio whether it already has it (it does) and records it without sending it again."""
    settings.SMS_SENDING_TIMEOUT = 3  # the dispatcher here, as beat's, re-enqueues a claim this old
    fake.timeout_next(1, seconds=8, after_create=True)
    first = start_worker("first", SMS_HTTP_TIMEOUT=20)
    text(operator, case)
    wait_for(lambda: len(fake.sent) == 1, timeout=60)  # Twilio has it; the worker waits for the answer
    first.crash()
    assert Message.objects.get().status == MessageStatus.SENDING  # killed mid-send: nothing recorded

    start_worker("second", SMS_SENDING_TIMEOUT=3)
    wait_for(lambda: sending.dispatch_due() >= 0 and sent_once(), timeout=90, interval=1)
    assert texts_per_number(fake) == {PHONE: 1}
    message = Message.objects.get()
    assert message.provider_sid == fake.sent[0]["sid"] and message.attempts >= 2
    methods = [method for method, _ in fake.requests]
    assert methods.count("POST") == 1 and "GET" in methods  # the second attempt looked it up, did not resend
    report(fake, "delivered")
    assert 'data-text-status="delivered">Delivered</span>' in operator.get(case.get_absolute_url()).content.decode()


def test_an_answer_to_the_customers_reply_reaches_twilio_once_on_a_double_post(start_worker, fake, case, operator):
    start_worker()
    text(operator, case)
    wait_for(sent_once, timeout=60)
    response = signed_post(
        Client(),
        reverse("twilio_inbound"),
        {"From": PHONE, "Body": "Call me after 6pm please", "MessageSid": "SM" + "r" * 32},
        token="worker-token",
    )
    assert response.status_code == 200
    reply = InboundReply.objects.get()
    answer = {"action": "answer", "reply": reply.pk, "attempt": 1, "body": "Lin calls you at 6:30 today."}
    first = operator.post(case.get_absolute_url(), answer, follow=True).content.decode()
    second = operator.post(case.get_absolute_url(), answer, follow=True).content.decode()  # a double-click
    assert "Answer queued: it goes out now." in first
    assert "That answer was already sent; nothing more was sent." in second
    wait_for(lambda: Message.objects.filter(flow=Flow.REVIEW_CARE, status=MessageStatus.SENT).count() == 2, timeout=60)
    sending.dispatch_due()  # beat's every-minute dispatch finds nothing left to send

    assert texts_per_number(fake) == {PHONE: 2}  # the case's text and the answer, each once
    assert [t["body"] for t in fake.sent][1:] == ["Lin calls you at 6:30 today."]
    reply.refresh_from_db()
    assert reply.answered_by.username == "op"
    page = operator.get(case.get_absolute_url()).content.decode()
    assert "Answered by you" in page
    assert "Answered a reply of" in page and page.count('data-text-status="sent">Sent</span>') == 2
