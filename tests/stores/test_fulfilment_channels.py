"""Deliveries from the CSV import and the Shopify webhook start the after-sales text, as the ingest API's do."""

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from members import flows, sending
from members.models import Message, SmsTemplate
from metrics.models import StaleDay
from metrics.rollup import rollup_day
from stores.importers import ImportRejected, import_orders
from stores.models import Order, OrderStatus
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADER = ("order_id,placed_at,paid_at,status,shipped_at,delivered_at,total,buyer_name,buyer_phone,"
          "marketing_consent,sku,unit_price\n")


def row(order_id, shipped="", delivered="", status="", paid="2026-11-20 10:01", phone="13800138000"):
    return (f"{order_id},2026-11-20 10:00,{paid},{status},{shipped},{delivered},25.00,Wang Fang,{phone},yes,"
            "MUG-1,25.00\n")


def imported(store, *rows):
    return import_orders(store, (HEADER + "".join(rows)).encode())


def refusals(store, *rows):
    with pytest.raises(ImportRejected) as caught:
        imported(store, *rows)
    assert not Order.objects.exists()
    return caught.value.errors


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def care(store_a, settings, monkeypatch):
    settings.SMS_BACKEND = "locmem"
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)  # planning only, as tests/members do
    return SmsTemplate.objects.create(store=store_a, name="Care", flow="after_sales", delay_days=3,
                                      body="Hi {first_name}, how is your order {order} working out?")


def test_a_csv_delivery_in_store_time_starts_one_after_sales_text(store_a, care):
    result = imported(store_a, row("D-1", shipped="2026-11-21 09:00", delivered="2026-11-22 15:30"))
    assert (result.created, result.notes) == (1, [])
    order = Order.objects.get()
    # Store-local (Shanghai, +08:00) like placed_at and paid_at.
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, datetime(2026, 11, 22, 7, 30, tzinfo=UTC))
    assert flows.after_sales_care(order.delivered_at + timedelta(days=3, minutes=30)).created == 1
    assert Message.objects.get().occasion == "after_sales:order D-1"


def test_reimporting_the_file_changes_nothing(store_a, care):
    text = row("D-1", delivered="2026-11-22 15:30")
    imported(store_a, text)
    before = Order.objects.values().get()
    again = imported(store_a, text)
    assert (again.created, again.duplicates) == (0, 1)
    assert Order.objects.values().get() == before
    due = before["delivered_at"] + timedelta(days=3, minutes=30)
    assert flows.after_sales_care(due).created == 1 and flows.after_sales_care(due).created == 0


def test_a_later_file_adds_the_delivery_and_a_third_does_not_move_it(store_a, care):
    imported(store_a, row("D-1", shipped="2026-11-21 09:00"))
    assert Order.objects.get().status == OrderStatus.SHIPPED
    later = imported(store_a, row("D-1", shipped="2026-11-21 09:00", delivered="2026-11-22 15:30"))
    assert (later.created, later.duplicates) == (0, 1)
    order = Order.objects.get()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, datetime(2026, 11, 22, 7, 30, tzinfo=UTC))
    # Forward only, like the ingest API's order_delivered: the first delivery time recorded stays.
    imported(store_a, row("D-1", delivered="2026-11-23 10:00"))
    assert Order.objects.get().delivered_at == datetime(2026, 11, 22, 7, 30, tzinfo=UTC)


def test_a_later_export_delivering_many_orders_writes_them_in_batches(store_a, django_assert_max_num_queries):
    phones = [f"138{n:08d}" for n in range(300)]
    imported(store_a, *(row(f"M-{n}", shipped="2026-11-21 09:00", phone=phone) for n, phone in enumerate(phones)))
    with django_assert_max_num_queries(40):  # not a few per order
        later = imported(store_a, *(row(f"M-{n}", delivered="2026-11-22 15:30", phone=phone)
                                    for n, phone in enumerate(phones)))
    assert (later.created, later.duplicates) == (0, 300)
    assert Order.objects.filter(status=OrderStatus.DELIVERED,
                                delivered_at=datetime(2026, 11, 22, 7, 30, tzinfo=UTC)).count() == 300


