"""A real Celery worker in a subprocess, consuming from Redis and writing to the test database.

Used by task tests (mark them `@pytest.mark.worker` and use the `celery_worker` fixture with
`transaction=True` DB access so the worker sees committed rows). Needs Postgres + Redis:
skipped with a clear message otherwise. The test run's queue (CELERY_QUEUE, set by `make test`) keeps a demo
worker on the same Redis from stealing its tasks. Stopped by its recorded PID, also when it was not ready in
time: a worker left running takes later tests' tasks, connected to the test database while it runs one.
Its connections are named (application_name "test-worker <queue>"), so one still open when the run ends
is easy to tell apart (tests/conftest.py names what is still connected when the test database is dropped).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


class WorkerProcess:
    def __init__(self, tmp_path: Path, queue: str, extra_env: dict | None = None, concurrency: int = 2):
        self.tmp_path = tmp_path
        self.queue = queue
        self.pidfile = tmp_path / "worker.pid"
        self.logfile = tmp_path / "worker.log"
        self.extra_env = extra_env or {}
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        if db.get("PASSWORD"):
            url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        url += "?" + urlencode({"application_name": f"test-worker {self.queue}"})
        # MEDIA_ROOT too: a task reading an upload the test stored (an import job's file) finds it there.
        return {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "CELERY_QUEUE": self.queue, "MEDIA_ROOT": str(settings.MEDIA_ROOT), **self.extra_env}

    def start(self, ready_timeout: float = 60) -> WorkerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "opsdesk", "worker", "-Q", self.queue,
             f"--concurrency={self.concurrency}", "--pool=prefork", "--without-heartbeat",
             "--without-gossip", "--without-mingle", f"--pidfile={self.pidfile}",
             f"--logfile={self.logfile}", "--loglevel=INFO", f"--hostname=test-{self.queue}@%h"],
            cwd=ROOT, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: self.logfile.exists() and "ready" in self.logfile.read_text(), timeout=ready_timeout)
        except BaseException:
            self.stop()  # the caller gets no worker to stop: one that becomes ready later would live on
            raise
        return self

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text().strip())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def crash(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a machine losing power would: no task is
        acknowledged or finished. `stop` afterwards has nothing left to do."""
        pid = self.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        os.kill(pid, signal.SIGKILL)
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.logfile.read_text() if self.logfile.exists() else ""


def requires_services():
    if connection.vendor != "postgresql":
        pytest.skip("worker tests need Postgres: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("worker tests need Redis: set REDIS_URL=redis://127.0.0.1:6379/0")


@contextmanager
def worker_on_test_queue(tmp_path: Path, concurrency: int = 2, extra_env: dict | None = None):
    """A real worker on the test run's queue (CELERY_QUEUE), emptied first, stopped by its PID afterwards."""
    requires_services()
    from opsdesk.celery import app

    app.control.purge()
    worker = WorkerProcess(tmp_path, settings.CELERY_TASK_DEFAULT_QUEUE, extra_env, concurrency).start()
    try:
        yield worker
    finally:
        worker.stop()


@contextmanager
def worker_with_mail(tmp_path: Path, concurrency: int = 2, **env):
    """`worker_on_test_queue` whose email goes to files in tmp_path/mail (Django's file backend): (worker, folder)."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    with worker_on_test_queue(tmp_path, concurrency, {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir),
            **env}) as worker:
        yield worker, mail_dir


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """Start a real worker on the test run's queue (CELERY_QUEUE), emptied first."""
    with worker_on_test_queue(tmp_path) as worker:
        yield worker
