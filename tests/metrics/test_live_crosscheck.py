"""The live view's numbers against an independent count in plain Python, at the awkward moments of a day.

Every event and order is read back from the database and counted here with zoneinfo and loops, the way a
person would count them by hand, then compared with `live.snapshot` — just after local midnight, on and
after DST changes, east and west of UTC, with guests, refunds, cancellations, pending orders and a late
event of yesterday arriving after the page was first drawn.
"""

import random
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from metrics import live, live_history, live_today
from metrics.models import TrafficEvent
from stores.models import Order, OrderLine, TrafficSource
from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
BROWSING = {"session_start", "product_view", "add_to_cart"}  # a paid or refunded order is no visit
SOURCES = ["organic_search", "paid_search", "recommendation", "social", "direct", "campaign", "other", ""]


def populate(store, now, seed=7):
    """Sessions, views, carts and orders spread over the nine days up to `now` (and a little after it),
    thicker around local midnights and the current clock time."""
    rng = random.Random(seed)
    zone = store.zone
    products = [ProductFactory(store=store, title=f"Tea {n}") for n in range(4)]
    today = now.astimezone(zone).date()
    anchors = []
    for back in range(9):
        midnight = datetime.combine(today - timedelta(days=back), time.min, tzinfo=zone).astimezone(UTC)
        anchors += [midnight, now - timedelta(days=back)]
    events, n = [], 0
    for s in range(700):
        if s % 2:
            start = rng.choice(anchors) + timedelta(minutes=rng.uniform(-40, 40))
        else:
            start = now - timedelta(minutes=rng.uniform(-90, 9 * 24 * 60))
        sid, visitor = f"s{s}", rng.choice([f"v{rng.randrange(150)}", ""])
        events.append(("session_start", start, sid, visitor, rng.choice(SOURCES), None))
        t = start
        for _ in range(rng.randrange(4)):
            t += timedelta(minutes=rng.uniform(0, 25))
            events.append((rng.choice(["product_view", "product_view", "add_to_cart"]), t, sid, visitor, "",
                           rng.choice(products)))
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store, event_id=f"x{(n := n + 1)}", type=kind, ts=ts, session_id=sid, visitor_id=visitor,
                     source=source, product=product)
        for kind, ts, sid, visitor, source, product in events])
    for o in range(160):
        paid = rng.choice(anchors) + timedelta(minutes=rng.uniform(-40, 40)) if o % 2 else \
            now - timedelta(minutes=rng.uniform(-60, 9 * 24 * 60))
        status = rng.choice(["paid", "paid", "shipped", "refunded", "cancelled", "pending"])
        total = Decimal(rng.randrange(100, 30000)) / 100
        order = Order.objects.create(
            store=store, external_id=f"o{o}", status=status, placed_at=paid - timedelta(minutes=3),
            paid_at=None if status == "pending" else paid, total=total,
            refund_amount=total if status == "refunded" else Decimal("0"),
            refunded_at=paid + timedelta(hours=1) if status == "refunded" else None,
            traffic_source=rng.choice(SOURCES[:-1]), buyer_ref=rng.choice([f"b{rng.randrange(60)}", ""]))
        first, second = rng.sample(products, 2)
        OrderLine.objects.create(order=order, line_no=1, product=first, quantity=1, unit_price=total, amount=total)
        if o % 3 == 0:  # a free gift on a second line
            OrderLine.objects.create(order=order, line_no=2, product=second, quantity=1, unit_price=0, amount=0)


