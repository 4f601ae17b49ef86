"""Upkeep of import jobs: finished jobs older than IMPORT_JOB_RETENTION_DAYS are pruned every night with any
file they left behind (jobs still waiting or importing are kept), and a long import shows on its status page
how many of the file's rows are written, from another connection while the import's transaction is open."""

import io
import os
import threading
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django_celery_beat.models import PeriodicTask

from stores import import_jobs, importers
from stores.models import ImportJob, Order
from stores.tasks import prune_import_jobs
from tests.marks import concurrent_transactions

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORDERS = ("order_id,placed_at,paid_at,total,sku,title,quantity,unit_price\n"
          + "".join(f"P-{n},2026-11-20 10:00:00,2026-11-20 10:05:00,20.00,MUG-1,Mug,1,20.00\n" for n in range(6)))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def job_of(store, status, age_days, with_file=False):
    """A job uploaded and (when finished) finished `age_days` before NOW."""
    at = NOW - timedelta(days=age_days)
    with time_machine.travel(at, tick=False):
        job = ImportJob(store=store, kind="orders", name="o.csv", status=status)
        if with_file:
            job.file.save("o.csv", ContentFile(b"order_id\n"), save=False)
        if status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            job.finished_at = at
        job.save()
    return job


@time_machine.travel(NOW, tick=False)
def test_finished_jobs_past_the_retention_are_pruned_with_their_files_and_running_ones_kept(media, store_a,
                                                                                           settings):
    settings.IMPORT_JOB_RETENTION_DAYS = 90
    imported = job_of(store_a, ImportJob.Status.DONE, 91)
    refused_left_file = job_of(store_a, ImportJob.Status.FAILED, 120, with_file=True)
    recent = job_of(store_a, ImportJob.Status.DONE, 89)
    waiting = job_of(store_a, ImportJob.Status.QUEUED, 200, with_file=True)
    importing = job_of(store_a, ImportJob.Status.RUNNING, 200, with_file=True)
    left_file = media / refused_left_file.file.name
    assert left_file.exists()

    assert import_jobs.prune(batch=1) == 2  # batches of one: each job in its own short transaction
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk, importing.pk}
    assert not ImportJob.objects.filter(pk__in=[imported.pk, refused_left_file.pk]).exists()
    assert not left_file.exists()
    assert (media / waiting.file.name).exists() and (media / importing.file.name).exists()
    assert prune_import_jobs() == 0  # the nightly task, run again: nothing more to do


@time_machine.travel(NOW, tick=False)
def test_an_upload_file_no_job_holds_any_more_is_deleted_by_the_prune(media, store_a):
    kept = job_of(store_a, ImportJob.Status.QUEUED, 3, with_file=True)
    orphan = media / "imports" / str(store_a.pk) / "0123456789abcdef.csv"  # its job's commit deleted, not it
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_text("order_id,buyer_phone\n1,+8613800138000\n")
    old = (NOW - timedelta(days=2)).timestamp()
    os.utime(orphan, (old, old))
    import_jobs.prune()
    assert not orphan.exists() and (media / kept.file.name).exists()


def test_a_pruned_job_s_page_is_a_404_that_says_finished_imports_are_removed(client_a, store_a, settings):
    settings.IMPORT_JOB_RETENTION_DAYS = 90
    job = ImportJob.objects.create(store=store_a, kind="orders", name="o.csv", status="done")
    page = job.get_absolute_url()
    job.delete()
    response = client_a.get(page)
    assert response.status_code == 404
    assert "Finished imports are removed 90 days after they finish" in response.content.decode()


def test_beat_prunes_import_jobs_every_night(db):
    call_command("setup_schedules", stdout=io.StringIO())
    prune = PeriodicTask.objects.get(task="stores.tasks.prune_import_jobs")
    assert prune.interval is None and (prune.crontab.minute, prune.crontab.hour) == ("20", "3")
    call_command("setup_schedules", stdout=io.StringIO())
    assert PeriodicTask.objects.filter(task="stores.tasks.prune_import_jobs").count() == 1


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_the_status_page_shows_the_rows_written_while_the_import_runs(media, store_a, store_b, operator_a,
                                                                       monkeypatch):
    """The page is read on another connection (another thread) in the middle of the import's transaction, when
    the third of three batches of two orders is being written."""
    monkeypatch.setattr(importers, "ORDER_BATCH", 2)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", 0)  # every batch, not at most once a second
    job = import_jobs.start(store_a, operator_a, "orders", SimpleUploadedFile("o.csv", ORDERS.encode()))
    pages = []

    def read_page():
        client = Client()
        client.force_login(operator_a)
        pages.append(client.get(job.get_absolute_url()).content.decode())
        pages.append(Order.objects.filter(store=store_a).count())  # nothing committed yet
        job_b = ImportJob.objects.create(store=store_b, kind="orders", name="b.csv")
        pages.append(client.get(f"/stores/{store_a.slug}/import/{job_b.pk}/").status_code)
        connections.close_all()

    write = importers.create_orders
    batches = []

    def write_and_look(*args, **kwargs):
        batches.append(1)
        if len(batches) == 3:
            reader = threading.Thread(target=read_page)
            reader.start()
            reader.join()
        write(*args, **kwargs)

    monkeypatch.setattr(importers, "create_orders", write_and_look)
    assert import_jobs.run(job.pk).status == "done"
    during, committed, other_store = pages
    assert committed == 0
    assert "Importing" in during and "4 of 6 rows written" in during
    assert '<progress max="6" value="4">' in during and '<meta http-equiv="refresh"' in during
    assert other_store == 404  # another store's job, under this store's address
    client = Client()
    client.force_login(operator_a)
    after = client.get(job.get_absolute_url()).content.decode()
    assert "Imported orders (opsdesk): 6 rows, 6 created" in after and "rows written" not in after


