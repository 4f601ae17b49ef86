"""The live view's numbers: today so far against the same clock time yesterday and a week ago.

Only today's, yesterday's and last week's rows are ever read, through the (store, type, ts),
(store, ts) and order (store, paid_at) indexes, so a store's history does not slow it down. Traffic
of past days comes from `live_history` (kept per process), today's from `live_today` (finished
hours kept, the last stretch read per request); orders are aggregated in SQL per request.

Definitions (see docs/realtime.md):
- sessions: session_start events; visitors: distinct visitor_id of the window's browsing events (BROWSING:
  sessions, product views, carts; a paid or refunded order is no visit);
- orders / buyers / GMV: paid orders (stores.Order.paid_at) — count, distinct buyer_ref, sum of totals;
- conversion = orders / visitors, AOV = GMV / orders: the daily rollup's definitions (metrics.rollup
  METRICS), so a finished day reads the same here as on the daily page and GMV = visitors × conversion × AOV;
- funnel by source: sessions that started today, the sessions among them that viewed a product and
  that added to cart (a session's steps count under the source it arrived by), then paid orders
  attributed to that source (Order.traffic_source); its end-to-end rate is orders per session;
- cost: today's ad spend of the source's ad channels (campaigns AdDailyPerformance, via CHANNEL_SOURCE);
- tracker: how long since the store's last traffic event, and whether the same minutes of yesterday
  and last week had sessions (a tracker that stopped) or not (a quiet hour).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.urls import reverse
from django.utils import timezone

from campaigns import ads_pacing
from opsdesk.localtime import at_clock, local_midnight
from opsdesk.money import CENT, to_money
from stores.models import Order, Store, TrafficSource
from stores.services import SalesSummary

from . import figures, live_history, live_today
from .live_history import PastDay
from .live_today import TodayEvents
from .models import BROWSING, EventType, TrafficEvent
from .rollup import METRICS

ZERO = Decimal("0")
NO_SALES = SalesSummary(orders=0, buyers=0, gmv=Decimal("0.00"))
SO_FAR_CHUNK = 1000  # stores a query in so_far_by_store
TOP_PRODUCTS = 10
SILENCE = timedelta(minutes=10)  # no event for this long is worth a line on the page
EXPECTED_SESSIONS = 5  # ...and a warning when yesterday or last week had this many in the same minutes


@dataclass(frozen=True)
class Window:
    """A stretch of one local day from midnight up to the same clock time as now."""

    key: str
    label: str
    day: date
    start: datetime
    end: datetime


def windows(store: Store, now: datetime) -> list[Window]:
    """Today so far, yesterday up to the same local clock time, and the same weekday last week.

    "Same clock time" is the local wall clock (10:30 today → 10:30 yesterday), so on a day after a
    DST change the comparison still lines up with the shop's opening hours. A clock time the
    comparison day skipped (02:30 the day after a spring-forward) is that day's jump (opsdesk.localtime.at_clock).
    """
    zone = store.zone
    local_now = now.astimezone(zone)
    today = local_now.date()
    clock = local_now.timetz().replace(tzinfo=None)
    result = []
    for key, label, back in (("today", "Today so far", 0), ("yesterday", "Yesterday, same time", 1),
                             ("last_week", "Same weekday last week", 7)):
        day = today - timedelta(days=back)
        start = local_midnight(day, zone)
        end = now if back == 0 else at_clock(day, clock, zone)
        result.append(Window(key, label, day, start.astimezone(UTC), end.astimezone(UTC)))
    return result


def so_far_by_store(stores: Iterable[Store], now: datetime) -> dict[int, tuple[SalesSummary, SalesSummary]]:
    """Each store's sales today so far and yesterday up to the same local clock time (`windows`), by store id:
    the desk's and the real-time list's figures, so the two pages never disagree.

    One query whatever the number of stores (a chain runs hundreds; one per SO_FAR_CHUNK stores): each store's
    two windows, its own local day's bounds in UTC worked out here (DST and skipped clock times by
    opsdesk.localtime, not in SQL), are rows of a VALUES list joined to the orders and grouped by window. The
    store ids as a list and the span of all windows bound the order index (store, paid_at) to these days;
    without them Postgres hashes every order.
    """
    bounds: dict[int, tuple[Window, Window]] = {}
    for store in stores:  # a store listed twice is one entry, not its orders joined twice
        today, yesterday, _ = windows(store, now)
        bounds[store.pk] = (today, yesterday)
    found = {pk: [NO_SALES, NO_SALES] for pk in bounds}
    ids = list(bounds)
    # 9 parameters a store: a chunk keeps a superuser's thousands of stores under the databases' limits.
    for chunk in (ids[i:i + SO_FAR_CHUNK] for i in range(0, len(ids), SO_FAR_CHUNK)):
        wins = [(pk, n, w) for pk in chunk for n, w in enumerate(bounds[pk])]
        params = [v for pk, n, w in wins for v in (pk, n, _adapt(w.start), _adapt(w.end))]
        params += [*chunk, _adapt(min(w.start for *_, w in wins)), _adapt(max(w.end for *_, w in wins))]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(wins))
        for store_id, window, orders, buyers, gmv in _rows(
                f"WITH w (store_id, n, lo, hi) AS (VALUES {values}) "  # noqa: S608 - placeholders only
                "SELECT w.store_id, w.n, COUNT(*), COUNT(DISTINCT CASE WHEN o.buyer_ref <> '' THEN o.buyer_ref END), "
                "SUM(o.total) FROM w JOIN stores_order o ON o.store_id = w.store_id AND o.paid_at >= w.lo "
                f"AND o.paid_at < w.hi WHERE o.store_id IN ({', '.join(['%s'] * len(chunk))}) "
                "AND o.paid_at >= %s AND o.paid_at < %s GROUP BY w.store_id, w.n", params):
            found[store_id][window] = SalesSummary(orders=orders, buyers=buyers, gmv=to_money(_decimal(gmv)))
    return {pk: (today, yesterday) for pk, (today, yesterday) in found.items()}


def _ratio(numerator, denominator) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def _money(value) -> str:
    return f"{(value or ZERO).quantize(CENT, ROUND_HALF_UP)}"


def _decimal(value) -> Decimal:
    """A SUM of money from raw SQL: Decimal on Postgres, a float or int on SQLite, None over no rows.

    SQLite adds in binary floats (54.99 may come back as 54.989999999999995): a sum of amounts in cents
    is read back as the cents it adds up to, or 54.99 / 2 orders would show an AOV of 27.49."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(CENT)


