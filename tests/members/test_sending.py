"""The sending pipeline without a worker: claims, retries, permanent errors, crash recovery, compliance."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from members import sending
from members.models import Coupon, Member, Message, MessageStatus, SmsTemplate
from members.sending import Planned, plan
from members.sms import locmem
from tests.members.conftest import LA_MORNING, make_member

REAL_DISPATCH = sending.dispatch_due


def queue_one(member, template, occasion="campaign:test", now=LA_MORNING) -> Message:
    plan(member.store, "campaign", template, [Planned(member, occasion)], now)
    return Message.objects.get(member=member, occasion=occasion)


@pytest.fixture
def no_dispatch(monkeypatch):
    """Keep plan() from enqueuing Celery tasks: these tests call the send service themselves."""
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_the_database_refuses_a_second_message_for_the_same_occasion(member_b, campaign_template):
    queue_one(member_b, campaign_template)
    with pytest.raises(IntegrityError):
        Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="campaign:test",
                               body="x", scheduled_for=LA_MORNING)


def test_planning_twice_creates_one_message(member_b, campaign_template):
    first = plan(member_b.store, "campaign", campaign_template, [Planned(member_b, "campaign:x")], LA_MORNING)
    second = plan(member_b.store, "campaign", campaign_template, [Planned(member_b, "campaign:x")], LA_MORNING)
    assert (first.created, second.created, second.already) == (1, 0, 1)
    assert Message.objects.count() == 1


def test_a_message_is_sent_once_however_often_its_task_runs(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    outcomes = [sending.send_message(message.pk, LA_MORNING).status for _ in range(3)]
    assert outcomes == ["sent", "done", "done"]
    assert len(locmem.outbox) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.provider_sid.startswith("LM")
    assert message.body == "Hi Grace, thanks for shopping at Store B!"


def test_a_task_arriving_while_another_holds_the_claim_waits_and_does_not_send(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, claimed_at=LA_MORNING, attempts=1)
    outcome = sending.send_message(message.pk, LA_MORNING + timedelta(seconds=10))
    assert outcome.status == "busy" and outcome.retry_in > 200
    assert locmem.outbox == []


def test_a_claim_left_by_a_killed_worker_is_looked_up_before_sending_again(member_b, campaign_template):
    """The worker died after the provider took the text and before it recorded the sid."""
    message = queue_one(member_b, campaign_template)
    sending.send_message(message.pk, LA_MORNING)
    sid = locmem.outbox[0].sid
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, provider_sid=None)
    later = LA_MORNING + timedelta(minutes=10)
    assert sending.send_message(message.pk, later).status == "found"
    message.refresh_from_db()
    assert (message.status, message.provider_sid, message.attempts) == (MessageStatus.SENT, sid, 2)
    assert len(locmem.outbox) == 1


def test_a_claim_left_by_a_worker_killed_before_sending_is_sent_after_the_timeout(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, claimed_at=LA_MORNING, attempts=1)
    assert sending.send_message(message.pk, LA_MORNING + timedelta(minutes=10)).status == "sent"
    assert len(locmem.outbox) == 1


def test_a_task_that_stalled_past_the_timeout_does_not_race_the_one_that_took_over(member_b, campaign_template,
                                                                                   monkeypatch):
    from members import pacing

    message = queue_one(member_b, campaign_template)

    def stall_then_someone_takes_over(*args):
        Message.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)

    monkeypatch.setattr(pacing, "wait_for_slot", stall_then_someone_takes_over)
    assert sending.send_message(message.pk, LA_MORNING).status == "superseded"
    assert locmem.outbox == []


def test_stop_then_a_flow_sends_nothing(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    Member.objects.filter(pk=member_b.pk).update(opted_out_at=LA_MORNING)
    assert sending.send_message(message.pk, LA_MORNING).status == "skipped"
    message.refresh_from_db()
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, "opted out")
    assert locmem.outbox == []


def test_members_without_consent_are_not_planned_at_all(store_b, campaign_template):
    from members.flows import start_campaign

    make_member(store_b, sms_consent=False)
    make_member(store_b, opted_out_at=LA_MORNING)
    make_member(store_b, phone_invalid_at=LA_MORNING)
    ok = make_member(store_b)
    result = start_campaign(store_b, campaign_template, LA_MORNING)
    assert result.created == 1
    assert list(Message.objects.values_list("member_id", flat=True)) == [ok.pk]


@pytest.mark.parametrize(("local_hour", "deferred"), [(8, True), (9, False), (20, False), (21, True), (23, True)])
def test_quiet_hours_defer_to_nine_member_local(store_b, campaign_template, local_hour, deferred):
    member = make_member(store_b, timezone="Europe/Paris")
    now = datetime(2026, 11, 24, local_hour, 30, tzinfo=member.zone)
    with time_machine.travel(now, tick=False):
        message = queue_one(member, campaign_template, now=now)
        outcome = sending.send_message(message.pk)
    message.refresh_from_db()
    if deferred:
        assert outcome.status == "not_due" and message.status == MessageStatus.QUEUED
        local = message.scheduled_for.astimezone(member.zone)
        assert (local.hour, local.minute) == (9, 0) and local > now
        assert locmem.outbox == []
    else:
        assert outcome.status == "sent" and len(locmem.outbox) == 1


def test_a_deferred_text_goes_out_at_nine_and_not_before(store_b, campaign_template):
    member = make_member(store_b)  # store zone: Los Angeles
    night = datetime(2026, 11, 24, 22, 0, tzinfo=member.zone)
    message = queue_one(member, campaign_template, now=night)
    assert sending.send_message(message.pk, night + timedelta(hours=10, minutes=59)).status == "not_due"
    assert sending.send_message(message.pk, night + timedelta(hours=11)).status == "sent"


def test_quiet_hours_at_send_time_push_a_late_task_back_to_nine(store_b, campaign_template):
    member = make_member(store_b)
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=member.zone)
    message = queue_one(member, campaign_template, now=evening)
    late = datetime(2026, 11, 24, 21, 30, tzinfo=member.zone)
    assert sending.send_message(message.pk, late).status == "deferred"
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.scheduled_for == datetime(2026, 11, 25, 9, 0, tzinfo=member.zone)


def test_a_quiet_hours_deferral_is_not_counted_as_a_send_attempt(settings, fake_twilio, store_b, campaign_template):
    settings.SMS_MAX_ATTEMPTS = 2
    member = make_member(store_b)
    message = queue_one(member, campaign_template, now=datetime(2026, 11, 24, 20, 0, tzinfo=member.zone))
    assert sending.send_message(message.pk, datetime(2026, 11, 24, 21, 30, tzinfo=member.zone)).status == "deferred"
    fake_twilio.fail_next(1, status=500)
    morning = datetime(2026, 11, 25, 9, 0, tzinfo=member.zone)
    assert sending.send_message(message.pk, morning).status == "retry"  # the first attempt, not the second
    assert sending.send_message(message.pk, morning + timedelta(seconds=5)).status == "sent"
    assert len(fake_twilio.sent_to(member.phone)) == 1


def test_quiet_hours_follow_dst_wall_time(store_b, campaign_template):
    member = make_member(store_b)  # LA: clocks go back on 2026-11-01
    night = datetime(2026, 10, 31, 23, 0, tzinfo=member.zone)
    message = queue_one(member, campaign_template, now=night)
    assert message.scheduled_for.astimezone(member.zone).hour == 9
    assert message.scheduled_for - night == timedelta(hours=11)  # 10 wall hours + the repeated hour


def test_a_foreign_number_keeps_its_own_quiet_hours_not_the_stores(store_a):
    """A Shanghai store's member with a Los Angeles number and no zone of their own: 14:00 in Shanghai is
    22:00 the evening before in Los Angeles, so the text waits for 09:00 there instead of waking them up."""
    member = make_member(store_a, phone="+14155550123")
    template = SmsTemplate.objects.create(store=store_a, name="Hi", flow="campaign", body="Hi")
    afternoon = datetime(2026, 11, 26, 14, 0, tzinfo=store_a.zone)
    message = queue_one(member, template, now=afternoon)
    assert sending.send_batch([message.pk], now=afternoon, threads=1)[message.pk].status == "not_due"
    assert locmem.outbox == []
    la_nine = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert Message.objects.get(pk=message.pk).scheduled_for == la_nine
    assert sending.send_message(message.pk, la_nine).status == "sent"
    home = make_member(store_a, phone="+8613800138123")  # the store's own country: the store's zone
    assert home.zone == store_a.zone


def test_the_frequency_cap_skips_with_a_recorded_reason(settings, member_b, campaign_template):
    settings.SMS_FREQUENCY_CAP = 2
    for n in range(3):
        queue_one(member_b, campaign_template, occasion=f"campaign:{n}")
    statuses = list(Message.objects.order_by("occasion").values_list("status", "skip_reason"))
    assert statuses[:2] == [("queued", ""), ("queued", "")]
    assert statuses[2] == ("skipped", "frequency cap: 2 texts in 7 days")


def test_the_frequency_cap_counts_the_texts_planned_in_the_same_run(settings, member_b, campaign_template):
    settings.SMS_FREQUENCY_CAP = 2
    queue_one(member_b, campaign_template, occasion="campaign:earlier")
    plan(member_b.store, "campaign", campaign_template,
         [Planned(member_b, "after_sales:order 1"), Planned(member_b, "after_sales:order 2")], LA_MORNING)
    statuses = dict(Message.objects.values_list("occasion", "status"))
    assert statuses == {"campaign:earlier": "queued", "after_sales:order 1": "queued",
                        "after_sales:order 2": "skipped"}


def test_the_frequency_cap_forgets_texts_older_than_the_window(settings, member_b, campaign_template):
    settings.SMS_FREQUENCY_CAP = 1
    queue_one(member_b, campaign_template, occasion="campaign:old", now=LA_MORNING - timedelta(days=8))
    Message.objects.update(status=MessageStatus.SENT, sent_at=LA_MORNING - timedelta(days=8))
    assert queue_one(member_b, campaign_template, occasion="campaign:new").status == MessageStatus.QUEUED


# --- against the fake Twilio over HTTP, with the official client -------------------------------

def test_twilio_backend_sends_through_the_official_client(fake_twilio, member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "sent"
    sent = fake_twilio.sent_to("+14155550100")
    assert len(sent) == 1 and sent[0]["body"] == message.body and sent[0]["from"] == "+15005550006"
    assert sent[0]["status_callback"] == f"https://desk.example.com/webhooks/twilio/status?m={message.pk}"
    message.refresh_from_db()
    assert message.provider_sid == sent[0]["sid"]


def test_the_fake_twilio_takes_no_text_from_half_a_request_or_without_a_number(fake_twilio):
    """Like Twilio: a request cut off mid-body (a worker killed while sending) is never acted on, and a
    text without a 'To' number is refused, so a test counting texts per number counts real ones."""
    import socket
    from base64 import b64encode
    from urllib.parse import urlparse

    import requests

    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/ACtest/Messages.json"
    refused = requests.post(url, data={"From": "+15005550006", "Body": "Hi"}, auth=("ACtest", "test-token"),
                            timeout=5)
    assert (refused.status_code, refused.json()["code"]) == (400, 21604)
    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as raw:
        auth = b64encode(b"ACtest:test-token").decode()
        raw.sendall(f"POST {where.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
                    "To=%2B14155550100&Bo".encode())
        raw.shutdown(socket.SHUT_WR)  # the sender dies: the rest of the body never comes
        raw.recv(1024)
    assert fake_twilio.sent == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_5xx_and_429_are_retried_with_backoff_then_sent_once(fake_twilio, member_b, campaign_template, status):
    fake_twilio.fail_next(2, status=status)
    message = queue_one(member_b, campaign_template)
    now, delays = LA_MORNING, []
    for _ in range(3):
        outcome = sending.send_message(message.pk, now)
        if outcome.status != "retry":
            break
        delays.append(outcome.retry_in)
        now += timedelta(seconds=outcome.retry_in)
    assert outcome.status == "sent" and delays == [1, 2]
    assert len(fake_twilio.sent_to("+14155550100")) == 1
    message.refresh_from_db()
    assert message.attempts == 3 and message.status == MessageStatus.SENT


def test_a_timeout_after_twilio_took_the_text_does_not_send_it_twice(fake_twilio, member_b, campaign_template):
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    message = queue_one(member_b, campaign_template)
    first = sending.send_message(message.pk, LA_MORNING)
    assert first.status == "retry" and first.detail == "timeout"
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "found"
    assert len(fake_twilio.sent_to("+14155550100")) == 1


def test_a_text_twilio_stored_smart_encoded_is_found_and_not_sent_twice(fake_twilio, member_b, store_b):
    template = SmsTemplate.objects.create(store=store_b, name="Curly", flow="campaign",
                                          body="Hi {first_name} — it’s “Member Day” at {store}…")
    fake_twilio.smart_encoding = True  # Twilio keeps "it's \"Member Day\"...", not our typographic body
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    message = queue_one(member_b, template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "found"
    assert len(fake_twilio.sent_to("+14155550100")) == 1


def test_a_lost_answer_is_found_after_other_stores_sent_the_number_many_more_texts(fake_twilio, member_b,
                                                                                    campaign_template, caplog):
    """A number that is a member of many stores: Twilio took our text (its answer was lost), then the other
    stores sent the number 60 texts before our retry. The retry still finds ours instead of texting it again."""
    caplog.set_level(logging.DEBUG)
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    for n in range(60):
        fake_twilio.create({"To": member_b.phone, "From": "+15005550006", "Body": f"Store {n}: new arrivals"})
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "found"
    ours = [m for m in fake_twilio.sent_to(member_b.phone) if m["body"] == message.body]
    assert len(ours) == 1
    assert "4155550100" not in caplog.text  # the second page's URL carries To= too


def test_the_lookup_reads_back_to_the_texts_time_not_the_numbers_whole_history(fake_twilio, member_b,
                                                                               campaign_template):
    """Last month's 120 texts to the number, in the same words, are neither taken for this one nor read page
    after page: the retry reads one page, finds nothing of this text's time, and sends it."""
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        for _ in range(120):
            fake_twilio.create({"To": member_b.phone, "From": "+15005550006",
                                "Body": "Hi Grace, thanks for shopping at Store B!"})
    fake_twilio.timeout_next(1, seconds=3, after_create=False)
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "sent"
    assert len(fake_twilio.sent_to(member_b.phone)) == 121
    assert [method for method, _ in fake_twilio.requests].count("GET") == 1


