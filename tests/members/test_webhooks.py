"""Twilio webhooks: X-Twilio-Signature checked over the public URL; status callbacks and STOP/START/HELP."""

import threading
from urllib.parse import quote

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from members.models import Member, Message, MessageStatus
from members.services import enrol_from_order
from tests.marks import concurrent_transactions
from tests.members.conftest import LA_MORNING, make_member

pytestmark = pytest.mark.django_db
SITE = "https://desk.example.com"


def signed_post(client, path, params, token="test-token", url=None):
    signature = RequestValidator(token).compute_signature(url or SITE + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def message(member_b):
    return Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:1", body="Hi",
                                  status=MessageStatus.SENT, provider_sid="SM123", scheduled_for=LA_MORNING)


def test_status_callback_with_a_good_signature_updates_the_message(client, message):
    path = reverse("twilio_status") + f"?m={message.pk}"
    response = signed_post(client, path, {"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_status_callback_records_the_error_code(client, message):
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "undelivered",
                                                   "ErrorCode": "30006"})
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "30006")


def test_a_21610_delivery_report_opts_the_number_out_in_every_store(client, message, store_a):
    other = make_member(store_a, phone=message.member.phone)
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "failed",
                                                   "ErrorCode": "21610"})
    assert Member.objects.filter(pk__in=[message.member_id, other.pk], opted_out_at__isnull=False).count() == 2


@pytest.mark.parametrize("value", ["²", "١", "99999999999999999999"])
def test_a_status_callback_whose_id_is_no_number_finds_the_message_by_its_sid(client, message, value):
    path = reverse("twilio_status") + f"?m={quote(value)}"
    assert signed_post(client, path, {"MessageSid": "SM123", "MessageStatus": "delivered"}).status_code == 204
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.parametrize("signature", ["", "bm90IHJpZ2h0"])
def test_status_callback_with_a_bad_or_missing_signature_is_refused(client, message, signature):
    response = client.post(reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "failed"},
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_signature_made_with_another_token_is_refused(client, message):
    response = signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "failed"},
                           token="someone-elses-token")
    assert response.status_code == 403


def test_a_signature_over_other_parameters_is_refused(client, message):
    path = reverse("twilio_status")
    signature = RequestValidator("test-token").compute_signature(SITE + path, {"MessageSid": "SM123",
                                                                               "MessageStatus": "sent"})
    response = client.post(path, {"MessageSid": "SM123", "MessageStatus": "failed"}, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403


def test_a_late_sent_callback_does_not_undo_delivered(client, message):
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "delivered"})
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "sent"})
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.parametrize("late", ["failed", "undelivered"])
def test_a_late_failure_report_does_not_undo_delivered(client, message, late):
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "delivered"})
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": late, "ErrorCode": "30003"})
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.DELIVERED, "")


def test_delivered_after_a_failure_report_wins_and_clears_its_error(client, message):
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "undelivered",
                                                   "ErrorCode": "30003"})
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "delivered"})
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.DELIVERED, "")


def test_the_first_failure_report_stands(client, message):
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "undelivered",
                                                   "ErrorCode": "30003"})
    signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "failed",
                                                   "ErrorCode": "30008"})
    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "30003")


def test_a_text_we_gave_up_on_is_sent_after_all_when_twilio_reports_it(client, member_b):
    message = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:3",
                                     body="Hi", status=MessageStatus.FAILED, error_code="timeout", attempts=6,
                                     error_message="gave up after 6 attempts: Twilio timed out",
                                     scheduled_for=LA_MORNING)
    signed_post(client, reverse("twilio_status") + f"?m={message.pk}", {"MessageSid": "SM777",
                                                                        "MessageStatus": "delivered"})
    message.refresh_from_db()
    assert (message.status, message.provider_sid, message.error_code, message.error_message) == (
        MessageStatus.DELIVERED, "SM777", "", "")


def test_an_overlong_error_code_is_no_server_error(client, message):
    response = signed_post(client, reverse("twilio_status"), {"MessageSid": "SM123", "MessageStatus": "failed",
                                                              "ErrorCode": "3" * 40})
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_a_callback_before_the_worker_recorded_the_sid_finds_the_row_by_id(client, member_b):
    message = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:2",
                                     body="Hi", status=MessageStatus.SENDING, attempts=1, scheduled_for=LA_MORNING)
    signed_post(client, reverse("twilio_status") + f"?m={message.pk}", {"MessageSid": "SM999",
                                                                        "MessageStatus": "sent"})
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (MessageStatus.SENT, "SM999")


