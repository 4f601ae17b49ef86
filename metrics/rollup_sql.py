"""The set-based rollup: every (store, store-local day) of a batch aggregated by one INSERT … SELECT.

The batch arrives as a VALUES list of (store_id, day, start_utc, end_utc) — bounds from
`opsdesk.localtime`, the one way to compute a local day, so DST days last 23 or 25 hours — joined to
the facts. Each fact table is read once with GROUPING SETS (overall row + one row per dimension
value), unpivoted into (metric, numerator, denominator) cells; a ratio is numerator / denominator
rounded half-even to 6 places (as Python's Decimal.quantize), and a cell whose value is undefined
(no denominator) is not written. Postgres only; `metrics.rollup.collect_day` is the ORM equivalent.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection

from .models import BROWSING

BOUNDS = "b(store_id, day, lo, hi)"

# Ad channel -> traffic source, as campaigns.models.ads.CHANNEL_SOURCE (unknown channels: "other").
_CHANNEL_CASE = """CASE p.channel {whens} ELSE 'other' END"""

CELLS_SQL = """
paid AS (
    SELECT b.store_id, b.day, GROUPING(o.traffic_source) AS g, COALESCE(o.traffic_source, '') AS src,
           COUNT(o.id)::numeric AS n,
           (COUNT(DISTINCT o.buyer_ref) FILTER (WHERE o.buyer_ref <> ''))::numeric AS buyers,
           COALESCE(SUM(o.total), 0) AS gmv
    FROM b LEFT JOIN stores_order o ON o.store_id = b.store_id AND o.paid_at >= b.lo AND o.paid_at < b.hi
    GROUP BY GROUPING SETS ((b.store_id, b.day), (b.store_id, b.day, o.traffic_source))
    HAVING GROUPING(o.traffic_source) = 1 OR COUNT(o.id) > 0
),
lines AS (
    SELECT b.store_id, b.day, GROUPING(l.product_id) AS g,
           COALESCE(l.product_id::text, 'unknown') AS product,
           COALESCE(SUM(l.amount), 0) AS amount, COALESCE(SUM(l.quantity), 0)::numeric AS units,
           COUNT(DISTINCT l.order_id)::numeric AS n
    FROM b LEFT JOIN (stores_order o JOIN stores_orderline l ON l.order_id = o.id)
        ON o.store_id = b.store_id AND o.paid_at >= b.lo AND o.paid_at < b.hi
    GROUP BY GROUPING SETS ((b.store_id, b.day), (b.store_id, b.day, l.product_id))
    HAVING GROUPING(l.product_id) = 1 OR COUNT(l.id) > 0
),
pays AS (
    SELECT b.store_id, b.day, GROUPING(p.type) AS g, COALESCE(p.type, '') AS type,
           COALESCE(SUM(p.amount), 0) AS amount, COUNT(DISTINCT p.order_id)::numeric AS n
    FROM b LEFT JOIN (stores_order o JOIN stores_payment p ON p.order_id = o.id)
        ON o.store_id = b.store_id AND o.paid_at >= b.lo AND o.paid_at < b.hi
    GROUP BY GROUPING SETS ((b.store_id, b.day), (b.store_id, b.day, p.type))
    HAVING GROUPING(p.type) = 1 OR COUNT(p.id) > 0
),
pays_share AS (
    SELECT *, MAX(CASE WHEN g = 1 THEN amount END) OVER (PARTITION BY store_id, day) AS total FROM pays
),
refunds AS (
    SELECT b.store_id, b.day, COUNT(o.id)::numeric AS n, COALESCE(SUM(o.refund_amount), 0) AS amount
    FROM b LEFT JOIN stores_order o
        ON o.store_id = b.store_id AND o.refunded_at >= b.lo AND o.refunded_at < b.hi
    GROUP BY b.store_id, b.day
),
product_refunds AS (
    -- On the order's refund day, as the overall refunds: a later refund moves the order's whole refund there.
    SELECT b.store_id, b.day, COALESCE(l.product_id::text, 'unknown') AS product,
           SUM(l.refund_amount) AS amount, SUM(l.refunded_quantity)::numeric AS units
    FROM b JOIN stores_order o ON o.store_id = b.store_id AND o.refunded_at >= b.lo AND o.refunded_at < b.hi
    JOIN stores_orderline l ON l.order_id = o.id
    WHERE l.refunded_quantity > 0 OR l.refund_amount > 0
    GROUP BY b.store_id, b.day, l.product_id
),
traffic AS (
    SELECT b.store_id, b.day, GROUPING(e.source) AS g, COALESCE(e.source, '') AS src,
           (COUNT(DISTINCT e.visitor_id) FILTER (WHERE e.visitor_id <> ''))::numeric AS visitors,
           (COUNT(e.id) FILTER (WHERE e.type = 'session_start'))::numeric AS sessions,
           (COUNT(e.id) FILTER (WHERE e.type = 'product_view'))::numeric AS pv,
           (COUNT(e.id) FILTER (WHERE e.type = 'add_to_cart'))::numeric AS add_to_cart
    FROM b LEFT JOIN metrics_trafficevent e ON e.store_id = b.store_id AND e.ts >= b.lo AND e.ts < b.hi
        AND e.type IN ({browsing})  -- metrics.models.BROWSING: a paid or refunded order is no visit
    GROUP BY GROUPING SETS ((b.store_id, b.day), (b.store_id, b.day, e.source))
    HAVING GROUPING(e.source) = 1 OR (COUNT(e.id) > 0 AND e.source <> '')
),
product_views AS (
    SELECT b.store_id, b.day, e.product_id::text AS product, COUNT(*)::numeric AS pv
    FROM b JOIN metrics_trafficevent e ON e.store_id = b.store_id AND e.ts >= b.lo AND e.ts < b.hi
    WHERE e.type = 'product_view' AND e.product_id IS NOT NULL
    GROUP BY b.store_id, b.day, e.product_id
),
ad_rows AS (
    SELECT b.store_id, b.day, {channel_case} AS src, a.spend, a.clicks, a.impressions, a.orders, a.sales
    FROM b JOIN campaigns_adplan p ON p.store_id = b.store_id
    JOIN campaigns_addailyperformance a ON a.plan_id = p.id AND a.date = b.day
),
ads AS (
    SELECT b.store_id, b.day, GROUPING(r.src) AS g, COALESCE(r.src, '') AS src,
           COALESCE(SUM(r.spend), 0) AS spend, COALESCE(SUM(r.clicks), 0)::numeric AS clicks,
           COALESCE(SUM(r.impressions), 0)::numeric AS impressions,
           COALESCE(SUM(r.orders), 0)::numeric AS orders, COALESCE(SUM(r.sales), 0) AS sales
    FROM b LEFT JOIN ad_rows r ON r.store_id = b.store_id AND r.day = b.day
    GROUP BY GROUPING SETS ((b.store_id, b.day), (b.store_id, b.day, r.src))
    HAVING GROUPING(r.src) = 1 OR COUNT(r.src) > 0
),
violations AS (
    SELECT b.store_id, b.day, COUNT(v.id)::numeric AS n, COALESCE(SUM(v.points), 0)::numeric AS points,
           COALESCE(SUM(v.amount), 0) AS amount
    FROM b LEFT JOIN stores_violation v
        ON v.store_id = b.store_id AND v.occurred_at >= b.lo AND v.occurred_at < b.hi
    GROUP BY b.store_id, b.day
),
bad_reviews AS (
    SELECT b.store_id, b.day, COUNT(r.id)::numeric AS n
    FROM b LEFT JOIN reviews_review r
        ON r.store_id = b.store_id AND r.created_at >= b.lo AND r.created_at < b.hi AND r.rating <= 2
    GROUP BY b.store_id, b.day
),
cells(store_id, day, dimension, dimension_value, metric, num, den) AS (
    SELECT x.store_id, x.day, CASE WHEN x.g = 1 THEN '' ELSE 'traffic_source' END, x.src, m.metric, m.num, m.den
    FROM paid x CROSS JOIN LATERAL (VALUES
        ('orders', x.n, 1::numeric), ('buyers', x.buyers, 1), ('gmv', x.gmv, 1), ('aov', x.gmv, x.n)
    ) AS m(metric, num, den)
    UNION ALL
    SELECT x.store_id, x.day, CASE WHEN x.g = 1 THEN '' ELSE 'product' END,
           CASE WHEN x.g = 1 THEN '' ELSE x.product END, m.metric, m.num, 1
    FROM lines x CROSS JOIN LATERAL (VALUES ('sub_payments', x.amount), ('units', x.units), ('orders', x.n))
        AS m(metric, num)
    WHERE x.g = 0 OR m.metric <> 'orders'
    UNION ALL
    SELECT x.store_id, x.day, CASE WHEN x.g = 1 THEN '' ELSE 'payment_type' END, x.type, m.metric, m.num, m.den
    FROM pays_share x CROSS JOIN LATERAL (VALUES
        ('payments', x.amount, 1::numeric), ('orders', x.n, 1), ('payment_share', x.amount, x.total)
    ) AS m(metric, num, den)
    WHERE x.g = 0 OR m.metric = 'payments'
    UNION ALL
    SELECT x.store_id, x.day, '', '', m.metric, m.num, 1
    FROM refunds x CROSS JOIN LATERAL (VALUES ('refund_count', x.n), ('refunds', x.amount)) AS m(metric, num)
    UNION ALL
    SELECT x.store_id, x.day, 'product', x.product, m.metric, m.num, 1
    FROM product_refunds x CROSS JOIN LATERAL (VALUES ('refunds', x.amount), ('refunded_units', x.units))
        AS m(metric, num)
    UNION ALL
    SELECT x.store_id, x.day, CASE WHEN x.g = 1 THEN '' ELSE 'traffic_source' END, x.src, m.metric, m.num, m.den
    FROM traffic x
    LEFT JOIN paid o ON o.store_id = x.store_id AND o.day = x.day AND o.g = x.g AND o.src = x.src
    CROSS JOIN LATERAL (VALUES
        ('visitors', x.visitors, 1::numeric), ('sessions', x.sessions, 1), ('pv', x.pv, 1),
        ('add_to_cart', x.add_to_cart, 1), ('conversion', COALESCE(o.n, 0), x.visitors)
    ) AS m(metric, num, den)
    UNION ALL
    SELECT x.store_id, x.day, 'product', x.product, 'pv', x.pv, 1 FROM product_views x
    UNION ALL
    SELECT x.store_id, x.day, CASE WHEN x.g = 1 THEN '' ELSE 'traffic_source' END, x.src, m.metric, m.num, m.den
    FROM ads x CROSS JOIN LATERAL (VALUES
        ('ad_spend', x.spend, 1::numeric), ('ad_clicks', x.clicks, 1), ('ad_impressions', x.impressions, 1),
        ('ad_orders', x.orders, 1), ('ad_sales', x.sales, 1), ('roas', x.sales, x.spend)
    ) AS m(metric, num, den)
    UNION ALL
    SELECT x.store_id, x.day, '', '', m.metric, m.num, 1
    FROM violations x CROSS JOIN LATERAL (VALUES
        ('new_violations', x.n), ('violation_points', x.points), ('violation_amount', x.amount)
    ) AS m(metric, num)
    UNION ALL
    SELECT x.store_id, x.day, '', '', 'bad_reviews', x.n, 1 FROM bad_reviews x
)
"""

# Half-even rounding to 6 places of q = num / den × 10⁶ (Postgres' round() goes half away from zero).
INSERT_SQL = """
INSERT INTO metrics_dailymetric (store_id, day, metric, dimension, dimension_value, value, computed_at)
SELECT c.store_id, c.day, c.metric, c.dimension, c.dimension_value,
       sign(q.q) * CASE WHEN abs(q.q) - floor(abs(q.q)) = 0.5 AND mod(floor(abs(q.q)), 2) = 0
                        THEN floor(abs(q.q)) ELSE round(abs(q.q)) END / 1000000, now()
