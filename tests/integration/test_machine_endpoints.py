"""Fuzzing the endpoints machines call: thousands of generated bodies, never a 5xx, every refusal explained.

Bodies range from valid events through near-misses (a valid event with one field replaced by junk)
to arbitrary JSON and raw bytes. 1,000 requests to the ingest API, 1,000 signed requests to the
Shopify webhook and 500 to the review import API run per test run (hypothesis's derandomised mode,
so CI sees the same inputs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.models import ApiKey
from stores.webhooks import shopify_signature
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

TYPES = ["session_start", "product_view", "add_to_cart", "order_paid", "refund"]


def valid_event(n: int, kind: str) -> dict:
    base = {"id": f"e{n}", "type": kind, "ts": datetime(2026, 11, 25, 9, 30, tzinfo=UTC).isoformat(),
            "session_id": "s1", "visitor_id": "v1"}
    if kind == "session_start":
        base |= {"source": "organic_search", "device": "mobile"}
    elif kind in ("product_view", "add_to_cart"):
        base |= {"sku": "SKU-1"}
    elif kind == "order_paid":
        base |= {"order_id": f"o{n}", "total": "20.00",
                 "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "20.00"}],
                 "payments": [{"type": "credit_card", "amount": "20.00"}]}
    elif kind == "refund":
        base |= {"order_id": f"o{n}", "amount": "5.00"}
    return base


@st.composite
def near_miss(draw) -> dict:
    event = valid_event(draw(st.integers(0, 10**6)), draw(st.sampled_from(TYPES)))
    key = draw(st.sampled_from(sorted(event)) | st.text(min_size=1, max_size=8))
    event[key] = draw(json_values)
    return event


events = st.builds(valid_event, st.integers(0, 10**6), st.sampled_from(TYPES)) | near_miss() | json_values
bodies = (st.lists(events, max_size=5).map(lambda evs: json.dumps({"events": evs}).encode())
          | json_values.map(lambda v: json.dumps(v).encode())
          | st.binary(max_size=200))


@pytest.fixture
def api_key(store_a):
    ProductFactory(store=store_a, sku="SKU-1")
    _, raw = ApiKey.issue(store_a, name="fuzz")
    return raw


def assert_clear_answer(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert body.get("detail"), body


def test_ingest_api_answers_every_generated_body_with_202_or_a_clear_4xx(client, api_key):
    url = reverse("api-v1:post_events")

    @FUZZ
    @given(body=bodies)
    def post(body):
        response = client.post(url, data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}"})
        assert_clear_answer(response)
        if response.status_code == 400 and "errors" in response.json():
            for error in response.json()["errors"]:
                assert error["reason"], error

    post()


def test_shopify_webhook_answers_every_signed_body_without_a_5xx(client, store_a):
    url = reverse("shopify-orders", args=[store_a.slug])
    line = {"sku": "SKU-1", "title": "Tea", "quantity": 1, "price": "10.00"}
    orders = st.fixed_dictionaries(
        {"id": st.integers(1, 10**12) | json_values, "created_at": st.just("2026-11-25T10:00:00-08:00") | json_values,
         "total_price": st.just("10.00") | json_values, "line_items": st.just([line]) | json_values},
        optional={"customer": json_values, "phone": json_values, "landing_site": json_values,
                  "currency": json_values, "financial_status": json_values})
    signed = orders.map(lambda o: json.dumps(o).encode()) | bodies

    @FUZZ
    @given(body=signed)
    def post(body):
        response = client.post(url, data=body, content_type="application/json",
                               headers={"X-Shopify-Hmac-Sha256": shopify_signature(body, store_a.webhook_secret)})
        assert_clear_answer(response)

    post()


def valid_review(n: int) -> dict:
    return {"id": f"r{n}", "rating": n % 5 + 1, "title": "Tea", "body": "ruim", "created_at": "2026-11-25T10:00:00Z",
            "sku": "SKU-1", "order_id": f"o{n}", "reviewer": {"email": "a@example.com"}}


@st.composite
def near_miss_review(draw) -> dict:
    review = valid_review(draw(st.integers(0, 10**6)))
    key = draw(st.sampled_from(sorted(review)) | st.text(min_size=1, max_size=8))
    review[key] = draw(json_values)
    return review


def test_review_api_answers_every_generated_body_with_200_or_a_clear_400(client, api_key):
    url = reverse("api-v1:post_reviews")
    items = st.builds(valid_review, st.integers(0, 10**6)) | near_miss_review() | json_values
    review_bodies = (st.lists(items, max_size=5).map(lambda rs: json.dumps({"reviews": rs}).encode())
                     | st.lists(items, max_size=5).map(lambda rs: json.dumps(rs).encode())
                     | json_values.map(lambda v: json.dumps(v).encode())
                     | st.binary(max_size=200))

    @settings(FUZZ, max_examples=500)
    @given(body=review_bodies)
    def post(body):
        response = client.post(url, data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api_key}"})
        assert_clear_answer(response)
        for error in response.json().get("errors", []) if response.status_code == 400 else []:
            assert error["message"], error

    post()
