"""The live view updates its numbers in place when new events arrive (no reload)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from metrics.models import TrafficEvent
from tests.factories import OrderFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_live_view_picks_up_new_sessions_without_reload(page, live_server, login, screenshot, operator_a, store_a):
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    sessions_today = page.locator("#kpi-sessions-today")
    expect(sessions_today).to_have_text("0")
    expect(page.locator("#chart-sessions .main-svg").first).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    ts = timezone.now() - timedelta(seconds=2)
    teapot = ProductFactory(store=store_a, title="Teapot")
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store_a, event_id=f"e2e-{n}", type="session_start", ts=ts, session_id=f"s{n}",
                     visitor_id=f"v{n}", source="paid_search") for n in range(3)
    ] + [TrafficEvent(store=store_a, event_id="e2e-view", type="product_view", ts=ts, session_id="s0",
                                   product=teapot)])

    expect(sessions_today).to_have_text("3", timeout=15_000)  # the page polls every 5 s
    expect(page.locator("#kpi-visitors-today")).to_have_text("3")
    expect(page.locator('#funnel tr[data-source="paid_search"] td').nth(1)).to_have_text("3")
    expect(page.locator("#top-products a")).to_have_attribute("href", teapot.get_absolute_url())
    assert page.evaluate("window.__notReloaded") is True
    screenshot("live")


def test_the_hour_not_over_yet_is_drawn_apart_beside_yesterdays_same_minutes(page, live_server, login, operator_a,
                                                                            store_a):
    # Today's line used to end on the current hour's few minutes: a drop every hour, on every chart.
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator("#chart-sessions .legendtext").first).to_be_visible()
    now_hour = page.evaluate("JSON.parse(document.getElementById('live-data').textContent).hourly.now_hour")
    for chart in ("chart-sessions", "chart-gmv"):
        traces = page.evaluate(f"document.getElementById('{chart}').data.map((t) => [t.name, t.y])")
        today, _, this_hour, yesterday_same = traces
        assert today[1][now_hour] is None
        assert this_hour[0].startswith("This hour so far") and len(this_hour[1]) == 1
        assert yesterday_same[0] == "Yesterday, same minutes"


def test_coming_back_to_the_tab_refreshes_at_once(page, live_server, login, operator_a, store_a, monkeypatch):
    # Hidden tabs skip the poll; back on the tab the page showed old numbers until the next tick.
    monkeypatch.setattr("metrics.views.live.REFRESH_SECONDS", 600)
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator("#kpi-sessions-today")).to_have_text("0")
    TrafficEvent.objects.create(store=store_a, event_id="back", type="session_start", ts=timezone.now(),
                                session_id="s1", visitor_id="v1", source="direct")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#kpi-sessions-today")).to_have_text("1", timeout=5_000)


def test_the_refresh_time_names_the_stores_utc_offset(page, live_server, login, operator_a, store_a):
    # "As of 19:30:51" read as the operator's own clock; the store is in Shanghai.
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator("#live-status")).to_contain_text("store time (UTC+08:00)")


def test_changes_read_as_on_the_daily_pages_whole_percents_and_points(page, live_server, login, operator_a, store_a):
    # live.js wrote "today −39.0 %" and "today +0.8 pp" where the daily pages and the email write "−39 %" and
    # "+0.8 pts"; the words now come from the server (metrics.figures), the script only puts them in place.
    def with_changes(route):
        data = route.fetch().json()
        data["shown"]["changes"]["visitors"]["yesterday"] = {"text": "\u221239\u00a0%", "tone": "down"}
        data["shown"]["kpis"]["today"]["conversion"] = "2.35 %"
        route.fulfill(json=data)

    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    page.route("**/live.json*", with_changes)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # poll now, not in 5 s
    expect(page.locator("#chg-visitors-yesterday")).to_have_text("today \u221239\u00a0%")
    expect(page.locator("#chg-visitors-yesterday")).to_have_class("chg down")
    expect(page.locator("#kpi-conversion-today")).to_have_text("2.35 %")


def test_orders_without_a_tracked_session_read_n_a_with_the_reason_not_over_100_percent(page, live_server, login,
                                                                                          operator_a, store_a):
    # 5 direct orders by phone and 2 direct sessions that added to cart: the order rate read "250.00 %".
    ts = timezone.now() - timedelta(seconds=2)
    TrafficEvent.objects.bulk_create(
        [TrafficEvent(store=store_a, event_id=f"s{n}", type="session_start", ts=ts, session_id=f"s{n}",
                      visitor_id=f"v{n}", source="direct") for n in range(2)]
        + [TrafficEvent(store=store_a, event_id=f"{t}-{n}", type=t, ts=ts, session_id=f"s{n}")
           for n in range(2) for t in ("product_view", "add_to_cart")])
    for _ in range(5):
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, traffic_source="direct", total=Decimal("10.00"))
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    orders = page.locator('#funnel tr[data-source="direct"] td').nth(4)
    expect(orders).to_have_text("5 n/a")
    expect(page.locator('#funnel tr[data-source="direct"] td').nth(5)).to_have_text("n/a")  # 5 orders, 2 sessions
    expect(page.locator("#funnel-notes")).to_have_text(
        "Direct: 5 orders but 2 sessions that added to cart: some orders came without a tracked session "
        "(by phone, or with the tracker blocked), so no order rate is shown.")


def test_source_and_product_tables_show_the_servers_words(page, live_server, login, operator_a, store_a):
    # The two tables were formatted in live.js while the KPI table came written by the server (metrics.figures):
    # two ways to write one figure. Now the script puts the server's words in place, whatever they are.
    def with_words(route):
        data = route.fetch().json()
        data["funnel"][0]["shown"]["gmv"] = "12,345.60"
        data["top_products"][0]["shown"]["cart_rate"] = "33.33 %"
        route.fulfill(json=data)

    ts = timezone.now() - timedelta(seconds=2)
    teapot = ProductFactory(store=store_a, title="Teapot")
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store_a, event_id="s0", type="session_start", ts=ts, session_id="s0", visitor_id="v0",
                     source="direct"),
        TrafficEvent(store=store_a, event_id="v0", type="product_view", ts=ts, session_id="s0", product=teapot)])
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator('#top-products tr[data-product] td').nth(3)).to_have_text("0.00 %")
    page.route("**/live.json*", with_words)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # poll now, not in 5 s
    expect(page.locator('#funnel tr[data-source="direct"] td').nth(6)).to_have_text("12,345.60")
    expect(page.locator('#top-products tr[data-product] td').nth(3)).to_have_text("33.33 %")


def test_coming_back_to_the_tab_during_a_refresh_does_not_start_a_second_one(page, live_server, login, operator_a,
                                                                              store_a, monkeypatch, settings):
    # Each return to the tab started a fetch of its own, even with one still under way: two (or more) snapshots
    # computed for one operator, answering in any order, the older one drawn last.
    monkeypatch.setattr("metrics.views.live.REFRESH_SECONDS", 600)
    settings.LIVE_SHARED_SECONDS = 0  # each return's events at once, not after the shared snapshot's interval
    login("op-a")
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator("#kpi-sessions-today")).to_have_text("0")
    TrafficEvent.objects.create(store=store_a, event_id="back", type="session_start", ts=timezone.now(),
                                session_id="s1", visitor_id="v1", source="direct")
    fetches = page.evaluate("""() => {
        let n = 0;
        const fetch = window.fetch;
        window.fetch = (...args) => { n += 1; return fetch(...args); };
        document.dispatchEvent(new Event('visibilitychange'));  // starts a refresh...
        document.dispatchEvent(new Event('visibilitychange'));  // ...back again before it answered
        return n;
    }""")
    assert fetches == 1
    expect(page.locator("#kpi-sessions-today")).to_have_text("1")
    # Once it has answered, the next return to the tab refreshes again.
    TrafficEvent.objects.create(store=store_a, event_id="back-2", type="session_start", ts=timezone.now(),
                                session_id="s2", visitor_id="v2", source="direct")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#kpi-sessions-today")).to_have_text("2")


def test_on_a_phone_every_kpi_and_its_changes_are_on_screen(page, live_server, login, operator_a, store_a):
    # On a 390 px phone the comparison columns ran off to the right ("Same weekday last week" out of sight) and the
    # hour labels under the charts were cut to "0…": the page an operator checks most on the go.
    ts = timezone.now() - timedelta(minutes=1)
    OrderFactory(store=store_a, total=Decimal("12345.60"), placed_at=ts, paid_at=ts)
    login("op-a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/metrics/{store_a.slug}/live/")
    expect(page.locator("#kpi-gmv-today")).to_have_text("12,345.60")
    shown = page.locator("#kpis").evaluate("t => t.closest('.table-wrap').getBoundingClientRect().right")
    off = page.evaluate("""right => [...document.querySelectorAll('#kpis .chg')]
        .filter(el => el.textContent && el.getBoundingClientRect().right > right + 1).map(el => el.id)""", shown)
    assert page.locator("#kpis .chg:not(:empty)").count() > 0 and off == []
    ticks = page.evaluate("[...document.querySelectorAll('#chart-sessions .xtick text')].map(t => t.textContent)")
    assert ticks and all(":" in t and "…" not in t for t in ticks)
