"""The review import API: a store key, a JSON batch, all-or-nothing, retries add nothing."""

import json

from django.urls import reverse

from reviews.models import Review
from stores.models import ApiKey

URL = reverse("api-v1:post_reviews")
BATCH = {"reviews": [
    {"id": "j1", "rating": 2, "title": "Late", "body": "Arrived a week late", "created_at": "2026-01-05T10:00:00Z",
     "order_id": "nope"},
    {"id": "j2", "rating": 5, "body": "", "created_at": "2026-01-05T11:00:00-08:00"},
]}


def post(client, body, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_batch_is_imported_into_the_keys_store_and_a_retry_adds_nothing(client, store_a):
    _, raw = ApiKey.issue(store_a)
    first = post(client, BATCH, raw)
    assert first.status_code == 200
    assert first.json()["created"] == 2 and first.json()["cases_opened"] == 1
    assert first.json()["unmatched_orders"] == [{"index": 0, "order_id": "nope"}]
    again = post(client, BATCH, raw).json()
    assert again["created"] == 0 and again["already_imported"] == 2
    assert Review.objects.filter(store=store_a).count() == 2


def test_bad_item_rejects_the_whole_batch_with_its_index(client, store_a):
    _, raw = ApiKey.issue(store_a)
    body = {"reviews": [BATCH["reviews"][1], {"id": "x", "rating": "five", "created_at": "2026-01-05"}]}
    response = post(client, body, raw)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "field": "rating",
                                          "message": "must be a whole number from 1 to 5, got 'five'"}]
    assert not Review.objects.exists()


def test_a_rating_too_big_for_a_float_is_refused_with_its_index_not_a_server_error(client, store_a):
    # JSON's 1e400 reads as infinity; the rating check must name it, not fail turning it into a whole number.
    _, raw = ApiKey.issue(store_a)
    body = '{"reviews": [{"id": "x", "rating": 1e400, "created_at": "2026-01-05T10:00:00Z"}]}'
    response = client.post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "field": "rating",
                                          "message": "must be a whole number from 1 to 5, got inf"}]
    assert not Review.objects.exists()


def test_missing_or_revoked_key_is_401(client, store_a):
    key, raw = ApiKey.issue(store_a)
    assert post(client, BATCH).status_code == 401
    key.revoke()
    assert post(client, BATCH, raw).status_code == 401
    assert not Review.objects.exists()


def test_body_that_is_not_a_batch_is_400(client, store_a):
    _, raw = ApiKey.issue(store_a)
    assert post(client, "hello", raw).status_code == 400


def test_text_with_a_nul_character_is_refused_with_its_field_not_a_server_error(client, store_a):
    # Found by the fuzz test: Postgres cannot store NUL in text, so it must be refused up front.
    _, raw = ApiKey.issue(store_a)
    body = {"reviews": [BATCH["reviews"][1], {**BATCH["reviews"][0], "order_id": "o\x001"}]}
    response = post(client, body, raw)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "field": "order_id", "message": "contains a NUL character"}]
    assert not Review.objects.exists()


def test_a_batch_over_the_limits_is_refused_whole_with_413(client, store_a, settings):
    _, raw = ApiKey.issue(store_a)
    settings.REVIEW_BATCH_MAX_ROWS = 1
    response = post(client, BATCH, raw)
    assert response.status_code == 413
    assert response.json()["detail"] == ("The batch has 2 reviews; import at most 1 at a time: split it into smaller "
                                         "batches.")
    settings.REVIEW_BATCH_MAX_BYTES = 100
    response = post(client, BATCH, raw)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The batch is 2")  # bytes, known before the JSON is read
    assert "import at most 100 bytes of reviews at a time: split it into smaller batches." in response.json()["detail"]
    assert not Review.objects.exists()
