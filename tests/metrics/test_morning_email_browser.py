"""The morning email in the browser: a manager opens the email of any rolled-up day from the daily page (or the
email's own "view in the browser" link) and reads what the email says, its images in the page; an operator, a
stranger to the store, or a day not rolled up yet gets no email."""

import base64
import io
import re
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from PIL import Image

from metrics.email import send_due_morning_emails
from metrics.models import Anomaly, DailyMetric
from metrics.rollup import rollup_day
from tests.factories import MembershipFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_to_outbox")]
DAY = date(2026, 5, 4)  # a Monday; store A is in Asia/Shanghai
NEXT_MORNING = datetime(2026, 5, 5, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def manager(store_a):
    return MembershipFactory(store=store_a, user=UserFactory(username="boss", email="boss@example.com"),
                             role="manager")


@pytest.fixture
def monday(store_a):
    for day, total in ((date(2026, 5, 3), "100"), (DAY, "40")):
        ts = datetime(day.year, day.month, day.day, 12, tzinfo=store_a.zone)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store_a, day)
    return Anomaly.objects.create(store=store_a, day=DAY, metric="gmv", value=40, baseline=100, band_low=80,
                                  band_high=120, change=-0.6, score=-9, direction="down", explanation="GMV −60 %")


def browser_page(client, store, day=None) -> tuple[int, str]:
    with time_machine.travel(NEXT_MORNING, tick=False):
        query = {"day": day.isoformat()} if day else {}
        response = client.get(reverse("metrics:morning_email", args=[store.slug]), query)
    return response.status_code, response.content.decode()


def test_the_browser_shows_what_the_email_said(client, manager, store_a, monday):
    with time_machine.travel(NEXT_MORNING, tick=False):
        assert send_due_morning_emails() == 1
    sent = mail.outbox[0]
    client.force_login(manager.user)
    status, page = browser_page(client, store_a, DAY)
    assert status == 200
    assert f"<strong>{sent.subject}</strong>" in page  # the subject, over the email it came with
    # The email's own link leads here, and the page is the email's HTML part, images aside.
    html = sent.alternatives[0][0]
    link = re.search(r'href="https?://[^"]*(/metrics/daily/[^"]+/email/\?day=2026-05-04)"', html)[1]
    assert link == reverse("metrics:morning_email", args=[store_a.slug]) + "?day=2026-05-04"
    body = text_of(html.split("<body", 1)[1].split(">", 1)[1]).replace(" · view in the browser.", ".")
    assert "GMV −60 %" in body and body in text_of(page)  # every word of the email, in its order
    assert "view in the browser" not in page  # it is the browser
    # A page of its own, not the desk's layout: it names its icon, or the browser asks for /favicon.ico (a 404).
    assert '<link rel="icon" href="data:,">' in page and 'rel="icon"' not in html


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" .", ".")


def test_its_images_are_in_the_page_not_behind_content_ids(client, manager, store_a, monday):
    client.force_login(manager.user)
    _, page = browser_page(client, store_a, DAY)
    assert "cid:" not in page
    sparks = re.findall(r'<img src="data:image/png;base64,([^"]+)" width="110" height="26"', page)
    assert sparks, "the sparklines are in the page"
    assert Image.open(io.BytesIO(base64.b64decode(sparks[0]))).size == (110, 26)


def test_the_daily_page_links_a_manager_to_the_days_email(client, manager, store_a, monday):
    client.force_login(manager.user)
    with time_machine.travel(NEXT_MORNING, tick=False):
        page = client.get(reverse("metrics:store_daily", args=[store_a.slug])).content.decode()
    assert (f'href="{reverse("metrics:morning_email", args=[store_a.slug])}?day=2026-05-04">'
            "Morning email of Mon 4 May</a>") in page


def test_without_a_day_it_shows_yesterdays_email(client, manager, store_a, monday):
    client.force_login(manager.user)
    status, page = browser_page(client, store_a)
    assert status == 200 and "The morning email of Mon 4 May" in page


def test_an_operator_gets_no_link_and_no_email(client, operator_a, store_a, monday):
    client.force_login(operator_a)
    with time_machine.travel(NEXT_MORNING, tick=False):
        daily = client.get(reverse("metrics:store_daily", args=[store_a.slug])).content.decode()
    assert "Morning email of" not in daily
    assert browser_page(client, store_a, DAY)[0] == 403


def test_another_stores_email_is_not_found(client, store_a, store_b, monday):
    stranger = MembershipFactory(store=store_b, role="manager").user
    client.force_login(stranger)
    assert browser_page(client, store_a, DAY)[0] == 404


def test_a_day_not_rolled_up_says_so_and_rolls_nothing_up(client, manager, store_a, monday):
    client.force_login(manager.user)
    status, page = browser_page(client, store_a, date(2026, 4, 20))
    assert status == 404 and "Mon 20 Apr is not rolled up yet" in page
    assert not DailyMetric.objects.filter(store=store_a, day=date(2026, 4, 20)).exists()


def axis_text_height(png: bytes, shown_width: int) -> float:
    """How tall the dates under a chart's x axis read, in CSS pixels, with the image shown `shown_width` wide: the
    band of dark pixels at the bottom of the image's right half (on its left the y axis's "0" stands beside them)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    dark = (np.asarray(image)[:, image.width // 2:] < 128).any(axis=1)
    bottom = int(np.flatnonzero(dark)[-1])
    top = bottom
    while top > 0 and dark[top - 1]:
        top -= 1
    return (bottom - top + 1) * shown_width / image.width


@pytest.mark.skipif(not shutil.which("chromium"), reason="the anomaly chart is exported by kaleido with Chromium")
def test_its_chart_reads_as_the_email_does_on_a_phone_not_twice_as_large(client, manager, store_a):
    for n in range(28):  # 7 April to 4 May, when GMV fell to 20
        ts = datetime(2026, 4, 7, 12, tzinfo=store_a.zone) + timedelta(days=n)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if n < 27 else 20))
        rollup_day(store_a, ts.date())
    fell = Anomaly.objects.create(store=store_a, day=DAY, metric="gmv", value=20, baseline=100, band_low=80,
                                  band_high=120, change=-0.8, score=-9, direction="down", explanation="GMV −80 %")
    with time_machine.travel(NEXT_MORNING, tick=False):
        assert send_due_morning_emails() == 1
    emailed = next(part.get_payload(decode=True) for part in mail.outbox[0].message().walk()
                   if part["Content-ID"] == f"<anomaly-{fell.pk}-phone@opsdesk>")
    client.force_login(manager.user)
    _, page = browser_page(client, store_a, DAY)
    shown = re.search(r'<img src="data:image/png;base64,([^"]+)" width="(\d+)" height="240"', page)
    # The demo's browser view drew the dates 600 px wide as the email draws them for a phone's 300: twice the
    # email's small print, as large as its headings.
    on_a_phone = axis_text_height(emailed, 300)
    assert axis_text_height(base64.b64decode(shown[1]), int(shown[2])) == pytest.approx(on_a_phone, rel=0.25)
