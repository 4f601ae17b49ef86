"""The demo storefront: after `seed_demo`, with OPSDESK_DEMO_TRAFFIC on, every minute brings the demo stores
sessions and orders at the seeded history's rates, so the live view keeps moving and never says the tracker
stopped; its recent paid orders are shipped and delivered on schedule, so their after-sales texts go as a real
store's would. Off by default; a minute is stored once however often it is run; a long pause fills only the last
half hour; only the demo's stores get anything."""

import io
import math
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from members import demo as members_demo
from members import flows, sending
from members.models import Message, MessageStatus
from members.sms import locmem
from metrics import demo as metrics_demo
from metrics import demo_live
from metrics.models import TrafficEvent
from metrics.tasks import demo_traffic
from stores import demo as stores_demo
from stores.models import Order, OrderStatus
from tests.demo_once import seeded_once
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

SEEDED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wed 20:00 in Shanghai (its evening peak), 04:00 in Los Angeles
SCHEDULE = "metrics: demo storefront traffic and orders"


def seed(traffic: bool = False, members: bool = False):
    with time_machine.travel(SEEDED, tick=False):
        ctx = stores_demo.seed(days=8, now=SEEDED)
        if traffic:
            metrics_demo.seed(ctx)
        if members:
            members_demo.seed(ctx)
    return ctx


def run(at: datetime):
    with time_machine.travel(at, tick=False):
        return demo_traffic()


def live_events(store, start=SEEDED, end=None):
    events = TrafficEvent.objects.filter(store=store, event_id__startswith="live-", ts__gte=start)
    return events.filter(ts__lt=end) if end else events


def live_orders(store):
    return Order.objects.filter(store=store, external_id__startswith="L")


def expected(store, start: datetime, end: datetime) -> tuple[float, float]:
    """Orders and sessions (buying and browsing) the seeded rates give the minutes from `start` to `end`."""
    ctx = stores_demo.demo_context()
    store = next(s for s in ctx.stores if s.pk == store.pk)  # the context's own (its first store is paused)
    orders = sessions = 0.0
    minute = start
    while minute < end:
        for source, rate in demo_live.minute_orders(store, ctx, minute).items():
            orders += rate
            sessions += rate + metrics_demo.browsers(rate, source)
        minute += timedelta(minutes=1)
    return orders, sessions


def within(actual: int, mean: float) -> bool:
    """A Poisson count close to its mean: three standard deviations (and one for rounding) either side."""
    return abs(actual - mean) <= 3 * math.sqrt(mean) + 1


@pytest.fixture
def demo_on(settings):
    settings.DEMO_TRAFFIC = True


@pytest.fixture(autouse=True)
def fresh_shops():
    """The storefront keeps each store's shop by id and seeding time: SQLite hands a rolled-back test's ids out
    again, so a store of this test would get another test's shop (and its products' SKUs)."""
    demo_live._shop.cache_clear()


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    with seeded_once(django_db_blocker):
        yield seed()


