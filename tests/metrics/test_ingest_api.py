"""The ingest API: batches are stored once, all or nothing, only for the key's own store."""

import json
import socket
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client, override_settings

from members.models import Member
from metrics.models import TrafficEvent
from stores.models import ApiKey, Order, OrderStatus
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/events"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def key_a(store_a):
    return ApiKey.issue(store_a)[1]


@pytest.fixture
def key_b(store_b):
    return ApiKey.issue(store_b)[1]


@pytest.fixture
def mug(store_a):
    return ProductFactory(store=store_a, sku="MUG-1", title="Mug", price=Decimal("25.00"))


def post(client, key, events, **extra):
    body = json.dumps({"events": events})
    return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", **extra)


def visit(n=1, prefix="e", sku="MUG-1"):
    """A session that starts on a product, views it and adds it to the cart: 3 events per visit."""
    events = []
    for i in range(n):
        sid = f"s{prefix}{i}"
        events += [
            {"id": f"{prefix}{i}-start", "type": "session_start", "ts": "2026-11-25T19:00:00+08:00",
             "session_id": sid, "visitor_id": f"v{i}", "source": "paid_search", "device": "mobile",
             "landing_sku": sku},
            {"id": f"{prefix}{i}-view", "type": "product_view", "ts": "2026-11-25T19:00:05+08:00",
             "session_id": sid, "visitor_id": f"v{i}", "sku": sku},
            {"id": f"{prefix}{i}-cart", "type": "add_to_cart", "ts": "2026-11-25T19:01:00+08:00",
             "session_id": sid, "visitor_id": f"v{i}", "sku": sku, "quantity": 2},
        ]
    return events


def order_paid(event_id="o-1", order_id="A1001", ts="2026-11-25T19:05:00+08:00", total="50.00", **extra):
    event = {"id": event_id, "type": "order_paid", "ts": ts, "order_id": order_id, "total": total,
             "session_id": "se0", "source": "paid_search",
             "buyer": {"ref": "c-9", "name": "Li Lei", "phone": "13800138000", "email": "li@example.com"},
             "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": "25.00"}],
             "payments": [{"type": "alipay", "amount": total}]}
    event.update(extra)
    return event


def test_batch_is_stored_and_counted(client, store_a, key_a, mug):
    response = post(client, key_a, visit(2))
    assert response.status_code == 202
    assert response.json() == {"accepted": 6, "duplicates": 0}
    start = TrafficEvent.objects.get(event_id="e0-start")
    assert (start.store, start.source, start.device, start.product) == (store_a, "paid_search", "mobile", mug)
    assert start.ts == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_same_batch_twice_counts_nothing_twice(client, key_a, mug):
    post(client, key_a, visit(2))
    response = post(client, key_a, visit(2))
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 6}
    assert TrafficEvent.objects.count() == 6


def test_partly_retried_batch_accepts_only_the_new_events(client, key_a, mug):
    post(client, key_a, visit(1))
    response = post(client, key_a, visit(2))
    assert response.json() == {"accepted": 3, "duplicates": 3}


def test_repeated_id_inside_one_batch_is_a_duplicate(client, key_a, mug):
    events = visit(1)
    response = post(client, key_a, events + [events[0]])
    assert response.json() == {"accepted": 3, "duplicates": 1}


def test_one_unknown_sku_rejects_the_whole_batch(client, key_a, mug):
    events = visit(2)
    events[4]["sku"] = "NOPE-9"
    response = post(client, key_a, events)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [{"index": 4, "id": "e1-view", "field": "sku",
                               "reason": "unknown product SKU 'NOPE-9' in this store"}]
    assert "nothing was stored" in body["detail"]
    assert TrafficEvent.objects.count() == 0


def test_every_bad_event_is_named_with_index_and_reason(client, key_a, mug):
    events = visit(1) + [
        {"id": "x1", "type": "page_scroll", "ts": "2026-11-25T19:00:00+08:00"},
        {"id": "x2", "type": "product_view", "ts": "2026-11-25 19:00:00", "session_id": "s", "sku": "MUG-1"},
        {"id": "x3", "type": "product_view", "ts": "yesterday", "session_id": "s", "sku": "MUG-1"},
        {"id": "x4", "type": "add_to_cart", "ts": "2026-11-25T19:00:00+08:00", "session_id": "s"},
        {"id": "x5", "type": "session_start", "ts": "2026-11-25T19:00:00+08:00", "session_id": "s",
         "source": "billboard"},
    ]
    response = post(client, key_a, events)
    assert response.status_code == 400
    errors = {(e["index"], e["field"]): e["reason"] for e in response.json()["errors"]}
    assert errors[(3, "")].startswith("unknown event type 'page_scroll'")
    assert errors[(4, "ts")] == "needs a time zone offset, e.g. 2026-11-25T09:30:00+08:00"
    assert errors[(5, "ts")].startswith("is not an ISO 8601 time stamp")
    assert errors[(6, "sku")] == "is required"
    assert (7, "source") in errors
    assert {i for i, _ in errors} == {3, 4, 5, 6, 7}
    assert TrafficEvent.objects.count() == 0


