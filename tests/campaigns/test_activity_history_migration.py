"""Migration 0012: activities made before the history was kept get a 'Created' entry, at their creation time, by
their owner or else the app; those with a history already get none."""

from datetime import UTC, date, datetime

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = ("campaigns", "0011_activity_history")
BACKFILL = ("campaigns", "0012_activity_history_backfill")
MADE = datetime(2026, 10, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def at_0011(transactional_db):
    """The schema as it was before the backfill; put back to the latest migrations afterwards."""
    apps = migrate_to(BEFORE)
    yield apps
    migrate_to_latest()


def test_old_activities_get_a_created_entry_at_their_creation_by_their_owner_or_opsdesk(at_0011):
    Store, Activity = at_0011.get_model("stores", "Store"), at_0011.get_model("campaigns", "Activity")
    ActivityChange, User = at_0011.get_model("campaigns", "ActivityChange"), at_0011.get_model("auth", "User")
    store = Store.objects.create(name="Old", slug="old", country="CN", timezone="Asia/Shanghai", currency="CNY")
    olivia = User.objects.create(username="olivia")

    def activity(name, **kw):
        made = Activity.objects.create(store=store, name=name, kind="content", start_date=date(2026, 10, 20),
                                       end_date=date(2026, 10, 20), **kw)
        Activity.objects.filter(pk=made.pk).update(created_at=MADE)  # auto_now_add: set after
        return made.pk

    owned, unowned, recorded = activity("Owned", owner=olivia), activity("Unowned"), activity("Recorded")
    ActivityChange.objects.create(activity_id=recorded, summary="Created as idea, Tue 20 Oct.", by_app=True)

    migrate_to(BACKFILL)

    from campaigns.models import ActivityChange as Now

    entries = {e.activity_id: e for e in Now.objects.select_related("by")}
    assert (entries[owned].summary, entries[owned].at, entries[owned].by_name) == (
        "Created (before its changes were recorded).", MADE, "olivia")
    assert (entries[unowned].at, entries[unowned].by_name) == (MADE, "opsdesk")
    assert entries[recorded].summary == "Created as idea, Tue 20 Oct."
    assert Now.objects.filter(activity_id=recorded).count() == 1


def test_going_back_removes_only_the_backfilled_entries(at_0011):
    Store, Activity = at_0011.get_model("stores", "Store"), at_0011.get_model("campaigns", "Activity")
    ActivityChange = at_0011.get_model("campaigns", "ActivityChange")
    store = Store.objects.create(name="Old", slug="old", country="CN", timezone="Asia/Shanghai", currency="CNY")
    old, new = (Activity.objects.create(store=store, name=n, kind="content", start_date=date(2026, 10, 20),
                                        end_date=date(2026, 10, 20)).pk for n in ("Old", "New"))
    ActivityChange.objects.create(activity_id=new, summary="Created as idea, Tue 20 Oct.", by_app=True)
    migrate_to(BACKFILL)
    assert ActivityChange.objects.filter(activity_id=old).exists()

    apps = migrate_to(BEFORE)

    assert list(apps.get_model("campaigns", "ActivityChange").objects.values_list("activity_id", flat=True)) == [new]