def test_a_timeout_before_twilio_took_the_text_sends_it_on_retry(fake_twilio, member_b, campaign_template):
    fake_twilio.timeout_next(1, seconds=3, after_create=False)
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "sent"
    assert len(fake_twilio.sent_to("+14155550100")) == 1


def test_giving_up_after_max_attempts_marks_the_text_failed(settings, fake_twilio, member_b, campaign_template):
    settings.SMS_MAX_ATTEMPTS = 2
    fake_twilio.fail_next(5, status=500)
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and "gave up after 2 attempts" in message.error_message


def test_21610_marks_the_member_opted_out_and_is_never_retried(fake_twilio, member_b, campaign_template):
    fake_twilio.refuse("+14155550100", 21610)
    message = queue_one(member_b, campaign_template)
    outcome = sending.send_message(message.pk, LA_MORNING)
    assert outcome.status == "failed" and outcome.retry_in is None
    assert sending.send_message(message.pk, LA_MORNING + timedelta(hours=1)).status == "done"
    message.refresh_from_db()
    member_b.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "21610")
    assert member_b.opted_out_at is not None
    posts = [r for r in fake_twilio.requests if r[0] == "POST"]
    assert len(posts) == 1
    assert not Member.objects.textable().filter(pk=member_b.pk).exists()


