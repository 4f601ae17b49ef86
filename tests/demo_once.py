"""One demo seed for the tests of a module (or a class) that only read it, instead of one seed a test.

Seeding the demo takes seconds; tests that seed the same thing at the same (frozen or unfrozen) time and then
only read it, or write inside their own test transaction (which pytest-django rolls back), can share it:

    @pytest.fixture(scope="class")  # or "module" when every test of the module that seeds shares it
    def demo(django_db_setup, django_db_blocker):
        with seeded_once(django_db_blocker):
            yield stores_demo.seed(days=20)

A class-scoped fixture defined at module level is set up for the first test of a class that asks for it and
removed when that class ends, so the module's tests outside the class can seed their own demo (same slugs).

The seed is committed outside any test's transaction, so at the end `remove_demo()` deletes it (and the
traffic-change notes of its stores, which have no foreign key) and the row count of every table is compared
with the one before the seed: a table left with more (or fewer) rows fails
the teardown, naming the table, so the next module never sees this one's demo. Not for a test that needs a
worker or a `transactional_db` (its flush would empty the shared seed for the tests after it): those seed
their own, as do tests under another frozen instant and tests of the seed itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from campaigns.activity_templates import install_defaults
from metrics.models import EventChange
from stores.demo import STORES, remove_demo
from stores.models import Store


def row_counts() -> dict[str, int]:
    """Every table's row count, in one query."""
    tables = sorted(connection.introspection.table_names(include_views=False))
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT %s, COUNT(*) FROM {quote(table)}" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, tables)
        return dict(cursor.fetchall())


@contextmanager
def seeded_once(django_db_blocker) -> Iterator[None]:
    """Unblock the database for a shared seed made inside the block; at its end remove the demo and fail if any
    table's row count differs from before the seed."""
    with django_db_blocker.unblock():
        # The built-in templates and playbooks the migration installs, which a transactional test's flush empties
        # and the demo installs again: put back first, so they are not counted as the seed's.
        install_defaults()
        before = row_counts()
        try:
            yield
        finally:
            stores = list(Store.objects.filter(slug__in=[s["slug"] for s in STORES]).values_list("pk", flat=True))
            remove_demo()
            # The notes a trigger writes for back-filled traffic have no foreign key (they may outlive a store).
            EventChange.objects.filter(store_id__in=stores).delete()
            after = row_counts()
            left = {table: after.get(table, 0) - count for table, count in before.items()
                    if after.get(table, 0) != count}
            assert not left, f"the shared demo seed left rows behind (table: rows more than before): {left}"
