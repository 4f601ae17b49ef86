from importlib import import_module

from django.db import migrations


def regroup(apps, schema_editor):
    """Existing incidents regrouped now that sub-order payments join GMV's (metrics.incidents.RESTATES)."""
    import_module("metrics.migrations.0009_anomaly_part_of").group_existing(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0009_anomaly_part_of"),
    ]

    operations = [
        migrations.RunPython(regroup, migrations.RunPython.noop),
    ]
