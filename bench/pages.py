"""Page response times on a store with years of data (Postgres).

Loads the demo (two stores with an object of every kind, a short history), then bulk-loads years of
data with INSERT … SELECT into each: the big store (jade-tea) gets --scale × the sizes below, the
baseline store (pacific-outfitters) --baseline × --scale of them. At --scale 1 the big store holds

  200,000 orders over two years (1–3 lines and 1–2 payments each), ~57,000 members enrolled from them,
  300,000 texts, 20,000 reviews (~3,000 bad-review cases with calls and steps), 2,000 violations,
  2,000 anomalies, 200 ad plans with a year of daily reports (today's hourly spend for the active
  ones), 300 activities, 425,000 sessions (~1.45 million traffic events) over the last 60 days, and
  two years of rollups.

Then every GET page and JSON/CSV endpoint (the routes of the whole-site sweep, addressed through
tests/world.py, plus the filters and last pages people open) is timed with Django's test client as a
manager of one store: one warm-up, then the median of --runs. The table puts the big store next to
the baseline store, timed in the same run, so it shows whether a page's time stays flat as data grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsdesk_bench .venv/bin/python bench/pages.py
    DATABASE_URL=... .venv/bin/python bench/pages.py --scale 0.02        # smoke run, about 30 s
    DATABASE_URL=... .venv/bin/python bench/pages.py --reuse             # time again on the stores left behind
    DATABASE_URL=... .venv/bin/python bench/pages.py --reuse --only members --explain 100  # slowest queries

The demo stores are replaced: run it on a database of its own.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from members.models import Member  # noqa: E402
from metrics.rollup import due_day, rollup_days  # noqa: E402
from stores.models import Order, Product, Role, Store, StoreMembership  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.world import KWARGS, STORE_A, STORE_B, _fill_gaps, objects  # noqa: E402

# The big store's sizes at --scale 1.
SIZES = {"products": 1_000, "orders": 200_000, "buyers": 60_000, "texts": 300_000, "reviews": 20_000,
         "violations": 2_000, "anomalies": 2_000, "ad_plans": 200, "activities": 300, "sessions": 425_000,
         "replies": 3_000, "coupons": 5_000}
DAYS = 730  # orders, reviews, violations, anomalies and rollups go back this far
EVENT_DAYS = 60
PREFIX = "B"  # external ids of the bulk-loaded rows

# Routes the sweep knows but which are not pages to time: public/machine ones, POST-only ones, files.
NOT_PAGES = {
    "healthz", "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "api-v1:openapi-json", "api-v1:openapi-view", "api-v1:api-root",
    "metrics:email_opt_out", "api-v1:post_events", "api-v1:post_performance", "shopify-orders",
    "api-v1:post_reviews", "twilio_status", "twilio_inbound",
}


def sql(statement: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.rowcount


# --- building ---------------------------------------------------------------------------------


def load_demo(days: int) -> tuple[Store, Store]:
    from stores.demo import demo_exists, remove_demo

    if demo_exists():
        # The big tables' rows go first in plain DELETEs with triggers off (all of a row's dependants go with
        # it, so no foreign key is left dangling): the ORM would collect and delete them one batch at a time.
        with transaction.atomic():
            sql("SET LOCAL session_replication_role = replica")
            for statement in CLEAR_SQL:
                sql(statement, {"slugs": [STORE_A, STORE_B]})
        remove_demo()
    call_command("seed_demo", "--days", str(days), stdout=io.StringIO())
    big, small = Store.objects.get(slug=STORE_A), Store.objects.get(slug=STORE_B)
    for store in (big, small):
        _fill_gaps(store)
    return big, small


_STORES = "(SELECT id FROM stores_store WHERE slug = ANY(%(slugs)s))"
CLEAR_SQL = [
    f"DELETE FROM metrics_trafficevent WHERE store_id IN {_STORES}",
    f"DELETE FROM metrics_dailymetric WHERE store_id IN {_STORES}",
    f"DELETE FROM members_message WHERE store_id IN {_STORES}",
    f"DELETE FROM members_coupon WHERE store_id IN {_STORES}",
    f"DELETE FROM members_inboundreply WHERE store_id IN {_STORES}",
    f"DELETE FROM members_memberorder WHERE member_id IN (SELECT id FROM members_member WHERE store_id IN {_STORES})",
    f"DELETE FROM reviews_caseevent WHERE case_id IN (SELECT id FROM reviews_reviewcase WHERE store_id IN {_STORES})",
    f"DELETE FROM reviews_contactattempt WHERE case_id IN "
    f"(SELECT id FROM reviews_reviewcase WHERE store_id IN {_STORES})",
    f"DELETE FROM reviews_producttask WHERE store_id IN {_STORES}",
    f"DELETE FROM reviews_reviewcase WHERE store_id IN {_STORES}",
    f"DELETE FROM reviews_review WHERE store_id IN {_STORES}",
    f"DELETE FROM members_member WHERE store_id IN {_STORES}",
    f"DELETE FROM stores_payment WHERE order_id IN (SELECT id FROM stores_order WHERE store_id IN {_STORES})",
    f"DELETE FROM stores_orderline WHERE order_id IN (SELECT id FROM stores_order WHERE store_id IN {_STORES})",
    f"DELETE FROM stores_order WHERE store_id IN {_STORES}",
    f"DELETE FROM campaigns_addailyperformance WHERE plan_id IN (SELECT id FROM campaigns_adplan WHERE store_id IN "
    f"{_STORES})",
    f"DELETE FROM campaigns_adspendsnapshot WHERE plan_id IN (SELECT id FROM campaigns_adplan WHERE store_id IN "
    f"{_STORES})",
]

ORDERS_SQL = """
INSERT INTO stores_order (store_id, external_id, status, placed_at, paid_at, delivered_at, refunded_at, total,
                          refund_amount, traffic_source, buyer_ref, buyer_name, buyer_phone, buyer_email,
                          marketing_consent, created_at)
