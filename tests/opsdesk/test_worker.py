"""A real Celery worker on Redis runs a task end to end against the test database."""

import pytest

from opsdesk.models import Heartbeat
from opsdesk.tasks import heartbeat
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_worker_on_redis_runs_the_heartbeat_task(celery_worker):
    heartbeat.delay("ci-worker")
    beat = wait_for(lambda: Heartbeat.objects.filter(name="ci-worker").first())
    assert beat.last_seen is not None
    assert "opsdesk.tasks.heartbeat" in celery_worker.log()