class TestTheDemoSeededAtSeeded:
    """One demo (8 days, no traffic, no members) seeded at SEEDED for these tests: the storefront's runs write
    inside each test's own transaction, rolled back after it, so every test starts from the seed alone."""

    def test_off_by_default_nothing_is_made(self, seeded, settings):
        assert settings.DEMO_TRAFFIC is False
        ctx = seeded
        assert run(SEEDED + timedelta(minutes=20)) == {}
        for store in ctx.stores:
            assert not TrafficEvent.objects.filter(store=store).exists()
            assert not live_orders(store).exists()

    @pytest.mark.parametrize("local_hour, at", [("20:00 (evening peak)", SEEDED + timedelta(minutes=31)),
                                                ("03:00 (the quiet night)", SEEDED + timedelta(hours=7, minutes=31))])
    def test_the_minutes_since_the_seed_get_sessions_and_orders_at_the_seeded_rates(self, seeded, demo_on, local_hour,
                                                                                   at):
        jade, _ = seeded.stores
        result = run(at)
        start = max(at.replace(second=0) - demo_live.CATCH_UP, SEEDED + timedelta(minutes=1))
        mean_orders, mean_sessions = expected(jade, start, at)
        sessions = live_events(jade).filter(type="session_start").count()
        orders = live_orders(jade)
        assert within(sessions, mean_sessions), (sessions, mean_sessions)
        assert within(orders.count(), mean_orders), (orders.count(), mean_orders)
        assert result["jade-tea"]["events"] == live_events(jade).count()
        assert result["jade-tea"]["orders"] == orders.count()
        if local_hour.startswith("20"):
            # ~0.9 sessions and ~0.08 orders a minute (paid search still paused in this store: no paid-search buyer)
            assert 15 < mean_sessions < 35 and 1 < mean_orders < 4
            assert sessions > 10
            assert live_events(jade).filter(type="product_view").exists()
        else:
            # The same store at 03:00 local: HOUR_WEIGHTS 0.1 against 2.5, so a few sessions at most.
            assert mean_sessions < 2 and sessions <= 5

    def test_an_evenings_orders_are_recorded_as_the_ingest_api_records_a_trackers(self, seeded, demo_on):
        # Two hours in half-hour runs: ~2 orders a half hour at the evening peak, so some orders whatever the draw
        # (a single half hour has none about one time in eight).
        jade, _ = seeded.stores
        runs = [SEEDED + timedelta(minutes=31 + 30 * i) for i in range(4)]
        start = SEEDED + timedelta(minutes=1)
        for at in runs:
            run(at)
        mean_orders, _ = expected(jade, start, runs[-1])
        orders = live_orders(jade)
        assert mean_orders > 6 and within(orders.count(), mean_orders), (orders.count(), mean_orders)
        assert orders.exists()
        assert not orders.filter(traffic_source="paid_search").exists()  # paid search is paused in this store
        for order in orders:
            assert order.lines.exists() and sum(p.amount for p in order.payments.all()) == order.total
            assert order.member_link.member.store == jade
            assert start <= order.paid_at < runs[-1]

    def test_running_the_same_minutes_again_stores_nothing_more(self, seeded, demo_on):
        jade, pacific = seeded.stores
        at = SEEDED + timedelta(minutes=31)
        first = run(at)
        counts = {s.slug: (TrafficEvent.objects.filter(store=s).count(), Order.objects.filter(store=s).count())
                  for s in (jade, pacific)}
        assert first["jade-tea"]["events"] > 0
        again = run(at)  # beat firing twice, or a second worker
        nothing = {"events": 0, "orders": 0, "shipped": 0, "delivered": 0}
        assert again == {"jade-tea": nothing, "pacific-outfitters": nothing}
        assert counts == {s.slug: (TrafficEvent.objects.filter(store=s).count(), Order.objects.filter(store=s).count())
                          for s in (jade, pacific)}
        # A minute later: only that minute is new (and the later views of sessions still going).
        later = run(at + timedelta(minutes=1))
        assert later["jade-tea"]["events"] < first["jade-tea"]["events"]

    def test_after_a_long_pause_only_the_last_half_hour_is_filled(self, seeded, demo_on):
        jade, _ = seeded.stores
        run(SEEDED + timedelta(minutes=10))
        woke = SEEDED + timedelta(hours=3, minutes=10)  # 23:10 in Shanghai: still busy
        run(woke)
        gap_from = SEEDED + timedelta(minutes=10 + 13)  # views of sessions going at the pause end by then
        assert not live_events(jade, gap_from, woke - demo_live.CATCH_UP).exists()
        filled = live_events(jade, woke - demo_live.CATCH_UP, woke).filter(type="session_start").count()
        _, mean = expected(jade, woke - demo_live.CATCH_UP, woke)
        assert within(filled, mean) and filled > 5

    def test_only_the_demo_stores_get_traffic(self, seeded, demo_on):
        other = StoreFactory(name="Real shop", slug="real-shop", timezone="Asia/Shanghai")
        jade, pacific = seeded.stores
        result = run(SEEDED + timedelta(minutes=31))
        assert set(result) == {"jade-tea", "pacific-outfitters"}
        assert not TrafficEvent.objects.filter(store=other).exists()
        assert not Order.objects.filter(store=other).exists()

    def test_the_seeded_orders_left_shipped_are_delivered_on_schedule(self, seeded, demo_on):
        ctx = seeded
        at = SEEDED + timedelta(minutes=31)
        result = run(at)
        pending = Order.objects.filter(store__in=ctx.stores, status__in=[OrderStatus.PAID, OrderStatus.SHIPPED],
                                       paid_at__gte=at - demo_live.FULFIL_WINDOW)
        assert sum(r["delivered"] for r in result.values()) > 20  # the seed leaves orders of 1-5 days shipped
        for order in pending:  # what is left is not due yet
            shipped, delivered = demo_live.fulfilment_times(order.store, ctx, order.external_id, order.paid_at)
            assert delivered >= at and (shipped >= at or order.status == OrderStatus.SHIPPED)
        for store in ctx.stores:
            delivered_events = TrafficEvent.objects.filter(store=store, type="order_delivered")
            notices = delivered_events.values_list("event_id", flat=True)
            fulfilled = Order.objects.filter(store=store, external_id__in=[n.removeprefix("fulfil-delivered-")
                                                                           for n in notices])
            assert fulfilled.count() == len(notices) > 0
            assert all(9 <= local_hour(store, o.delivered_at) < 20 and o.delivered_at < at for o in fulfilled)

    def test_live_shopify_orders_are_named_on_from_the_seeded_names_and_keep_them_when_drawn_again(
            self, seeded, demo_on, client):
        jade, pacific = seeded.stores
        evening = SEEDED + timedelta(hours=14)  # 18:00 in Los Angeles: ~5 orders an hour
        seeded_names = Order.objects.filter(store=pacific).values_list("name", flat=True)
        last_seeded = max(int(name[1:]) for name in seeded_names)
        for at in [evening + timedelta(minutes=30 * i) for i in range(5)]:
            run(at)
        orders = list(live_orders(pacific).order_by("paid_at"))
        assert len(orders) > 3
        numbers = sorted(int(order.name.removeprefix("#")) for order in orders)
        # Above the seeded #1001 … (the 14 hours the storefront did not run count as a gap), then one after
        # another.
        assert numbers[0] > last_seeded and numbers == list(range(numbers[0], numbers[0] + len(orders)))
        assert not live_orders(jade).exclude(name="").exists()  # a Tmall store's orders are known by their id
        # A later worker process (nothing cached) drawing those minutes again names each order as before.
        demo_live._shop.cache_clear()
        ctx = stores_demo.demo_context()
        store = ctx.stores[1]
        shop = demo_live._shop(store.pk, store.created_at)
        for order in orders[:3]:
            events = demo_live.minute_events(store, ctx, shop, order.placed_at.replace(second=0, microsecond=0))
            assert {"order_id": order.external_id, "name": order.name} in [
                {"order_id": e.get("order_id"), "name": e.get("name")} for _, e in events]
        client.force_login(ctx.operator)
        with time_machine.travel(evening + timedelta(hours=2), tick=False):
            page = client.get(orders[0].get_absolute_url()).content.decode()
        assert f"Order {orders[0].name}" in page