def _rows(sql: str, params: list) -> list[tuple]:
    # Raw SQL for the per-request aggregates: compiling the equivalent ORM querysets cost more
    # Python time than Postgres took to answer them.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


PAID_IN = "store_id = %s AND paid_at IS NOT NULL AND paid_at >= %s AND paid_at < %s"


def kpis(store: Store, wins: list[Window], past: dict[date, PastDay], today: TodayEvents) -> dict[str, dict]:
    """Visitors, sessions, orders, buyers, GMV, conversion and AOV for each window.

    Today's traffic comes from its TodayEvents; the past windows' from their cached PastDay (a
    binary search for the clock time); orders from one UNION ALL of one index range per window
    (ranges OR-ed in one WHERE make Postgres read every order of the store).
    """
    traffic = {w.key: {"sessions": past[w.day].sessions_before(w.end), "visitors": past[w.day].visitors_before(w.end)}
               for w in wins if w.day in past}
    traffic[wins[0].key] = {"sessions": today.sessions, "visitors": len(today.visitors)}
    sales_sql = " UNION ALL ".join(
        f"SELECT {n}, COUNT(*), COUNT(DISTINCT CASE WHEN buyer_ref <> '' THEN buyer_ref END), SUM(total) "  # noqa: S608
        f"FROM stores_order WHERE {PAID_IN}" for n in range(len(wins)))
    params = [v for w in wins for v in (store.pk, _adapt(w.start), _adapt(w.end))]
    sales = {wins[n].key: {"orders": orders, "buyers": buyers, "gmv": _decimal(gmv)}
             for n, orders, buyers, gmv in _rows(sales_sql, params)}
    result = {}
    for w in wins:
        k = w.key
        t = traffic[k]
        o = sales.get(k, {"orders": 0, "buyers": 0, "gmv": ZERO})
        orders, visitors, gmv = o["orders"], t["visitors"], o["gmv"] or ZERO
        result[k] = {
            "label": w.label, "day": w.day.isoformat(),
            "visitors": visitors, "sessions": t["sessions"], "orders": orders,
            "buyers": o["buyers"], "gmv": _money(gmv),
            "conversion": _ratio(orders, visitors),
            "aov": _money(gmv / orders) if orders else None,
        }
    return result


