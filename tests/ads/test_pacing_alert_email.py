"""The hourly pacing alert email, with a frozen clock: each episode once, to the store's own people who kept it on."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from smtplib import SMTPRecipientsRefused

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail, signing
from django.core.mail.backends import locmem
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.ads_alerts import send_pacing_alerts
from campaigns.ads_tasks import send_pacing_alerts_task
from campaigns.models import AdPacingAlertDelivery, AdPacingAlertSent, AdPlanStatus
from tests.factories import MembershipFactory, UserFactory

from .conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory

pytestmark = pytest.mark.django_db

# Store A is in Asia/Shanghai (UTC+8): 06:00 UTC is 14:00 local.
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def local(hour, minute=0):
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def feed(plan, values_by_local_hour):
    for hour, value in values_by_local_hour.items():
        SnapshotFactory(plan=plan, ts=local(hour), spend_today=Decimal(value))


def stopped_since_ten(plan):
    """Spend rose until 10:00 and not since: at 14:00 it has been quiet for 4 hours."""
    feed(plan, {9: "50", 10: "80", 11: "80", 12: "80", 13: "80"})


@pytest.fixture
def people_a(store_a, operator_a, manager_a):
    return sorted([operator_a.email, manager_a.email])


def run(at):
    with time_machine.travel(at, tick=False):
        return send_pacing_alerts(at)


def addressed(messages):
    """Who the messages went to: each person gets their own (their own opt-out link), never a shared To."""
    assert all(len(m.to) == 1 for m in messages)
    return sorted(m.to[0] for m in messages)


def test_stopped_plan_is_emailed_once_across_two_runs(store_a, search_plan, people_a, settings):
    stopped_since_ten(search_plan)
    assert run(NOW) == 2  # one email for each of the store's two people
    assert run(NOW) == 0  # the beat fired twice, or the task was retried
    assert run(NOW + timedelta(hours=1)) == 0  # still the same quiet spell
    assert addressed(mail.outbox) == people_a
    message = mail.outbox[0]
    assert message.subject == "[opsdesk] Store A · ad plans: 1 stopped spending"
    plan_url = settings.SITE_URL + reverse("campaigns:ad_detail", args=[search_plan.pk])
    assert "Longjing search: no spend since 2026-11-25 10:00 (4 h) while active; 80.00 CNY spent today" in message.body
    assert plan_url in message.body
    assert "as of 2026-11-25 14:00 (Asia/Shanghai" in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and f'<a href="{plan_url}">Longjing search</a>' in html
    assert AdPacingAlertSent.objects.get().sent_at is not None


def test_the_celery_task_sends_through_the_same_rule(store_a, search_plan, people_a):
    stopped_since_ten(search_plan)
    with time_machine.travel(NOW, tick=False):
        assert send_pacing_alerts_task() == 2
        assert send_pacing_alerts_task() == 0
    assert addressed(mail.outbox) == people_a


def test_a_plan_that_resumes_and_stops_again_is_a_new_episode(store_a, search_plan, people_a):
    stopped_since_ten(search_plan)
    run(NOW)
    feed(search_plan, {15: "120", 16: "120", 17: "120", 18: "120"})  # spent again at 15:00, quiet since
    assert run(local(16)) == 2  # spending again (the all-clear), not yet quiet for 3 hours
    assert run(local(19)) == 2
    assert len(mail.outbox) == 6
    assert "no spend since 2026-11-25 15:00 (4 h)" in mail.outbox[5].body


def test_a_stopped_plan_that_spends_again_is_emailed_once_that_it_resumed(store_a, search_plan, people_a):
    stopped_since_ten(search_plan)
    assert run(NOW) == 2
    feed(search_plan, {15: "95", 16: "120"})  # spending again from 15:00
    with time_machine.travel(local(16, 15), tick=False):  # the beat fired twice: one all-clear
        assert send_pacing_alerts_task() == 2
        assert send_pacing_alerts_task() == 0
    assert run(local(17, 15)) == 0  # still spending: nothing more to say
    all_clear = mail.outbox[2:]
    assert addressed(all_clear) == people_a
    message = all_clear[0]
    assert message.subject == "[opsdesk] Store A · ad plans: 1 spending again"
    assert ("Longjing search: spending again since 2026-11-25 15:00 after no spend since 2026-11-25 10:00; "
            "120.00 CNY spent today") in message.body
    assert message.body.startswith("Store A: ad plans spending again as of 2026-11-25 16:15")
    assert "Spending again (emailed as stopped)" in message.alternatives[0][0]
    opt_out_path(message)  # the same one-click opt-out link and List-Unsubscribe as the alert
    assert AdPacingAlertSent.objects.get(kind=AdPacingAlertSent.RESUMED).sent_at is not None


def test_the_all_clear_goes_only_to_those_who_keep_the_alerts_on(store_a, search_plan, operator_a, manager_a):
    stopped_since_ten(search_plan)
    assert run(NOW) == 2
    manager_a.memberships.update(ad_alert_email=False)
    feed(search_plan, {15: "120"})
    assert run(local(16)) == 1
    assert mail.outbox[-1].to == [operator_a.email] and "spending again" in mail.outbox[-1].subject


def test_a_plan_on_pace_to_overspend_is_emailed_once_a_day(store_a, search_plan, people_a):
    feed(search_plan, {9: "90", 13: "200"})  # flat curve: 200 / (14/24) = 342.86 > 240
    assert run(NOW) == 2
    assert run(NOW + timedelta(minutes=30)) == 0
    message = mail.outbox[0]
    assert message.subject == "[opsdesk] Store A · ad plans: 1 on pace to overspend today"
    assert ("Longjing search: on pace for 342.86 CNY today, daily budget 240.00 CNY (200.00 CNY spent by 14:00)"
            in message.body)


def test_people_who_opted_out_get_nothing_and_the_alert_waits_for_someone(store_a, search_plan, operator_a,
                                                                         manager_a):
    stopped_since_ten(search_plan)
    manager_a.memberships.update(ad_alert_email=False)
    assert run(NOW) == 1
    assert mail.outbox[0].to == [operator_a.email]

    other = AdPlanFactory(store=store_a, name="Display")
    feed(other, {15: "40"})  # quiet from 15:00
    operator_a.memberships.update(ad_alert_email=False)
    assert run(local(19)) == 0
    assert not AdPacingAlertSent.objects.filter(plan=other).exists()  # nobody was told: not spent
    manager_a.memberships.update(ad_alert_email=True)
    assert run(local(20)) == 1
    assert mail.outbox[1].to == [manager_a.email] and "Display" in mail.outbox[1].body


def test_other_stores_people_are_not_emailed(store_a, store_b, search_plan, people_a):
    stopped_since_ten(search_plan)
    outsider = MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user
    AdPlanFactory(store=store_b, name="B search")  # fed nothing: no alert
    assert run(NOW) == 2
    assert addressed(mail.outbox) == people_a
    assert outsider.email not in addressed(mail.outbox)


def test_a_paused_plan_is_not_alerted(store_a, people_a):
    plan = AdPlanFactory(store=store_a, name="Paused", status=AdPlanStatus.PAUSED)
    stopped_since_ten(plan)
    assert run(NOW) == 0
    assert mail.outbox == []


def test_a_failed_send_is_retried_next_hour(store_a, search_plan, people_a, settings):
    stopped_since_ten(search_plan)
    settings.EMAIL_BACKEND = "tests.ads.test_pacing_alert_email.FailingBackend"
    assert run(NOW) == 0
    assert AdPacingAlertSent.objects.get().sent_at is None  # claimed, emailed to nobody yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run(NOW + timedelta(hours=1)) == 2
    assert run(NOW + timedelta(hours=2)) == 0
    assert addressed(mail.outbox) == people_a
    assert "as of 2026-11-25 14:00" in mail.outbox[0].body  # the email that failed, as it was written
    assert AdPacingAlertSent.objects.get().sent_at is not None


class FailingBackend:
    """An SMTP server that refuses the message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