def test_without_the_demo_in_the_database_nothing_happens(demo_on):
    StoreFactory(slug="real-shop")
    assert run(SEEDED) == {}
    assert not TrafficEvent.objects.exists()


def test_the_live_view_no_longer_says_the_tracker_stopped(demo_on, client, settings):
    ctx = seed(traffic=True)
    jade = ctx.stores[0]
    client.force_login(ctx.operator)
    later = SEEDED + timedelta(minutes=23)
    with time_machine.travel(later, tick=False):
        before = client.get(f"/metrics/{jade.slug}/live.json").json()
    assert before["tracker"]["state"] == "down"
    assert "check the storefront's tracker" in before["tracker"]["message"]

    run(later)
    # The page's viewers share a snapshot for LIVE_SHARED_SECONDS: the next poll after that shows the new traffic.
    with time_machine.travel(later + timedelta(seconds=settings.LIVE_SHARED_SECONDS), tick=False):
        after = client.get(f"/metrics/{jade.slug}/live.json").json()
    assert after["tracker"]["state"] == "live", after["tracker"]
    assert "check the storefront's tracker" not in after["tracker"]["message"]
    assert after["kpis"]["today"]["sessions"] > before["kpis"]["today"]["sessions"]


def test_the_schedule_exists_only_when_the_setting_is_on(settings):
    call_command("setup_schedules", stdout=io.StringIO())
    assert not PeriodicTask.objects.filter(name=SCHEDULE).exists()
    settings.DEMO_TRAFFIC = True
    call_command("setup_schedules", stdout=io.StringIO())
    task = PeriodicTask.objects.get(name=SCHEDULE)
    assert (task.task, task.enabled, task.interval.every) == ("metrics.tasks.demo_traffic", True, 60)
    settings.DEMO_TRAFFIC = False  # the same database run later without the demo: beat leaves it alone
    call_command("setup_schedules", stdout=io.StringIO())
    assert PeriodicTask.objects.get(name=SCHEDULE).enabled is False


