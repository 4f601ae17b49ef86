"""Management commands an admin runs: demo seeding, API keys, schedules."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import median

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django_celery_beat.models import PeriodicTask

from opsdesk.schedules import all_schedules
from stores import demo
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


def test_seed_demo_files_products_under_real_categories(client):
    call_command("seed_demo", "--days", "5", stdout=io.StringIO())
    jade, pacific = demo.demo_stores()
    assert set(jade.products.values_list("category", flat=True)) == {
        "Green tea", "Oolong tea", "Pu'er tea", "Scented tea", "Black tea", "White tea", "Teaware", "Gift sets"}
    assert set(pacific.products.values_list("category", flat=True)) == {
        "Footwear", "Clothing", "Drinkware", "Packs & bags", "Camping gear"}
    client.force_login(jade.memberships.get(role="operator").user)
    page = client.get(jade.get_absolute_url()).content.decode()
    assert "<td>Teaware</td>" in page and "<td>200g</td>" not in page and "<td>set</td>" not in page


# One frozen clock per weekday: the demo's story must hold whatever day a newcomer runs it.
@pytest.mark.parametrize("day", range(7))
def test_seed_demo_injects_a_gmv_drop_three_days_ago_that_lasts(db, day):
    now = datetime(2026, 11, 23, 6, 30, tzinfo=UTC) + timedelta(days=day)
    ctx = demo.seed(days=35, now=now)
    store = ctx.stores[0]
    today = store.today(now)
    start = today - timedelta(days=3)
    assert ctx.anomaly_day[store.slug] == start

    def paid(day):
        return Order.objects.filter(store=store).paid_between(*store.day_bounds(day))

    def gmv(day):
        return paid(day).aggregate(s=Sum("total"))["s"]

    usual = median(gmv(start - timedelta(weeks=k)) for k in range(1, 5))
    assert gmv(start) < usual * Decimal("0.85")
    late_paid_search = [o for o in paid(start).filter(traffic_source="paid_search")
                        if o.placed_at >= store.day_bounds(start)[0] + timedelta(hours=demo.ANOMALY_HOUR)]
    assert late_paid_search == []
    assert paid(start - timedelta(weeks=1)).filter(traffic_source="paid_search").count() > 20
    # Nobody restarted the plan: the days since, today so far included, have buyers, none from paid search.
    for later in (start + timedelta(days=n) for n in range(1, 4)):
        assert paid(later).exists() and not paid(later).filter(traffic_source="paid_search").exists()
    yesterday = today - timedelta(days=1)
    assert gmv(yesterday) < median(gmv(yesterday - timedelta(weeks=k)) for k in range(1, 5)) * Decimal("0.85")


def test_seed_demo_twice_adds_nothing(db):
    call_command("seed_demo", "--days", "5", stdout=io.StringIO())
    count = Order.objects.count()
    call_command("seed_demo", "--days", "5", stdout=io.StringIO())
    assert Order.objects.count() == count
