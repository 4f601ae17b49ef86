"""Two beat fires reach two real worker processes at once: the database lets only one email out."""

import email
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image

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


def _sparklines(eml: str) -> dict:
    """The sparklines of a sent email by metric, as the mail app shows them."""
    message = email.message_from_string(eml)
    return {part["Content-ID"].strip("<>").removeprefix("spark-").removesuffix("@opsdesk"):
            Image.open(io.BytesIO(part.get_payload(decode=True))).convert("RGB")
            for part in message.walk() if (part["Content-ID"] or "").startswith("<spark-")}


def _drawn_height(image) -> int:
    """How many pixel rows the line covers: a flat line a few, one from bottom to top all of them."""
    rows = [y for y in range(image.height) if any(min(image.getpixel((x, y))) < 200 for x in range(image.width))]
    return max(rows) - min(rows) + 1


def test_sparklines_draw_money_and_counts_from_zero_so_a_small_wiggle_looks_small(mail_worker):
    worker, mail_dir = mail_worker
    store = StoreFactory(timezone="Asia/Shanghai", country="CN")
    MembershipFactory(store=store, user=UserFactory(username="boss", email="boss@example.com"), role="manager")
    report_day = date(2026, 5, 4)
    rows = []
    for k in range(14):
        day = report_day - timedelta(days=13 - k)
        rows += [DailyMetric(store=store, day=day, metric="gmv", value=Decimal(10000 + (100 if k % 2 else -100))),
                 DailyMetric(store=store, day=day, metric="orders", value=100 if k < 13 else 30),
                 DailyMetric(store=store, day=day, metric="new_violations", value=1 if k == 13 else 0)]
    DailyMetric.objects.bulk_create(rows)
    send_morning_emails.delay(datetime(2026, 5, 5, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai")).isoformat())
    # The task's end, not the file's appearance: the mail backend creates the file before it writes the message.
    wait_for(lambda: "succeeded" in worker.log(), timeout=60)
    [eml] = mail_dir.iterdir()
    sparks = _sparklines(eml.read_text())
    assert sparks["gmv"].size == (110, 26)
    assert _drawn_height(sparks["gmv"]) <= 6  # 9,900 ↔ 10,100: a wiggle near the top, not the whole height
    assert _drawn_height(sparks["new_violations"]) <= 10  # the first penalty in two weeks: a step, not a wall
    assert _drawn_height(sparks["orders"]) >= 12  # 100 → 30 is a fall most of the way down