class RefusingBackend(locmem.EmailBackend):
    """An SMTP server that takes the messages, but refuses those to an address in settings.REFUSED_EMAILS."""

    def send_messages(self, messages):
        for message in messages:
            refused = {address: (550, b"mailbox unavailable") for address in message.recipients()
                       if address in settings.REFUSED_EMAILS}
            if refused:
                raise SMTPRecipientsRefused(refused)
        return super().send_messages(messages)


@pytest.fixture
def refusing(settings):
    """Django's email backend refuses the addresses put in the returned list (until taken out)."""
    settings.EMAIL_BACKEND = "tests.ads.test_pacing_alert_email.RefusingBackend"
    settings.REFUSED_EMAILS = []
    return settings.REFUSED_EMAILS


def test_an_alert_that_failed_for_one_person_is_retried_for_that_person_only(store_a, search_plan, operator_a,
                                                                             manager_a, refusing):
    stopped_since_ten(search_plan)
    refusing.append(operator_a.email)
    assert run(NOW) == 1
    assert addressed(mail.outbox) == [manager_a.email]
    assert run(NOW) == 0  # the beat fired twice: the manager is not sent it again, the operator not yet
    refusing.clear()  # the operator's mailbox takes mail again
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):  # the next hour's beat, fired twice
        assert send_pacing_alerts_task() == 1
        assert send_pacing_alerts_task() == 0
    assert run(NOW + timedelta(hours=2)) == 0
    assert addressed(mail.outbox) == sorted([operator_a.email, manager_a.email])  # each of them once
    retry = mail.outbox[1]
    assert retry.to == [operator_a.email] and retry.subject == "[opsdesk] Store A · ad plans: 1 stopped spending"
    assert "Longjing search: no spend since 2026-11-25 10:00 (4 h) while active; 80.00 CNY spent today" in retry.body
    assert "as of 2026-11-25 14:00" in retry.body
    opt_out_path(retry)  # their own opt-out link