VIOLATIONS = ("external_id,kind,occurred_at,points,amount\n"
              + "".join(f"V-{n},late shipment,2026-11-20 10:00,2,5.00\n" for n in range(6)))
REVIEWS = ("external_id,rating,created_at,title,body\n"
           + "".join(f"R-{n},{1 + n % 5},2026-11-20 10:00,Mug,{'Broken' if n % 5 == 0 else 'Fine'}\n"
                     for n in range(6)))
AD_REPORT = ("日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n"
             + "".join(f"2026-11-0{n + 1},Longjing search,1000,50,12.50,2,99.90\n" for n in range(6)))
# (kind, the file of six rows, where its batch size is set, the model each batch writes, what the finished page says)
KINDS = {
    "orders": (ORDERS, ("stores.importers", "ORDER_BATCH"), "stores.Order",
               "Imported orders (opsdesk): 6 rows, 6 created, 0 already there"),
    "violations": (VIOLATIONS, ("stores.violations_import", "BATCH"), "stores.Violation",
                   "Imported violations (opsdesk): 6 rows, 6 created, 0 already there"),
    "reviews": (REVIEWS, ("reviews.importers", "BATCH"), "reviews.Review",
                "Imported reviews (csv): 6 rows: 6 reviews created, 0 already imported, 0 repeated ids in the file "
                "(first kept), 3 cases opened"),
    "ad_report": (AD_REPORT, ("campaigns.ads_importers", "BATCH"), "campaigns.AdDailyPerformance",
                  "Imported ad report (through-train): 6 row(s) for 1 plan(s) from 2026-11-01 to 2026-11-06: 6 new "
                  "day(s), 0 replaced."),
}


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_import_shows_the_rows_written_while_it_runs_and_its_summary_once_done(
        kind, media, store_a, operator_a, monkeypatch):
    """The page is read on another connection while the third of three batches of two rows is being written."""
    from django.apps import apps
    from django.db.models import QuerySet

    from campaigns.models import AdPlan  # the ad report's plan

    text, (module, batch), model, summary = KINDS[kind]
    model = apps.get_model(model)
    monkeypatch.setattr(import_module(module), batch, 2)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", 0)  # every batch, not at most once a second
    AdPlan.objects.create(store=store_a, name="Longjing search", channel="search", daily_budget=100)
    job = import_jobs.start(store_a, operator_a, kind, SimpleUploadedFile(f"{kind}.csv", text.encode()))
    pages, batches = [], []

    def read_page():
        client = Client()
        client.force_login(operator_a)
        pages.append(client.get(job.get_absolute_url()).content.decode())
        connections.close_all()

    bulk_create = QuerySet.bulk_create

    def write_and_look(self, objs, *args, **kwargs):
        if self.model is model:
            batches.append(len(objs))
            if len(batches) == 3:
                reader = threading.Thread(target=read_page)
                reader.start()
                reader.join()
        return bulk_create(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", write_and_look)
    assert import_jobs.run(job.pk).status == "done", job.errors
    assert batches == [2, 2, 2]
    [during] = pages
    assert "Importing" in during and "4 of 6 rows written" in during
    assert '<progress max="6" value="4">' in during and '<meta http-equiv="refresh"' in during
    client = Client()
    client.force_login(operator_a)
    after = client.get(job.get_absolute_url()).content.decode()
    assert summary in after and "rows written" not in after and "<progress" not in after


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_a_review_import_says_it_is_opening_cases_once_every_row_is_written(media, store_a, operator_a,
                                                                           monkeypatch):
    from reviews import services

    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY", 0)
    job = import_jobs.start(store_a, operator_a, "reviews", SimpleUploadedFile("r.csv", REVIEWS.encode()))
    pages = []
    open_cases = services.open_cases_for

    def read_page():  # on another connection: its log-in is committed, the import's rows are not
        client = Client()
        client.force_login(operator_a)
        pages.append(client.get(job.get_absolute_url()).content.decode())
        connections.close_all()

    def look_and_open(*args, **kwargs):
        reader = threading.Thread(target=read_page)
        reader.start()
        reader.join()
        return open_cases(*args, **kwargs)

    monkeypatch.setattr("reviews.importers.open_cases_for", look_and_open)
    assert import_jobs.run(job.pk).status == "done"
    assert "All 6 rows written; opening cases for the bad reviews." in pages[0]
    assert '<progress max="6" value="6">' in pages[0]
