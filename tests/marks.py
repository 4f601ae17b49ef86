"""Test marks shared across apps."""

import pytest
from django.db import connection

# The live view keeps past days only on Postgres, where a trigger notes the events that change them.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="past days are kept only on Postgres (the change notes' trigger)")

# Transactions at once on several connections (races, a page read while an import writes): SQLite's test
# database locks a table one transaction writes, and has no row or advisory locks to wait on.
concurrent_transactions = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs Postgres (DATABASE_URL): transactions at once on several connections")
