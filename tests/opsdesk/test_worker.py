"""A real Celery worker on Redis runs a task end to end against the test database; one that is not ready in
time is stopped, not left to take later tests' tasks."""

import contextlib
from pathlib import Path

import pytest

from opsdesk.models import Heartbeat
from opsdesk.tasks import heartbeat
from tests.worker import WorkerProcess, requires_services, wait_for

pytestmark = pytest.mark.worker


def test_worker_on_redis_runs_the_heartbeat_task(celery_worker):
    heartbeat.delay("ci-worker")
    beat = wait_for(lambda: Heartbeat.objects.filter(name="ci-worker").first())
    assert beat.last_seen is not None
    assert "opsdesk.tasks.heartbeat" in celery_worker.log()


def processes_serving(queue: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if f"-Q\0{queue}\0" in cmdline.read_text():
                found.append(cmdline.parent.name)
    return found


def test_a_worker_not_ready_in_time_is_stopped_not_left_to_take_later_tests_tasks(transactional_db, tmp_path,
                                                                                  settings):
    requires_services()
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-late"
    with pytest.raises(AssertionError, match="not met within"):
        WorkerProcess(tmp_path, queue).start(ready_timeout=0.5)
    wait_for(lambda: processes_serving(queue) == [], timeout=10)  # none serves its queue, now or later