def test_time_stamp_far_in_the_future_is_refused(client, key_a, mug):
    events = visit(1)
    events[0]["ts"] = "2026-11-25T14:30:00+00:00"  # 2.5 hours after the frozen now
    response = post(client, key_a, events)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "ts"


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+00:00", "1900-01-01T00:00:00Z"])
def test_time_stamp_before_1970_is_refused_by_name(client, store_b, key_b, ts):
    # Year 1 in Los Angeles is a day before the calendar starts: its local day was a 500.
    ProductFactory(store=store_b, sku="MUG-1")
    events = visit(1)
    events[0]["ts"] = ts
    response = post(client, key_b, events + [order_paid(placed_at=ts)])
    assert response.status_code == 400
    assert {(e["index"], e["field"]) for e in response.json()["errors"]} == {(0, "ts"), (3, "placed_at")}
    assert response.json()["errors"][0]["reason"] == "is before 1970-01-01; not a time stamp of a storefront event"
    assert TrafficEvent.objects.count() == 0


def test_order_placed_far_in_the_future_is_refused(client, key_a, mug):
    response = post(client, key_a, visit(1) + [order_paid(placed_at="2027-11-25T19:00:00+08:00")])
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(3, "placed_at")]


@pytest.mark.parametrize("field", ["id", "session_id", "visitor_id", "device"])
def test_a_nul_character_in_a_text_field_is_a_400_naming_it(client, key_a, mug, field):
    # Postgres text cannot hold it: the insert failed with a 500 and the client retried for ever.
    events = visit(1)
    events[0][field] = "ab\x00c"
    response = post(client, key_a, events)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "id": events[0]["id"], "field": field,
                                          "reason": "contains a NUL character (\\u0000), which cannot be stored"}]
    assert TrafficEvent.objects.count() == 0


def test_a_nul_character_in_an_orders_buyer_or_line_is_a_400_naming_it(client, key_a, mug):
    event = order_paid(order_id="A\x001")
    event["buyer"]["name"] = "Li\x00 Lei"
    event["lines"][0]["title"] = "Mug\x00"
    response = post(client, key_a, [event])
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["order_id", "buyer.name", "lines.0.title"]
    assert not Order.objects.exists()


