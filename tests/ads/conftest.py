"""Fixtures for the paid-promotion tests: ad plans in store A (Asia/Shanghai) and store B."""

import re
from datetime import date, timedelta
from decimal import Decimal

import factory
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import AdChannel, AdDailyPerformance, AdPlan, AdPlanStatus, AdSpendSnapshot
from stores.models import ImportJob
from stores.tasks import run_import
from tests.factories import StoreFactory


class AdPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdPlan

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    channel = AdChannel.SEARCH
    status = AdPlanStatus.ACTIVE
    daily_budget = Decimal("240.00")


class AdDailyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdDailyPerformance

    plan = factory.SubFactory(AdPlanFactory)
    impressions = 1000
    clicks = 50
    spend = Decimal("100.00")
    orders = 5
    sales = Decimal("400.00")


class SnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdSpendSnapshot

    plan = factory.SubFactory(AdPlanFactory)
    spend_today = Decimal("0.00")


@pytest.fixture
def search_plan(store_a):
    return AdPlanFactory(store=store_a, name="Longjing search", channel=AdChannel.SEARCH)


@pytest.fixture
def plan_b(store_b):
    return AdPlanFactory(store=store_b, name="B search")


def png_bytes(size=(120, 80), color="red", fmt="PNG") -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_creative(media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns.models import AdCreative

    def make(plan, name, **kw):
        image = SimpleUploadedFile(f"{name}.png", png_bytes(), content_type="image/png")
        return AdCreative.objects.create(plan=plan, name=name, headline=kw.pop("headline", name), image=image, **kw)

    return make


def upload_report(client, store, text: str | bytes, fmt: str = ""):
    """Post a report on the ad import page; the page answers with a redirect to the job's status page."""
    raw = text.encode() if isinstance(text, str) else text
    return client.post(reverse("campaigns:ad_import"), {
        "store": store.pk, "format": fmt, "file": SimpleUploadedFile("r.csv", raw, "text/csv")})


def imported(client, store, text: str | bytes, fmt: str = "") -> str:
    """Upload a report, have its job run (the worker's task, in this process: tests/ads/test_import_job.py runs
    it on a real worker) and return its status page."""
    response = upload_report(client, store, text, fmt)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert (job.kind, job.store_id) == ("ad_report", store.pk)
    run_import(job.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def text(response) -> str:
    """A page's words without its markup, spaces squeezed (no-break ones too)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("\u00a0", " ")


def spend_daily(plan, amount: str, first: date, last: date):
    """A daily report of `amount` spent for each day from `first` to `last`."""
    day = first
    while day <= last:
        AdDailyFactory(plan=plan, date=day, spend=Decimal(amount))
        day += timedelta(days=1)
