"""The live view: today so far vs the same clock time yesterday / last week, the funnel by source."""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from campaigns.models.ads import CHANNEL_SOURCE, AdChannel, AdDailyPerformance, AdPlan
from metrics import live
from metrics.models import TrafficEvent
from tests.factories import MembershipFactory, OrderFactory, OrderLineFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
_ids = itertools.count()


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def event(store, type, ts, session="", visitor="", source="", product=None):
    n = next(_ids)
    return TrafficEvent.objects.create(store=store, event_id=f"e{n}", type=type, ts=ts, session_id=session,
                                       visitor_id=visitor, source=source, product=product)


def session(store, ts, sid, source, visitor=None):
    return event(store, "session_start", ts, session=sid, visitor=visitor or f"v-{sid}", source=source)


def paid_order(store, paid_at, source="organic_search", total="50.00", buyer=None):
    kwargs = {"buyer_ref": buyer} if buyer is not None else {}
    return OrderFactory(store=store, placed_at=paid_at, paid_at=paid_at, traffic_source=source,
                        total=Decimal(total), **kwargs)


class TestFunnelByHand:
    """Los Angeles store at 15:00 local on 10 March 2026; every number below is counted by hand."""

    NOW = utc(2026, 3, 10, 22, 0)  # 15:00 PDT

    @pytest.fixture
    def store(self, db):
        store = StoreFactory(timezone="America/Los_Angeles")
        t = utc(2026, 3, 10, 17, 0)  # 10:00 local
        # organic: s1 views and carts, s2 only views, s3 leaves at once
        session(store, t, "s1", "organic_search")
        event(store, "product_view", t, session="s1")
        event(store, "add_to_cart", t, session="s1")
        session(store, t, "s2", "organic_search")
        event(store, "product_view", t, session="s2")
        session(store, t, "s3", "organic_search")
        # paid search: s4 views twice and carts, s5 views; the source is only on the session start
        session(store, t, "s4", "paid_search")
        event(store, "product_view", t, session="s4")
        event(store, "product_view", t, session="s4")
        event(store, "add_to_cart", t, session="s4")
        session(store, t, "s5", "paid_search")
        event(store, "product_view", t, session="s5")
        # a session that began before local midnight does not count today, nor do its later steps
        session(store, utc(2026, 3, 10, 6, 50), "old", "paid_search")  # 23:50 on the 9th
        event(store, "product_view", utc(2026, 3, 10, 7, 5), session="old")  # 00:05 today
        # after "now" (clock skew from a client): not counted
        session(store, utc(2026, 3, 10, 22, 30), "future", "organic_search")
        paid_order(store, utc(2026, 3, 10, 18, 0), "organic_search", "80.00")
        paid_order(store, utc(2026, 3, 10, 19, 0), "paid_search", "40.00")
        paid_order(store, utc(2026, 3, 10, 6, 0), "paid_search", "99.00")  # 23:00 yesterday
        plan = AdPlan.objects.create(store=store, name="Brand search", channel=AdChannel.SEARCH)
        AdDailyPerformance.objects.create(plan=plan, date=date(2026, 3, 10), spend=Decimal("30.00"))
        AdDailyPerformance.objects.create(plan=plan, date=date(2026, 3, 9), spend=Decimal("500.00"))
        return store

    def test_steps_per_source(self, store):
        rows = {r["source"]: r for r in live.snapshot(store, self.NOW)["funnel"]}
        organic, paid = rows["organic_search"], rows["paid_search"]
        assert (organic["sessions"], organic["viewed"], organic["carted"], organic["orders"]) == (3, 2, 1, 1)
        assert (paid["sessions"], paid["viewed"], paid["carted"], paid["orders"]) == (2, 2, 1, 1)
        assert (paid["views"], paid["carts"]) == (3, 1)
        assert organic["view_rate"] == pytest.approx(2 / 3)
        assert organic["cart_rate"] == pytest.approx(1 / 2)
        assert organic["orders_per_session"] == pytest.approx(1 / 3)
        assert set(rows) == {"organic_search", "paid_search"}

    def test_orders_without_a_tracked_session_make_no_order_rate_over_100_percent(self, store):
        # Three paid-search orders by phone: 4 orders from 1 session that added to cart read "400.00 %".
        for hour in (19, 20, 21):
            paid_order(store, utc(2026, 3, 10, hour, 0), "paid_search", "10.00")
        rows = {r["source"]: r for r in live.snapshot(store, self.NOW)["funnel"]}
        paid, organic = rows["paid_search"], rows["organic_search"]
        assert (paid["sessions"], paid["carted"], paid["orders"]) == (2, 1, 4)
        assert (paid["order_rate"], paid["orders_per_session"]) == (None, None)
        assert (paid["shown"]["order_rate"], paid["shown"]["orders_per_session"]) == ("n/a", "n/a")
        assert paid["note"] == ("Paid search / through train: 4 orders but 1 session that added to cart: some orders "
                                "came without a tracked session (by phone, or with the tracker blocked), so no order "
                                "rate is shown.")
        assert (organic["order_rate"], organic["shown"]["order_rate"], organic["note"]) == (1.0, "100.00 %", "")

    def test_the_table_comes_written_as_the_daily_pages_write_figures(self, store):
        # One way to write a figure (metrics.figures), as for the KPI table; live.js only puts the words in place.
        paid_order(store, utc(2026, 3, 10, 20, 0), "organic_search", "1234.50")
        rows = {r["source"]: r for r in live.snapshot(store, self.NOW)["funnel"]}
        assert rows["organic_search"]["shown"] == {
            "sessions": "3", "viewed": "2", "view_rate": "66.67 %", "carted": "1", "cart_rate": "50.00 %",
            "orders": "2", "order_rate": "n/a", "orders_per_session": "66.67 %", "gmv": "1,314.50", "cost": "0.00",
            "cost_per_order": "0.00"}
        assert rows["paid_search"]["shown"]["cost_per_order"] == "30.00"

    def test_cost_is_todays_spend_of_the_sources_channels(self, store):
        rows = {r["source"]: r for r in live.snapshot(store, self.NOW)["funnel"]}
        assert rows["paid_search"]["cost"] == "30.00"
        assert rows["paid_search"]["cost_per_order"] == "30.00"
        assert rows["organic_search"]["cost"] == "0.00"
        assert rows["organic_search"]["cost_per_order"] == "0.00"

    def test_a_source_whose_ad_plan_brought_nobody_today_is_still_listed(self, store):
        AdPlan.objects.create(store=store, name="Feed ads", channel=AdChannel.DISPLAY)
        rows = {r["source"]: r for r in live.snapshot(store, self.NOW)["funnel"]}
        quiet = rows[str(CHANNEL_SOURCE[AdChannel.DISPLAY])]
        assert (quiet["sessions"], quiet["orders"], quiet["cost"], quiet["cost_per_order"]) == (0, 0, "0.00", None)

    def test_today_kpis(self, store):
        today = live.snapshot(store, self.NOW)["kpis"]["today"]
        assert today["sessions"] == 5
        assert today["visitors"] == 5
        assert today["orders"] == 2
        assert today["gmv"] == "120.00"
        assert today["aov"] == "60.00"
        assert today["conversion"] == pytest.approx(2 / 5)

    def test_bench_baseline_counts_the_same(self, store):
        for hour in (20, 21):  # guest orders (no buyer ref) are no buyer in either
            paid_order(store, utc(2026, 3, 10, hour, 0), buyer="")
        fast, naive = live.snapshot(store, self.NOW), live.naive_snapshot(store, self.NOW)
        for kpi in ("sessions", "visitors", "orders", "buyers"):
            assert fast["kpis"]["today"][kpi] == naive["kpis"]["today"][kpi], kpi
        for row in fast["funnel"]:
            slow = naive["funnel"][row["source"]]
            assert (row["sessions"], row["viewed"], row["carted"], row["orders"]) == (
                slow["sessions"], slow["viewed"], slow["carted"], slow["orders"])

    def test_hourly_buckets_use_local_hours(self, store):
        hourly = live.snapshot(store, self.NOW)["hourly"]
        assert hourly["today"]["sessions"][10] == 5
        assert hourly["today"]["gmv"][11] == 80.0
        assert hourly["today"]["gmv"][12] == 40.0
        assert hourly["yesterday"]["gmv"][23] == 99.0
        assert hourly["now_hour"] == 15