def by_hand(store, now):
    """The live view's numbers counted from every row, in Python."""
    zone = store.zone
    local_now = now.astimezone(zone)
    today = local_now.date()

    def midnight(day):
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

    def same_clock(day):
        end = datetime.combine(day, local_now.time(), tzinfo=zone).replace(fold=local_now.fold)
        if end.astimezone(UTC).astimezone(zone).time() != local_now.time():
            # A clock time that day skipped (02:30 of a spring-forward night, read as 03:30): up to the jump at 03:00.
            end = end.astimezone(UTC).astimezone(zone).replace(minute=0, second=0, microsecond=0)
        return end.astimezone(UTC)

    windows = {"today": (midnight(today), now),
               "yesterday": (midnight(today - timedelta(days=1)), same_clock(today - timedelta(days=1))),
               "last_week": (midnight(today - timedelta(days=7)), same_clock(today - timedelta(days=7)))}
    events = list(TrafficEvent.objects.filter(store=store))
    orders = list(Order.objects.filter(store=store).prefetch_related("lines"))
    kpis = {}
    for key, (start, end) in windows.items():
        inside = [e for e in events if start <= e.ts < end]
        starts = [e for e in inside if e.type == "session_start"]
        paid = [o for o in orders if o.paid_at is not None and start <= o.paid_at < end]
        gmv = sum((o.total for o in paid), Decimal("0"))
        visitors = {e.visitor_id for e in inside if e.visitor_id and e.type in BROWSING}
        kpis[key] = {"sessions": len(starts), "visitors": len(visitors),
                     "orders": len(paid), "buyers": len({o.buyer_ref for o in paid if o.buyer_ref}),
                     "gmv": f"{gmv:.2f}",
                     "aov": f"{(gmv / len(paid)).quantize(Decimal('0.01'), ROUND_HALF_UP)}" if paid else None}
    start, end = windows["today"]
    todays = [e for e in events if start <= e.ts < end]
    funnel = defaultdict(lambda: [0, 0, 0, 0])
    for s in (e for e in todays if e.type == "session_start"):
        source = s.source if s.source in TrafficSource.values else "other"
        steps = {e.type for e in todays if e.session_id == s.session_id}
        row = funnel[source]
        row[0] += 1
        row[1] += "product_view" in steps
        row[2] += "add_to_cart" in steps
    paid_today = [o for o in orders if o.paid_at is not None and start <= o.paid_at < end]
    for o in paid_today:
        funnel[o.traffic_source][3] += 1
    products = defaultdict(lambda: [0, 0, 0, Decimal("0")])
    for e in todays:
        if e.product_id:
            products[e.product_id][0 if e.type == "product_view" else 1] += 1
    for o in paid_today:
        for pk in {line.product_id for line in o.lines.all()}:
            products[pk][2] += 1
        for line in o.lines.all():
            products[line.product_id][3] += line.amount
    hourly = {"today": {"sessions": [0] * 24, "orders": [0] * 24},
              "yesterday": {"sessions": [0] * 24, "orders": [0] * 24}}
    for key, day in (("today", today), ("yesterday", today - timedelta(days=1))):
        lo, hi = midnight(day), min(midnight(day + timedelta(days=1)), now)
        for e in events:
            if e.type == "session_start" and lo <= e.ts < hi:
                hourly[key]["sessions"][e.ts.astimezone(zone).hour] += 1
        for o in orders:
            if o.paid_at is not None and lo <= o.paid_at < hi:
                hourly[key]["orders"][o.paid_at.astimezone(zone).hour] += 1
    return {"kpis": kpis, "funnel": {k: tuple(v) for k, v in funnel.items()},
            "products": {pk: (v, c, n, f"{g:.2f}") for pk, (v, c, n, g) in products.items()}, "hourly": hourly}


def shown(store, now):
    live_history.clear()
    live_today.clear()
    data = live.snapshot(store, now)
    keys = ("sessions", "visitors", "orders", "buyers", "gmv", "aov")
    return {"kpis": {w: {k: data["kpis"][w][k] for k in keys} for w in ("today", "yesterday", "last_week")},
            "funnel": {r["source"]: (r["sessions"], r["viewed"], r["carted"], r["orders"]) for r in data["funnel"]},
            "products": {r["product_id"]: (r["views"], r["carts"], r["orders"], r["gmv"])
                         for r in data["top_products"]},
            "hourly": {w: {k: data["hourly"][w][k] for k in ("sessions", "orders")} for w in ("today", "yesterday")}}


SH, LA = "Asia/Shanghai", "America/Los_Angeles"
MOMENTS = {  # store-local clock times
    "Shanghai, five minutes after midnight": (SH, (2026, 11, 25, 0, 5)),
    "Shanghai, a second before midnight": (SH, (2026, 11, 24, 23, 59, 59)),
    "Shanghai, mid-afternoon": (SH, (2026, 11, 24, 15, 20)),
    "Los Angeles, five minutes after midnight": (LA, (2026, 11, 25, 0, 5)),
    "Los Angeles, spring-forward day, morning": (LA, (2026, 3, 8, 10, 30)),
    "Los Angeles, just after the skipped hour": (LA, (2026, 3, 8, 3, 10)),
    "Los Angeles, the day after spring-forward, early": (LA, (2026, 3, 9, 0, 20)),
    "Los Angeles, the day after spring-forward, in the hour that day skipped": (LA, (2026, 3, 9, 2, 30)),
    "Los Angeles, fall-back day, the first 01:30": (LA, (2026, 11, 1, 1, 30)),
    "Los Angeles, fall-back day, evening": (LA, (2026, 11, 1, 21, 0)),
    "Los Angeles, the day after fall-back, early": (LA, (2026, 11, 2, 0, 40)),
}