def test_body_that_is_not_a_batch_is_a_400(client, key_a):
    response = client.post(URL, "not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert response.status_code == 400
    response = client.post(URL, json.dumps([1, 2]), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert response.status_code == 400


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer opk_wrong", "Basic b3BzOmRlc2s="])
def test_missing_or_wrong_key_is_a_401(client, store_a, mug, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, json.dumps({"events": visit(1)}), content_type="application/json", **extra)
    assert response.status_code == 401
    assert TrafficEvent.objects.count() == 0


def test_revoked_key_is_a_401(client, store_a, mug):
    key, raw = ApiKey.issue(store_a)
    key.revoke()
    assert post(client, raw, visit(1)).status_code == 401


def test_key_of_store_b_cannot_write_to_store_a(client, store_a, store_b, key_b, mug):
    # Store A's SKU is unknown in store B: the key decides the store, the body cannot.
    response = post(client, key_b, visit(1))
    assert response.status_code == 400
    ProductFactory(store=store_b, sku="MUG-1")
    assert post(client, key_b, visit(1)).status_code == 202
    assert set(TrafficEvent.objects.values_list("store", flat=True)) == {store_b.pk}


def test_same_event_ids_in_two_stores_are_two_events(client, store_b, key_a, key_b, mug):
    ProductFactory(store=store_b, sku="MUG-1")
    assert post(client, key_a, visit(1)).json()["accepted"] == 3
    assert post(client, key_b, visit(1)).json()["accepted"] == 3


@override_settings(INGEST_MAX_EVENTS=5)
def test_too_many_events_is_a_413(client, key_a, mug):
    assert post(client, key_a, visit(2)).status_code == 413
    assert TrafficEvent.objects.count() == 0


@override_settings(INGEST_MAX_BODY_BYTES=300)
def test_too_large_body_is_a_413(client, key_a, mug):
    response = post(client, key_a, visit(2))
    assert response.status_code == 413
    assert "limit is 300" in response.json()["detail"]


@pytest.fixture
def fresh_counts(settings):
    """Counters of their own: Redis outlives the test database, whose next run numbers its stores from 1 again."""
    settings.CACHES = {**settings.CACHES,
                       "limits": {**settings.CACHES["limits"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@override_settings(API_REQUESTS_PER_MINUTE=3)
@pytest.mark.usefixtures("fresh_counts")
def test_a_store_over_its_requests_a_minute_gets_429_and_nothing_of_that_batch_is_stored(client, store_a, store_b,
                                                                                        key_a, key_b, mug):
    ProductFactory(store=store_b, sku="MUG-1")
    for i in range(3):
        assert post(client, key_a, visit(1, prefix=f"r{i}-")).status_code == 202
    second_key = ApiKey.issue(store_a)[1]  # the limit is the store's, over all its keys
    refused = post(client, second_key, visit(1, prefix="over-"))
    assert refused.status_code == 429
    # At 12:00:00 with 3 taken: in the next minute these 3 fade out over its first 60 s; one more fits at 12:01:20.
    assert refused["Retry-After"] == "80"
    assert TrafficEvent.objects.filter(store=store_a).count() == 9
    assert post(client, key_b, visit(1, prefix="b-")).status_code == 202  # another store is not held back
    with time_machine.travel(NOW.replace(second=59), tick=False):
        assert post(client, key_a, visit(1, prefix="late-")).status_code == 429
    with time_machine.travel(NOW.replace(minute=1), tick=False):  # a new clock minute is not a new allowance
        early = post(client, key_a, visit(1, prefix="early-"))
    assert (early.status_code, early["Retry-After"]) == (429, "20")  # the refused ones were not counted
    with time_machine.travel(NOW.replace(minute=1, second=20), tick=False):
        assert post(client, key_a, visit(1, prefix="over-")).status_code == 202
        assert post(client, key_a, visit(1, prefix="more-")).status_code == 429
    assert TrafficEvent.objects.filter(store=store_a).count() == 12


@override_settings(API_REQUESTS_PER_MINUTE=4)
@pytest.mark.usefixtures("fresh_counts")
def test_a_burst_at_the_end_of_a_minute_and_another_at_the_start_of_the_next_pass_the_limit_once(client, key_a, mug):
    """A fixed clock minute let 4 through at 12:00:59 and 4 more at 12:01:01: 8 in two seconds."""
    with time_machine.travel(NOW.replace(second=59), tick=False):
        assert [post(client, key_a, visit(1, prefix=f"a{i}-")).status_code for i in range(4)] == [202] * 4
    with time_machine.travel(NOW.replace(minute=1, second=1), tick=False):
        assert post(client, key_a, visit(1, prefix="b-")).status_code == 429
    with time_machine.travel(NOW.replace(minute=1, second=30), tick=False):  # half of 12:00's 4 still count
        assert [post(client, key_a, visit(1, prefix=f"c{i}-")).status_code for i in range(3)] == [202, 202, 429]


def test_with_the_limits_cache_down_the_api_still_takes_the_batch(client, store_a, key_a, mug, settings, caplog):
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    settings.CACHES = {**settings.CACHES, "limits": {**settings.CACHES["limits"], "LOCATION": dead,
                       "BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert post(client, key_a, visit(2)).status_code == 202
    assert TrafficEvent.objects.filter(store=store_a).count() == 6
    assert "API rate limit not checked" in caplog.text


def test_order_paid_records_the_order_its_lines_and_payment_and_enrols_the_buyer(client, store_a, key_a, mug):
    response = post(client, key_a, visit(1) + [order_paid()])
    assert response.json() == {"accepted": 4, "duplicates": 0}
    order = Order.objects.get(store=store_a, external_id="A1001")
    assert order.total == Decimal("50.00")
    assert order.traffic_source == "paid_search"
    assert order.paid_at == datetime(2026, 11, 25, 11, 5, tzinfo=UTC)
    line = order.lines.get()
    assert (line.product, line.quantity, line.amount) == (mug, 2, Decimal("50.00"))
    assert list(order.payments.values_list("type", "amount")) == [("alipay", Decimal("50.00"))]
    assert Member.objects.get(store=store_a).phone == "+8613800138000"


def test_retried_order_creates_no_second_order(client, store_a, key_a, mug):
    post(client, key_a, [order_paid()])
    post(client, key_a, [order_paid()])
    # A different event for the same order id (say a second tracker) adds an event but no order.
    response = post(client, key_a, [order_paid(event_id="o-1-again")])
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert Order.objects.count() == 1
    assert Order.objects.get().lines.count() == 1


def test_order_paid_in_another_currency_is_refused(client, key_a, mug):
    response = post(client, key_a, [order_paid(currency="USD")])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "currency"
    assert Order.objects.count() == 0


def test_payments_must_add_up_to_the_total(client, key_a, mug):
    response = post(client, key_a, [order_paid(payments=[{"type": "alipay", "amount": "40.00"}])])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "payments"


def test_refunds_add_up_and_a_full_refund_marks_the_order_refunded(client, key_a, mug):
    post(client, key_a, [order_paid()])
    refund = {"id": "r-1", "type": "refund", "ts": "2026-11-25T19:30:00+08:00", "order_id": "A1001",
              "amount": "20.00"}
    post(client, key_a, [refund])
    post(client, key_a, [refund])  # retried: not refunded twice
    order = Order.objects.get()
    assert (order.refund_amount, order.status) == (Decimal("20.00"), OrderStatus.PAID)
    post(client, key_a, [dict(refund, id="r-2", amount="30.00")])
    order.refresh_from_db()
    assert (order.refund_amount, order.status) == (Decimal("50.00"), OrderStatus.REFUNDED)
    assert order.refunded_at == datetime(2026, 11, 25, 11, 30, tzinfo=UTC)


def test_refund_above_the_total_rejects_the_batch(client, key_a, mug):
    post(client, key_a, [order_paid()])
    batch = visit(1) + [{"id": "r-9", "type": "refund", "ts": "2026-11-25T19:30:00+08:00",
                         "order_id": "A1001", "amount": "60.00"}]
    response = post(client, key_a, batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 3
    assert TrafficEvent.objects.count() == 1  # only the earlier order_paid
    assert Order.objects.get().refund_amount == 0


def test_refund_of_an_unknown_order_is_refused(client, key_a, mug):
    response = post(client, key_a, [{"id": "r-1", "type": "refund", "ts": "2026-11-25T19:30:00+08:00",
                                     "order_id": "NOPE", "amount": "5.00"}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "order_id"


def fulfilment(kind, event_id, ts, order_id="A1001"):
    return {"id": event_id, "type": f"order_{kind}", "ts": ts, "order_id": order_id}


def test_shipped_then_delivered_moves_the_order_on_and_stamps_its_delivery_once(client, key_a, mug):
    post(client, key_a, [order_paid()])
    post(client, key_a, [fulfilment("shipped", "f-1", "2026-11-25T19:30:00+08:00")])
    order = Order.objects.get()
    assert (order.status, order.delivered_at) == (OrderStatus.SHIPPED, None)
    delivered = fulfilment("delivered", "f-2", "2026-11-25T19:50:00+08:00")
    assert post(client, key_a, [delivered]).json() == {"accepted": 1, "duplicates": 0}
    assert post(client, key_a, [delivered]).json() == {"accepted": 0, "duplicates": 1}
    # Another notice of the same delivery (a new id) keeps the first time: the after-sales text counts from it.
    post(client, key_a, [dict(delivered, id="f-3", ts="2026-11-25T19:55:00+08:00")])
    order.refresh_from_db()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, datetime(2026, 11, 25, 11, 50, tzinfo=UTC))
    # A late shipping notice does not take a delivered order back.
    post(client, key_a, [fulfilment("shipped", "f-4", "2026-11-25T19:40:00+08:00")])
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert TrafficEvent.objects.filter(type="order_delivered").count() == 2


def test_a_refunded_order_delivered_stays_refunded(client, key_a, mug):
    post(client, key_a, [order_paid(), {"id": "r-1", "type": "refund", "ts": "2026-11-25T19:30:00+08:00",
                                        "order_id": "A1001", "amount": "50.00"}])
    post(client, key_a, [fulfilment("delivered", "f-1", "2026-11-25T19:50:00+08:00")])
    order = Order.objects.get()
    assert order.status == OrderStatus.REFUNDED and order.delivered_at is not None


def test_delivery_of_an_unknown_order_rejects_the_batch(client, key_a, mug):
    response = post(client, key_a, visit(1) + [fulfilment("delivered", "f-1", "2026-11-25T19:50:00+08:00", "NOPE")])
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 3, "id": "f-1", "field": "order_id",
                                          "reason": "no order 'NOPE' in this store (send its order_paid first)"}]
    assert not TrafficEvent.objects.exists()
    # In the same batch as its order_paid it is known.
    assert post(client, key_a, [order_paid(), fulfilment("delivered", "f-1", "2026-11-25T19:50:00+08:00")]
                ).status_code == 202
    assert Order.objects.get().status == OrderStatus.DELIVERED


def test_order_times_are_stored_as_utc_for_stores_in_shanghai_and_los_angeles(client, store_a, store_b, key_a,
                                                                              key_b, mug):
    ProductFactory(store=store_b, sku="MUG-1")
    # 09:30 local time in each store: 01:30 UTC in Shanghai, 17:30 UTC (PST, UTC-8) in Los Angeles.
    post(client, key_a, [order_paid(ts="2026-11-24T09:30:00+08:00", currency="CNY")])
    post(client, key_b, [order_paid(ts="2026-11-24T09:30:00-08:00", currency="USD")])
    a = Order.objects.get(store=store_a)
    b = Order.objects.get(store=store_b)
    assert a.paid_at == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert b.paid_at == datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    assert a.paid_at.utcoffset().total_seconds() == 0
    assert store_a.today(a.paid_at).isoformat() == "2026-11-24"
    assert store_b.today(b.paid_at).isoformat() == "2026-11-24"


def test_openapi_schema_and_docs_are_served_without_login(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    data = schema.json()
    assert "/api/v1/events" in data["paths"]
    post_op = data["paths"]["/api/v1/events"]["post"]
    assert set(post_op["responses"]) >= {"202", "400", "401", "413", "429"}
    assert "OrderPaid" in data["components"]["schemas"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_batches_store_and_count_each_event_once(store_a, key_a, mug):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for real concurrent transactions")
    batch = visit(20) + [order_paid()]
    barrier = threading.Barrier(4)
    results = []

    def send():
        try:
            barrier.wait()
            results.append(post(Client(), key_a, batch))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [202] * 4
    assert sum(r.json()["accepted"] for r in results) == len(batch)
    assert sum(r.json()["duplicates"] for r in results) == 3 * len(batch)
    assert TrafficEvent.objects.count() == len(batch)
    assert Order.objects.count() == 1


def test_api_needs_no_csrf_token_or_session(store_a, key_a, mug):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, key_a, visit(1)).status_code == 202


def test_order_and_member_of_a_rejected_batch_are_rolled_back_too(client, key_a, mug):
    batch = [order_paid(), {"id": "r-1", "type": "refund", "ts": "2026-11-25T19:30:00+08:00",
                            "order_id": "A1001", "amount": "60.00"}]
    response = post(client, key_a, batch)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "id": "r-1", "field": "",
                                          "reason": "refunds would reach 60.00, more than the order total 50.00"}]
    assert (Order.objects.count(), Member.objects.count(), TrafficEvent.objects.count()) == (0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_naming_the_same_orders_in_opposite_order_both_succeed(store_a, key_a, mug):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for real concurrent transactions")
    first = [order_paid(event_id=f"a-{n}", order_id=f"X{n}") for n in range(10)]
    second = [order_paid(event_id=f"b-{n}", order_id=f"X{n}") for n in reversed(range(10))]
    barrier = threading.Barrier(2)
    results = []

    def send(batch):
        try:
            barrier.wait()
            results.append(post(Client(), key_a, batch))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(batch,)) for batch in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [202, 202]
    assert Order.objects.count() == 10
    assert TrafficEvent.objects.count() == 20


def test_the_api_stores_exactly_what_the_general_path_stores(client, store_a, store_b, key_a, mug):
    """The API validates straight from the JSON bytes; importers go through parse + validate_python."""
    from metrics import ingest

    ProductFactory(store=store_b, sku="MUG-1")
    events = visit(2) + [{"id": "n1", "type": "session_start", "ts": "2026-11-25T03:00:00Z", "session_id": "sn",
                          "source": "direct"}]
    body = json.dumps({"events": events, "sent_by": "storefront 1.2"})  # other top-level keys are ignored
    assert client.post(URL, body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {key_a}").json() == {"accepted": 7, "duplicates": 0}
    assert ingest.ingest_events(store_b, events).accepted == 7
    fields = ("event_id", "type", "ts", "session_id", "visitor_id", "source", "device", "product__sku")
    stored = [list(TrafficEvent.objects.filter(store=store).order_by("event_id").values_list(*fields))
              for store in (store_a, store_b)]
    assert stored[0] == stored[1]
    assert stored[0][-1][2] == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