def _adapt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def funnel(store: Store, today: Window, events: TodayEvents) -> list[dict]:
    """Sessions → product-view sessions → cart sessions → orders, per traffic source, with cost."""
    start, end = _adapt(today.start), _adapt(today.end)
    steps: dict[str, dict] = {}
    for source, (sessions, viewed, carted, views, carts) in events.funnel.items():
        source = source if source in TrafficSource.values else TrafficSource.OTHER.value
        row = steps.setdefault(source, {"sessions": 0, "viewed": 0, "carted": 0, "views": 0, "carts": 0})
        for key, value in zip(("sessions", "viewed", "carted", "views", "carts"),
                              (sessions, viewed, carted, views, carts), strict=True):
            row[key] += int(value or 0)
    orders = {source: {"orders": n, "gmv": _decimal(gmv)} for source, n, gmv in _rows(
        f"SELECT traffic_source, COUNT(*), SUM(total) FROM stores_order WHERE {PAID_IN} "  # noqa: S608
        f"GROUP BY traffic_source", [store.pk, start, end])}
    spend = ads_pacing.spend_by_source(store, today.day)
    result = []
    for source, label in TrafficSource.choices:
        s = steps.get(source, {"sessions": 0, "viewed": 0, "carted": 0, "views": 0, "carts": 0})
        o = orders.get(source, {"orders": 0, "gmv": ZERO})
        cost = spend.get(source, ZERO)
        # A source with an ad plan is listed even when it brought nobody today: that is the news.
        if not (s["sessions"] or o["orders"] or source in spend):
            continue
        row = {
            "source": source, "label": label, **s, "orders": o["orders"], "gmv": _money(o["gmv"]),
            "view_rate": _ratio(s["viewed"], s["sessions"]), "cart_rate": _ratio(s["carted"], s["viewed"]),
            "order_rate": _share(o["orders"], s["carted"]), "orders_per_session": _share(o["orders"], s["sessions"]),
            "cost": _money(cost), "cost_per_order": _money(cost / o["orders"]) if o["orders"] else None,
            "note": _untracked_note(label, o["orders"], s["carted"]),
        }
        result.append({**row, "shown": _written(row, FUNNEL_KINDS, not_a_rate=row["note"] and UNTRACKED_RATES)})
    return result


# How each column of the funnel and top-product tables is written (metrics.figures.metric_value kinds).
FUNNEL_KINDS = {"sessions": "count", "viewed": "count", "view_rate": "ratio", "carted": "count", "cart_rate": "ratio",
                "orders": "count", "order_rate": "ratio", "orders_per_session": "ratio", "gmv": "money",
                "cost": "money", "cost_per_order": "money"}
PRODUCT_KINDS = {"views": "count", "carts": "count", "cart_rate": "ratio", "orders": "count", "gmv": "money"}
UNTRACKED_RATES = ("order_rate", "orders_per_session")


def _share(orders: int, sessions: int) -> float | None:
    """Orders as a share of sessions; none when there are more orders than sessions.

    Orders come from the order records, not from the tracked sessions, so some have no session (an order by
    phone, a visitor who blocked the tracker): "250.00 %" of carted sessions ordering is no rate at all."""
    return None if orders > sessions else _ratio(orders, sessions)


def _untracked_note(label: str, orders: int, carted: int) -> str:
    if orders <= carted:
        return ""
    orders_words = "1 order" if orders == 1 else f"{orders:,} orders"
    carted_words = "1 session that" if carted == 1 else f"{carted:,} sessions that"
    return (f"{label}: {orders_words} but {carted_words} added to cart: some orders came without a tracked "
            "session (by phone, or with the tracker blocked), so no order rate is shown.")