def test_a_delivered_status_without_its_time_is_imported_and_said_in_the_summary(store_a, care):
    result = imported(store_a, row("D-1", status="delivered"), row("D-2", status="delivered", phone="13800138001"),
                      row("D-3", delivered="2026-11-22 15:30", phone="13800138002"))
    assert result.notes == ["2 delivered orders have no delivered_at, so no after-sales text will go out for them: "
                            "add their delivery times in a delivered_at column and import the file again."]
    assert result.summary().endswith(result.notes[0])
    assert Order.objects.filter(status=OrderStatus.DELIVERED).count() == 3
    # The same file with the times: the note is gone and each order gets its text.
    fixed = imported(store_a, row("D-1", status="delivered", delivered="2026-11-22 15:30"),
                     row("D-2", status="delivered", delivered="2026-11-22 15:30", phone="13800138001"))
    assert fixed.notes == []
    assert flows.after_sales_care(datetime(2026, 11, 25, 8, 0, tzinfo=UTC)).created == 3


def test_bad_shipping_and_delivery_times_are_refused_naming_row_and_column(store_a):
    errors = refusals(store_a, row("B-1", delivered="yesterday"),
                      row("B-2", delivered="2026-11-20 09:00"),
                      row("B-3", paid="", delivered="2026-11-22 15:30"),
                      row("B-4", shipped="2026-11-22 09:00", delivered="2026-11-21 15:30"),
                      row("B-5", delivered="2030-01-01 10:00"))
    assert errors == [
        (2, "delivered_at: 'yesterday' is not a date and time like 2026-11-24 18:42:07 or "
            "2026-11-24T18:42:07+08:00"),
        (3, "delivered_at: '2026-11-20 09:00' is before paid_at '2026-11-20 10:01'; an order is delivered after "
            "it is paid"),
        (4, "delivered_at: '2026-11-22 15:30' is given but paid_at is blank; give the time the order was paid"),
        (5, "delivered_at: '2026-11-21 15:30' is before shipped_at '2026-11-22 09:00'; an order is delivered after "
            "it ships"),
        (6, "delivered_at: '2030-01-01 10:00' is in the future; give the time it happened"),
    ]


def test_shopifys_export_marks_fulfilled_orders_shipped_never_delivered(store_b):
    placed, paid, shipped = "2026-11-20 10:00:00 -0800", "2026-11-20 10:00:05 -0800", "2026-11-21 11:02:00 -0800"
    text = ("Name,Created at,Paid at,Financial Status,Fulfillment Status,Fulfilled at,Total,Lineitem quantity,"
            "Lineitem price\n"
            f"#1,{placed},{paid},paid,fulfilled,{shipped},5.00,1,5.00\n"
            f"#2,{placed},{paid},paid,partial,,5.00,1,5.00\n"
            f"#3,{placed},{paid},paid,unfulfilled,,5.00,1,5.00\n"
            f"#4,{placed},,pending,fulfilled,{shipped},5.00,1,5.00\n")
    import_orders(store_b, text.encode())
    assert dict(Order.objects.values_list("external_id", "status")) == {
        "#1": OrderStatus.SHIPPED, "#2": OrderStatus.SHIPPED, "#3": OrderStatus.PAID,
        "#4": OrderStatus.PENDING}  # cash on delivery: shipped before it is paid; opsdesk waits for the payment
    assert not Order.objects.filter(delivered_at__isnull=False).exists()


# --- Shopify webhook ------------------------------------------------------------------------------------

def fulfilled(updated_at, *shipments, status="fulfilled"):
    """The order as orders/updated sends it once shipped: `shipments` are (shipment_status, updated_at)."""
    payload = copy.deepcopy(PAYLOAD)
    payload.update(updated_at=updated_at, fulfillment_status=status, fulfillments=[
        {"id": 4800000000 + n, "status": "success", "created_at": "2026-11-25T09:00:00-08:00",
         "shipment_status": shipment, "updated_at": at} for n, (shipment, at) in enumerate(shipments)])
    return payload


