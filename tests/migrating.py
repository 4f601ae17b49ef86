"""Data-migration tests: move the real test database to a migration and back, with Django's executor."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(*targets):
    """Migrate to `targets` ((app, migration) pairs); the apps registry of the schema there."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def migrate_to_latest():
    migrate_to(*MigrationExecutor(connection).loader.graph.leaf_nodes())