def test_webhooks_need_no_login_and_no_csrf_token(message):
    from django.test import Client

    response = signed_post(Client(enforce_csrf_checks=True), reverse("twilio_status"),
                           {"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.status_code == 204


def test_get_is_not_allowed(client):
    assert client.get(reverse("twilio_status")).status_code in (403, 405)


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "CANCEL", "end", "QUIT", "STOPALL"])
def test_stop_words_opt_the_member_out_in_every_store(client, member_b, store_a, word):
    other = make_member(store_a, phone=member_b.phone)
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": f" {word} "})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert Member.objects.filter(pk__in=[member_b.pk, other.pk], opted_out_at__isnull=False).count() == 2


def test_start_lifts_an_opt_out_by_text(client, member_b):
    Member.objects.filter(pk=member_b.pk).update(opted_out_at=LA_MORNING)
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "START"})
    assert Member.objects.textable().filter(pk=member_b.pk).exists()


def test_start_never_gives_consent_a_membership_never_had(client, member_b, store_a):
    never_consented = make_member(store_a, phone=member_b.phone, sms_consent=False, consent_source="")
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "STOP"})
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "START"})
    never_consented.refresh_from_db()
    assert (never_consented.sms_consent, never_consented.consent_source) == (False, "")
    assert Member.objects.textable().filter(pk=member_b.pk).exists()  # the consented one is back


def test_a_casual_yes_grants_no_consent_in_any_store(client, member_b, store_a):
    never_consented = [make_member(store, phone="+14155550177", sms_consent=False, consent_source="")
                       for store in (member_b.store, store_a)]
    signed_post(client, reverse("twilio_inbound"), {"From": "+14155550177", "Body": "Yes thanks it arrived fine"})
    for member in never_consented:
        member.refresh_from_db()
        assert (member.sms_consent, member.consent_source, member.consent_at) == (False, "", None)


def test_an_exact_yes_from_a_member_who_never_opted_out_gives_no_consent(client, member_b):
    Member.objects.filter(pk=member_b.pk).update(sms_consent=False, consent_source="")
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "YES"})
    member_b.refresh_from_db()
    assert not member_b.sms_consent and member_b.consent_source == ""


def test_only_a_whole_reply_of_start_opts_back_in(client, member_b):
    Member.objects.filter(pk=member_b.pk).update(opted_out_at=LA_MORNING)
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "start sending me the gift"})
    member_b.refresh_from_db()
    assert member_b.opted_out_at == LA_MORNING


def test_help_answers_with_twiml(client, member_b):
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "help"})
    assert b"<Message action=" in response.content and b"Reply STOP" in response.content
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None


def test_other_replies_change_nothing(client, member_b):
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "thanks, stop by!"})
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None


@pytest.mark.parametrize("body", ["T", "TD", "退订", " t ", "td。", "退订，谢谢", "【退订】", "Stop, please", "STOP!!",
                                  "stop.", "OptOut", "revoke", "Opt out", "END"])
def test_the_opt_out_words_our_templates_promise_opt_the_member_out(client, member_b, body):
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": body})
    member_b.refresh_from_db()
    assert member_b.opted_out_at is not None


@pytest.mark.parametrize("body", ["ＳＴＯＰ", "ｓｔｏｐ", "Ｔ", "ＴＤ", "ｔｄ。", "ＵＮＳＵＢＳＣＲＩＢＥ"])
def test_a_full_width_opt_out_from_a_chinese_keyboard_opts_the_member_out(client, member_b, body):
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": body})
    member_b.refresh_from_db()
    assert member_b.opted_out_at is not None
    assert "Store B: you are unsubscribed" in response.content.decode()  # Twilio does not know these: we confirm


@pytest.mark.parametrize("body", ["T shirt arrived, thanks", "Tea was lovely", "The end is near? no"])
def test_a_reply_that_only_looks_like_an_opt_out_keeps_the_member(client, member_b, body):
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": body})
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None


def test_a_chinese_opt_out_is_confirmed_in_chinese_naming_the_store(client, store_a):
    member = make_member(store_a, phone="+8613800138000")
    response = signed_post(client, reverse("twilio_inbound"), {"From": member.phone, "Body": "退订"})
    assert "您已退订Store A的短信" in response.content.decode()


def test_an_exact_stop_is_left_to_twilio_to_confirm(client, member_b):
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "STOP"})
    assert response.content.strip().endswith(b"<Response />")


def test_a_stop_twilio_does_not_recognise_is_confirmed_by_us(client, member_b):
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "Stop, please"})
    assert "Store B: you are unsubscribed" in response.content.decode()


def test_inbound_with_a_bad_signature_is_refused(client, member_b):
    response = client.post(reverse("twilio_inbound"), {"From": member_b.phone, "Body": "STOP"},
                           HTTP_X_TWILIO_SIGNATURE="forged")
    assert response.status_code == 403
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None