def moment_of(name):
    zone, clock = MOMENTS[name]
    return zone, datetime(*clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize("moment", MOMENTS, ids=list(MOMENTS))
def test_the_live_view_agrees_with_a_count_by_hand(moment):
    zone, now = moment_of(moment)
    store = StoreFactory(timezone=zone)
    populate(store, now)
    expected, got = by_hand(store, now), shown(store, now)
    assert got["kpis"] == expected["kpis"]
    assert got["funnel"] == expected["funnel"]
    assert got["hourly"] == expected["hourly"]
    for pk, row in got["products"].items():
        assert row == expected["products"][pk]



@pytest.mark.parametrize("moment", ["Shanghai, mid-afternoon", "Los Angeles, the day after fall-back, early",
                                    "Los Angeles, the day after spring-forward, early"])
def test_late_events_and_orders_of_yesterday_and_this_morning_show_on_the_next_refresh(moment):
    from metrics import ingest

    zone, now = moment_of(moment)
    store = StoreFactory(timezone=zone)
    populate(store, now)
    product = store.products.first()
    live_history.clear()
    live_today.clear()
    for minutes in (0, 1):  # the page and its first poll: past days and today's finished hours are kept
        live.snapshot(store, now + timedelta(minutes=minutes))
    now += timedelta(minutes=2)
    yesterday_morning = (now - timedelta(days=1, hours=2)).isoformat()
    this_morning = (now - timedelta(hours=2)).isoformat()
    ingest.ingest_events(store, [
        {"id": "late-1", "type": "session_start", "ts": yesterday_morning, "session_id": "late-s1",
         "visitor_id": "late-v1", "source": "social"},
        {"id": "late-2", "type": "session_start", "ts": this_morning, "session_id": "late-s2",
         "visitor_id": "late-v2", "source": "social"},
        {"id": "late-3", "type": "add_to_cart", "ts": this_morning, "session_id": "late-s2", "sku": product.sku},
        {"id": "late-4", "type": "order_paid", "ts": yesterday_morning, "order_id": "late-o1", "total": "12.34",
         "lines": [{"sku": product.sku, "unit_price": "12.34"}]},
        {"id": "late-5", "type": "refund", "ts": this_morning, "order_id": "late-o1", "amount": "12.34"},
    ], now=now)
    data = live.snapshot(store, now)
    expected = by_hand(store, now)
    for window in ("today", "yesterday"):
        assert {k: data["kpis"][window][k] for k in expected["kpis"][window]} == expected["kpis"][window]
    assert {r["source"]: (r["sessions"], r["viewed"], r["carted"], r["orders"])
            for r in data["funnel"]} == expected["funnel"]
    assert {w: {k: data["hourly"][w][k] for k in ("sessions", "orders")}
            for w in ("today", "yesterday")} == expected["hourly"]


FINISHED_DAYS = {  # (zone, local day): an ordinary day east of UTC, and both DST days west of it
    "Shanghai, an ordinary day": (SH, (2026, 11, 24)),
    "Los Angeles, spring-forward day (23 h)": (LA, (2026, 3, 8)),
    "Los Angeles, fall-back day (25 h)": (LA, (2026, 11, 1)),
}


@pytest.mark.parametrize("day", FINISHED_DAYS, ids=list(FINISHED_DAYS))
def test_a_finished_day_reads_the_same_conversion_live_at_midnight_as_on_the_next_mornings_daily_page(day):
    # The live page said orders / sessions and the daily page orders / visitors (visitors of any event):
    # one day read two different conversions at 23:59 and the next morning.
    from metrics.models import DailyMetric
    from metrics.rollup import rollup_day

    zone_name, ymd = FINISHED_DAYS[day]
    zone = ZoneInfo(zone_name)
    the_day = datetime(*ymd).date()
    next_midnight = datetime.combine(the_day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    last_moment = next_midnight - timedelta(microseconds=1)  # the whole day is "today so far"
    store = StoreFactory(timezone=zone_name)
    populate(store, last_moment)
    # A buyer who browsed at 23:50 the evening before and whose payment came at 00:05, and a refund of an
    # older order booked at noon: orders of this day, no visitors of it (on neither page).
    midnight = datetime.combine(the_day, time.min, tzinfo=zone).astimezone(UTC)
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=store, event_id="late-start", type="session_start", ts=midnight - timedelta(minutes=10),
                     session_id="late", visitor_id="night-owl", source="direct"),
        TrafficEvent(store=store, event_id="late-paid", type="order_paid", ts=midnight + timedelta(minutes=5),
                     session_id="late", visitor_id="night-owl", source="direct"),
        TrafficEvent(store=store, event_id="refund", type="refund", ts=midnight + timedelta(hours=12),
                     visitor_id="returner")])
    live_history.clear()
    live_today.clear()
    with time_machine.travel(last_moment, tick=False):
        shown_live = live.snapshot(store)["kpis"]["today"]
    with time_machine.travel(next_midnight + timedelta(hours=8), tick=False):
        rollup_day(store, the_day)
    daily = {m: v for m, v in DailyMetric.objects.filter(store=store, day=the_day, dimension="")
             .values_list("metric", "value")}
    assert (shown_live["orders"], shown_live["visitors"]) == (daily["orders"], daily["visitors"])
    assert shown_live["visitors"] == by_hand(store, last_moment)["kpis"]["today"]["visitors"]
    assert shown_live["conversion"] == pytest.approx(float(daily["conversion"]), abs=1e-6)
    assert shown_live["visitors"] != shown_live["sessions"]  # the two definitions would differ on this day