def test_an_alert_that_keeps_failing_for_someone_is_given_up_after_six_hours(store_a, search_plan, operator_a,
                                                                            manager_a, refusing, caplog):
    stopped_since_ten(search_plan)
    refusing.append(operator_a.email)
    assert run(NOW) == 1
    for hours in range(1, 6):  # retried each hour while the alert is under six hours old
        assert run(NOW + timedelta(hours=hours)) == 0
        assert "pacing alert email of store" in caplog.text and "failed; will retry next hour" in caplog.text
        caplog.clear()
    assert run(NOW + timedelta(hours=6)) == 0
    assert "gave up the pacing alert email" in caplog.text and ": 6 failed send(s)" in caplog.text
    assert "failed; will retry" not in caplog.text  # not tried again
    refusing.clear()
    assert run(NOW + timedelta(hours=7)) == 0  # six hours late: old news, not sent
    assert addressed(mail.outbox) == [manager_a.email]


def test_an_all_clear_that_failed_for_one_person_is_retried_for_that_person_only(store_a, search_plan, operator_a,
                                                                                manager_a, refusing):
    stopped_since_ten(search_plan)
    assert run(NOW) == 2
    feed(search_plan, {15: "95", 16: "120"})  # spending again from 15:00
    refusing.append(operator_a.email)
    assert run(local(16, 15)) == 1
    assert run(local(16, 15)) == 0
    refusing.clear()
    with time_machine.travel(local(17, 15), tick=False):  # the beat fired twice: one all-clear to the operator
        assert send_pacing_alerts_task() == 1
        assert send_pacing_alerts_task() == 0
    assert run(local(18, 15)) == 0
    all_clear = mail.outbox[2:]
    assert addressed(all_clear) == sorted([operator_a.email, manager_a.email])
    retry = all_clear[1]
    assert retry.to == [operator_a.email] and retry.subject == "[opsdesk] Store A · ad plans: 1 spending again"
    assert retry.body.startswith("Store A: ad plans spending again as of 2026-11-25 16:15")
    assert ("Longjing search: spending again since 2026-11-25 15:00 after no spend since 2026-11-25 10:00; "
            "120.00 CNY spent today") in retry.body