SELECT %(store)s, %(prefix)s || lpad(i::text, 8, '0'), st,
       placed, CASE WHEN st <> 'cancelled' THEN placed + interval '3 minutes' END,
       CASE WHEN st IN ('delivered', 'refunded') THEN placed + interval '3 days' END,
       CASE WHEN st = 'refunded' THEN placed + interval '9 days' END,
       total, CASE WHEN st = 'refunded' THEN total ELSE 0 END, src,
       'bench-c' || b, 'Buyer ' || b, %(phone)s || lpad(b::text, %(digits)s, '0'), '', b %% 3 = 0, placed
FROM (
    SELECT i, placed, b, total,
           CASE WHEN r < 0.04 THEN 'cancelled' WHEN r < 0.07 AND placed < %(now)s - interval '10 days' THEN 'refunded'
                WHEN placed > %(now)s - interval '2 days' THEN 'paid'
                WHEN placed > %(now)s - interval '5 days' THEN 'shipped' ELSE 'delivered' END AS st,
           CASE WHEN s < 0.30 THEN 'organic_search' WHEN s < 0.58 THEN 'paid_search'
                WHEN s < 0.75 THEN 'recommendation' WHEN s < 0.85 THEN 'social' WHEN s < 0.95 THEN 'direct'
                WHEN s < 0.98 THEN 'campaign' ELSE 'other' END AS src
    FROM (
        SELECT i, %(start)s::timestamptz + (i + random()) * %(step)s * interval '1 second' AS placed,
               floor(random() ^ 1.5 * %(buyers)s)::int AS b, round((15 + random() * 400)::numeric, 2) AS total,
               random() AS r, random() AS s
        FROM generate_series(0, %(n)s - 1) AS i
    ) AS raw
) AS o
"""

LINES_SQL = """
INSERT INTO stores_orderline (order_id, line_no, product_id, sku, title, quantity, unit_price, amount, freight)
SELECT x.id, x.k, p.id, p.sku, p.title, 1, x.amount, x.amount, 0
FROM (
    SELECT o.id, k, CASE WHEN k < n THEN round(o.total / n, 2) ELSE o.total - (n - 1) * round(o.total / n, 2) END
                    AS amount,
           (%(products)s::bigint[])[1 + floor(%(n_products)s * random() ^ 2)::int] AS product
    FROM stores_order o, LATERAL (SELECT 1 + (o.id %% 3)::int AS n) AS c, LATERAL generate_series(1, n) AS k
    WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s
) AS x JOIN stores_product p ON p.id = x.product
"""

PAYMENTS_SQL = """
INSERT INTO stores_payment (order_id, sequence, type, amount, installments)
SELECT o.id, 1, CASE WHEN o.id %% 10 = 0 THEN 'voucher' WHEN o.id %% 4 = 1 THEN 'wechat' WHEN o.id %% 4 = 2
                     THEN 'alipay' ELSE 'credit_card' END,
       CASE WHEN o.id %% 10 = 0 THEN least(10, o.total) ELSE o.total END, 1
FROM stores_order o WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s AND o.paid_at IS NOT NULL
UNION ALL
SELECT o.id, 2, 'credit_card', o.total - least(10, o.total), 1
FROM stores_order o WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s AND o.paid_at IS NOT NULL
                      AND o.id %% 10 = 0
"""

MEMBERS_SQL = """
INSERT INTO members_member (store_id, phone, name, email, timezone, sms_consent, consent_source, consent_at,
                            opted_out_at, phone_invalid_at, joined_at, orders_count, total_spent, first_order_at,
                            last_order_at, tier, segment, rfm)