def test_a_21610_failure_and_its_opt_out_are_kept_together(fake_twilio, member_b, campaign_template, monkeypatch):
    """A worker that dies between the two must not leave the text failed and the number still texted: the
    text stays claimed (the stuck-claim sweep tries it again, and Twilio refuses it again) until both are in."""
    fake_twilio.refuse("+14155550100", 21610)
    message = queue_one(member_b, campaign_template)

    def dies(*args):
        raise SystemExit("worker killed")

    monkeypatch.setattr(sending, "opt_out_number", dies)
    with pytest.raises(SystemExit):
        sending.send_message(message.pk, LA_MORNING)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENDING and not message.error_code


def test_21610_opts_the_number_out_in_every_store(fake_twilio, member_b, campaign_template, store_a):
    other = make_member(store_a, phone=member_b.phone)  # one sending number texts for both stores
    fake_twilio.refuse(member_b.phone, 21610)
    assert sending.send_message(queue_one(member_b, campaign_template).pk, LA_MORNING).status == "failed"
    assert not Member.objects.textable().filter(phone=member_b.phone).exists()
    assert Member.objects.get(pk=other.pk).opted_out_at is not None


def test_21211_marks_the_number_invalid(fake_twilio, member_b, campaign_template):
    fake_twilio.refuse("+14155550100", 21211)
    message = queue_one(member_b, campaign_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "failed"
    member_b.refresh_from_db()
    assert member_b.phone_invalid_at is not None and member_b.opted_out_at is None
    assert Message.objects.get(pk=message.pk).error_code == "21211"


def test_21211_marks_the_number_invalid_in_every_store(fake_twilio, member_b, campaign_template, store_a):
    other = make_member(store_a, phone=member_b.phone)  # one number, two memberships
    fake_twilio.refuse(member_b.phone, 21211)
    assert sending.send_message(queue_one(member_b, campaign_template).pk, LA_MORNING).status == "failed"
    assert Member.objects.get(pk=other.pk).phone_invalid_at is not None
    assert not Member.objects.textable().filter(phone=member_b.phone).exists()


def test_phone_numbers_are_never_logged_whole(fake_twilio, member_b, campaign_template, caplog):
    caplog.set_level(logging.DEBUG)
    fake_twilio.timeout_next(1, seconds=3, after_create=True)
    message = queue_one(member_b, campaign_template)
    sending.send_message(message.pk, LA_MORNING)
    sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5))  # the lookup lists by To=
    assert caplog.records, "expected some log lines"
    assert "+14155550100" not in caplog.text and "4155550100" not in caplog.text