def test_queries_per_run_do_not_grow_with_plans_or_stores(store_a, store_b, search_plan, people_a):
    stopped_since_ten(search_plan)
    with CaptureQueriesContext(connection) as one:
        assert run(NOW) == 2
    # Two more stores' worth: another plan in A and three in B (Los Angeles, 22:00 the day before), all stopped.
    MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator")
    stopped_since_ten(AdPlanFactory(store=store_a, name="A display"))
    for n in range(3):
        plan = AdPlanFactory(store=store_b, name=f"B plan {n}")
        for hours_ago in (6, 5, 4):
            SnapshotFactory(plan=plan, ts=NOW + timedelta(minutes=30) - timedelta(hours=hours_ago),
                            spend_today=Decimal("30"))
    with CaptureQueriesContext(connection) as many:
        assert run(NOW + timedelta(minutes=30)) == 3  # A's two people, B's one
    assert len(many.captured_queries) == len(one.captured_queries)


def test_an_operator_turns_the_alerts_off_on_their_settings_page(client, store_a, operator_a):
    membership = operator_a.memberships.get()
    client.force_login(operator_a)
    page = client.get(reverse("stores:my_settings")).content.decode()
    assert "Email me new ad pacing alerts" in page and "Send me the morning email" not in page
    response = client.post(reverse("stores:my_settings"), {"membership": membership.pk})  # box unticked
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ad_alert_email is False


def opt_out_path(message):
    """The signed link of the email's List-Unsubscribe header, as a path; it is in both parts of the email too."""
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(rf"<({re.escape(settings.SITE_URL)}(/campaigns/ads/alerts/opt-out/[^/]+/))>",
                       message.extra_headers["List-Unsubscribe"])
    assert url[1] in message.body and url[1] in message.alternatives[0][0]
    return url[2]


def test_the_one_click_opt_out_in_the_email_stops_that_persons_alerts_of_that_store_only(
        client, store_a, store_b, search_plan, operator_a, manager_a):
    MembershipFactory(store=store_b, user=operator_a, role="operator")
    stopped_since_ten(search_plan)
    assert run(NOW) == 2
    (operators,) = [m for m in mail.outbox if m.to == [operator_a.email]]
    url = opt_out_path(operators)
    assert url != opt_out_path(next(m for m in mail.outbox if m is not operators))  # each their own link

    # Opening the link (a mail scanner does) changes nothing: it asks.
    assert "Stop these emails" in client.get(url).content.decode()
    assert operator_a.memberships.get(store=store_a).ad_alert_email
    # The mail app's one-click POST: no login, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "no longer gets the ad pacing alert emails of Store A" in response.content.decode()
    assert not operator_a.memberships.get(store=store_a).ad_alert_email
    assert operator_a.memberships.get(store=store_b).ad_alert_email  # their other store's alerts stay on
    assert manager_a.memberships.get().ad_alert_email and manager_a.memberships.get().morning_email

    other = AdPlanFactory(store=store_a, name="Display")
    feed(other, {15: "40"})  # quiet from 15:00: a new episode
    assert run(local(19)) == 1
    assert mail.outbox[-1].to == [manager_a.email]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_mangled_or_morning_email_token_gets_a_400_and_changes_nothing(client, store_a, operator_a,
                                                                                 manager_a, method):
    operator, manager = operator_a.memberships.get(), manager_a.memberships.get()
    good = operator.opt_out_token("ad_alert_email")
    for token in (signing.dumps(operator.pk, salt="some other purpose"), "not-a-token", good[:-2] + "xy",
                  manager.opt_out_token("morning_email")):  # a morning-email link cannot stop the ad alerts
        response = getattr(client, method)(reverse("campaigns:ad_alert_opt_out", args=[token]))
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    for membership in (operator, manager):
        membership.refresh_from_db()
        assert membership.ad_alert_email and membership.morning_email


def total_budget_plan(store, total="2000.00", end=date(2026, 11, 30)):
    """Reported 200.00 a day from 20 Nov, 240.00 a day allowed until `end`, and a total budget of `total`."""
    plan = AdPlanFactory(store=store, name="Launch push", total_budget=Decimal(total),
                         start_date=date(2026, 11, 20), end_date=end)
    for day in range(20, 25):
        AdDailyFactory(plan=plan, date=date(2026, 11, day), spend=Decimal("200.00"))
    return plan


