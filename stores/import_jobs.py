"""Import jobs: an uploaded CSV is stored and imported by a worker, not inside the upload's request.

`start` stores the file (Django's default storage, under MEDIA_ROOT/imports/) and queues
`stores.tasks.run_import` once the job is committed; the page answers at once with the job's status page.
`run` does the import with the kind's importer (`importers()`: all or nothing, every bad row named) and
records the summary, or the errors, on the job.

Safe to run twice: the job's row is locked while it runs (FOR UPDATE SKIP LOCKED), so a second delivery of
the task while the first works returns at once, and one after it finds the job finished. A worker that dies
mid-import rolls back everything it wrote; the job stays "running" and the redelivered task (acks_late), or
the sweep (`requeue_stale`, every minute) for a lost one, imports it again from the start.

While it runs, the importer reports how far it got (`Progress`; every kind here takes `progress`, another app's
importer without it shows "Importing" only): not on the job's row,
which the import holds locked and whose writes no one else sees before the end, but in the "progress" cache
(Redis; files in the demo), which the status page reads. Finished jobs are deleted IMPORT_JOB_RETENTION_DAYS
after they finish (`prune`, nightly).
"""

from __future__ import annotations

import inspect
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from .importers import ImportRejected, importers, too_large
from .models import ImportJob, Store

log = logging.getLogger(__name__)

# The largest upload of each kind, refused before it is stored (its size is known without reading it).
MAX_BYTES = {"orders": "ORDER_IMPORT_MAX_BYTES", "violations": "VIOLATION_IMPORT_MAX_BYTES",
             "ad_report": "AD_REPORT_MAX_BYTES", "reviews": "REVIEW_IMPORT_MAX_BYTES"}
# A job not finished this long after it was queued is queued again by the sweep (a lost task message) ...
STALE_AFTER = timedelta(minutes=2)
# ... and one still not finished, and not being imported, this long after is given up (it stopped its worker
# each time, say), rather than tried for ever.
GIVE_UP_AFTER = timedelta(hours=3)
# A running job's progress is written at most this often (seconds), and at each new step; kept this long at most
# (a worker that died mid-import leaves it behind).
PROGRESS_EVERY = 1.0
PROGRESS_KEPT = int(GIVE_UP_AFTER.total_seconds())
# An upload file no job holds (its job's commit went through, the file's deletion did not) is deleted this old.
ORPHAN_AFTER = timedelta(days=1)
GAVE_UP = ("The import was started again and again but never finished (its worker stopped each time); nothing "
           "was imported. Split the file into smaller ones, or tell us.")


def refusal(kind: str, upload) -> str | None:
    """Why an upload is refused before it is stored (too large for its kind); None when it may go in."""
    limit = MAX_BYTES.get(kind)
    return too_large(upload.size, getattr(settings, limit)) if limit else None


def start(store: Store, user, kind: str, upload, options: dict | None = None) -> ImportJob:
    """Store the upload as a job of `store` and have a worker import it once the job is committed; `options`
    (JSON: the upload form's choices, such as a format) are passed to the kind's importer as keywords."""
    job = ImportJob(store=store, created_by=user, kind=kind, name=upload.name[:255], size=upload.size,
                    options=options or {})
    job.file.save(upload.name, upload, save=False)
    job.save()
    from .tasks import run_import

    # robust: the job and its file are stored whatever the broker says; the sweep queues it again.
    transaction.on_commit(lambda: run_import.delay(job.pk), robust=True)
    return job


def run(job_id: int) -> ImportJob | None:
    """Import the job's file unless it is finished or being imported right now; the job as it is after."""
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now())
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(skip_locked=True).select_related("store").filter(pk=job_id).first()
        if job is None or job.finished:  # gone, finished, or another worker is on it
            return job
        _import(job)
        name = job.file.name
        job.file = ""
        job.finished_at = timezone.now()
        job.save()
        if name:  # the file may hold buyers' phone numbers: kept only until the job is done
            transaction.on_commit(lambda: job.file.storage.delete(name))
    Progress(job.pk).clear()
    return job


def _import(job: ImportJob) -> None:
    importer = importers().get(job.kind)
    try:
        if importer is None:
            raise ImportRejected([(1, f"{job.kind!r} is not a kind of file this desk imports any more")])
        options = dict(job.options)
        if "progress" in inspect.signature(importer).parameters:
            options["progress"] = Progress(job.pk)
        with transaction.atomic(), job.file.open("rb") as source:  # a savepoint: a refused file leaves nothing
            result = importer(job.store, source, **options)
    except ImportRejected as exc:
        job.status, job.error_count = ImportJob.Status.FAILED, len(exc.errors)
        job.errors = [list(error) for error in exc.errors[: ImportJob.ERRORS_KEPT]]
        return
    except FileNotFoundError:
        job.status = ImportJob.Status.FAILED
        job.reason = "The uploaded file is no longer stored; nothing was imported. Upload it again."
        return
    except OperationalError:
        raise  # the database connection is gone: the task retries the whole job
    except Exception:
        log.exception("import job %s (%s) failed", job.pk, job.kind)
        job.status = ImportJob.Status.FAILED
        job.reason = ("The import stopped on an error on our side; nothing was imported. It has been logged: "
                      "upload the file again later, or tell us if it happens again.")
        return
    job.status = ImportJob.Status.DONE
    job.rows, job.created, job.duplicates, job.summary = result.rows, result.created, result.duplicates, \
        result.summary()