def test_status_callback_racing_the_worker_keeps_the_better_status(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, attempts=1, claimed_at=LA_MORNING)
    sending.apply_status_callback("SMabc", "delivered", "", str(message.pk))
    sending._record_sent(message, 1, "SMabc", LA_MORNING)
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (MessageStatus.DELIVERED, "SMabc")


def test_dispatch_enqueues_only_due_messages_nobody_holds(member_b, campaign_template, monkeypatch, store_b):
    from members import tasks

    sent = []
    monkeypatch.setattr(tasks.send_messages, "apply_async", lambda args, **kw: sent.append(args[0]))
    due = queue_one(member_b, campaign_template, occasion="campaign:due")
    later = make_member(store_b, timezone="Asia/Tokyo")  # 03:00 in Tokyo: deferred
    queue_one(later, campaign_template, occasion="campaign:night")
    real = REAL_DISPATCH
    assert real(LA_MORNING) == 1 and sent == [[due.pk]]
    assert real(LA_MORNING) == 0  # enqueued a moment ago: not again
    assert real(LA_MORNING + timedelta(minutes=6)) == 1  # its task was lost: enqueued again


def test_a_misconfigured_twilio_backend_fails_before_claiming(settings, member_b, campaign_template):
    from members.sms import PermanentSendError

    settings.SMS_BACKEND, settings.TWILIO_ACCOUNT_SID = "twilio", ""
    message = queue_one(member_b, campaign_template)
    with pytest.raises(PermanentSendError, match="TWILIO_ACCOUNT_SID"):
        sending.send_message(message.pk, LA_MORNING)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)