SELECT %(store)s, buyer_phone, min(buyer_name), '', '', bool_or(marketing_consent) OR random() < 0.7, 'checkout',
       min(paid_at), CASE WHEN random() < 0.03 THEN max(paid_at) + interval '1 day' END, NULL, min(paid_at),
       count(*), sum(total), min(paid_at), max(paid_at),
       CASE WHEN sum(total) > 3000 THEN 'gold' WHEN sum(total) > 1000 THEN 'silver' ELSE 'standard' END,
       (ARRAY['champions', 'loyal', 'potential', 'new', 'need_attention', 'at_risk', 'hibernating', 'lost'])
           [1 + floor(random() * 8)::int],
       (1 + floor(random() * 5)::int)::text || (1 + floor(random() * 5)::int)::text
           || (1 + floor(random() * 5)::int)::text
FROM stores_order WHERE store_id = %(store)s AND external_id LIKE %(like)s AND paid_at IS NOT NULL
GROUP BY buyer_phone
ON CONFLICT DO NOTHING
"""

MEMBER_ORDERS_SQL = """
INSERT INTO members_memberorder (member_id, order_id)
SELECT m.id, o.id FROM stores_order o JOIN members_member m ON m.store_id = o.store_id AND m.phone = o.buyer_phone
WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s AND o.paid_at IS NOT NULL
"""

# Half the texts are after-sales texts about delivered orders, half holiday greetings to members.
TEXTS_SQL = """
WITH after_sales AS (
    SELECT m.id AS member, 'after_sales' AS flow, 'after_sales:order ' || o.external_id AS occasion, o.id AS order_id,
           o.delivered_at + interval '3 days' AS at
    FROM stores_order o JOIN members_member m ON m.store_id = o.store_id AND m.phone = o.buyer_phone
    WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s AND o.delivered_at < %(now)s - interval '3 days'
    ORDER BY o.id DESC LIMIT %(half)s
), holidays AS (
    SELECT m.id AS member, 'holiday' AS flow, 'holiday:' || d::date AS occasion, NULL::bigint AS order_id,
           d + interval '9 hours' AS at
    FROM members_member m
    CROSS JOIN generate_series(%(now)s::date - 700, %(now)s::date - 10, interval '90 days') AS d
    WHERE m.store_id = %(store)s AND m.phone LIKE %(phone_like)s AND m.joined_at < d
    LIMIT %(half)s
)
INSERT INTO members_message (store_id, member_id, flow, occasion, template_id, order_id, body, segments, status,
                             skip_reason, provider_sid, error_code, error_message, attempts, created_at,
                             scheduled_for, enqueued_at, claimed_at, sent_at, status_updated_at)
SELECT %(store)s, t.member, t.flow, t.occasion,
       CASE WHEN t.flow = 'holiday' THEN %(holiday_template)s ELSE %(after_sales_template)s END, t.order_id,
       'Hello, how is your order? Reply STOP to opt out.', 1, st,
       CASE WHEN st = 'skipped' THEN 'opted out' ELSE '' END,
       CASE WHEN st IN ('sent', 'delivered', 'undelivered') THEN 'SMB' || %(store)s || '-' || row_number() OVER () END,
       CASE WHEN st IN ('failed', 'undelivered') THEN '30003' ELSE '' END,
       CASE WHEN st IN ('failed', 'undelivered') THEN 'Unreachable destination handset' ELSE '' END,
       CASE WHEN st = 'skipped' THEN 0 ELSE 1 END, t.at, t.at, t.at, t.at,
       CASE WHEN st IN ('sent', 'delivered', 'undelivered') THEN t.at + interval '1 second' END,
       t.at + interval '1 minute'
FROM (SELECT *, CASE WHEN random() < 0.90 THEN 'delivered' WHEN random() < 0.4 THEN 'failed'
                     WHEN random() < 0.5 THEN 'undelivered' ELSE 'skipped' END AS st
      FROM (SELECT * FROM after_sales UNION ALL SELECT * FROM holidays) AS u) AS t
"""

REPLIES_SQL = """
INSERT INTO members_inboundreply (store_id, member_id, kind, body, provider_sid, received_at, answered_at)
SELECT %(store)s, m.id, k, CASE k WHEN 'opt_out' THEN 'STOP' WHEN 'help' THEN 'HELP' ELSE 'Where is my parcel?' END,
       'SMR' || m.id, m.last_order_at + interval '4 days',
       CASE WHEN m.last_order_at < %(now)s - interval '7 days' THEN m.last_order_at + interval '5 days' END
FROM (SELECT m.*, (ARRAY['message', 'message', 'help', 'opt_out'])[1 + (m.id %% 4)::int] AS k
      FROM members_member m WHERE m.store_id = %(store)s AND m.phone LIKE %(phone_like)s
      ORDER BY m.id LIMIT %(n)s) AS m
