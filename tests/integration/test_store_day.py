"""A store's morning end to end, on the real Olist sample and the real services.

The history is rolled up as an operator would (`manage.py backfill`); then beat fires the morning email twice
at 08:05 São Paulo time on Sat 25 Nov 2017, a real worker on Redis rolls up and judges Black Friday (31 paid
orders, usually 7 on a Friday) and writes one email to a mail folder. Its figures equal an independent pandas
computation over the raw CSVs, and the links in it open, for that manager only, the pages they name.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from metrics.models import Anomaly, MorningEmail
from metrics.olist import load_store
from metrics.tasks import send_morning_emails
from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.metrics.test_rollup import expected_from_csv
from tests.worker import wait_for, worker_with_mail

pytestmark = pytest.mark.worker
SITE = "https://desk.example.com"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def mail_worker(transactional_db, tmp_path):
    # One pool process: the two fires take turns (tests/metrics/test_worker_email.py races them on two).
    with worker_with_mail(tmp_path, concurrency=1, SITE_URL=SITE) as pair:
        yield pair


def parts(path) -> tuple[EmailMessage, str, str]:
    """The message as a mail reader sees it (headers decoded), its text part and its HTML part."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return message, message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_black_friday_reaches_the_manager_once_with_the_csvs_figures_and_working_links(olist_dir, mail_worker):
    worker, mail_dir = mail_worker
    olist = StoreFactory(name="Olist", slug="olist", timezone="America/Sao_Paulo", country="BR", currency="BRL")
    other = StoreFactory(name="Other Shop", slug="other-shop", timezone="America/Sao_Paulo", country="BR",
                         currency="BRL")
    manager = MembershipFactory(store=olist, user=UserFactory(username="gerente", email="gerente@example.com"),
                                role="manager", email_timezone="America/Sao_Paulo").user
    stranger = MembershipFactory(store=other, user=UserFactory(username="vizinho", email="vizinho@example.com"),
                                 role="manager", email_timezone="America/Sao_Paulo").user
    load_store(olist, olist_dir)
    call_command("backfill", "--from", "2017-07-01", "--to", "2017-11-23", "--store", "olist", "--no-detect",
                 stdout=io.StringIO())

    at_eight = datetime(2017, 11, 25, 8, 5, tzinfo=SAO_PAULO).isoformat()
    send_morning_emails.delay(at_eight)
    send_morning_emails.delay(at_eight)  # beat fired twice
    wait_for(lambda: worker.log().count("succeeded") >= 2, timeout=120)

    sent = {parts(path)[0]["To"]: path for path in mail_dir.iterdir()}
    assert sorted(sent) == ["gerente@example.com", "vizinho@example.com"]  # one each, not two
    assert MorningEmail.objects.filter(sent_at__isnull=False).count() == 2
    message, text, html = parts(sent["gerente@example.com"])

    per_day, _ = expected_from_csv(olist_dir)
    friday = per_day.loc["2017-11-24"]
    assert friday["orders"] == 31
    assert "Olist on Fri 24 Nov 2017" in text
    assert f"GMV (main payments): {friday['gmv']:,.2f} BRL" in text
    assert f"Paid orders: {int(friday['orders'])}\n" in text
    assert f"Sub-order payments (lines): {friday['sub_payments']:,.2f} BRL" in text
    assert "Fri 24 Nov" in message["Subject"] and "Olist" in message["Subject"]
    assert "Paid orders +" in text and "usually 7 on a Friday" in text
    # Every order was paid one way ("other": the sample's payments rarely join): that way moved with them.
    assert "Anomalies (1 open)" in text and "Moved with it: Paid orders · Other" in text
    assert re.search(r'<img [^>]*src="cid:', html), "the HTML part carries its charts"
    assert "Other Shop" not in text and "Other Shop" not in html
    assert "Olist" not in parts(sent["vizinho@example.com"])[1]

    # The anomaly's link opens its page for this manager, and for no one outside the store.
    orders_up = Anomaly.objects.get(store=olist, day="2017-11-24", metric="orders", dimension="")
    link = SITE + reverse("metrics:anomaly", args=[orders_up.pk])
    assert link in text
    path = link.removeprefix(SITE)
    for user, status in ((manager, 200), (stranger, 404)):
        client = Client()
        client.force_login(user)
        assert client.get(path).status_code == status, user.username
    daily = Client()
    daily.force_login(manager)
    daily_link = re.search(rf"{re.escape(SITE)}(/metrics/daily/[\w-]+/\?day=2017-11-24[^\s]*)", text).group(1)
    page = daily.get(daily_link.split("#")[0]).content.decode()
    assert f"{friday['gmv']:,.2f}" in page