# --- batches: one task sends many messages -------------------------------------------------------

def plan_for(people, template, occasion="campaign:batch") -> list[int]:
    plan(people[0].store, "campaign", template, [Planned(m, occasion) for m in people], LA_MORNING)
    return list(Message.objects.filter(occasion=occasion).order_by("pk").values_list("pk", flat=True))


def test_dispatch_puts_batch_size_messages_in_each_task(settings, store_b, campaign_template, monkeypatch):
    from members import tasks

    settings.SMS_BATCH_SIZE = 2
    batches = []
    monkeypatch.setattr(tasks.send_messages, "apply_async", lambda args, **kw: batches.append(args[0]))
    ids = plan_for([make_member(store_b) for _ in range(5)], campaign_template)
    assert REAL_DISPATCH(LA_MORNING) == 5
    assert batches == [ids[0:2], ids[2:4], ids[4:5]]


def test_a_batch_run_twice_sends_each_text_once(store_b, campaign_template):
    people = [make_member(store_b) for _ in range(3)]
    ids = plan_for(people, campaign_template)
    first = sending.send_batch(ids, LA_MORNING, threads=1)
    again = sending.send_batch(ids, LA_MORNING, threads=1)
    assert [first[pk].status for pk in ids] == ["sent"] * 3
    assert [again[pk].status for pk in ids] == ["done"] * 3
    assert sorted(text.to for text in locmem.outbox) == sorted(m.phone for m in people)


