"""The hourly pacing alert email, with a frozen clock: each episode once, to the store's own people who kept it on."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.ads_alerts import send_pacing_alerts
from campaigns.ads_tasks import send_pacing_alerts_task
from campaigns.models import AdPacingAlertSent, AdPlanStatus
from tests.factories import MembershipFactory, UserFactory

from .conftest import AdPlanFactory, SnapshotFactory

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


def test_stopped_plan_is_emailed_once_across_two_runs(store_a, search_plan, people_a, settings):
    stopped_since_ten(search_plan)
    assert run(NOW) == 1
    assert run(NOW) == 0  # the beat fired twice, or the task was retried
    assert run(NOW + timedelta(hours=1)) == 0  # still the same quiet spell
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == people_a
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
        assert send_pacing_alerts_task() == 1
        assert send_pacing_alerts_task() == 0
    assert len(mail.outbox) == 1


def test_a_plan_that_resumes_and_stops_again_is_a_new_episode(store_a, search_plan, people_a):
    stopped_since_ten(search_plan)
    run(NOW)
    feed(search_plan, {15: "120", 16: "120", 17: "120", 18: "120"})  # spent again at 15:00, quiet since
    assert run(local(16)) == 0  # spending again, not yet quiet for 3 hours
    assert run(local(19)) == 1
    assert len(mail.outbox) == 2
    assert "no spend since 2026-11-25 15:00 (4 h)" in mail.outbox[1].body


def test_a_plan_on_pace_to_overspend_is_emailed_once_a_day(store_a, search_plan, people_a):
    feed(search_plan, {9: "90", 13: "200"})  # flat curve: 200 / (14/24) = 342.86 > 240
    assert run(NOW) == 1
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
    assert run(NOW) == 1
    assert sorted(mail.outbox[0].to) == people_a
    assert outsider.email not in mail.outbox[0].to


def test_a_paused_plan_is_not_alerted(store_a, people_a):
    plan = AdPlanFactory(store=store_a, name="Paused", status=AdPlanStatus.PAUSED)
    stopped_since_ten(plan)
    assert run(NOW) == 0
    assert mail.outbox == []


def test_a_failed_send_is_retried_next_hour(store_a, search_plan, people_a, settings):
    stopped_since_ten(search_plan)
    settings.EMAIL_BACKEND = "tests.ads.test_pacing_alert_email.FailingBackend"
    assert run(NOW) == 0
    assert not AdPacingAlertSent.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run(NOW + timedelta(hours=1)) == 1


class FailingBackend:
    """An SMTP server that refuses the message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_queries_per_run_do_not_grow_with_plans_or_stores(store_a, store_b, search_plan, people_a):
    stopped_since_ten(search_plan)
    with CaptureQueriesContext(connection) as one:
        assert run(NOW) == 1
    # Two more stores' worth: another plan in A and three in B (Los Angeles, 22:00 the day before), all stopped.
    MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator")
    stopped_since_ten(AdPlanFactory(store=store_a, name="A display"))
    for n in range(3):
        plan = AdPlanFactory(store=store_b, name=f"B plan {n}")
        for hours_ago in (6, 5, 4):
            SnapshotFactory(plan=plan, ts=NOW + timedelta(minutes=30) - timedelta(hours=hours_ago),
                            spend_today=Decimal("30"))
    with CaptureQueriesContext(connection) as many:
        assert run(NOW + timedelta(minutes=30)) == 2
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