def _written(row: dict, kinds: dict[str, str], not_a_rate=()) -> dict[str, str]:
    """A table row's figures as the page writes them (metrics.figures), so live.js formats nothing itself;
    the `not_a_rate` columns read "n/a" where there is a count but no honest rate."""
    return {name: "n/a" if name in not_a_rate and row[name] is None else figures.metric_value(row[name], kind)
            for name, kind in kinds.items()}


def top_products(store: Store, today: Window, events: TodayEvents, limit: int = TOP_PRODUCTS) -> list[dict]:
    """Today's products by GMV then views: product views, add-to-carts, orders and GMV."""
    start, end = _adapt(today.start), _adapt(today.end)
    sales = _rows(
        "SELECT l.product_id, COUNT(DISTINCT l.order_id), SUM(l.amount) FROM stores_orderline l "
        "JOIN stores_order o ON o.id = l.order_id WHERE o.store_id = %s AND o.paid_at >= %s AND o.paid_at < %s "
        "AND l.product_id IS NOT NULL GROUP BY l.product_id", [store.pk, start, end])
    table: dict[int, dict] = {}
    for product_id, (views, carts) in events.products.items():
        table[product_id] = {"views": int(views), "carts": int(carts), "orders": 0, "gmv": ZERO}
    for product_id, orders, gmv in sales:
        entry = table.setdefault(product_id, {"views": 0, "carts": 0, "orders": 0, "gmv": ZERO})
        entry.update(orders=orders, gmv=_decimal(gmv))
    ranked = sorted(table.items(), key=lambda item: (item[1]["gmv"], item[1]["views"], -item[0]), reverse=True)
    ranked = ranked[:limit]
    # Titles only for the few ranked products: grouping every event row by a joined title costs more.
    titles = dict(store.products.filter(pk__in=[pk for pk, _ in ranked]).values_list("pk", "title"))
    rows = [{"product_id": pk, "title": titles.get(pk, f"#{pk}"),
             "url": reverse("stores:product", args=[store.slug, pk]), **row, "gmv": _money(row["gmv"]),
             "cart_rate": _ratio(row["carts"], row["views"]), "conversion": _ratio(row["orders"], row["views"])}
            for pk, row in ranked]
    return [{**row, "shown": _written(row, PRODUCT_KINDS)} for row in rows]


def hourly(store: Store, today: Window, events: TodayEvents, yesterday: PastDay) -> dict:
    """Sessions and GMV per local hour: today so far and the whole of yesterday (for the line chart).

    The current hour is not over, so beside yesterday's whole hour it always looks like a drop;
    `this_hour` holds today's hour so far and yesterday's same minutes of it, like with like.
    """
    zone = store.zone
    yesterday_start, _ = store.day_bounds(today.day - timedelta(days=1))
    keys = {today.day: "today", today.day - timedelta(days=1): "yesterday"}
    result: dict = {k: {"sessions": [0] * 24, "gmv": [0.0] * 24, "orders": [0] * 24} for k in keys.values()}
    result["yesterday"]["sessions"] = list(yesterday.hourly)
    result["today"]["sessions"] = list(events.hourly)
    local_now = today.end.astimezone(zone)
    # An hour yesterday's clock skipped (the day after a spring-forward) has no same minutes: both are the jump.
    same_minute = at_clock(today.day - timedelta(days=1), local_now.time(), zone)
    same_hour = at_clock(today.day - timedelta(days=1), time(local_now.hour), zone)
    rows = (Order.objects.filter(store=store).paid_between(yesterday_start, today.end).order_by()
            .annotate(day=TruncDate("paid_at", tzinfo=zone), hour=ExtractHour("paid_at", tzinfo=zone))
            .values("day", "hour").annotate(n=Count("id"), gmv=Sum("total"),
                                            gmv_before=Sum("total", filter=Q(paid_at__lt=same_minute))))
    yesterday_so_far = 0.0
    for row in rows:
        if row["day"] in keys:
            bucket = result[keys[row["day"]]]
            bucket["orders"][row["hour"]] += row["n"]
            bucket["gmv"][row["hour"]] = round(bucket["gmv"][row["hour"]] + float(row["gmv"] or 0), 2)
            if keys[row["day"]] == "yesterday" and row["hour"] == local_now.hour:
                yesterday_so_far = round(yesterday_so_far + float(row["gmv_before"] or 0), 2)
    result["now_hour"] = local_now.hour
    result["this_hour"] = {
        "minutes": local_now.minute,
        "today": {"sessions": result["today"]["sessions"][local_now.hour],
                  "gmv": result["today"]["gmv"][local_now.hour]},
        "yesterday": {"sessions": yesterday.sessions_before(same_minute) - yesterday.sessions_before(same_hour),
                      "gmv": yesterday_so_far},
    }
    return result


