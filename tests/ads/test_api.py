"""POST /api/v1/ads/performance: store API key auth, whole-batch validation, idempotent writes."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import AdDailyPerformance, AdSpendSnapshot
from stores.models import ApiKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ads.api_urls")]
URL = "/api/v1/ads/performance"


@pytest.fixture
def key_a(store_a):
    return ApiKey.issue(store_a)[1]


def post(client, body, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


BODY = {
    "rows": [{"date": "2026-11-24", "plan": "Longjing search", "impressions": 900, "clicks": 30, "spend": "21.50",
              "orders": 2, "sales": "300"}],
    "snapshots": [{"plan": "Longjing search", "ts": "2026-11-25T10:00:00+08:00", "spend_today": "40.10"}],
}


def test_accepts_rows_and_snapshots(client, key_a, search_plan):
    response = post(client, BODY, key_a)
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 1, "created": 1, "updated": 0, "snapshots": 1, "refreshed": []}
    row = AdDailyPerformance.objects.get(plan=search_plan, date=date(2026, 11, 24))
    assert (row.spend, row.sales) == (Decimal("21.50"), Decimal("300.00"))
    assert AdSpendSnapshot.objects.get().spend_today == Decimal("40.10")


def test_retried_batch_replaces_not_duplicates(client, key_a, search_plan):
    post(client, BODY, key_a)
    response = post(client, BODY, key_a)
    assert response.json()["updated"] == 1
    assert AdDailyPerformance.objects.count() == 1 and AdSpendSnapshot.objects.count() == 1


@pytest.mark.parametrize("key", [None, "opk_wrong"])
def test_missing_or_wrong_key_is_401(client, search_plan, key):
    assert post(client, BODY, key).status_code == 401
    assert not AdDailyPerformance.objects.exists()


def test_revoked_key_is_401(client, store_a, search_plan):
    record, raw = ApiKey.issue(store_a)
    record.revoke()
    assert post(client, BODY, raw).status_code == 401


def test_key_of_another_store_cannot_reach_this_stores_plans(client, store_b, search_plan):
    raw = ApiKey.issue(store_b)[1]
    response = post(client, BODY, raw)
    assert response.status_code == 400
    assert {"item": "rows[0]", "field": "plan", "reason": "no ad plan named 'Longjing search' in store-b"} in \
        response.json()["errors"]
    assert not AdDailyPerformance.objects.exists()


def test_bad_items_reject_the_whole_batch_with_indexes(client, key_a, search_plan):
    body = {"rows": [BODY["rows"][0], {**BODY["rows"][0], "date": "2026-11-25", "clicks": -1}],
            "snapshots": [{"plan": "Longjing search", "ts": "2026-11-25T10:00:00", "spend_today": "1"}]}
    response = post(client, body, key_a)
    assert response.status_code == 400
    errors = {(e["item"], e["field"]) for e in response.json()["errors"]}
    assert errors == {("rows[1]", "clicks"), ("snapshots[0]", "ts")}
    assert not AdDailyPerformance.objects.exists() and not AdSpendSnapshot.objects.exists()


def test_rows_in_another_currency_than_the_stores_reject_the_batch(client, key_a, search_plan):
    ok = post(client, {"rows": [{**BODY["rows"][0], "currency": "cny"}]}, key_a)
    assert ok.status_code == 200
    response = post(client, {"rows": [{**BODY["rows"][0], "spend": "99.00", "currency": "USD"}]}, key_a)
    assert response.status_code == 400
    assert [(e["item"], e["field"]) for e in response.json()["errors"]] == [("rows[0]", "currency")]
    assert AdDailyPerformance.objects.get().spend == Decimal("21.50")


def test_amounts_with_another_currencys_sign_reject_the_batch(client, key_a, search_plan):
    body = {"rows": [{**BODY["rows"][0], "spend": "$21.50"}],
            "snapshots": [{**BODY["snapshots"][0], "spend_today": "$40.10"}]}
    response = post(client, body, key_a)
    assert response.status_code == 400
    errors = {(e["item"], e["field"]) for e in response.json()["errors"]}
    assert errors == {("rows[0]", "spend"), ("snapshots[0]", "spend_today")}
    assert not AdDailyPerformance.objects.exists() and not AdSpendSnapshot.objects.exists()


def test_amounts_too_large_to_store_reject_the_batch(client, key_a, search_plan):
    body = {"rows": [{**BODY["rows"][0], "sales": "1e20"}],
            "snapshots": [{**BODY["snapshots"][0], "spend_today": "99999999999999999"}]}
    response = post(client, body, key_a)
    assert response.status_code == 400
    errors = {(e["item"], e["field"]) for e in response.json()["errors"]}
    assert errors == {("rows[0]", "sales"), ("snapshots[0]", "spend_today")}
    assert not AdDailyPerformance.objects.exists() and not AdSpendSnapshot.objects.exists()


@time_machine.travel(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
def test_performance_for_a_day_that_has_not_happened_rejects_the_batch(client, key_a, search_plan):
    body = {"rows": [BODY["rows"][0], {**BODY["rows"][0], "date": "2027-03-01"}], "snapshots": []}
    response = post(client, body, key_a)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"item": "rows[1]", "field": "date", "reason": "2027-03-01 is in the future (the store's today is 2026-11-26)"}]
    assert not AdDailyPerformance.objects.exists()


def test_a_snapshot_timed_in_the_future_is_refused(client, key_a, search_plan):
    ahead = (timezone.now() + timedelta(hours=2)).isoformat()
    response = post(client, {"rows": [], "snapshots": [{"plan": "Longjing search", "ts": ahead, "spend_today": "5"}]},
                    key_a)
    assert response.status_code == 400
    assert {"item": "snapshots[0]", "field": "ts", "reason": f"{ahead} is in the future"} in response.json()["errors"]
    assert not AdSpendSnapshot.objects.exists()