FROM cells c CROSS JOIN LATERAL (SELECT c.num / c.den * 1000000 AS q) q
WHERE c.num IS NOT NULL AND c.den IS NOT NULL AND c.den <> 0
"""

DELETE_SQL = """
DELETE FROM metrics_dailymetric d USING b WHERE d.store_id = b.store_id AND d.day = b.day
"""


def _channel_case() -> str:
    from campaigns.models.ads import CHANNEL_SOURCE

    whens = " ".join(f"WHEN '{channel}' THEN '{source}'" for channel, source in CHANNEL_SOURCE.items())
    return _CHANNEL_CASE.format(whens=whens)


def _bounds(rows: list[tuple[int, date, datetime, datetime]]) -> tuple[str, list]:
    values = ", ".join(["(%s::bigint, %s::date, %s::timestamptz, %s::timestamptz)"] * len(rows))
    return f"{BOUNDS} AS (VALUES {values})", [v for row in rows for v in row]


def replace_days(rows: list[tuple[int, date, datetime, datetime]]) -> int:
    """Delete and re-insert the daily rows of every (store_id, day, start, end); returns rows written.

    The caller holds the transaction (and the stores' locks), so readers see the old day or the new.
    """
    if not rows:
        return 0
    bounds, params = _bounds(rows)
    with connection.cursor() as cur:
        cur.execute(f"WITH {bounds} {DELETE_SQL}", params)
        cells = CELLS_SQL.format(channel_case=_channel_case(), browsing=", ".join(f"'{t}'" for t in BROWSING))
        cur.execute(f"WITH {bounds}, {cells} {INSERT_SQL}", params)
        return cur.rowcount
