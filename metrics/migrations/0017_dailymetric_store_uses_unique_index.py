"""DailyMetric.store loses its own index: the unique cell's (store, day, …) serves every lookup by store, and
each nightly row paid for a second index nothing read.

Only the index is dropped: Django's AlterField would also drop and re-add the foreign key, which re-checks
every row of the table under lock.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "metrics_dailymetric_store_id_980d34b6"  # Django's name for the field's index


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0016_anomaly_continues_incident_of_day_before"),
        ("stores", "0008_order_name_database_default"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "metrics_dailymetric" ("store_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="dailymetric",
                    name="store",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="daily_metrics", to="stores.store"),
                ),
            ],
        ),
    ]