def test_a_redelivered_batch_sends_only_the_texts_that_never_went_out(store_b, campaign_template):
    """The worker died with the first text sent, the second in flight and the third not started."""
    ids = plan_for([make_member(store_b) for _ in range(3)], campaign_template)
    sending.send_message(ids[0], LA_MORNING)
    Message.objects.filter(pk=ids[1]).update(status=MessageStatus.SENDING, attempts=1, claimed_at=LA_MORNING)
    redelivered = sending.send_batch(ids, LA_MORNING + timedelta(seconds=10), threads=1)
    assert [redelivered[pk].status for pk in ids] == ["done", "busy", "sent"]
    assert [text.message_id for text in locmem.outbox] == [ids[0], ids[2]]
    assert list(sending.retries_by_delay(redelivered)) == [291]  # the in-flight one: once its claim is stale
    later = sending.send_batch([ids[1]], LA_MORNING + timedelta(minutes=10), threads=1)
    assert later[ids[1]].status == "sent" and len(locmem.outbox) == 3


def test_a_stop_after_the_batch_was_loaded_still_skips_the_text(member_b, campaign_template):
    message = queue_one(member_b, campaign_template)
    loaded = Message.objects.select_related("member__store").get(pk=message.pk)
    Member.objects.filter(pk=member_b.pk).update(opted_out_at=LA_MORNING)
    assert sending.send_planned(loaded, LA_MORNING).status == "skipped"
    assert locmem.outbox == []


