"""The test run's own database sessions: each is named by its thread and test, and a thread that ends with
its session open fails its test (tests/conftest.py), so the test database can be dropped at the end."""

import threading

import pytest
from django.db import connection, connections

from tests.conftest import sessions_left_by_ended_threads


@pytest.fixture
def postgres(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk")


def run_in_thread(name: str, close: bool) -> list:
    """Run one query in a thread called `name`; its connection's wrapper and application_name are kept."""
    kept = []

    def query():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('application_name')")
                # Kept beyond the thread, as Django's wrapper is by its own reference cycles until the
                # garbage collector runs (which may be the end of the run).
                kept.append((connections["default"], cursor.fetchone()[0]))
        finally:
            if close:
                connections.close_all()

    thread = threading.Thread(target=query, name=name)
    thread.start()
    thread.join()
    return kept[0]


def test_a_thread_that_ends_with_its_session_open_is_named_and_its_session_closed(postgres, request):
    wrapper, name = run_in_thread("forgetful", close=False)
    assert name == f"pytest forgetful: {request.node.name}"[:63]  # all Postgres keeps
    assert sessions_left_by_ended_threads() == [f"forgetful (opened in {request.node.name})"]
    assert wrapper.connection.closed
    assert sessions_left_by_ended_threads() == []


def test_a_thread_that_closes_its_session_leaves_nothing(postgres):
    run_in_thread("tidy", close=True)
    assert sessions_left_by_ended_threads() == []


def test_the_main_threads_session_is_named_after_the_test(postgres, request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone()[0] == f"pytest MainThread: {request.node.name}"[:63]