def test_visitors_count_distinct_people_and_buyers_distinct_buyers(db):
    store = StoreFactory(timezone="UTC")
    now = utc(2026, 5, 5, 12)
    for n in range(3):
        session(store, utc(2026, 5, 5, 9), f"s{n}", "direct", visitor="same-person")
    session(store, utc(2026, 5, 5, 9), "s9", "direct", visitor="other")
    paid_order(store, utc(2026, 5, 5, 10), buyer="b1")
    paid_order(store, utc(2026, 5, 5, 11), buyer="b1")
    today = live.snapshot(store, now)["kpis"]["today"]
    assert (today["sessions"], today["visitors"], today["orders"], today["buyers"]) == (4, 2, 2, 1)


def test_conversion_is_orders_per_visitor_as_on_the_daily_page(db):
    # One shopper opened three sessions and bought once, another browsed: 1 order of 2 visitors is 50 %,
    # as the next morning's daily page says, not 1 of 4 sessions (25 %).
    store = StoreFactory(timezone="UTC")
    for n in range(3):
        session(store, utc(2026, 5, 5, 9, n), f"s{n}", "direct", visitor="shopper")
    session(store, utc(2026, 5, 5, 9), "s9", "direct", visitor="browser")
    paid_order(store, utc(2026, 5, 5, 10), buyer="shopper")
    today = live.snapshot(store, utc(2026, 5, 5, 12))["kpis"]["today"]
    assert today["conversion"] == pytest.approx(0.5)


