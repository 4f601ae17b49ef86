"""Test marks shared across apps."""

import pytest
from django.db import connection

# The live view keeps past days only on Postgres, where a trigger notes the events that change them.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="past days are kept only on Postgres (the change notes' trigger)")
