from importlib import import_module

from django.db import migrations


def regroup(apps, schema_editor):
    """Existing incidents regrouped now that a breakdown value holding all of its total joins the total's
    (metrics.incidents.is_whole)."""
    import_module("metrics.migrations.0009_anomaly_part_of").group_existing(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0013_fulfilment_events"),
    ]

    operations = [
        migrations.RunPython(regroup, migrations.RunPython.noop),
    ]