def test_a_visitor_still_browsing_after_midnight_is_a_visitor_of_the_new_day(db):
    store = StoreFactory(timezone="UTC")
    session(store, utc(2026, 5, 4, 23, 50), "late", "direct", visitor="night-owl")
    event(store, "product_view", utc(2026, 5, 5, 0, 5), session="late", visitor="night-owl")
    paid_order(store, utc(2026, 5, 5, 0, 10), buyer="night-owl")
    today = live.snapshot(store, utc(2026, 5, 5, 12))["kpis"]["today"]
    assert (today["sessions"], today["visitors"], today["orders"]) == (0, 1, 1)
    assert today["conversion"] == pytest.approx(1.0)


def test_a_paid_or_refunded_order_makes_no_visitor_today_or_yesterday(db):
    # Order and refund events carry the buyer's visitor id. They made the buyer a "visitor" on the day a
    # payment settled or a refund was booked, with no visit that day: visitors up, conversion down.
    store = StoreFactory(timezone="UTC")
    for day in (4, 5):
        session(store, utc(2026, 5, day, 9), f"s{day}", "direct", visitor="browser")
        event(store, "order_paid", utc(2026, 5, day, 10), visitor="bank-transfer-buyer", source="other")
        event(store, "refund", utc(2026, 5, day, 10, 30), visitor="last-weeks-buyer")
    paid_order(store, utc(2026, 5, 5, 10), buyer="bank-transfer-buyer")
    kpis = live.snapshot(store, utc(2026, 5, 5, 12))["kpis"]
    assert (kpis["today"]["visitors"], kpis["yesterday"]["visitors"]) == (1, 1)
    assert kpis["today"]["conversion"] == pytest.approx(1.0)  # 1 order of 1 visitor, not of 3


