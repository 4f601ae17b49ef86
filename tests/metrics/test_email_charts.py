"""The morning email's anomaly charts: exported in one batch, the same images as one by one, none without Chromium."""

import logging
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import kaleido
import pytest
import time_machine
from django.core import mail

from metrics import charts
from metrics.charts import PngSize, email_figures, figure_png, figure_pngs
from metrics.email import send_due_morning_emails
from metrics.models import Anomaly
from metrics.rollup import rollup_day
from tests.factories import MembershipFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_to_outbox")]
LONDON = ZoneInfo("Europe/London")
REPORT_DAY = date(2026, 5, 4)
needs_chromium = pytest.mark.skipif(not shutil.which("chromium"), reason="charts are exported by kaleido with Chromium")


@pytest.fixture
def three_anomalies(store_a):
    """Store A's GMV, orders and average order value of 4 May, each an open anomaly with 28 days of numbers."""
    for day in range(28):  # 7 April to 4 May, when two orders of 100 became one of 20
        ts = datetime(2026, 4, 7, 12, tzinfo=store_a.zone) + timedelta(days=day)
        for _ in range(2 if day < 27 else 1):
            OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 20))
        rollup_day(store_a, ts.date())
    return [Anomaly.objects.create(store=store_a, day=REPORT_DAY, metric=metric, value=value, baseline=usual,
                                   band_low=usual * 0.8, band_high=usual * 1.2, change=value / usual - 1,
                                   score=-9 + i, direction="down", explanation=f"{metric} fell")
            for i, (metric, value, usual) in enumerate((("gmv", 20, 200), ("orders", 1, 2), ("aov", 20, 100)))]


@pytest.fixture(autouse=True)
def no_kept_images(monkeypatch):
    """Each test exports its own: an earlier test's images of the same figures would be reused."""
    monkeypatch.setattr(charts, "_exported", charts.OrderedDict())


def _manager(store, name: str):
    return MembershipFactory(store=store, user=UserFactory(username=name, email=f"{name}@example.com"),
                             role="manager", email_timezone="Europe/London")


def _send_the_emails():
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        return send_due_morning_emails()


def _inline_pngs(message) -> dict[str, bytes]:
    return {part["Content-ID"].strip("<>"): part.get_payload(decode=True)
            for part in message.message().walk() if part.get_content_type() == "image/png"}


@needs_chromium
def test_batched_chart_images_are_the_images_exported_one_by_one(three_anomalies):
    sizes = (PngSize(600, 240, scale=2), PngSize(600, 240))
    exports = [(fig, size) for a in three_anomalies for fig, size in zip(email_figures(a), sizes, strict=True)]
    one_by_one = [figure_png(fig, *size) for fig, size in exports]
    assert all(one_by_one)
    assert figure_pngs(exports) == one_by_one  # byte for byte: the same browser draws them, three tabs at once


@needs_chromium
def test_an_emails_six_chart_images_take_one_browser_call(three_anomalies, store_a, monkeypatch):
    calls = []

    def counted(name):
        real = getattr(kaleido, name)
        monkeypatch.setattr(kaleido, name, lambda *args, **kwargs: calls.append(name) or real(*args, **kwargs))

    counted("calc_fig_sync")
    counted("write_fig_from_object_sync")
    _manager(store_a, "boss")
    assert _send_the_emails() == 1
    images = _inline_pngs(mail.outbox[0])
    assert {f"anomaly-{a.pk}-{shown}@opsdesk" for a in three_anomalies for shown in ("desktop", "phone")} <= set(images)
    assert calls == ["write_fig_from_object_sync"]  # were six calc_fig_sync calls, one image at a time


@needs_chromium
def test_a_stores_managers_get_the_same_charts_exported_once(three_anomalies, store_a, monkeypatch):
    calls = []
    real = kaleido.write_fig_from_object_sync
    monkeypatch.setattr(kaleido, "write_fig_from_object_sync",
                        lambda exports, *args, **kwargs: calls.append(len(exports)) or real(exports, *args, **kwargs))
    _manager(store_a, "boss")
    _manager(store_a, "deputy")
    assert _send_the_emails() == 2
    first, second = (_inline_pngs(message) for message in mail.outbox)
    charted = {cid for cid in first if cid.startswith("anomaly-")}
    assert len(charted) == 6 and {cid: first[cid] for cid in charted} == {cid: second[cid] for cid in charted}
    assert calls == [6]  # the deputy's email reuses the boss's six images: were [6, 6]


def test_without_chromium_the_emails_go_without_charts_and_it_is_said_once(three_anomalies, store_a, monkeypatch,
                                                                            caplog):
    _manager(store_a, "boss")
    _manager(store_a, "deputy")
    def no_browser(*args, **kwargs):
        raise RuntimeError("Kaleido v1 and later requires Chrome to be installed.")

    monkeypatch.setattr(charts, "_kaleido_state", "idle")
    monkeypatch.setattr(kaleido, "start_sync_server", no_browser)
    with caplog.at_level(logging.WARNING, logger="metrics.charts"):
        assert _send_the_emails() == 2
    for message in mail.outbox:
        assert not any(cid.startswith("anomaly-") for cid in _inline_pngs(message))
        assert "gmv fell" in message.body  # the anomalies are still there, in words
    assert caplog.text.count("no Chromium for chart images") == 1
