"""An operator answering a member's reply picks one of the store's saved answers: it fills the Text back form's
text with the customer's own words (their name, the store's), and sending it texts the customer those words."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from members import sending
from members.models import TEXT_BACK, InboundReply, Message, SavedAnswer
from members.sms import locmem
from members.texts import counter_words, sms_length
from tests.factories import MembershipFactory, UserFactory
from tests.members.conftest import make_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PARCEL = "Hi {first_name}! Your parcel left {store} today; tracking follows by text tonight."
FILLED = "Hi Zara! Your parcel left Store B today; tracking follows by text tonight."


def noon_zone() -> str:
    """A zone where it is midday now, so the text back is not held for quiet hours (the clock is not frozen: the
    browser's session cookie must stay valid by its own clock)."""
    offset = 12 - datetime.now(UTC).hour  # -11..12; Etc/GMT's sign is the other way round
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def test_a_picked_saved_answer_fills_the_text_for_the_customer_and_is_what_they_get(
        page, live_server, login, screenshot, settings, monkeypatch, store_b):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_RATE_PER_SECOND = 0
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)  # sent below, not by a worker
    locmem.outbox.clear()
    MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator")
    member = make_member(store_b, phone="+14155550100", name="Zara Ahmed", timezone=noon_zone())
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Where is my parcel?",
                                           provider_sid="SMin1", received_at=timezone.now())
    SavedAnswer.objects.create(store=store_b, title="Parcel on its way", body=PARCEL)
    SavedAnswer.objects.create(store=store_b, title="New address", body="Please text us your new address.")

    login("op-b")
    page.goto(live_server.url + reverse("members:texts"))
    form = page.locator(f'[data-text-back="{received.pk}"]')
    form.get_by_text("Text back").click()
    form.get_by_label("Saved answer").select_option(label="Parcel on its way")
    assert page.input_value(f"#text-back-{received.pk}") == FILLED
    screenshot("saved-answer-picked")
    form.get_by_role("button", name="Send").click()
    page.get_by_text("Text back queued").wait_for()

    text = Message.objects.get(flow=TEXT_BACK)
    assert (text.body, text.reply_id) == (FILLED, received.pk)
    sending.send_message(text.pk)
    assert [m.body for m in locmem.outbox] == [FILLED]
    locmem.outbox.clear()


def test_the_counter_under_the_box_follows_typing_and_a_picked_answer_and_warns_before_a_refused_send(
        page, live_server, login, screenshot, store_b):
    MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator")
    member = make_member(store_b, name="Maria-Guadalupe Featherstonehaugh-Montgomery")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Where is my parcel?",
                                           provider_sid="SMin2", received_at=timezone.now())
    SavedAnswer.objects.create(store=store_b, title="Parcel", body="Hi {name}! " + "x" * 130)  # 179 for this name

    login("op-b")
    page.goto(live_server.url + reverse("members:texts"))
    form = page.locator(f'[data-text-back="{received.pk}"]')
    form.get_by_text("Text back").click()
    box, counter = page.locator(f"#text-back-{received.pk}"), page.locator(f"#text-back-{received.pk}-count")
    assert counter.inner_text() == "0 / 160 characters · 1 SMS"
    box.press_sequentially("Hi Maria")
    assert counter.inner_text() == "8 / 160 characters · 1 SMS"
    # Counted as the send counts: the page's words are the server's own for each text.
    for text in ("Hi Maria, it left today.", "Price: 20€ [promo]", "您好，包裹已发出", "Thanks 😀", "好" * 71):
        box.fill(text)
        assert counter.inner_text() == counter_words(sms_length(text)), text
    assert counter.inner_text() == "Too long for one text: 71 / 70 — shorten it"

    form.get_by_label("Saved answer").select_option(label="Parcel")
    assert counter.inner_text() == "Too long for one text: 179 / 160 — shorten it"
    assert "sms-too-long" in counter.get_attribute("class")
    screenshot("text-back-too-long")
    form.get_by_role("button", name="Send").click()  # the send still refuses it, in its own words
    page.get_by_text("The answer is 179 characters long; one text holds 160. Shorten it by 19.").wait_for()
    assert not Message.objects.exists()