def test_changes_are_written_as_the_daily_pages_write_them(db):
    # The live page wrote "−25.0 %" and "+8.3 pp" where the daily pages and the email write "−25 %" and
    # "+8.3 pts", "±0" and "from 0": the words now come from the same place (metrics.figures).
    store = StoreFactory(timezone="UTC")
    for n in range(3):
        session(store, utc(2026, 5, 5, 9), f"t{n}", "direct")
    for n in range(4):
        session(store, utc(2026, 5, 4, 9), f"y{n}", "direct")
    paid_order(store, utc(2026, 5, 5, 10), total="50.00")
    paid_order(store, utc(2026, 5, 4, 10), total="40.00")
    shown = live.snapshot(store, utc(2026, 5, 5, 12))["shown"]
    vs_yesterday = {name: shown["changes"][name]["yesterday"]["text"] for name in shown["changes"]}
    assert vs_yesterday == {"visitors": "\u221225\u00a0%", "sessions": "\u221225\u00a0%", "orders": "±0",
                            "buyers": "±0", "gmv": "+25\u00a0%", "conversion": "+8.3\u00a0pts", "aov": "+25\u00a0%"}
    assert shown["changes"]["visitors"]["last_week"] == {"text": "from 0", "tone": "up"}
    assert shown["changes"]["conversion"]["last_week"] == {"text": "", "tone": "muted"}  # no visitors then
    assert (shown["changes"]["visitors"]["yesterday"]["tone"], shown["changes"]["orders"]["yesterday"]["tone"]) == (
        "down", "muted")
    assert shown["kpis"]["today"] == {"visitors": "3", "sessions": "3", "orders": "1", "buyers": "1",
                                    "gmv": "50.00", "conversion": "33.33 %", "aov": "50.00"}


def test_a_small_move_of_conversion_in_points_is_coloured_as_a_move():
    from metrics.figures import change_words

    assert change_words(0.004, in_points=True) == ("+0.4\u00a0pts", "up")
    assert change_words(-0.0004, in_points=True) == ("±0\u00a0pts", "muted")


def test_top_products_rank_by_gmv_with_views_and_carts(db):
    store = StoreFactory(timezone="UTC")
    tea, pot, other_store_product = ProductFactory(store=store), ProductFactory(store=store), ProductFactory()
    now = utc(2026, 5, 5, 12)
    for n in range(4):
        event(store, "product_view", utc(2026, 5, 5, 9), session=f"s{n}", product=tea)
    event(store, "add_to_cart", utc(2026, 5, 5, 9), session="s0", product=tea)
    event(store, "product_view", utc(2026, 5, 5, 9), session="s0", product=pot)
    event(store, "product_view", utc(2026, 5, 4, 9), session="old", product=pot)  # yesterday
    order = paid_order(store, utc(2026, 5, 5, 10), total="300.00")
    OrderLineFactory(order=order, line_no=1, product=pot, amount=Decimal("300.00"))
    OrderLineFactory(order=order, line_no=2, product=tea, amount=Decimal("20.00"))
    assert other_store_product.store != store
    top = live.snapshot(store, now)["top_products"]
    assert [(p["product_id"], p["views"], p["carts"], p["orders"], p["gmv"]) for p in top] == [
        (pot.pk, 1, 0, 1, "300.00"), (tea.pk, 4, 1, 1, "20.00")]
    assert top[1]["cart_rate"] == pytest.approx(0.25)
    assert [p["shown"] for p in top] == [
        {"views": "1", "carts": "0", "cart_rate": "0.00 %", "orders": "1", "gmv": "300.00"},
        {"views": "4", "carts": "1", "cart_rate": "25.00 %", "orders": "1", "gmv": "20.00"}]



def test_each_top_product_links_to_its_own_page_even_in_a_store_whose_slug_is_0(db):
    # The page used to swap "/0/" in a product URL template: in store "0" it changed the slug instead.
    store = StoreFactory(slug="0", timezone="UTC")
    tea = ProductFactory(store=store)
    event(store, "product_view", utc(2026, 5, 5, 9), session="s0", product=tea)
    [row] = live.snapshot(store, utc(2026, 5, 5, 12))["top_products"]
    assert row["url"] == f"/stores/0/products/{tea.pk}/" == tea.get_absolute_url()


