"""Shopify deletes an order while another channel is writing it: whichever comes first, the order ends up deleted.
Without turns, a deletion landing mid-import found no order to remove and the import's commit brought it back
(and with it its member's spend and after-sales texts)."""

import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction

from metrics.ingest import ingest_events
from stores import importers
from stores.importers import import_orders
from stores.models import DeletedOrder, Order
from stores.orders import delete_order
from stores.shopify import OrderWasDeleted, record_shopify_order
from tests.factories import ProductFactory, StoreFactory
from tests.marks import concurrent_transactions
from tests.metrics.test_ingest_api import order_paid
from tests.stores.test_shopify_webhook import PAYLOAD

pytestmark = [pytest.mark.django_db(transaction=True), concurrent_transactions]
FILE = """\
order_id,order_name,placed_at,paid_at,total,sku,title,quantity,unit_price
T-1,WEB-1,2026-11-24 10:00:00,2026-11-24 10:01:30,25.00,MUG-1,Mug,1,25.00
T-2,WEB-2,2026-11-24 12:00:00,2026-11-24 12:05:00,25.00,MUG-1,Mug,1,25.00
"""


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def store():
    store = StoreFactory(slug="linen-and-wax", timezone="America/Los_Angeles", currency="USD", country="US")
    ProductFactory(store=store, sku="MUG-1")
    return store


class Side(threading.Thread):
    """One side of the race, on its own database connection; keeps what its work returned or raised."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self):
        try:
            self.result = self.work()
        except Exception as exc:  # noqa: BLE001 — the test asserts on it
            self.error = exc
        finally:
            connection.close()


def waits_or_ends(side: Side) -> None:
    """Return once `side` waits for a lock another connection holds, or has ended (it took no turn)."""
    deadline = time.monotonic() + 30
    while side.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)  # polling for a state, not timing a race: the assertions do not depend on it


def test_a_deletion_landing_while_a_file_is_written_removes_the_order_once_the_file_is_in(store, monkeypatch):
    writing, may_commit = threading.Event(), threading.Event()
    real_create = importers.create_orders

    def create_orders(*args, **kwargs):  # inside the import's transaction, its orders not committed yet
        created = real_create(*args, **kwargs)
        writing.set()
        assert may_commit.wait(30)
        return created

    monkeypatch.setattr(importers, "create_orders", create_orders)
    importing = Side(lambda: import_orders(store, FILE))
    importing.start()
    assert writing.wait(30)
    deleting = Side(lambda: delete_order(store, "T-1"))
    deleting.start()
    waits_or_ends(deleting)
    may_commit.set()
    importing.join(30), deleting.join(30)
    assert (importing.error, deleting.error) == (None, None)
    assert importing.result.created == 2
    assert deleting.result is True  # it waited for the file, then found the order and removed it
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T-2"]


WRITERS = {
    "order file": (lambda store: import_orders(store, FILE), "T-1"),
    "ingest API": (lambda store: ingest_events(store, [order_paid("o-1", "T-1", total="25.00")]), "T-1"),
    "Shopify notification": (lambda store: record_shopify_order(store, dict(PAYLOAD, id=1001)), "1001"),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_an_order_written_while_its_deletion_commits_stays_deleted(store, writer):
    write, order_id = WRITERS[writer]
    deleted, may_commit = threading.Event(), threading.Event()

    def delete_and_hold():  # the deletion is done but not committed yet when the writer reads what was deleted
        with transaction.atomic():
            delete_order(store, order_id)
            deleted.set()
            assert may_commit.wait(30)

    deleting = Side(delete_and_hold)
    deleting.start()
    assert deleted.wait(30)
    writing = Side(lambda: write(store))
    writing.start()
    waits_or_ends(writing)
    may_commit.set()
    deleting.join(30), writing.join(30)
    assert deleting.error is None
    assert not Order.objects.filter(store=store, external_id=order_id).exists()
    assert DeletedOrder.objects.filter(store=store, external_id=order_id).exists()
    if writer == "Shopify notification":
        assert isinstance(writing.error, OrderWasDeleted)
    else:
        assert writing.error is None