KPI_NAMES = ("visitors", "sessions", "orders", "buyers", "gmv", "conversion", "aov")


def changes(kpi: dict[str, dict]) -> dict[str, dict]:
    """Today's change against each comparison window: relative for counts and money, points for conversion."""
    out: dict[str, dict] = {}
    for name in KPI_NAMES:
        now_value = kpi["today"][name]
        out[name] = {}
        for other in ("yesterday", "last_week"):
            then = kpi[other][name]
            if now_value is None or then is None:
                out[name][other] = None
            elif name == "conversion":
                out[name][other] = (now_value - then) * 100  # percentage points
            else:
                then, now_f = float(then), float(now_value)
                out[name][other] = (now_f - then) / then if then else None
    return out


def shown(kpi: dict[str, dict], change: dict[str, dict]) -> dict:
    """The KPI table as the page writes it, by the rules of the daily pages and the email (metrics.figures):
    each figure, and under the earlier ones today's change with its tone ('+12 %', '−0.4 pts', 'from 0';
    empty where there is nothing to compare with). live.js only puts these words in place."""
    words: dict[str, dict] = {}
    for name in KPI_NAMES:
        info, now_value = METRICS[name], kpi["today"][name]
        words[name] = {}
        for other in ("yesterday", "last_week"):
            then = kpi[other][name]
            if name == "conversion":
                text, tone = figures.change_words(None if change[name][other] is None else change[name][other] / 100,
                                                  good_when_up=info.higher_is_better, in_points=True)
            else:
                text, tone = figures.change_words(change[name][other], value=_float(now_value), earlier=_float(then),
                                                  good_when_up=info.higher_is_better)
            words[name][other] = {"text": "" if text == "–" else text, "tone": tone}
    return {"kpis": {w: {name: figures.metric_value(values[name], METRICS[name].kind) for name in KPI_NAMES}
                     for w, values in kpi.items()},
            "changes": words}


def _float(value) -> float | None:
    return None if value is None else float(value)