def local_hour(store, moment):
    return moment.astimezone(store.zone).hour


def test_a_live_order_is_shipped_then_delivered_in_the_daytime_and_gets_its_after_sales_text_once(demo_on, settings):
    settings.SMS_BACKEND = "locmem"
    locmem.outbox.clear()
    ctx = seed(members=True)
    jade = ctx.stores[0]
    for minutes in (31, 61, 91):  # the Shanghai evening: a few live orders
        run(SEEDED + timedelta(minutes=minutes))
    textable = flows.audience(jade)
    order = live_orders(jade).filter(member_link__member__in=textable).order_by("paid_at").first()
    assert order is not None and order.status == OrderStatus.PAID
    shipped, delivered = demo_live.fulfilment_times(jade, ctx, order.external_id, order.paid_at)
    assert order.paid_at + timedelta(hours=2) <= shipped < delivered
    assert 9 <= local_hour(jade, shipped) < 18 and 9 <= local_hour(jade, delivered) < 20
    assert timedelta(hours=12) < delivered - shipped < timedelta(days=3)

    run(shipped - timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    run(shipped + timedelta(minutes=1))
    order.refresh_from_db()
    assert (order.status, order.delivered_at) == (OrderStatus.SHIPPED, None)

    at = delivered + timedelta(minutes=1)
    first = run(at)
    order.refresh_from_db()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, delivered)
    assert first["jade-tea"]["delivered"] >= 1
    assert run(at)["jade-tea"] == {"events": 0, "orders": 0, "shipped": 0, "delivered": 0}  # the same minute again
    order.refresh_from_db()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, delivered)

    # Beat's after-sales flow, the template's days after the delivery: one text for the order, however often.
    template = flows.active_template(jade, "after_sales")
    care = delivered + timedelta(days=template.delay_days, hours=1)
    with time_machine.travel(care, tick=False):
        flows.after_sales_care()
        flows.after_sales_care()
    text = Message.objects.get(order=order)
    assert (text.flow, text.occasion, text.status) == ("after_sales", f"after_sales:order {order.external_id}",
                                                       MessageStatus.QUEUED)
    with time_machine.travel(max(care, text.scheduled_for), tick=False):
        sending.send_message(text.pk)
        sending.send_message(text.pk)
    assert [m.body for m in locmem.outbox if order.external_id in m.body] == [text.body]
    assert Message.objects.filter(order=order).count() == 1
