"""Activities made before the history was kept get a first entry, so their history does not start empty.

The entry is dated when the activity was made (`created_at`), by its owner when it has one (the best guess of
who made it that the model keeps), else by the app ("opsdesk"). What it looked like then is not known, so the
entry says only that it was created. Reversing deletes exactly these entries.
"""

from django.db import migrations

SUMMARY = "Created (before its changes were recorded)."
BATCH = 1000


def backfill(apps, schema_editor):
    Activity = apps.get_model("campaigns", "Activity")
    ActivityChange = apps.get_model("campaigns", "ActivityChange")
    without = Activity.objects.filter(history__isnull=True).values_list("pk", "created_at", "owner_id")
    entries = [ActivityChange(activity_id=pk, at=created_at, by_id=owner_id, by_app=owner_id is None,
                              summary=SUMMARY,
                              changes=[{"field": "created", "old": None, "new": None, "words": SUMMARY[:-1]}])
               for pk, created_at, owner_id in without.iterator()]
    ActivityChange.objects.bulk_create(entries, batch_size=BATCH)


def remove(apps, schema_editor):
    apps.get_model("campaigns", "ActivityChange").objects.filter(summary=SUMMARY).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0011_activity_history"),
    ]

    operations = [
        migrations.RunPython(backfill, remove),
    ]
