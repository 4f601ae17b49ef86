"""Two beat fires reach two real worker processes at once: the database lets only one email out."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from metrics.models import DailyMetric, MorningEmail
from metrics.rollup import due_day
from metrics.tasks import nightly_rollup, send_morning_emails
from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.worker import wait_for, worker_with_mail

pytestmark = pytest.mark.worker


@pytest.fixture
def mail_worker(transactional_db, tmp_path):
    with worker_with_mail(tmp_path) as pair:
        yield pair


def test_double_beat_fire_on_two_worker_processes_sends_one_email(mail_worker):
    worker, mail_dir = mail_worker
    store = StoreFactory(timezone="Asia/Shanghai", country="CN")
    MembershipFactory(store=store, user=UserFactory(username="boss", email="boss@example.com"), role="manager")
    now = datetime(2026, 5, 5, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai")).isoformat()
    send_morning_emails.delay(now)
    send_morning_emails.delay(now)
    nightly_rollup.delay()
    wait_for(lambda: worker.log().count("succeeded") >= 4, timeout=60)  # 2 emails, nightly + its chunk
    assert len(list(mail_dir.iterdir())) == 1
    assert MorningEmail.objects.filter(sent_at__isnull=False).count() == 1
    assert "boss@example.com" in next(mail_dir.iterdir()).read_text()
    # The email rolled up the day it reports on; the nightly task rolled up the store's last complete day.
    days = set(DailyMetric.objects.filter(store=store, metric="orders", dimension="").values_list("day", flat=True))
    assert date(2026, 5, 4) in days
    assert due_day(store, timezone.now()) in days
