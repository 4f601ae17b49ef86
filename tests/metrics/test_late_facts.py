"""Facts recorded after the night (yesterday's order export, a corrected ad report, a penalty notice) count:
the rolled-up day is rolled up and judged again, and a day not rolled up yet is left to the nightly job."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections, transaction
from django.urls import reverse

from metrics.email import send_due_morning_emails
from metrics.models import Anomaly, DailyMetric
from metrics.rollup import refresh_days, roll_and_judge
from stores.models import Order
from tests.factories import MembershipFactory, OrderFactory, UserFactory
from tests.metrics.test_anomaly import seed_daily

DAY = date(2026, 5, 6)  # a Wednesday

pytestmark = pytest.mark.django_db


def gmv(store, day):
    return DailyMetric.objects.get(store=store, day=day, metric="gmv", dimension="").value


def test_an_export_imported_the_morning_after_replaces_the_empty_day_and_its_false_alarm(store_a):
    seed_daily(store_a, DAY, 90)
    usual = gmv(store_a, DAY)
    roll_and_judge([(store_a, DAY)])  # the night ran before the day's orders were exported
    assert gmv(store_a, DAY) == 0
    assert Anomaly.objects.filter(store=store_a, day=DAY, metric="gmv", direction="down").exists()

    start, _ = store_a.day_bounds(DAY)
    OrderFactory(store=store_a, placed_at=start + timedelta(hours=9), total=usual)
    assert refresh_days(store_a, [DAY, DAY + timedelta(days=1)]) == [DAY]

    assert gmv(store_a, DAY) == usual
    assert not Anomaly.objects.filter(store=store_a, day=DAY, metric="gmv", dimension="").exists()
    assert not DailyMetric.objects.filter(store=store_a, day=DAY + timedelta(days=1)).exists()  # the night's job


def test_an_emailed_link_to_a_false_alarm_late_data_withdrew_says_so_instead_of_404(client, store_a, store_b,
                                                                                     settings):
    seed_daily(store_a, DAY, 90)
    usual = gmv(store_a, DAY)
    roll_and_judge([(store_a, DAY)])  # the night ran before the day's orders were exported: "GMV −100 %"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    boss = MembershipFactory(store=store_a, user=UserFactory(email="boss@example.com"), role="manager").user
    with time_machine.travel(datetime(2026, 5, 7, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert send_due_morning_emails() == 1
    false_alarm = Anomaly.objects.get(store=store_a, day=DAY, metric="gmv", dimension="")
    link = reverse("metrics:anomaly", args=[false_alarm.pk])
    assert link in mail.outbox[0].body

    start, _ = store_a.day_bounds(DAY)
    OrderFactory(store=store_a, placed_at=start + timedelta(hours=9), total=usual)  # the export, at 09:00
    refresh_days(store_a, [DAY])
    assert not Anomaly.objects.filter(pk=false_alarm.pk).exists()  # nobody had touched it: it disappears

    client.force_login(boss)
    response = client.get(link)
    page = response.content.decode()
    assert response.status_code == 410  # gone, and the page says why
    assert "GMV (main payments) of Store A on Wed 6 May" in page and "was withdrawn after late data" in page
    assert "the day is now within its usual range" in page
    assert reverse("metrics:anomalies") + "?store=store-a" in page
    # Scoped as any page: for someone without the store it is the same 404 as an id that never existed.
    client.force_login(MembershipFactory(store=store_b).user)
    assert client.get(link).status_code == 404
    client.force_login(boss)
    assert client.get(reverse("metrics:anomaly", args=[false_alarm.pk + 1000])).status_code == 404

    Order.objects.filter(store=store_a).delete()  # the export was undone: the day is flagged again
    refresh_days(store_a, [DAY])
    again = Anomaly.objects.get(store=store_a, day=DAY, metric="gmv", dimension="")
    assert client.get(link)["Location"] == reverse("metrics:anomaly", args=[again.pk])


@pytest.mark.django_db(transaction=True)
def test_an_import_during_the_nightly_rollup_of_its_day_still_counts(store_a):
    """The night rolls the day up while an export of that day is being imported: the import waits for the
    rollup's store lock, then finds the day rolled up and redoes it, so its order is not lost."""
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for real concurrent transactions")
    from stores.importers import import_orders

    day = date(2026, 5, 6)
    start, _ = store_a.day_bounds(day)
    placed = (start + timedelta(hours=10)).astimezone(store_a.zone).strftime("%Y-%m-%d %H:%M:%S")
    csv = f"order_id,placed_at,paid_at,total,sku,quantity,unit_price\nLATE-1,{placed},{placed},80.00,MUG-1,1,80.00\n"
    imported = []

    def import_export():
        try:
            imported.append(import_orders(store_a, csv.encode()))
        finally:
            connections.close_all()

    importer = threading.Thread(target=import_export)
    with transaction.atomic():
        roll_and_judge([(store_a, day)])  # the night's rollup: its facts read, its store lock held
        importer.start()
        # Until the nightly transaction commits, the import may only wait for it, not finish.
        while importer.is_alive() and not _waiting_on_a_lock():
            importer.join(0.01)
        assert importer.is_alive(), "the import finished inside the rollup's transaction"
    importer.join()

    assert imported[0].refreshed == [day]
    assert gmv(store_a, day) == Decimal("80.00")


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees its first snapshot
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0
