"""Order files are imported by a real worker: the upload answers at once, the status page follows the job,
a job delivered twice imports once, a lost task is queued again, and a job that never finishes is given up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stores import import_jobs
from stores.models import ImportJob, Order
from stores.tasks import run_import
from tests.worker import wait_for

pytestmark = pytest.mark.worker

ORDERS = ("order_id,placed_at,paid_at,total,buyer_phone,sku,title,quantity,unit_price\n"
          "J-1,2026-11-20 10:00:00,2026-11-20 10:05:00,30.00,+8613800138000,MUG-1,Mug,1,20.00\n"
          "J-1,,,,,TEA-1,Tea,1,10.00\n"
          "J-2,2026-11-20 11:00:00,,25.00,,MUG-1,Mug,1,25.00\n")


@pytest.fixture
def media(settings, tmp_path):
    """Uploads in the test's folder; requested before `celery_worker`, which hands MEDIA_ROOT to the worker."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, store, text, name="orders-november.csv"):
    response = client.post(reverse("stores:import", args=[store.slug]),
                           {"kind": "orders", "file": SimpleUploadedFile(name, text.encode(), "text/csv")})
    assert response.status_code == 302
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1])), response["Location"]


def finished(job):
    job.refresh_from_db()
    return job.finished


def test_the_worker_imports_the_upload_and_the_status_page_shows_the_summary(media, celery_worker, client_a,
                                                                             store_a):
    job, page = upload(client_a, store_a, ORDERS)
    stored = media / job.file.name
    assert job.file.name.startswith(f"imports/{store_a.pk}/") and "november" not in job.file.name
    wait_for(lambda: finished(job))
    assert job.status == "done" and (job.rows, job.created, job.duplicates) == (3, 2, 0)
    html = client_a.get(page).content.decode()
    assert "Imported orders (opsdesk): 3 rows, 2 created, 0 already there, 3 lines, 2 new products." in html
    assert store_a.orders.count() == 2 and store_a.members.count() == 1
    assert not stored.exists() and job.file.name == ""  # buyers' phone numbers are not kept on disk

    again, page = upload(client_a, store_a, ORDERS)  # the same file again: harmless
    wait_for(lambda: finished(again))
    assert "3 rows, 0 created, 2 already there" in client_a.get(page).content.decode()
    assert store_a.orders.count() == 2


def test_bad_lines_are_listed_on_the_status_page_and_nothing_is_imported(media, celery_worker, client_a, store_a):
    job, page = upload(client_a, store_a, ORDERS + "J-3,yesterday,,5.00,,MUG-1,Mug,1,abc\n")
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "failed" and job.error_count == 2
    assert "Nothing was imported: 2 problems" in html
    assert "<td class=\"num\">5</td><td>placed_at: &#x27;yesterday&#x27; is not a date and time" in html
    assert "<td class=\"num\">5</td><td>unit_price: &#x27;abc&#x27; is not an amount</td>" in html
    assert not Order.objects.exists()


def test_a_job_delivered_twice_imports_once(media, celery_worker, store_a, operator_a):
    job = import_jobs.start(store_a, operator_a, "orders", SimpleUploadedFile("o.csv", ORDERS.encode()))
    run_import.delay(job.pk)  # a second delivery of the same job, running beside the first (two processes)
    wait_for(lambda: celery_worker.log().count("stores.tasks.run_import[") >= 4)  # both received and finished
    job.refresh_from_db()
    assert (job.status, job.created, job.duplicates) == ("done", 2, 0)  # not "0 created, 2 already there"
    assert store_a.orders.count() == 2
    assert run_import(job.pk) == "done" and store_a.orders.count() == 2  # and once more, later: nothing


def test_a_job_whose_task_was_lost_is_queued_again_by_the_sweep(media, celery_worker, store_a):
    job = ImportJob(store=store_a, kind="orders", name="o.csv", size=len(ORDERS))
    job.file.save("o.csv", SimpleUploadedFile("o.csv", ORDERS.encode()), save=False)
    job.save()  # stored, but no task queued (the broker was down when it was uploaded)
    assert import_jobs.requeue_stale(now=job.created_at + timedelta(minutes=1)) == []  # too early to tell
    assert import_jobs.requeue_stale(now=job.created_at + timedelta(minutes=3)) == [job.pk]
    wait_for(lambda: finished(job))
    assert job.status == "done" and store_a.orders.count() == 2


def test_a_job_that_never_finishes_is_given_up_with_a_reason(media, store_a, client_a,
                                                           django_capture_on_commit_callbacks):
    job = ImportJob(store=store_a, kind="orders", name="o.csv", status=ImportJob.Status.RUNNING)
    job.file.save("o.csv", SimpleUploadedFile("o.csv", ORDERS.encode()), save=False)
    job.save()  # its worker stopped mid-import each time it was tried
    stored = media / job.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs.requeue_stale(now=job.created_at + timedelta(hours=4)) == []
    job.refresh_from_db()
    assert job.status == "failed" and not stored.exists()
    html = client_a.get(job.get_absolute_url()).content.decode()
    assert "never finished (its worker stopped each time); nothing was imported. Split the file" in html


def test_the_decimal_mark_chosen_on_the_upload_page_reaches_the_worker(media, celery_worker, client_a, store_a):
    text = ('order_id,placed_at,total,sku,quantity,unit_price\n'
            'M-1,03.11.2026 14:05,"1.250",MUG-1,1,"1.250"\n')  # a German file: 1.250 is a thousand and more
    job, page = upload(client_a, store_a, text)
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "failed" and "or choose the decimal mark on the upload form" in html
    form = client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()
    assert 'name="mark"' in form and "Tell from the file" in form

    response = client_a.post(reverse("stores:import", args=[store_a.slug]), {
        "kind": "orders", "mark": ",", "file": SimpleUploadedFile("o.csv", text.encode(), "text/csv")})
    job = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert job.options == {"mark": ","}
    wait_for(lambda: finished(job))
    assert job.status == "done", job.errors
    order = store_a.orders.get()
    assert (order.total, order.placed_at.astimezone(store_a.zone).strftime("%d %b %H:%M")) == (
        Decimal("1250.00"), "03 Nov 14:05")
