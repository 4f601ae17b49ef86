"""Ad reports uploaded on the ad import page are imported by a real worker, as order files are: the status page
shows the report's summary or every bad line, and the same report again replaces, never adds."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stores.models import ImportJob
from tests.worker import wait_for

from .conftest import upload_report

pytestmark = pytest.mark.worker

# A through-train report as the platform exports it: GBK, Chinese headers.
REPORT = ("日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n"
          "2026-11-20,Longjing search,1000,40,25.50,2,300\n"
          "2026-11-21,Longjing search,900,30,20.00,1,150\n").encode("gb18030")


@pytest.fixture
def media(settings, tmp_path):
    """Uploads in the test's folder; requested before `celery_worker`, which hands MEDIA_ROOT to the worker."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def job_of(response) -> tuple[ImportJob, str]:
    assert response.status_code == 302
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1])), response["Location"]


def finished(job):
    job.refresh_from_db()
    return job.finished


def test_the_worker_imports_an_uploaded_report_and_the_same_report_again_replaces_its_days(
        media, celery_worker, client_a, search_plan):
    job, page = job_of(upload_report(client_a, search_plan.store, REPORT, fmt="through-train"))
    assert job.options == {"format": "through-train"}
    stored = media / job.file.name
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "done" and (job.rows, job.created, job.duplicates) == (2, 2, 0)
    assert ("Imported ad report (through-train): 2 row(s) for 1 plan(s) from 2026-11-20 to 2026-11-21: "
            "2 new day(s), 0 replaced.") in html
    assert f'href="/campaigns/ads/import/?store={search_plan.store.slug}">Import another file</a>' in html
    assert not stored.exists() and job.file.name == ""

    again, page = job_of(upload_report(client_a, search_plan.store, REPORT))  # detected from the header
    wait_for(lambda: finished(again))
    assert "2 new day(s)" not in client_a.get(page).content.decode() and (again.created, again.duplicates) == (0, 2)
    assert list(search_plan.daily.order_by("date").values_list("spend", flat=True)) == [Decimal("25.50"),
                                                                                        Decimal("20.00")]


def test_bad_lines_of_a_report_are_named_on_the_status_page_and_nothing_is_saved(media, celery_worker, client_a,
                                                                                search_plan):
    bad = REPORT + b"2026-11-22,Oolong search,10,1,1,0,0\n2026-11-23,Longjing search,10,1,-4,0,0\n"
    job, page = job_of(upload_report(client_a, search_plan.store, bad))
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "failed" and job.error_count == 2 and "Nothing was imported: 2 problems" in html
    assert "<td class=\"num\">4</td><td>plan: no ad plan named &#x27;Oolong search&#x27; in " in html
    assert "<td class=\"num\">5</td><td>spend: " in html
    assert not search_plan.daily.exists()


def test_the_date_order_and_decimal_mark_chosen_on_the_ad_import_page_reach_the_worker(media, celery_worker,
                                                                                       client_a, search_plan):
    report = ("日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n"
              '11/03/2026,Longjing search,1000,40,"25,500",2,300\n'
              '11/05/2026,Longjing search,900,30,"1,250",1,150\n').encode()
    job, page = job_of(upload_report(client_a, search_plan.store, report))
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "failed" and "choose how dates are written on the upload form" in html
    assert "or choose the decimal mark on the upload form" in html
    form = client_a.get(reverse("campaigns:ad_import")).content.decode()
    assert "Dates are written" in form and "Decimal mark" in form

    response = client_a.post(reverse("campaigns:ad_import"), {
        "store": search_plan.store.pk, "format": "", "dates": "month first", "mark": ".",
        "file": SimpleUploadedFile("r.csv", report, "text/csv")})
    job, page = job_of(response)
    assert job.options == {"format": None, "dates": "month first", "mark": "."}
    wait_for(lambda: finished(job))
    assert job.status == "done", job.errors
    assert dict(search_plan.daily.values_list("date", "spend")) == {
        date(2026, 11, 3): Decimal("25500.00"), date(2026, 11, 5): Decimal("1250.00")}