def test_a_delivered_fulfillment_sets_delivered_at_once(client, shop):
    assert deliver(client, shop).status_code == 201
    delivered = fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"))
    assert deliver(client, shop, delivered, topic="orders/updated").status_code == 200
    order = Order.objects.get()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, datetime(2026, 11, 26, 22, 20, tzinfo=UTC))
    before = Order.objects.values().get()
    assert deliver(client, shop, delivered, topic="orders/updated").status_code == 200  # Shopify's retry
    assert Order.objects.values().get() == before


def test_an_older_in_transit_notice_arriving_after_the_delivery_keeps_the_delivery(client, shop):
    in_transit = fulfilled("2026-11-25T09:00:05-08:00", ("in_transit", "2026-11-25T09:00:00-08:00"))
    delivered = fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"))
    # orders/updated for the delivery is the first opsdesk hears of the order: it is created delivered.
    assert deliver(client, shop, delivered, topic="orders/updated").status_code == 201
    assert deliver(client, shop, in_transit, topic="orders/updated").status_code == 200
    order = Order.objects.get()
    assert (order.status, order.delivered_at) == (OrderStatus.DELIVERED, datetime(2026, 11, 26, 22, 20, tzinfo=UTC))
    assert order.platform_updated_at == datetime(2026, 11, 26, 22, 20, 5, tzinfo=UTC)


def test_an_order_is_delivered_only_when_every_shipment_is(client, shop):
    deliver(client, shop)
    split = fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"),
                      ("in_transit", "2026-11-26T08:00:00-08:00"))
    deliver(client, shop, split, topic="orders/updated")
    assert (Order.objects.get().status, Order.objects.get().delivered_at) == (OrderStatus.SHIPPED, None)
    partial = fulfilled("2026-11-26T15:00:00-08:00", ("delivered", "2026-11-26T14:20:00-08:00"), status="partial")
    deliver(client, shop, partial, topic="orders/updated")
    assert Order.objects.get().delivered_at is None
    both = fulfilled("2026-11-27T10:00:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"),
                     ("delivered", "2026-11-27T10:00:00-08:00"))
    deliver(client, shop, both, topic="orders/updated")
    assert Order.objects.get().delivered_at == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # the last parcel's


def test_a_cancelled_fulfillment_ships_nothing(client, shop):
    deliver(client, shop)
    payload = fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"), status=None)
    payload["fulfillments"][0]["status"] = "cancelled"
    deliver(client, shop, payload, topic="orders/updated")
    assert (Order.objects.get().status, Order.objects.get().delivered_at) == (OrderStatus.PAID, None)


def test_an_unreadable_fulfillment_time_is_refused_in_words(client, shop):
    response = deliver(client, shop, fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "soon")))
    assert response.status_code == 422
    assert response.json()["errors"] == ["fulfillments.0.updated_at: 'soon' is not an ISO 8601 time with an offset"]
    assert not Order.objects.exists()


def test_the_fixture_order_is_not_shipped(client, shop):
    # Shopify's orders/create of an unfulfilled order: fulfillments [] and fulfillment_status null.
    assert PAYLOAD["fulfillments"] == [] and PAYLOAD["fulfillment_status"] is None
    deliver(client, shop)
    assert Order.objects.get().status == OrderStatus.PAID



def test_a_delivery_notice_for_a_day_already_rolled_up_marks_nothing_to_rebuild(client, shop):
    deliver(client, shop)
    rollup_day(shop, date(2026, 11, 24))  # the order's paid day in Los Angeles
    delivered = fulfilled("2026-11-26T14:20:05-08:00", ("delivered", "2026-11-26T14:20:00-08:00"))
    deliver(client, shop, delivered, topic="orders/updated")
    assert Order.objects.get().delivered_at is not None
    assert not StaleDay.objects.exists()  # a delivery counts in no daily number