class TestSameClockTime:
    """Windows are the store's local day up to the local clock time now (frozen clock)."""

    def test_shanghai_store_counts_its_own_morning(self, db):
        store = StoreFactory(timezone="Asia/Shanghai")
        with time_machine.travel(utc(2026, 11, 25, 1, 30), tick=False):  # 09:30 in Shanghai, 25 Nov
            session(store, utc(2026, 11, 24, 17, 0), "t1", "direct")  # 01:00 on the 25th: today
            session(store, utc(2026, 11, 24, 15, 30), "y-late", "direct")  # 23:30 on the 24th: after 09:30
            session(store, utc(2026, 11, 24, 1, 0), "y1", "direct")  # 09:00 on the 24th
            session(store, utc(2026, 11, 24, 0, 0), "y2", "direct")  # 08:00 on the 24th
            session(store, utc(2026, 11, 24, 2, 0), "y-after", "direct")  # 10:00 on the 24th
            session(store, utc(2026, 11, 18, 0, 0), "w1", "direct")  # 08:00 on Wed 18th
            session(store, utc(2026, 11, 18, 2, 0), "w-after", "direct")  # 10:00 on the 18th
            paid_order(store, utc(2026, 11, 24, 16, 30), total="10.00")  # 00:30 today
            paid_order(store, utc(2026, 11, 24, 1, 0), total="30.00")  # 09:00 yesterday
            paid_order(store, utc(2026, 11, 24, 3, 0), total="70.00")  # 11:00 yesterday: later than now
            data = live.snapshot(store)
        k = data["kpis"]
        assert (k["today"]["sessions"], k["yesterday"]["sessions"], k["last_week"]["sessions"]) == (1, 2, 1)
        assert (k["today"]["gmv"], k["yesterday"]["gmv"]) == ("10.00", "30.00")
        assert k["today"]["day"] == "2026-11-25"
        assert k["last_week"]["day"] == "2026-11-18"
        assert data["changes"]["sessions"]["yesterday"] == pytest.approx(-0.5)
        assert data["changes"]["conversion"]["yesterday"] == pytest.approx((1 / 1 - 1 / 2) * 100)

    def test_los_angeles_store_is_still_on_the_previous_day(self, db):
        store = StoreFactory(timezone="America/Los_Angeles")
        with time_machine.travel(utc(2026, 11, 25, 1, 30), tick=False):  # 17:30 on 24 Nov in LA
            session(store, utc(2026, 11, 24, 9, 0), "t1", "direct")  # 01:00 on the 24th: today
            session(store, utc(2026, 11, 25, 1, 0), "t2", "direct")  # 17:00 on the 24th: today
            session(store, utc(2026, 11, 24, 7, 0), "y-late", "direct")  # 23:00 on the 23rd
            session(store, utc(2026, 11, 23, 20, 0), "y1", "direct")  # 12:00 on the 23rd
            session(store, utc(2026, 11, 17, 20, 0), "w1", "direct")  # 12:00 on Tue 17th
            data = live.snapshot(store)
        k = data["kpis"]
        assert k["today"]["day"] == "2026-11-24"
        assert (k["today"]["sessions"], k["yesterday"]["sessions"], k["last_week"]["sessions"]) == (2, 1, 1)

    def test_day_after_spring_forward_compares_from_local_midnight(self, db):
        store = StoreFactory(timezone="America/Los_Angeles")
        now = utc(2026, 3, 9, 17, 0)  # 10:00 PDT on Monday 9 March; clocks sprang forward on the 8th
        session(store, utc(2026, 3, 8, 7, 30), "before-midnight", "direct")  # 23:30 PST on the 7th
        session(store, utc(2026, 3, 8, 8, 30), "y1", "direct")  # 00:30 PST on the 8th
        session(store, utc(2026, 3, 8, 16, 30), "y2", "direct")  # 09:30 PDT on the 8th
        session(store, utc(2026, 3, 8, 17, 30), "y-after", "direct")  # 10:30 PDT on the 8th
        windows = {w.key: w for w in live.windows(store, now)}
        assert windows["yesterday"].end - windows["yesterday"].start == (utc(2026, 3, 8, 17) - utc(2026, 3, 8, 8))
        assert live.snapshot(store, now)["kpis"]["yesterday"]["sessions"] == 2

    def test_at_0230_the_day_after_spring_forward_yesterday_stops_where_its_clock_jumped(self, db):
        # 02:30 did not exist on 8 March in Los Angeles (02:00 PST jumped to 03:00 PDT). Python put
        # "yesterday at 02:30" at 03:30 PDT, so yesterday counted its 03:00-03:30 too: half an hour of
        # yesterday's wall clock that today has not reached yet. Up to 02:30 on yesterday's clock is up to the jump.
        store = StoreFactory(timezone="America/Los_Angeles")
        session(store, utc(2026, 3, 8, 9, 30), "y-0130", "direct")  # 01:30 PST on the 8th
        session(store, utc(2026, 3, 8, 10, 10), "y-0310", "direct")  # 03:10 PDT on the 8th
        paid_order(store, utc(2026, 3, 8, 9, 45), total="20.00")  # 01:45 PST on the 8th
        paid_order(store, utc(2026, 3, 8, 10, 20), total="90.00")  # 03:20 PDT on the 8th
        session(store, utc(2026, 3, 9, 9, 0), "t-0200", "direct")  # 02:00 PDT on the 9th
        with time_machine.travel(utc(2026, 3, 9, 9, 30), tick=False):  # 02:30 PDT on Monday 9 March
            data = live.snapshot(store)
        assert data["windows"]["yesterday"]["end"] == "2026-03-08T10:00:00+00:00"  # 03:00 PDT, the jump
        assert (data["kpis"]["yesterday"]["sessions"], data["kpis"]["yesterday"]["gmv"]) == (1, "20.00")
        # The hour not over yet (02:00-02:30) did not exist yesterday: nothing to set beside it.
        assert data["hourly"]["this_hour"]["yesterday"] == {"sessions": 0, "gmv": 0.0}
        assert data["hourly"]["this_hour"]["today"]["sessions"] == 1

    def test_at_0230_a_week_after_spring_forward_last_week_stops_where_its_clock_jumped(self, db):
        store = StoreFactory(timezone="Europe/London")  # 01:00 GMT jumped to 02:00 BST on Sunday 29 March
        session(store, utc(2026, 3, 29, 0, 30), "w-0030", "direct")  # 00:30 GMT on the 29th
        session(store, utc(2026, 3, 29, 1, 15), "w-0215", "direct")  # 02:15 BST on the 29th
        with time_machine.travel(utc(2026, 4, 5, 0, 30), tick=False):  # 01:30 BST on Sunday 5 April
            data = live.snapshot(store)
        assert data["windows"]["last_week"]["end"] == "2026-03-29T01:00:00+00:00"
        assert data["kpis"]["last_week"]["sessions"] == 1