"""

COUPONS_SQL = """
INSERT INTO members_coupon (store_id, member_id, occasion, code, value, valid_until, created_at, redeemed_at)
SELECT %(store)s, m.id, 'benefit:bench', 'B' || %(store)s || 'X' || m.id, '10 off',
       (m.joined_at + interval '30 days')::date, m.joined_at, NULL
FROM members_member m WHERE m.store_id = %(store)s AND m.phone LIKE %(phone_like)s ORDER BY m.id DESC LIMIT %(n)s
"""

REVIEWS_SQL = """
INSERT INTO reviews_review (store_id, external_id, product_id, order_id, member_id, rating, title, body, created_at,
                            imported_at, bad)
SELECT %(store)s, %(prefix)s || o.id, l.product_id, o.id, mo.member_id, rating,
       CASE WHEN rating <= 2 THEN 'Not as described' ELSE 'Good' END,
       CASE WHEN rating <= 2 THEN 'The colour was different and it arrived late.' ELSE 'Arrived on time.' END,
       o.delivered_at + interval '2 days', o.delivered_at + interval '2 days', rating <= 2
FROM (SELECT o.*, CASE WHEN r < 0.08 THEN 1 WHEN r < 0.15 THEN 2 WHEN r < 0.22 THEN 3 WHEN r < 0.40 THEN 4 ELSE 5 END
             AS rating
      FROM (SELECT o.*, random() AS r FROM stores_order o
            WHERE o.store_id = %(store)s AND o.external_id LIKE %(like)s
                  AND o.delivered_at < %(now)s - interval '2 days' AND o.id %% %(every)s = 0) AS o) AS o
JOIN stores_orderline l ON l.order_id = o.id AND l.line_no = 1
LEFT JOIN members_memberorder mo ON mo.order_id = o.id
"""

CASES_SQL = """
INSERT INTO reviews_reviewcase (store_id, review_id, status, reason, opened_at, first_contact_due_at, first_contact_at,
                                situation, root_cause, check_finding, check_notes, resolution, resolution_notes,
                                customer_updated_review, updated_rating, resolved_at, closed_at)
SELECT %(store)s, r.id, st, 'rating ' || r.rating, r.created_at, r.created_at + interval '24 hours',
       CASE WHEN st <> 'new' THEN r.created_at + interval '3 hours' END,
       CASE WHEN st <> 'new' THEN 'The parcel was late.' ELSE '' END,
       CASE WHEN st IN ('product_check', 'resolved', 'closed') THEN 'logistics' ELSE '' END, '', '',
       CASE WHEN st IN ('resolved', 'closed') THEN 'no_action' ELSE '' END, '', false, NULL,
       CASE WHEN st IN ('resolved', 'closed') THEN r.created_at + interval '2 days' END,
       CASE WHEN st = 'closed' THEN r.created_at + interval '3 days' END
FROM (SELECT r.*, CASE WHEN r.created_at > %(now)s - interval '2 days' THEN 'new'
                       WHEN r.created_at > %(now)s - interval '5 days' THEN 'contacting'
                       WHEN r.created_at > %(now)s - interval '10 days' THEN 'contacted'
                       WHEN r.created_at > %(now)s - interval '30 days' THEN 'resolved'
                       WHEN r.id %% 40 = 0 THEN 'contacting' ELSE 'closed' END AS st
      FROM reviews_review r WHERE r.store_id = %(store)s AND r.external_id LIKE %(like)s AND r.rating <= 2) AS r
"""

CASE_STEPS_SQL = """
WITH cases AS (SELECT c.* FROM reviews_reviewcase c JOIN reviews_review r ON r.id = c.review_id
               WHERE c.store_id = %(store)s AND r.external_id LIKE %(like)s AND c.status <> 'new'),
calls AS (
    INSERT INTO reviews_contactattempt (case_id, by_id, at, outcome, notes)
    SELECT id, %(user)s, first_contact_at, CASE WHEN status = 'contacting' THEN 'no_answer' ELSE 'reached' END,
           CASE WHEN status = 'contacting' THEN '' ELSE 'Late parcel; apologised.' END FROM cases RETURNING 1
)
INSERT INTO reviews_caseevent (case_id, from_status, to_status, by_id, at, note)
SELECT id, 'new', 'contacting', %(user)s, first_contact_at, '' FROM cases
UNION ALL
SELECT id, 'contacting', 'contacted', %(user)s, first_contact_at, '' FROM cases
WHERE status IN ('contacted', 'resolved', 'closed')
UNION ALL
SELECT id, 'contacted', 'resolved', %(user)s, resolved_at, '' FROM cases WHERE status IN ('resolved', 'closed')
UNION ALL
SELECT id, 'resolved', 'closed', %(user)s, closed_at, '' FROM cases WHERE status = 'closed'
"""

VIOLATIONS_SQL = """
INSERT INTO stores_violation (store_id, external_id, kind, description, points, amount, occurred_at, status,
                              product_id, created_at)
