"""Fixtures for member tests: members, templates, the locmem outbox and a fake Twilio over HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from members.models import Member, SmsTemplate
from members.sms import locmem
from tests.fake_twilio import FakeTwilio

# 10:00 in Los Angeles, 02:00 next day in Shanghai: inside texting hours for store B members.
LA_MORNING = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
# Answers an operator may not send (empty, longer than one SMS), with the error the form gives: the members' text
# back and a bad-review case's answer share the rule (members.texts.answer_problem).
BAD_ANSWERS = pytest.mark.parametrize(
    "body, error",
    [
        ("   ", "Write the answer: an empty text is not sent."),
        ("x" * 161, "The answer is 161 characters long; one text holds 160. Shorten it by 1."),
        ("好" * 71, "The answer is 71 characters long; one text holds 70 with characters beyond plain Latin"),
    ],
    ids=["empty", "161 plain characters", "71 Chinese characters"],
)


@pytest.fixture(autouse=True)
def sms_settings(settings):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_RATE_PER_SECOND = 0
    settings.SMS_RETRY_BACKOFF = 1
    settings.SITE_URL = "https://desk.example.com"
    settings.TWILIO_AUTH_TOKEN = "test-token"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio(account_sid="ACtest", auth_token="test-token").start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = "ACtest"
    settings.TWILIO_AUTH_TOKEN = "test-token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE = server.base_url
    settings.SMS_HTTP_TIMEOUT = 2
    yield server
    server.stop()


_n = iter(range(10_000_000))


def make_member(store, **fields) -> Member:
    n = next(_n)
    defaults = {"phone": f"+1415555{n % 10000:04d}" if store.country == "US" else f"+86138{n % 100000000:08d}",
                "name": f"Ada Lovelace {n}", "sms_consent": True, "consent_source": "test",
                "joined_at": timezone.now()}
    return Member.objects.create(store=store, **{**defaults, **fields})


@pytest.fixture
def member_b(store_b):
    return make_member(store_b, phone="+14155550100", name="Grace Hopper")


@pytest.fixture
def campaign_template(store_b):
    return SmsTemplate.objects.create(store=store_b, name="Thanks", flow="campaign",
                                      body="Hi {first_name}, thanks for shopping at {store}!")


@pytest.fixture
def in_2026():
    """The clock a day after LA_MORNING: pages write a day without its year only in the current year, and the
    texts these tests read are of 2026."""
    with time_machine.travel(LA_MORNING + timedelta(days=1)):
        yield