def requeue_stale(now=None) -> list[int]:
    """Queue again the jobs not finished STALE_AFTER after they were queued (a task lost with the broker, a
    worker gone; the ones being imported are skipped by `run`), and fail those past GIVE_UP_AFTER that no
    worker is importing. Returns the ids queued again."""
    now = now or timezone.now()
    unfinished = ImportJob.objects.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
    with transaction.atomic():
        for job in unfinished.filter(created_at__lt=now - GIVE_UP_AFTER).select_for_update(skip_locked=True):
            name = job.file.name
            job.status, job.reason, job.file, job.finished_at = ImportJob.Status.FAILED, GAVE_UP, "", now
            job.save()
            if name:
                transaction.on_commit(lambda name=name: ImportJob.file.field.storage.delete(name))
    ids = list(unfinished.filter(created_at__lt=now - STALE_AFTER).values_list("pk", flat=True))
    from .tasks import run_import

    for pk in ids:
        run_import.delay(pk)
    return ids


class Progress:
    """A running job's progress for its status page: `progress(step, done, total)` from the importer (steps
    "checking", "writing" (`importers.RowsWritten`), then "rolling up" or "opening cases"; done and total in the
    file's rows), written to the "progress" cache at
    most every PROGRESS_EVERY seconds and at each new step. Best effort: a cache that fails costs the page its
    progress, never the import."""

    def __init__(self, job_id: int):
        self.key = f"import-job:{job_id}:progress"
        self.step, self.at = None, 0.0

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if step == self.step and now - self.at < PROGRESS_EVERY:
            return
        self.step, self.at = step, now
        try:
            caches["progress"].set(self.key, {"step": step, "done": done, "total": total}, PROGRESS_KEPT)
        except Exception:  # noqa: BLE001 (Redis down, a full disk: the import goes on)
            log.warning("import job progress not written (%s)", self.key, exc_info=True)

    def read(self) -> dict | None:
        try:
            return caches["progress"].get(self.key)
        except Exception:  # noqa: BLE001
            log.warning("import job progress not read (%s)", self.key, exc_info=True)
            return None

    def clear(self) -> None:
        try:
            caches["progress"].delete(self.key)
        except Exception:  # noqa: BLE001
            log.warning("import job progress not cleared (%s)", self.key, exc_info=True)


def progress(job: ImportJob) -> dict | None:
    """How far a running job got ({"step", "done", "total"}), when its importer reports it; None otherwise."""
    return Progress(job.pk).read() if job.status == ImportJob.Status.RUNNING else None


def prune(now: datetime | None = None, batch: int = 500) -> int:
    """Delete the finished jobs (imported, or nothing imported: refused, failed, given up) that finished
    IMPORT_JOB_RETENTION_DAYS ago, with any upload file one left behind, then the upload files no job holds
    (ORPHAN_AFTER old); returns how many jobs went. A job waiting or importing is never deleted. Safe to run
    twice or at once: `batch` jobs a transaction, and a prune skips the rows another one holds."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IMPORT_JOB_RETENTION_DAYS)
    old = ImportJob.objects.filter(status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)).order_by("pk")
    storage = ImportJob.file.field.storage
    pruned = 0
    while True:
        with transaction.atomic():
            jobs = list(old.select_for_update(skip_locked=True).values_list("pk", "file")[:batch])
            ImportJob.objects.filter(pk__in=[pk for pk, _ in jobs]).delete()
        for _, name in jobs:  # after the commit: a rolled-back prune keeps its jobs' files
            if name:
                storage.delete(name)
        pruned += len(jobs)
        if len(jobs) < batch:
            break
    _delete_orphans(now - ORPHAN_AFTER)
    return pruned


def _delete_orphans(before: datetime) -> None:
    storage = ImportJob.file.field.storage
    held = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))  # before listing: a file
    try:  # stored after this is younger than `before`
        folders = storage.listdir("imports")[0]
    except FileNotFoundError:
        return
    for folder in folders:
        for name in storage.listdir(f"imports/{folder}")[1]:
            path = f"imports/{folder}/{name}"
            try:
                if path not in held and storage.get_modified_time(path) < before:
                    storage.delete(path)
            except FileNotFoundError:  # another prune deleted it
                continue
