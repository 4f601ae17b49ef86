"""The desk: today so far per store, open items, plotly served locally, health check."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, OrderFactory, UserFactory, ViolationFactory

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_counts_todays_paid_orders_in_the_store_zone(client_a, store_a):
    now = timezone.now()
    OrderFactory(store=store_a, total=Decimal("100"), placed_at=now - timedelta(hours=3),
                 paid_at=now - timedelta(hours=3))  # 09:00 local: today
    OrderFactory(store=store_a, total=Decimal("40"), placed_at=now - timedelta(hours=13),
                 paid_at=now - timedelta(hours=13))  # 23:00 local yesterday: after "this time yesterday"
    OrderFactory(store=store_a, total=Decimal("30"), placed_at=now - timedelta(hours=27),
                 paid_at=now - timedelta(hours=27))  # 09:00 local yesterday
    panel = client_a.get(reverse("desk")).context["panels"][0]
    assert (panel["today"].orders, panel["today"].gmv) == (1, Decimal("100"))
    assert (panel["yesterday"].orders, panel["yesterday"].gmv) == (1, Decimal("30"))


@time_machine.travel("2026-11-02 18:00:00+00:00", tick=False)  # 10:00 in Los Angeles, the day after DST ended
def test_desk_compares_with_yesterday_at_the_same_local_clock_time_across_dst(client, store_b):
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b")).user)
    # 1 Nov: 00:30 and 09:30 PDT count (before 10:00); 10:30 PST does not. 24 h back in UTC would
    # have started the window at 01:00 and missed the first order.
    for paid in (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), datetime(2026, 11, 1, 17, 30, tzinfo=UTC),
                 datetime(2026, 11, 1, 18, 30, tzinfo=UTC)):
        OrderFactory(store=store_b, total=Decimal("10"), placed_at=paid, paid_at=paid)
    panel = client.get(reverse("desk")).context["panels"][0]
    assert (panel["yesterday"].orders, panel["yesterday"].gmv) == (2, Decimal("20"))


def test_desk_lists_open_violations(client_a, store_a):
    ViolationFactory(store=store_a, status="open")
    ViolationFactory(store=store_a, status="resolved")
    panel = client_a.get(reverse("desk")).context["panels"][0]
    assert [(i.label, i.count) for i in panel["items"] if i.label == "Open violations"] == [("Open violations", 1)]


def test_plotly_js_is_served_from_our_static_files(client_a):
    response = client_a.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


def test_health_check_needs_no_login(client, db):
    assert client.get(reverse("healthz")).json() == {"ok": True}


def test_desk_warns_when_background_jobs_stopped(client_a):
    from opsdesk.models import Heartbeat

    assert "Background jobs have not run" in client_a.get(reverse("desk")).content.decode()
    Heartbeat.beat()
    assert "Background jobs have not run" not in client_a.get(reverse("desk")).content.decode()


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_shows_money_with_thousands_separators_and_the_currency(client_a, store_a):
    now = timezone.now()
    OrderFactory(store=store_a, total=Decimal("34327.48"), placed_at=now - timedelta(hours=3),
                 paid_at=now - timedelta(hours=3))
    OrderFactory(store=store_a, total=Decimal("1250"), placed_at=now - timedelta(hours=27),
                 paid_at=now - timedelta(hours=27))
    page = client_a.get(reverse("desk")).content.decode()
    assert '<div class="value">34,327.48 <span class="unit">CNY</span></div>' in page  # GMV, and AOV of one order
    assert "yesterday 1,250.00 CNY" in page
    assert "34327.48" not in page


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_real_time_index_and_live_view_show_the_same_average_order_value(client_a, store_a):
    from metrics import live

    now = timezone.now()
    for total in ("212.26", "212.27"):  # 424.53 over 2 orders: 212.265, a half cent
        OrderFactory(store=store_a, total=Decimal(total), placed_at=now - timedelta(hours=1),
                     paid_at=now - timedelta(hours=1))
    assert live.snapshot(store_a)["kpis"]["today"]["aov"] == "212.27"
    assert client_a.get(reverse("desk")).context["panels"][0]["today"].aov == Decimal("212.27")
    assert client_a.get(reverse("metrics:live")).context["rows"][0]["today"].aov == Decimal("212.27")


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_aov_of_a_store_with_no_orders_today_says_so(client_a, store_a):
    yesterday = timezone.now() - timedelta(hours=27)
    OrderFactory(store=store_a, total=Decimal("193.80"), placed_at=yesterday, paid_at=yesterday)
    page = client_a.get(reverse("desk")).content.decode()
    assert "no orders yet · yesterday 193.80 CNY" in page
    assert "– · yesterday" not in page


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_writes_changes_as_the_daily_pages_do(client_a, store_a):
    now = timezone.now()
    for hours, total in ((2, "60"), (26, "100"), (27, "100")):  # today 1 order of 60; yesterday 2 of 100
        OrderFactory(store=store_a, total=Decimal(total), placed_at=now - timedelta(hours=hours),
                     paid_at=now - timedelta(hours=hours))
    page = client_a.get(reverse("desk")).content.decode()
    assert '<span class="down">−70\u00a0%</span> · yesterday 200.00 CNY' in page  # GMV, not "−70.0 %"
    assert '<span class="down">−50\u00a0%</span> · yesterday 2' in page  # orders
    assert ".0 %" not in page


@time_machine.travel("2026-11-11 04:00:00+00:00", tick=False)  # 12:00 in Shanghai
def test_desk_says_from_0_when_yesterday_had_nothing_by_now(client_a, store_a):
    now = timezone.now()
    OrderFactory(store=store_a, total=Decimal("80"), placed_at=now - timedelta(hours=2),
                 paid_at=now - timedelta(hours=2))
    page = client_a.get(reverse("desk")).content.decode()
    assert '<span class="up">from 0</span> · yesterday 0' in page