SELECT %(store)s, %(prefix)s || i, (ARRAY['Late shipment', 'False advertising', 'Slow reply', 'Fake tracking number'])
           [1 + i %% 4], 'Platform deduction.', 1 + i %% 6, (i %% 5) * 10,
       at, CASE WHEN at > %(now)s - interval '14 days' THEN 'open' WHEN i %% 9 = 0 THEN 'appealed' ELSE 'resolved' END,
       (%(products)s::bigint[])[1 + i %% %(n_products)s], at
FROM (SELECT i, %(now)s::timestamptz - (i + random()) * %(step)s * interval '1 second' AS at
      FROM generate_series(0, %(n)s - 1) AS i) AS v
"""

ANOMALIES_SQL = """
INSERT INTO metrics_anomaly (store_id, day, metric, dimension, dimension_value, value, baseline, band_low, band_high,
                             change, change_dod, change_wow, score, direction, holiday, explanation, root_cause, status,
                             plan, detected_at, updated_at, explained_by_id, owner_id, part_of_id)
SELECT %(store)s, day, c.metric, c.dimension, c.value, 62, 100, 85, 115, -0.38, -0.35, -0.40, -5.2 + (i %% 7) * 0.3,
       'down', '', c.explanation, '{}'::jsonb,
       CASE WHEN day > %(today)s - 30 THEN (ARRAY['new', 'acknowledged', 'plan'])[1 + i %% 3]
            WHEN i %% 10 = 0 THEN 'acknowledged' ELSE 'resolved' END,
       '', day + 1, day + 1, NULL, NULL, NULL
FROM (SELECT i, %(today)s - 1 - floor(i * %(days)s::numeric / %(n)s)::int AS day
      FROM generate_series(0, %(n)s - 1) AS i) AS a
JOIN (VALUES (0, 'gmv', '', '', 'GMV −38 %% against its usual level.'),
             (1, 'orders', 'traffic_source', 'paid_search', 'Paid-search orders −40 %%.'),
             (2, 'visitors', '', '', 'Visitors −35 %%.'),
             (3, 'orders', '', '', 'Paid orders −38 %%.'),
             (4, 'gmv', 'traffic_source', 'organic_search', 'Organic-search GMV −40 %%.'),
             (5, 'conversion', '', '', 'Conversion −30 %%.'),
             (6, 'sessions', '', '', 'Sessions −36 %%.'),
             (7, 'aov', '', '', 'Average order value −38 %%.')) AS c(k, metric, dimension, value, explanation)
  ON c.k = a.i %% 8
"""

AD_PLANS_SQL = """
INSERT INTO campaigns_adplan (store_id, name, external_id, channel, status, daily_budget, total_budget, bid_strategy,
                              target_roas, start_date, end_date, hour_from, hour_to, notes, created_at)
SELECT %(store)s, 'Bench plan ' || lpad(i::text, 4, '0'), 'BX' || i,
       (ARRAY['search', 'display', 'social', 'affiliate'])[1 + i %% 4],
       CASE WHEN i %% 4 = 0 THEN 'active' WHEN i %% 4 = 1 THEN 'paused' ELSE 'ended' END,
       100 + (i %% 5) * 100, 0, 'manual_cpc', NULL, %(today)s - 365,
       CASE WHEN i %% 4 >= 2 THEN %(today)s - 1 - i %% 60 END, 0, 24, '', %(now)s
FROM generate_series(0, %(n)s - 1) AS i
"""

AD_DAILY_SQL = """
INSERT INTO campaigns_addailyperformance (plan_id, date, impressions, clicks, spend, orders, sales, imported_at)
SELECT p.id, d::date, 5000 + (random() * 5000)::int, 100 + (random() * 100)::int,
       round((p.daily_budget * (0.6 + random() * 0.4))::numeric, 2), (random() * 10)::int,
       round((p.daily_budget * (1 + random() * 3))::numeric, 2), %(now)s
FROM campaigns_adplan p
CROSS JOIN generate_series(p.start_date, coalesce(p.end_date, %(today)s - 1), interval '1 day') AS d
WHERE p.store_id = %(store)s AND p.name LIKE 'Bench plan %%'
"""

AD_SNAPSHOTS_SQL = """
INSERT INTO campaigns_adspendsnapshot (plan_id, ts, spend_today)
SELECT p.id, h, round((p.daily_budget * extract(epoch FROM h - %(midnight)s) / 86400 * 0.9)::numeric, 2)
FROM campaigns_adplan p CROSS JOIN generate_series(%(midnight)s::timestamptz + interval '1 hour', %(now)s,
                                                   interval '1 hour') AS h
WHERE p.store_id = %(store)s AND p.name LIKE 'Bench plan %%' AND p.status = 'active'
"""

# Copies of the demo's activities (real kinds and details), one a few days apart going back two years.
ACTIVITIES_SQL = """
INSERT INTO campaigns_activity (store_id, name, kind, status, start_date, end_date, budget, notes, created_at, owner_id,
                                details, goal_gmv, goal_new_members, goal_orders, signup_deadline, template_id)
