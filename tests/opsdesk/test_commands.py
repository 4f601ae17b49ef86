"""Management commands an admin runs: demo seeding, API keys, schedules."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django_celery_beat.models import PeriodicTask

from opsdesk.schedules import all_schedules
from stores.models import ApiKey, Order, Store

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_working_key_once(store_a):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", store_a.slug, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert ApiKey.objects.authenticate(raw).store == store_a
    assert raw not in err.getvalue()
    assert not ApiKey.objects.filter(key_hash=raw).exists()


def test_create_api_key_for_unknown_store_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No store with slug 'nope'"):
        call_command("create_api_key", "nope")


def test_setup_schedules_twice_creates_each_schedule_once(db):
    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    names = [s.name for s in all_schedules()]
    assert PeriodicTask.objects.filter(name__in=names).count() == len(names)


def test_seed_demo_builds_two_stores_in_different_zones_with_history(db):
    out = io.StringIO()
    call_command("seed_demo", "--days", "21", stdout=out)
    stores = list(Store.objects.order_by("timezone"))
    assert [s.timezone for s in stores] == ["America/Los_Angeles", "Asia/Shanghai"]
    assert "password" in out.getvalue()
    for store in stores:
        first = Order.objects.filter(store=store).order_by("placed_at").first()
        assert first.placed_at.astimezone(store.zone).date() <= store.today() - timedelta(days=20)
        assert store.violations.filter(status="open").exists()
        assert store.orders.filter(lines__isnull=False).exists() and store.orders.filter(payments__type="voucher")


def test_seed_demo_injects_a_gmv_drop_yesterday(db):
    call_command("seed_demo", "--days", "21", stdout=io.StringIO())
    store = Store.objects.get(slug="jade-tea")
    yesterday = store.today() - timedelta(days=1)

    def gmv(day):
        return Order.objects.filter(store=store).paid_between(*store.day_bounds(day)).aggregate(s=Sum("total"))["s"]

    assert gmv(yesterday) < gmv(yesterday - timedelta(days=7)) * 85 / 100


def test_seed_demo_twice_adds_nothing(db):
    call_command("seed_demo", "--days", "5", stdout=io.StringIO())
    count = Order.objects.count()
    call_command("seed_demo", "--days", "5", stdout=io.StringIO())
    assert Order.objects.count() == count
