"""Test marks shared across apps."""

import pytest
from django.db import connection

# The live view keeps past days only on Postgres, where a trigger notes the events that change them.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="past days are kept only on Postgres (the change notes' trigger)")

# Races between transactions: SQLite runs one writer at a time and has no row or advisory locks to wait on.
concurrent_transactions = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs Postgres (DATABASE_URL): two transactions at once, waiting on each other's locks")