def test_a_plan_on_pace_to_overspend_its_total_budget_is_emailed_once_per_budget(store_a, people_a):
    plan = total_budget_plan(store_a)
    # 117.00 by 14:00 is on pace for 200.57 today (under the daily 240.00), and 1,000.00 reported before, at
    # 200.00 a day for the 5 days left: 2,200.57 in all, over the 2,000.00 total.
    feed(plan, {9: "60", 13: "117"})
    assert run(NOW) == 2
    message = mail.outbox[0]
    assert message.subject == "[opsdesk] Store A · ad plans: 1 on pace to overspend the total budget"
    assert ("Launch push: on pace for 2,200.57 CNY in all by 2026-11-30, total budget 2,000.00 CNY "
            "(1,117.00 CNY spent so far)") in message.body
    assert "On pace to overspend the total budget" in message.alternatives[0][0]

    # The next day it is still on pace to overspend: nothing new to say.
    AdDailyFactory(plan=plan, date=date(2026, 11, 25), spend=Decimal("200.00"))
    SnapshotFactory(plan=plan, ts=NOW + timedelta(days=1) - timedelta(hours=1), spend_today=Decimal("117"))
    assert run(NOW + timedelta(days=1)) == 0
    # A new total budget, still short: judged afresh, emailed again.
    plan.total_budget = Decimal("2100.00")
    plan.save(update_fields=["total_budget"])
    assert run(NOW + timedelta(days=1, minutes=5)) == 2
    assert "total budget 2,100.00 CNY" in mail.outbox[-1].body
    assert AdPacingAlertSent.objects.filter(plan=plan, kind=AdPacingAlertSent.OVERSPEND_TOTAL).count() == 2


def test_a_plan_hovering_at_its_total_budget_pace_is_emailed_once(store_a, people_a):
    plan = total_budget_plan(store_a, total="2200.00")
    feed(plan, {9: "60", 13: "117"})  # 1,000.00 before + 200.57 today + 5 days × 200.00 = 2,200.57 (100.03 %)
    assert run(NOW) == 2
    assert run(local(15)) == 0  # 117.00 by 15:00 is on pace for 187.20 today: 2,187.20 in all (99.4 %), just under
    feed(plan, {16: "140"})  # 210.00 today: 2,210.00 (100.5 %), over again
    with time_machine.travel(local(16), tick=False):  # the beat fired twice
        assert send_pacing_alerts_task() == 0
        assert send_pacing_alerts_task() == 0
    assert len(mail.outbox) == 2  # under by less than the margin: the same episode
    episode = AdPacingAlertSent.objects.get(plan=plan, kind=AdPacingAlertSent.OVERSPEND_TOTAL)
    assert episode.ended_at is None


def test_a_plan_back_well_under_its_total_budget_pace_and_over_again_is_emailed_again(store_a, people_a):
    # Ends today: 1,000.00 reported before and today's projection make its total, against 1,190.00.
    plan = total_budget_plan(store_a, total="1190.00", end=date(2026, 11, 25))
    feed(plan, {9: "60", 13: "117"})  # on pace for 200.57 today: 1,200.57 in all (100.9 %)
    assert run(NOW) == 2
    feed(plan, {15: "117.50", 17: "118", 19: "118.50", 21: "119"})  # still spending, slower
    assert run(local(22)) == 0  # on pace for 129.82 today: 1,129.82 in all (94.9 %), back under by the margin
    feed(plan, {23: "185"})  # 193.04 today: 1,193.04 (100.3 %), over again with the same budget
    with time_machine.travel(local(23), tick=False):  # the beat fired twice: one email each
        assert send_pacing_alerts_task() == 2
        assert send_pacing_alerts_task() == 0
    assert run(local(23, 30)) == 0  # 188.94 today, 1,188.94: just under, the same episode
    SnapshotFactory(plan=plan, ts=local(23, 45), spend_today=Decimal("190"))
    assert run(local(23, 45)) == 0  # 192.00 today, 1,192.00: over, still the same episode
    assert len(mail.outbox) == 4
    assert ("Launch push: on pace for 1,193.04 CNY in all by 2026-11-25, total budget 1,190.00 CNY "
            "(1,185.00 CNY spent so far)") in mail.outbox[-1].body
    assert AdPacingAlertSent.objects.filter(plan=plan, kind=AdPacingAlertSent.OVERSPEND_TOTAL).count() == 2


