"""The daily table's indexes: each one a read path needs, none that every nightly row pays for in vain."""

import pytest
from django.db import connection

from metrics.models import DailyMetric
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = ("metrics", "0016_anomaly_continues_incident_of_day_before")
DROPPED = ("metrics", "0017_dailymetric_store_uses_unique_index")


def indexes() -> dict[str, list[str]]:
    table = DailyMetric._meta.db_table
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: info["columns"] for name, info in found.items()
            if (info["index"] or info["unique"]) and not info["primary_key"]}


@pytest.mark.django_db
def test_lookups_by_store_use_the_unique_cell_index_and_no_index_of_their_own():
    found = indexes()
    assert ["store_id"] not in found.values()
    assert found["dailymetric_unique_cell"][0] == "store_id"
    assert found["dailymetric_series"] == ["store_id", "metric", "dimension", "day"]


@pytest.mark.django_db(transaction=True)
def test_migration_drops_only_the_store_index_and_keeps_the_rows_and_foreign_key():
    try:
        apps = migrate_to(BEFORE)
        assert ["store_id"] in indexes().values()
        Store, Daily = apps.get_model("stores", "Store"), apps.get_model("metrics", "DailyMetric")
        store = Store.objects.create(name="s", slug="s", country="US", timezone="America/Los_Angeles", currency="USD")
        Daily.objects.create(store=store, day="2026-05-06", metric="orders", value=3)

        migrate_to(DROPPED)

        assert ["store_id"] not in indexes().values()
        assert DailyMetric.objects.get(store_id=store.pk).value == 3
        store.delete()  # the foreign key still cascades
        assert not DailyMetric.objects.exists()
    finally:
        migrate_to_latest()
