"""The ingest API and an order Shopify deleted: a late or replayed event for it is stored as an event but brings
no order back (nor refunds or ships one), the rest of the batch goes in, and the answer names what it skipped."""

from datetime import UTC, datetime

import pytest
import time_machine

from metrics.models import TrafficEvent
from stores.models import ApiKey, Order
from stores.orders import delete_order
from tests.factories import ProductFactory
from tests.metrics.test_ingest_api import order_paid, post

pytestmark = pytest.mark.django_db
DELETED_AT = datetime(2026, 11, 27, 12, tzinfo=UTC)  # Fri 27 Nov in Shanghai (20:00), store A's zone


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def key(store_a):
    ProductFactory(store=store_a, sku="MUG-1")
    return ApiKey.issue(store_a)[1]


def deleted_on_friday(store, external_id):
    with time_machine.travel(DELETED_AT, tick=False):
        delete_order(store, external_id)


def test_a_replayed_order_paid_does_not_bring_back_a_deleted_order(client, store_a, key):
    assert post(client, key, [order_paid("o-1", "A1001")]).status_code == 202
    deleted_on_friday(store_a, "A1001")
    response = post(client, key, [order_paid("o-1b", "A1001"), order_paid("o-2", "A1002")])
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "skipped": [
        {"index": 0, "id": "o-1b", "order_id": "A1001", "reason": "deleted on Shopify on Fri 27 Nov"}]}
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A1002"]
    assert TrafficEvent.objects.filter(event_id="o-1b").exists()  # a retry of the batch is a duplicate


def test_a_refund_or_shipment_of_a_deleted_order_is_skipped_not_refused(client, store_a, key):
    deleted_on_friday(store_a, "A1001")  # one opsdesk never had: the id is kept all the same
    events = [{"id": "r-1", "type": "refund", "ts": "2026-11-26T10:00:00+08:00", "order_id": "A1001",
               "amount": "10.00"},
              {"id": "s-1", "type": "order_shipped", "ts": "2026-11-26T11:00:00+08:00", "order_id": "A1001"}]
    response = post(client, key, events)
    assert response.status_code == 202
    assert [(s["id"], s["reason"]) for s in response.json()["skipped"]] == [
        ("r-1", "deleted on Shopify on Fri 27 Nov"), ("s-1", "deleted on Shopify on Fri 27 Nov")]
    again = post(client, key, events)  # the client's retry: told again, counted once
    assert (again.json()["duplicates"], len(again.json()["skipped"])) == (2, 2)
    assert not Order.objects.exists()


def test_a_batch_naming_no_deleted_order_answers_as_before(client, store_a, key):
    response = post(client, key, [order_paid("o-1", "A1001")])
    assert response.json() == {"accepted": 1, "duplicates": 0}