SELECT a.store_id, a.name || ' #' || i, a.kind, 'reviewed', a.start_date - shift, a.end_date - shift, a.budget, '',
       %(now)s, a.owner_id, a.details, a.goal_gmv, a.goal_new_members, a.goal_orders, a.signup_deadline - shift, NULL
FROM (SELECT i, 60 + i * %(gap)s AS shift, (SELECT array_agg(id ORDER BY id) FROM campaigns_activity
                                            WHERE store_id = %(store)s) AS ids
      FROM generate_series(0, %(n)s - 1) AS i) AS g
JOIN campaigns_activity a ON a.id = g.ids[1 + i %% array_length(g.ids, 1)]
"""

EVENTS_SQL = """
WITH s AS MATERIALIZED (
    SELECT i, %(start)s::timestamptz + (i + random()) * %(step)s * interval '1 second' AS ts,
           random() AS r, floor(random() * %(visitors)s)::bigint AS v, floor(random() * 3)::int AS views,
           random() < 0.35 AS carts, lpad(i::text, 10, '0') AS n
    FROM generate_series(0, %(sessions)s - 1) AS i
), sessions AS (
    SELECT *, CASE WHEN r < 0.30 THEN 'organic_search' WHEN r < 0.58 THEN 'paid_search'
                   WHEN r < 0.75 THEN 'recommendation' WHEN r < 0.85 THEN 'social' WHEN r < 0.95 THEN 'direct'
                   WHEN r < 0.98 THEN 'campaign' ELSE 'other' END AS source
    FROM s
)
INSERT INTO metrics_trafficevent (store_id, event_id, type, ts, session_id, visitor_id, source, device, product_id,
                                  received_at)