def test_the_admin_lists_the_alerts_sent_of_the_staffs_own_stores_read_only(client, store_a, store_b, search_plan,
                                                                            people_a):
    stopped_since_ten(search_plan)
    outsider_plan = AdPlanFactory(store=store_b, name="Secret B plan")
    AdPacingAlertSent.objects.create(plan=outsider_plan, kind=AdPacingAlertSent.STOPPED, episode_start=NOW)
    run(NOW)
    staff = UserFactory(username="staff-a", is_staff=True)
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_adpacingalertsent", "add_adpacingalertsent", "change_adpacingalertsent",
        "delete_adpacingalertsent"]))
    client.force_login(staff)

    page = client.get(reverse("admin:campaigns_adpacingalertsent_changelist")).content.decode()
    assert "Longjing search" in page and "Store A" in page
    assert "Secret B plan" not in page
    theirs = AdPacingAlertSent.objects.get(plan=outsider_plan)
    assert client.get(reverse("admin:campaigns_adpacingalertsent_change", args=[theirs.pk])).status_code == 302
    ours = AdPacingAlertSent.objects.get(plan=search_plan)
    assert client.get(reverse("admin:campaigns_adpacingalertsent_add")).status_code == 403
    assert client.post(reverse("admin:campaigns_adpacingalertsent_delete", args=[ours.pk]),
                       {"post": "yes"}).status_code == 403
    assert AdPacingAlertSent.objects.filter(pk=ours.pk).exists()


def delivery_rows(page: str) -> list[tuple[str, str, str]]:
    """The episode page's "emailed to" rows: (person, attempts, given up), as the staff reads them."""
    cells = re.findall(r'<td class="field-(person|attempts|gave_up_at)">\s*<p>(.*?)</p>', page, re.S)
    values = [value.strip() for _, value in cells]
    return sorted(zip(values[0::3], values[1::3], values[2::3]))


def test_an_episode_in_the_admin_shows_who_it_was_emailed_to_in_the_staffs_own_stores_only(
        client, store_a, store_b, search_plan, people_a, manager_a):
    stopped_since_ten(search_plan)
    run(NOW)
    ours = AdPacingAlertSent.objects.get(plan=search_plan)
    theirs = AdPacingAlertSent.objects.create(plan=AdPlanFactory(store=store_b, name="Secret B plan"),
                                              kind=AdPacingAlertSent.STOPPED, episode_start=NOW)
    b_person = MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager")
    AdPacingAlertDelivery.objects.create(alert=theirs, membership=b_person, failures=6, gave_up_at=NOW)
    manager_a.is_staff = True
    manager_a.save()
    # Allowed to see the episodes only: who they went to is part of an episode.
    manager_a.user_permissions.add(Permission.objects.get(codename="view_adpacingalertsent"))
    client.force_login(manager_a)

    page = client.get(reverse("admin:campaigns_adpacingalertsent_change", args=[ours.pk])).content.decode()
    assert delivery_rows(page) == [("mgr-a &lt;mgr-a@example.com&gt;", "1", "-"),
                                   ("op-a &lt;op-a@example.com&gt;", "1", "-")]
    assert "mgr-b" not in page
    assert client.get(reverse("admin:campaigns_adpacingalertsent_change", args=[theirs.pk])).status_code == 302

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:campaigns_adpacingalertsent_change", args=[theirs.pk])).content.decode()
    assert delivery_rows(page) == [("mgr-b &lt;mgr-b@example.com&gt;", "6", "Nov. 25, 2026, 6 a.m.")]