def test_the_hour_not_over_yet_is_compared_with_the_same_minutes_of_yesterday(db):
    # At 10:20 the 10:00 hour has 20 minutes; beside yesterday's whole 10:00 hour it always looked like a drop.
    store = StoreFactory(timezone="Europe/Berlin")
    now = utc(2026, 5, 5, 8, 20)  # 10:20 CEST
    for minute in (5, 15, 25, 50):  # yesterday 10:05 … 10:50
        session(store, utc(2026, 5, 4, 8, minute), f"y{minute}", "direct")
    paid_order(store, utc(2026, 5, 4, 8, 10), total="30.00")
    paid_order(store, utc(2026, 5, 4, 8, 40), total="70.00")
    session(store, utc(2026, 5, 5, 8, 5), "t1", "direct")
    paid_order(store, utc(2026, 5, 5, 8, 12), total="20.00")
    hourly = live.snapshot(store, now)["hourly"]
    assert (hourly["yesterday"]["sessions"][10], hourly["yesterday"]["gmv"][10]) == (4, 100.0)
    assert hourly["this_hour"] == {"minutes": 20, "today": {"sessions": 1, "gmv": 20.0},
                                   "yesterday": {"sessions": 2, "gmv": 30.0}}


class TestTrackerSilence:
    """A Shanghai store at 10:30 local on 25 Nov 2026: did the events stop, or is it a quiet hour?"""

    NOW = utc(2026, 11, 25, 2, 30)  # 10:30 in Shanghai

    @pytest.fixture
    def store(self, db):
        store = StoreFactory(timezone="Asia/Shanghai")
        session(store, utc(2026, 11, 25, 1, 55), "t1", "direct")  # 09:55 today: the last event
        # yesterday 09:40 … 10:40; five of them between 09:55 and 10:30
        for hour, minute in ((1, 40), (1, 50), (2, 0), (2, 5), (2, 10), (2, 20), (2, 25), (2, 40)):
            session(store, utc(2026, 11, 24, hour, minute), f"y{hour}{minute}", "direct")
        session(store, utc(2026, 11, 18, 2, 10), "w1", "direct")  # 10:10 last week
        return store

    def test_events_that_stopped_while_yesterday_was_busy_say_check_the_tracker(self, store):
        tracker = live.snapshot(store, self.NOW)["tracker"]
        assert tracker["state"] == "down"
        assert tracker["last_event"] == "2026-11-25T09:55:00+08:00"
        assert tracker["usual"] == {"yesterday": 5, "last_week": 1}  # sessions between 09:55 and 10:30
        assert tracker["message"] == (
            "No events for 35 min, in the same minutes yesterday 5 sessions, the same weekday last week "
            "1 session: check the storefront's tracker.")

    def test_orders_still_arriving_do_not_hide_a_tracker_that_stopped(self, store):
        # Payments and refunds are sent by the shop's back end, not by the tracker in the visitor's browser:
        # while they kept coming the page said "Last event 5 min ago" over a flat line of sessions.
        event(store, "order_paid", utc(2026, 11, 25, 2, 20), visitor="v-t1", source="direct")  # 10:20
        event(store, "refund", utc(2026, 11, 25, 2, 25))  # 10:25
        tracker = live.snapshot(store, self.NOW)["tracker"]
        assert (tracker["state"], tracker["last_event"]) == ("down", "2026-11-25T09:55:00+08:00")

    def test_silence_that_is_usual_at_this_hour_is_a_quiet_hour(self, store):
        night = utc(2026, 11, 24, 20, 0)  # 04:00 on the 25th
        session(store, utc(2026, 11, 24, 17, 0), "n1", "direct")  # 01:00: nothing since, as on other nights
        tracker = live.snapshot(store, night)["tracker"]
        assert tracker["state"] == "quiet"
        assert tracker["message"] == ("No events for 3 h, as usual at this hour: in the same minutes yesterday "
                                      "0 sessions, the same weekday last week 0 sessions.")

    def test_a_recent_event_says_how_long_ago(self, store):
        tracker = live.snapshot(store, utc(2026, 11, 25, 2, 3, 30))["tracker"]  # 10:03:30
        assert (tracker["state"], tracker["message"]) == ("live", "Last event 8 min ago.")

    def test_a_store_that_never_sent_an_event_is_told_so(self, db):
        tracker = live.snapshot(StoreFactory(), self.NOW)["tracker"]
        assert tracker["state"] == "none"
        assert tracker["message"].startswith("No traffic events received yet")

    def test_the_live_page_shows_the_warning(self, store, client, operator_a):
        MembershipFactory(store=store, user=operator_a)
        client.force_login(operator_a)
        with time_machine.travel(self.NOW, tick=False):
            page = client.get(f"/metrics/{store.slug}/live/").content.decode()
        assert 'id="tracker" class="tracker" data-state="down"' in page
        assert "check the storefront&#x27;s tracker" in page