SELECT %(store)s, e.event_id, e.type, e.ts, 'bs' || e.n, 'bv' || e.v, e.source, 'mobile', e.product, e.ts
FROM (
    SELECT 'bs' || n AS event_id, 'session_start' AS type, ts, n, v, source, NULL::bigint AS product FROM sessions
    UNION ALL
    SELECT 'bv' || n || '-' || k, 'product_view', ts + (5 + k * 40 * random()) * interval '1 second', n, v, source,
           (%(products)s::bigint[])[1 + floor(%(n_products)s * random() ^ 2)::int]
    FROM sessions CROSS JOIN LATERAL generate_series(1, views + 1) AS k
    UNION ALL
    SELECT 'bc' || n, 'add_to_cart', ts + (60 + 200 * random()) * interval '1 second', n, v, source,
           (%(products)s::bigint[])[1 + floor(%(n_products)s * random() ^ 2)::int]
    FROM sessions WHERE carts
) AS e
WHERE e.ts < %(now)s
ORDER BY e.ts
"""


def phone_prefix(store: Store) -> tuple[str, int]:
    """A number range no demo buyer uses: +86 166… in China, +1 206 elsewhere."""
    return ("+86166", 8) if store.country == "CN" else ("+1206", 7)


def bulk_load(store: Store, scale: float, now, user) -> dict[str, float]:
    """Load `scale` × SIZES of two years of data into `store`; returns seconds per step."""
    n = {k: max(1, round(v * scale)) for k, v in SIZES.items()}
    n["products"] = max(20, n["products"])
    today = store.today(now)
    prefix, digits = phone_prefix(store)
    like = PREFIX + "%"
    base = {"store": store.pk, "now": now, "today": today, "prefix": PREFIX, "like": like,
            "phone": prefix, "digits": digits, "phone_like": prefix + "%", "user": user.pk}
    timings = {}

    def step(name: str, statement: str, **params) -> None:
        began = time.perf_counter()
        with transaction.atomic():
            if name == "events":
                sql("SET LOCAL session_replication_role = replica")  # no change notes for a new history
            sql(statement, {**base, **params})
        for table in re.findall(r"INSERT INTO (\w+)", statement):
            sql(f"ANALYZE {table}")  # fresh statistics, or the next step's joins are planned for a few rows
        timings[name] = time.perf_counter() - began

    began = time.perf_counter()
    Product.objects.bulk_create([Product(store=store, sku=f"{PREFIX}{i}", title=f"Bench product {i}",
                                         category="Bench", price=10 + i % 300) for i in range(n["products"])],
                                batch_size=2000)
    timings["products"] = time.perf_counter() - began
    products = list(store.products.filter(sku__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))
    start = now - timedelta(days=DAYS)
    step("orders", ORDERS_SQL, n=n["orders"], buyers=n["buyers"], start=start,
         step=DAYS * 86400 / n["orders"])
    step("order lines", LINES_SQL, products=products, n_products=len(products))
    step("payments", PAYMENTS_SQL)
    step("members", MEMBERS_SQL)
    step("member orders", MEMBER_ORDERS_SQL)
    templates = {t.flow: t.pk for t in store.sms_templates.all()}
    step("texts", TEXTS_SQL, half=n["texts"] // 2, holiday_template=templates.get("holiday"),
         after_sales_template=templates.get("after_sales"))
    step("replies", REPLIES_SQL, n=n["replies"])
    step("coupons", COUPONS_SQL, n=n["coupons"])
    paid = store.orders.filter(external_id__startswith=PREFIX, delivered_at__isnull=False).count()
    step("reviews", REVIEWS_SQL, every=max(1, paid // n["reviews"]))
    step("cases", CASES_SQL)
    step("case calls", CASE_STEPS_SQL)
    step("violations", VIOLATIONS_SQL, n=n["violations"], step=DAYS * 86400 / n["violations"], products=products,
         n_products=len(products))
    step("anomalies", ANOMALIES_SQL, n=n["anomalies"], days=DAYS)
    step("ad plans", AD_PLANS_SQL, n=n["ad_plans"])
    step("ad reports", AD_DAILY_SQL)
    midnight = store.day_bounds(today)[0]
    step("ad snapshots", AD_SNAPSHOTS_SQL, midnight=midnight)
    step("activities", ACTIVITIES_SQL, n=n["activities"], gap=max(1, DAYS // n["activities"]))
    sessions = n["sessions"]
    step("events", EVENTS_SQL, sessions=sessions, visitors=max(1, sessions // 3),
         start=now - timedelta(days=EVENT_DAYS), step=EVENT_DAYS * 86400 / sessions, products=products,
         n_products=len(products))
    began = time.perf_counter()
    last = due_day(store, now)
    rollup_days([(store, last - timedelta(days=k)) for k in range(DAYS)])
    timings["rollups"] = time.perf_counter() - began
    return timings


def manager_of(store: Store, name: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=name).first() or UserFactory(username=name)
    StoreMembership.objects.get_or_create(user=user, store=store, defaults={"role": Role.MANAGER})
    return user


def counts(store: Store) -> str:
    from campaigns.models import AdDailyPerformance
    from members.models import Message
    from metrics.models import Anomaly, DailyMetric, TrafficEvent
    from reviews.models import Review, ReviewCase

    parts = [("orders", Order.objects.filter(store=store)), ("members", Member.objects.filter(store=store)),
             ("texts", Message.objects.filter(store=store)), ("reviews", Review.objects.filter(store=store)),
             ("cases", ReviewCase.objects.filter(store=store)), ("anomalies", Anomaly.objects.filter(store=store)),
             ("ad reports", AdDailyPerformance.objects.filter(plan__store=store)),
             ("events", TrafficEvent.objects.filter(store=store)),
             ("daily rows", DailyMetric.objects.filter(store=store))]
    return ", ".join(f"{qs.count():,} {name}" for name, qs in parts)


# --- timing -----------------------------------------------------------------------------------


def pages(store: Store) -> list[tuple[str, str]]:
    """(label, URL) of every GET page of `store`: the sweep's routes, then the filters and last pages."""
    from tests.integration.test_url_sweep import routes

    objs = objects(store)
    # The busiest objects, not the demo's first ones: the member and product with the most orders.
    objs["member"] = Member.objects.filter(store=store).order_by("-orders_count", "pk").first()
    objs["product"] = Product.objects.filter(store=store).annotate(n=Count("lines")).order_by("-n", "pk").first()
    objs["order"] = Order.objects.filter(store=store).order_by("-placed_at", "pk").first()
    found: dict[str, str] = {}
    for _route, name, _pattern in routes():
        if name not in NOT_PAGES and name not in found:
            found[name] = reverse(name, kwargs=KWARGS[name](objs)) if name in KWARGS else reverse(name)
    slug = store.slug
    year_ago = (store.today() - timedelta(days=365)).isoformat()
    extra = [
        ("stores:violations ?page=last", reverse("stores:violations", args=[slug]) + "?page=last"),
        ("stores:violations ?status=open", reverse("stores:violations", args=[slug]) + "?status=open"),
        ("metrics:daily ?day=a year ago", reverse("metrics:daily") + f"?day={year_ago}"),
        ("metrics:anomalies ?status=all", reverse("metrics:anomalies") + "?status=all"),
        ("members:index ?page=last", reverse("members:index") + "?page=last"),
        ("members:index ?q=Buyer 12", reverse("members:index") + "?q=Buyer+12"),
        ("members:index ?segment=at_risk", reverse("members:index") + "?segment=at_risk"),
        ("members:texts ?page=last", reverse("members:texts") + "?page=last"),
        ("members:texts ?status=failed", reverse("members:texts") + "?status=failed"),
        ("reviews:store ?status=all", reverse("reviews:store", args=[slug]) + "?status=all"),
        ("reviews:store ?overdue=1", reverse("reviews:store", args=[slug]) + "?overdue=1"),
        ("reviews:report 2 years", reverse("reviews:report", args=[slug])
         + f"?start={(store.today() - timedelta(days=DAYS)).isoformat()}&end={store.today().isoformat()}"),
        ("campaigns:activities ?status=reviewed", reverse("campaigns:activities") + "?status=reviewed"),
        ("campaigns:calendar ?view=week", reverse("campaigns:calendar") + "?view=week"),
        ("campaigns:ads ?status=ended", reverse("campaigns:ads") + "?status=ended"),
    ]
    return list(found.items()) + extra