def tracker(store: Store, wins: list[Window], past: dict[date, PastDay]) -> dict:
    """When the store's last traffic event happened and what the silence since then means.

    The storefront's tracker sends events as people browse (BROWSING); when none came for SILENCE the page
    says so, and compares with the same minutes of yesterday and last week: sessions then mean the
    tracker (or the shop) has probably stopped, none mean an ordinary quiet hour.
    """
    now, zone = wins[0].end, store.zone
    # Browsing events only: orders and refunds come from the shop's back end and keep coming when the tracker
    # in the visitors' browsers has stopped.
    last = TrafficEvent.objects.filter(store=store, ts__lte=now, type__in=BROWSING).aggregate(last=Max("ts"))["last"]
    if last is None:
        return {"state": "none", "last_event": None, "silent_minutes": None, "usual": {},
                "message": "No traffic events received yet: the numbers above count from the first event "
                           "the storefront's tracker sends to the ingest API."}
    silent = now - last
    minutes = int(silent.total_seconds() // 60)
    out = {"last_event": last.astimezone(zone).isoformat(timespec="seconds"), "silent_minutes": minutes,
           "usual": {}}
    if silent < SILENCE:
        return {**out, "state": "live", "message": f"Last event {_ago(minutes)}."}
    # The same clock stretch on the comparison days: from the last event's clock time (or midnight,
    # when the last event was before today) up to now's.
    local_last = last.astimezone(zone)
    since = local_last.time() if local_last.date() == wins[0].day else None
    for w in wins[1:]:
        day = past.get(w.day)
        if day is not None:
            start = at_clock(w.day, since, zone) if since else w.start
            out["usual"][w.key] = max(0, day.sessions_before(w.end) - day.sessions_before(start))
    yesterday, last_week = out["usual"].get("yesterday", 0), out["usual"].get("last_week", 0)
    usual = f"in the same minutes yesterday {_sessions(yesterday)}, the same weekday last week {_sessions(last_week)}"
    if max(yesterday, last_week) >= EXPECTED_SESSIONS:
        return {**out, "state": "down",
                "message": f"No events for {_duration(minutes)}, {usual}: check the storefront's tracker."}
    return {**out, "state": "quiet", "message": f"No events for {_duration(minutes)}, as usual at this hour: {usual}."}


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"


def _ago(minutes: int) -> str:
    return "less than a minute ago" if minutes < 1 else f"{_duration(minutes)} ago"


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def snapshot(store: Store, now: datetime | None = None) -> dict:
    """Everything the live page shows, as JSON-ready data."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # With millions of events the planner's estimates pass jit_above_cost, and compiling the
            # aggregates to machine code then takes longer (~40 ms) than running them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _snapshot(store, now)


def _snapshot(store: Store, now: datetime | None) -> dict:
    now = now or timezone.now()
    wins = windows(store, now)
    today = wins[0]
    past = live_history.past_days(store, [w.day for w in wins[1:]], now)
    events = live_today.today_so_far(store, today.start, today.end)
    kpi = kpis(store, wins, past, events)
    change = changes(kpi)
    return {
        "store": store.slug,
        "currency": store.currency,
        "timezone": store.timezone,
        "as_of": now.astimezone(store.zone).isoformat(timespec="seconds"),
        "windows": {w.key: {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in wins},
        "kpis": kpi,
        "changes": change,
        "shown": shown(kpi, change),
        "funnel": funnel(store, today, events),
        "top_products": top_products(store, today, events),
        "hourly": hourly(store, today, events, past[wins[1].day]),
        "tracker": tracker(store, wins, past),
    }


def naive_snapshot(store: Store, now: datetime | None = None) -> dict:
    """A straightforward ORM version (one query per window, source and step) — the bench's baseline."""
    now = now or timezone.now()
    wins = windows(store, now)
    out: dict = {"kpis": {}, "funnel": {}}
    for w in wins:
        events = TrafficEvent.objects.filter(store=store, ts__gte=w.start, ts__lt=w.end)
        orders = Order.objects.filter(store=store).paid_between(w.start, w.end)
        out["kpis"][w.key] = {
            "sessions": events.filter(type=EventType.SESSION_START).count(),
            "visitors": events.filter(type__in=BROWSING).exclude(visitor_id="").values("visitor_id").distinct().count(),
            "orders": orders.count(), "buyers": orders.exclude(buyer_ref="").values("buyer_ref").distinct().count(),
            "gmv": orders.aggregate(s=Sum("total"))["s"],
        }
    today = wins[0]
    events = TrafficEvent.objects.filter(store=store, ts__gte=today.start, ts__lt=today.end)
    for source in TrafficSource.values:
        sessions = events.filter(type=EventType.SESSION_START, source=source).values("session_id")
        out["funnel"][source] = {
            "sessions": sessions.count(),
            "viewed": events.filter(type=EventType.PRODUCT_VIEW, session_id__in=sessions)
            .values("session_id").distinct().count(),
            "carted": events.filter(type=EventType.ADD_TO_CART, session_id__in=sessions)
            .values("session_id").distinct().count(),
            "orders": Order.objects.filter(store=store, traffic_source=source)
            .paid_between(today.start, today.end).count(),
        }
    out["top"] = list(events.filter(product__isnull=False).values("product_id").annotate(
        views=Count("id", filter=Q(type=EventType.PRODUCT_VIEW)), carts=Count("id", filter=Q(type="add_to_cart")))
        .order_by(F("views").desc())[:TOP_PRODUCTS])
    return out