class TestPages:
    def test_live_page_embeds_the_snapshot(self, client_a, store_a):
        response = client_a.get(f"/metrics/{store_a.slug}/live/")
        assert response.status_code == 200
        assert b'id="live-data"' in response.content
        assert b"vendor/plotly/plotly.min.js" in response.content

    def test_every_money_column_and_row_names_the_stores_currency(self, client_a, store_a):
        page = client_a.get(f"/metrics/{store_a.slug}/live/").content.decode()
        for heading in ("GMV (CNY)", "Ad cost (CNY)", "Cost per order (CNY)", "Average order value (CNY)"):
            assert heading in page
        funnel = page[page.index('id="funnel"'):page.index('id="chart-funnel"')]
        top = page[page.index('id="top-products"'):]
        assert ">GMV (CNY)<" in funnel and ">GMV (CNY)<" in top and ">GMV<" not in page

    def test_live_page_names_conversion_as_the_daily_page_does(self, client_a, store_a):
        page = client_a.get(f"/metrics/{store_a.slug}/live/").content.decode()
        assert "Conversion (orders / visitors)" in page
        assert "Orders per session" in page  # the funnel's own rate, under its own name
        assert "orders / sessions" not in page

    def test_json_endpoint_answers_fresh_numbers(self, client_a, store_a):
        session(store_a, utc(2026, 1, 1), "s1", "direct")
        with time_machine.travel(utc(2026, 1, 1, 1), tick=False):
            response = client_a.get(f"/metrics/{store_a.slug}/live.json")
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"]
        assert response.json()["kpis"]["today"]["sessions"] == 1

    @pytest.mark.parametrize("path", ["/metrics/{}/live/", "/metrics/{}/live.json"])
    def test_another_stores_live_view_is_not_found(self, client_a, store_b, path):
        assert client_a.get(path.format(store_b.slug)).status_code == 404

    def test_index_links_only_own_stores(self, client_a, store_a, store_b):
        response = client_a.get("/metrics/live/")
        assert f"/metrics/{store_a.slug}/live/".encode() in response.content
        assert store_b.slug.encode() not in response.content

    def test_anonymous_user_is_sent_to_login(self, client, store_a):
        response = client.get(f"/metrics/{store_a.slug}/live.json")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_sqlite_float_sum_reads_as_the_cents_it_adds_up_to():
    # 54.99 summed in binary floats: an AOV over 2 orders must read 27.50 as everywhere else, not 27.49.
    total = live._decimal(54.989999999999995)
    assert total == Decimal("54.99") and live._money(total / 2) == "27.50"


