"""Redis stopped and restarted under a running desk: pages keep serving, queued tasks survive, workers resume.

The test runs its own redis-server (append-only file on, as docker-compose.yml configures production's)
on a spare loopback port, so stopping it cannot disturb anything else using the machine's Redis.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from opsdesk.models import Heartbeat
from tests.worker import WorkerProcess, requires_services, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.pidfile = folder / "redis.pid"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.folder), "--pidfile", str(self.pidfile), "--appendonly", "yes",
             "--appendfsync", "always", "--save", "", "--logfile", str(self.folder / "redis.log")],
            check=True)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: self._ping(client), timeout=20)

    @staticmethod
    def _ping(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        pid = int(self.pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid), timeout=20)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def own_redis(tmp_path):
    requires_services()
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed on this machine")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.pidfile.exists():
        pid = int(server.pidfile.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)


def enqueue(url: str, queue: str, *names: str) -> None:
    """Queue heartbeat tasks the way the web does (the project's Celery app and settings), on the test's Redis."""
    from opsdesk.celery import app
    from opsdesk.tasks import heartbeat

    with app.connection_for_write(url) as conn:
        for name in names:
            heartbeat.apply_async((name,), queue=queue, connection=conn)


def beat_of(name: str):
    return Heartbeat.objects.filter(name=name).first()


def test_redis_outage_loses_no_task_and_the_web_keeps_serving(own_redis, tmp_path, settings, admin_client):
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-outage"
    env = {"CELERY_BROKER_URL": own_redis.url, "REDIS_URL": own_redis.url}
    (tmp_path / "w1").mkdir()
    worker = WorkerProcess(tmp_path / "w1", queue, extra_env=env).start()
    try:
        enqueue(own_redis.url, queue, "before-outage")
        wait_for(lambda: beat_of("before-outage"))
        # A desk already serving (its code loaded), so the outage lasts as long as the request, not an import:
        # the worker's reconnect backoff (2, 4, 6... s, fixed in kombu) grows with the outage.
        assert admin_client.get(reverse("desk")).status_code == 200

        own_redis.stop()
        assert admin_client.get(reverse("desk")).status_code == 200  # the desk does not need Redis
        own_redis.start()

        # The worker that lived through the outage reconnects and takes new work.
        enqueue(own_redis.url, queue, "after-restart")
        wait_for(lambda: beat_of("after-restart"), timeout=90)
    finally:
        worker.stop()

    # Tasks queued while no worker runs survive a Redis restart and run once a worker is back.
    names = [f"queued-{n}" for n in range(5)]
    enqueue(own_redis.url, queue, *names)
    own_redis.stop()
    own_redis.start()
    (tmp_path / "w2").mkdir()
    worker = WorkerProcess(tmp_path / "w2", queue, extra_env=env).start()
    try:
        wait_for(lambda: Heartbeat.objects.filter(name__in=names).count() == len(names), timeout=60)
    finally:
        worker.stop()