def time_page(client: Client, url: str, runs: int) -> tuple[int, float, int]:
    """(status, median ms of `runs` after one warm-up, queries)."""
    response = client.get(url)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - began) * 1000)
    return response.status_code, statistics.median(times), len(ctx)


def slowest_queries(client: Client, url: str, top: int = 3) -> list[tuple[float, str]]:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    found = sorted(((float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries), reverse=True)
    return found[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="big store's size as a share of SIZES (default 1)")
    parser.add_argument("--baseline", type=float, default=0.1,
                        help="baseline store's size as a share of the big store's (default 0.1)")
    parser.add_argument("--runs", type=int, default=3, help="timed requests per page after a warm-up (median)")
    parser.add_argument("--demo-days", type=int, default=14, help="days of demo history under the bulk rows")
    parser.add_argument("--reuse", action="store_true", help="time the stores the last run left; build nothing")
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument("--explain", type=float, default=0,
                        help="print the slowest queries of big-store pages slower than this many ms")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/pages.py needs Postgres (DATABASE_URL).")
    settings.DEBUG = False
    now = timezone.now()
    began = time.perf_counter()
    if args.reuse:
        big, small = Store.objects.get(slug=STORE_A), Store.objects.get(slug=STORE_B)
    else:
        big, small = load_demo(args.demo_days)
        print(f"demo loaded in {time.perf_counter() - began:.1f} s", flush=True)
    users = {big.pk: manager_of(big, "bench-manager-big"), small.pk: manager_of(small, "bench-manager-small")}
    if not args.reuse:
        for store, scale in ((big, args.scale), (small, args.scale * args.baseline)):
            t0 = time.perf_counter()
            steps = bulk_load(store, scale, now, users[store.pk])
            slow = ", ".join(f"{k} {v:.1f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])[:5])
            print(f"{store.slug} (scale {scale:g}) loaded in {time.perf_counter() - t0:.1f} s ({slow} s)", flush=True)
        sql("VACUUM ANALYZE")  # what autovacuum would have done to a store that grew over two years
    build = time.perf_counter() - began
    for store in (big, small):
        print(f"{store.slug}: {counts(store)}", flush=True)

    clients = {}
    for store in (big, small):
        clients[store.pk] = Client()
        clients[store.pk].force_login(users[store.pk])
    rows, post_only = [], []
    logging.getLogger("django.request").setLevel(logging.ERROR)  # no "Method Not Allowed" per POST-only route
    small_pages = dict(pages(small))
    for label, url in pages(big):
        if args.only and args.only not in label:
            continue
        status, ms, queries = time_page(clients[big.pk], url, args.runs)
        s_status, s_ms, s_queries = time_page(clients[small.pk], small_pages[label], args.runs)
        if status == 405:
            post_only.append(label)
            continue
        rows.append((label, status, ms, queries, s_ms, s_queries))
        print(f"  {label}: {ms:.0f} ms ({status}), baseline {s_ms:.0f} ms", file=sys.stderr, flush=True)
        if args.explain and ms > args.explain:
            for q_ms, text in slowest_queries(clients[big.pk], url):
                print(f"      {q_ms:8.1f} ms  {text[:600]}", file=sys.stderr)

    print()
    print(f"## pages (postgresql; big store scale {args.scale:g}, baseline {args.scale * args.baseline:g}; "
          f"median of {args.runs} warm requests)")
    print()
    print(f"- {big.slug} (big): {counts(big)}")
    print(f"- {small.slug} (baseline): {counts(small)}")
    print()
    print("| page | status | big ms | queries | baseline ms | queries | big / baseline |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, status, ms, queries, s_ms, s_queries in sorted(rows, key=lambda r: -r[2]):
        print(f"| {label} | {status} | {ms:.0f} | {queries} | {s_ms:.0f} | {s_queries} | {ms / s_ms:.1f}× |")
    slow = [r for r in rows if r[2] > 300]
    print()
    print(f"Not timed (POST only, 405 to a GET): {', '.join(post_only)}.")
    print(f"{len(rows)} pages; slower than 300 ms on the big store: {len(slow)}; "
          f"build {build:.0f} s, total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
