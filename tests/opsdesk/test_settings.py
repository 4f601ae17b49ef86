"""The production profile: secrets from the environment and `check --deploy` clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    full_env.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_production_profile_passes_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        OPSDESK_PROFILE="production", SECRET_KEY=secrets.token_urlsafe(50),
                        ALLOWED_HOSTS="desk.example.com")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", OPSDESK_PROFILE="production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_demo_broker_works_on_a_fresh_var_folder(tmp_path):
    """The embedded demo publishes tasks to kombu's filesystem broker without any set-up."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["OPSDESK_VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from opsdesk.tasks import heartbeat; heartbeat.delay('demo')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "var" / "broker" / "queue").iterdir())) == 1


def test_production_refuses_to_start_with_the_demo_storefront_on():
    """OPSDESK_DEMO_TRAFFIC makes up orders and shoppers: a stray one in production must stop the app."""
    result = run_manage("check", OPSDESK_PROFILE="production", SECRET_KEY=secrets.token_urlsafe(50),
                        ALLOWED_HOSTS="desk.example.com", OPSDESK_DEMO_TRAFFIC="1")
    assert result.returncode != 0
    assert "OPSDESK_DEMO_TRAFFIC" in result.stderr


def test_the_api_limits_come_from_the_environment():
    result = run_manage("shell", "-c", "from django.conf import settings as s; print(s.INGEST_MAX_EVENTS, "
                        "s.INGEST_MAX_BODY_BYTES, s.INGEST_MAX_CLOCK_SKEW_SECONDS, s.API_REQUESTS_PER_MINUTE)",
                        INGEST_MAX_EVENTS="50", INGEST_MAX_BODY_BYTES="4096", INGEST_MAX_CLOCK_SKEW_SECONDS="60",
                        API_REQUESTS_PER_MINUTE="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["50", "4096", "60", "30"]


def queue_and_cache_keys(**env):
    result = run_manage("shell", "-c", "from django.conf import settings as s; from django.core.cache import caches; "
                        "print(s.CELERY_TASK_DEFAULT_QUEUE, caches['limits'].make_key('n'))",
                        REDIS_URL="redis://127.0.0.1:6379/0", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-2:]


def test_parallel_test_processes_keep_their_own_queue_and_cache_keys():
    """Tests run in several processes on one Redis (pytest-xdist's gw0, gw1, ...): one process's worker must not
    run another's tasks (written for its own test database), nor its API counts add up with another's."""
    gw0 = queue_and_cache_keys(CELERY_QUEUE="opsdesk-test", PYTEST_XDIST_WORKER="gw0")
    gw1 = queue_and_cache_keys(CELERY_QUEUE="opsdesk-test", PYTEST_XDIST_WORKER="gw1")
    assert gw0[0] == "opsdesk-test-gw0" and gw1[0] == "opsdesk-test-gw1"
    assert gw0[1] != gw1[1]
    # A worker the process starts inherits its name and is handed its queue: it takes that queue's tasks and
    # sends its own there (a nightly run's per-store tasks), not to a queue of its own.
    worker = queue_and_cache_keys(CELERY_QUEUE="opsdesk-test-gw1", PYTEST_XDIST_WORKER="gw1")
    assert worker == gw1