def test_the_real_time_index_shows_money_with_separators(client_a, store_a):
    paid_order(store_a, timezone.now(), total="12345.60")
    page = client_a.get(reverse("metrics:live")).content.decode()
    assert "12,345.60\u00a0CNY" in page


def test_the_real_time_index_counts_buyers_as_the_live_view_does(client_a, store_a):
    # Two guest orders (no buyer ref) and one known buyer: one buyer, not two, on both pages.
    for ref in ("", "", "b1"):
        OrderFactory(store=store_a, placed_at=timezone.now(), paid_at=timezone.now(), total=Decimal("10.00"),
                     buyer_ref=ref)
    assert live.snapshot(store_a)["kpis"]["today"]["buyers"] == 1
    row = client_a.get(reverse("metrics:live")).context["rows"][0]
    assert (row["today"].orders, row["today"].buyers, row["today"].gmv) == (3, 1, Decimal("30.00"))


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_the_real_time_index_compares_each_store_with_yesterday_at_the_same_time_as_the_desk(client_a, store_a):
    now = timezone.now()
    paid_order(store_a, now - timedelta(hours=1), total="150.00")
    paid_order(store_a, now - timedelta(hours=25), total="100.00")  # 11:00 yesterday: before this time
    paid_order(store_a, now - timedelta(hours=23), total="100.00")  # 13:00 yesterday: after it
    page = client_a.get(reverse("metrics:live")).content.decode()
    assert "12:00 Asia/Shanghai" in page
    assert "+50\u00a0%</span> <span class=\"muted\">· yesterday 100.00\u00a0CNY" in page  # GMV
    assert "±0</span> <span class=\"muted\">· yesterday 1</span>" in page  # orders
    desk = client_a.get(reverse("desk")).context["panels"][0]
    row = client_a.get(reverse("metrics:live")).context["rows"][0]
    assert (row["today"], row["yesterday"]) == (desk["today"], desk["yesterday"])


def test_the_real_time_index_names_the_currency_of_each_stores_average_order(client_a, store_a, operator_a):
    # The index lists stores in different currencies: an AOV of 5.00 must say whose money it is.
    usd = StoreFactory(currency="USD")
    MembershipFactory(store=usd, user=operator_a)
    paid_order(store_a, timezone.now(), total="300.00")
    paid_order(usd, timezone.now(), total="5.00")
    page = client_a.get(reverse("metrics:live")).content.decode()
    assert 'data-label="GMV"><span>300.00\u00a0CNY<div' in page  # and the AOV of one order
    assert page.count("300.00\u00a0CNY") == 2 and page.count("5.00\u00a0USD") == 2