def test_a_batch_defers_texts_that_fall_in_quiet_hours(store_b, campaign_template):
    night_owl = make_member(store_b, timezone="Asia/Tokyo")  # 03:00 in Tokyo
    ids = plan_for([make_member(store_b), night_owl], campaign_template)
    Message.objects.filter(member=night_owl).update(scheduled_for=LA_MORNING)  # as if planned hours ago
    outcomes = sending.send_batch(ids, LA_MORNING, threads=1)
    assert [outcomes[pk].status for pk in ids] == ["sent", "deferred"]
    assert len(locmem.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_from_threads_sends_each_text_once(fake_twilio, store_b, campaign_template):
    people = [make_member(store_b, phone=f"+1415666{n:04d}") for n in range(12)]
    ids = plan_for(people, campaign_template)
    outcomes = sending.send_batch(ids + ids, LA_MORNING, threads=4)  # a duplicate in the batch, too
    assert {outcome.status for outcome in outcomes.values()} == {"sent"}
    assert sorted(m["to"] for m in fake_twilio.sent) == sorted(m.phone for m in people)


@pytest.fixture
def coupon_template(store_b):
    return SmsTemplate.objects.create(store=store_b, name="Perk", flow="campaign", coupon_value="$10 off",
                                      body="{first_name}, {coupon_value} with code {coupon}")


def held_codes(member) -> list[str]:
    return list(Coupon.objects.filter(member=member, withdrawn_at__isnull=True).values_list("code", flat=True))


def test_a_coupon_whose_text_twilio_refuses_for_good_is_withdrawn(fake_twilio, member_b, coupon_template):
    fake_twilio.refuse(member_b.phone, 21211)
    message = queue_one(member_b, coupon_template)
    assert held_codes(member_b)
    assert sending.send_message(message.pk, LA_MORNING).status == "failed"
    assert held_codes(member_b) == []  # Twilio created no text: the member never saw the code


def test_a_coupon_whose_text_was_given_up_on_is_withdrawn(settings, fake_twilio, member_b, coupon_template):
    settings.SMS_MAX_ATTEMPTS = 2
    fake_twilio.fail_next(5, status=500)
    message = queue_one(member_b, coupon_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "retry"
    assert held_codes(member_b)  # a retry is still coming: the coupon stays
    assert sending.send_message(message.pk, LA_MORNING + timedelta(seconds=5)).status == "failed"
    assert held_codes(member_b) == []


@pytest.mark.parametrize("report", ["undelivered", "failed"])
def test_a_coupon_whose_text_twilio_reports_not_delivered_is_withdrawn(fake_twilio, member_b, coupon_template,
                                                                        report):
    message = queue_one(member_b, coupon_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "sent"
    message.refresh_from_db()
    sending.apply_status_callback(message.provider_sid, report, "30003", str(message.pk))
    assert held_codes(member_b) == []


def test_a_withdrawn_coupon_comes_back_when_twilio_reports_its_text_delivered_after_all(fake_twilio, member_b,
                                                                                     coupon_template):
    """A carrier's late receipt can follow "undelivered" with "delivered": the member has the code then."""
    message = queue_one(member_b, coupon_template)
    sending.send_message(message.pk, LA_MORNING)
    message.refresh_from_db()
    code = Coupon.objects.get(member=member_b).code
    sending.apply_status_callback(message.provider_sid, "undelivered", "30003", str(message.pk))
    sending.apply_status_callback(message.provider_sid, "delivered", "", str(message.pk))
    assert held_codes(member_b) == [code] and code in message.body


def test_a_coupon_given_up_on_comes_back_when_twilio_reports_the_text_sent(settings, fake_twilio, member_b,
                                                                           coupon_template):
    settings.SMS_MAX_ATTEMPTS = 1
    fake_twilio.timeout_next(1, seconds=3, after_create=True)  # Twilio took it, we never heard
    message = queue_one(member_b, coupon_template)
    assert sending.send_message(message.pk, LA_MORNING).status == "failed"
    assert held_codes(member_b) == []
    sid = fake_twilio.sent_to(member_b.phone)[0]["sid"]
    sending.apply_status_callback(sid, "delivered", "", str(message.pk))
    assert len(held_codes(member_b)) == 1


def test_a_late_failure_report_after_delivered_keeps_the_coupon(fake_twilio, member_b, coupon_template):
    message = queue_one(member_b, coupon_template)
    sending.send_message(message.pk, LA_MORNING)
    message.refresh_from_db()
    sending.apply_status_callback(message.provider_sid, "delivered", "", str(message.pk))
    sending.apply_status_callback(message.provider_sid, "undelivered", "30003", str(message.pk))
    assert len(held_codes(member_b)) == 1