def test_stop_then_a_holiday_flow_plans_no_text(client, member_b, monkeypatch):
    from datetime import datetime

    from members import flows, sending
    from members.models import SmsTemplate

    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)
    SmsTemplate.objects.create(store=member_b.store, name="Xmas", flow="holiday", body="Happy {holiday}!")
    signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "STOP"})
    flows.holiday_care(datetime(2026, 12, 25, 12, 0, tzinfo=member_b.store.zone))
    assert not Message.objects.filter(member=member_b).exists()


@pytest.mark.parametrize("params", [{"From": "+14155550100", "Body": "Ar\x00rived, thanks"},
                                    {"From": "+1415555\x000100", "Body": "STOP"}])
def test_a_reply_with_a_nul_character_is_refused_by_name_and_changes_nothing(client, member_b, params):
    response = signed_post(client, reverse("twilio_inbound"), params)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None and not member_b.replies.exists()


def test_a_status_callback_with_a_nul_character_is_refused_not_a_server_error(client, message):
    response = signed_post(client, reverse("twilio_status"), {"MessageSid": "SM\x00123", "MessageStatus": "failed"})
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize("sid", ["SM" + "a" * 70])
def test_a_status_callback_with_an_impossible_sid_is_refused_not_a_server_error(client, member_b, sid, caplog):
    message = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:3",
                                     body="Hi", status=MessageStatus.SENDING, attempts=1, scheduled_for=LA_MORNING)
    response = signed_post(client, reverse("twilio_status") + f"?m={message.pk}",
                           {"MessageSid": sid, "MessageStatus": "sent"})
    assert response.status_code == 400  # Twilio retries a 5xx; this request will never be better
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (MessageStatus.SENDING, None)
    assert "impossible MessageSid" in caplog.text


@pytest.mark.parametrize("sid", ["SM" + "b" * 70])
def test_a_reply_with_an_impossible_sid_is_refused_and_logged_with_the_number_masked(client, member_b, sid, caplog):
    response = signed_post(client, reverse("twilio_inbound"), {"From": member_b.phone, "Body": "STOP",
                                                               "MessageSid": sid})
    assert response.status_code == 400
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None and not member_b.replies.exists()
    assert "impossible MessageSid" in caplog.text and "+14*****0100" in caplog.text
    assert member_b.phone not in caplog.text


def test_a_callback_whose_id_names_another_text_than_its_sid_updates_the_sids_text(client, message, member_b):
    other = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:4",
                                   body="Hi", status=MessageStatus.SENDING, attempts=1, scheduled_for=LA_MORNING)
    response = signed_post(client, reverse("twilio_status") + f"?m={other.pk}",
                           {"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.status_code == 204
    message.refresh_from_db()
    other.refresh_from_db()
    assert (message.status, other.status, other.provider_sid) == (MessageStatus.DELIVERED, MessageStatus.SENDING, None)


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_a_21610_report_during_the_nightly_segment_refresh_does_not_wait_for_it(client, member_b, monkeypatch):
    """refresh_segments used to save every segment in one transaction, holding each member row to its end: a
    21610 report (or a STOP) for one of them waited for the whole store's refresh."""
    from django.db import connection
    from django.db.models import QuerySet

    from members.services import refresh_segments
    from tests.factories import OrderFactory

    enrol_from_order(OrderFactory(store=member_b.store, buyer_phone=member_b.phone, paid_at=LA_MORNING))
    sent = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="c:5", body="Hi",
                                  status=MessageStatus.SENT, provider_sid="SM555", scheduled_for=LA_MORNING)
    saved, release = threading.Event(), threading.Event()
    real_update = QuerySet.update

    def update(queryset, **fields):  # the refresh pauses after saving its first segment
        done = real_update(queryset, **fields)
        if threading.current_thread() is refresher and "segment" in fields and fields["segment"]:
            saved.set()
            release.wait(30)
        return done

    def refresh():
        try:
            refresh_segments(member_b.store)
        finally:
            connection.close()

    monkeypatch.setattr(QuerySet, "update", update)
    refresher = threading.Thread(target=refresh)
    refresher.start()
    try:
        assert saved.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a webhook that waits fails here instead of hanging
        response = signed_post(client, reverse("twilio_status") + f"?m={sent.pk}",
                               {"MessageSid": "SM555", "MessageStatus": "failed", "ErrorCode": "21610"})
    finally:
        release.set()
        refresher.join()
    assert response.status_code == 204
    assert Member.objects.get(pk=member_b.pk).opted_out_at is not None
    assert Member.objects.get(pk=member_b.pk).segment  # the refresh finished too
