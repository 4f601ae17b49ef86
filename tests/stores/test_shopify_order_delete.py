"""Shopify's orders/delete: the order leaves the live view, the daily figures and its member's spend; texts
already sent about it stay in the member's history; a notification of it arriving late records nothing."""

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from members.models import Flow, Member, Message, MessageStatus
from metrics.live import so_far_by_store
from metrics.models import DailyMetric, StaleDay
from metrics.rollup import rollup_day
from metrics.stale_days import refresh_stale_days
from reviews.models import Review
from stores.models import Order, OrderLine, Payment
from tests.stores.test_shopify_refunds import refund, updated_with
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)  # 04:00 in Los Angeles
PAID_DAY, REFUND_DAY = date(2026, 11, 24), date(2026, 11, 26)  # the fixture order's, and its refund's


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def delete(client, shop, order_id=PAYLOAD["id"]):
    return deliver(client, shop, {"id": order_id}, topic="orders/delete")


def day_figure(store, day, metric):
    return DailyMetric.objects.get(store=store, day=day, metric=metric, dimension="").value


def test_a_deleted_order_leaves_the_daily_figures_of_its_paid_and_refund_days(client, shop):
    deliver(client, shop)
    deliver(client, shop, refund(), topic="refunds/create")  # 18.00 back on 26 Nov
    for day in (PAID_DAY, REFUND_DAY):
        rollup_day(shop, day)
    assert (day_figure(shop, PAID_DAY, "gmv"), day_figure(shop, REFUND_DAY, "refunds")) == (
        Decimal("114.80"), Decimal("18.00"))
    response = delete(client, shop)
    assert (response.status_code, response.json()) == (200, {"order": str(PAYLOAD["id"]), "deleted": True})
    assert sorted(StaleDay.objects.values_list("day", flat=True)) == [PAID_DAY, REFUND_DAY]
    refresh_stale_days()  # the worker that rebuilds the marked days
    assert (day_figure(shop, PAID_DAY, "orders"), day_figure(shop, PAID_DAY, "gmv")) == (0, 0)
    assert day_figure(shop, REFUND_DAY, "refunds") == 0
    assert not (Order.objects.exists() or OrderLine.objects.exists() or Payment.objects.exists())


def test_a_deleted_order_of_today_leaves_the_live_view(client, shop):
    today = copy.deepcopy(PAYLOAD)
    today.update(created_at="2026-11-28T02:10:00-08:00", processed_at="2026-11-28T02:10:05-08:00")
    deliver(client, shop, today)
    assert so_far_by_store([shop], NOW)[shop.pk][0].orders == 1
    delete(client, shop)
    assert so_far_by_store([shop], NOW)[shop.pk][0].orders == 0


def test_a_deleted_order_leaves_its_members_spend_and_texts_already_sent_stay(client, shop):
    deliver(client, shop)
    member = Member.objects.get()
    assert (member.orders_count, member.total_spent) == (1, Decimal("114.80"))
    order = Order.objects.get()
    text = Message.objects.create(
        store=shop, member=member, flow=Flow.AFTER_SALES, occasion=f"after_sales:order {order.external_id}",
        order=order, body="How are the aprons from order #1042?", status=MessageStatus.SENT, scheduled_for=NOW,
        sent_at=NOW)
    review = Review.objects.create(store=shop, external_id="r1", rating=2, created_at=NOW, order=order)
    delete(client, shop)
    member.refresh_from_db()
    assert (member.orders_count, member.total_spent, member.first_order_at) == (0, 0, None)
    text.refresh_from_db()  # the member's history keeps what was sent, as it was written
    assert (text.status, text.body, text.occasion, text.order) == (
        MessageStatus.SENT, "How are the aprons from order #1042?", f"after_sales:order {PAYLOAD['id']}", None)
    review.refresh_from_db()
    assert review.order is None


def test_a_notification_sent_before_the_deletion_and_arriving_after_it_records_nothing(client, shop):
    deliver(client, shop)
    delete(client, shop)
    late = deliver(client, shop, updated_with(refund()), topic="orders/updated")  # a retry, delayed
    assert (late.status_code, late.json()["created"]) == (200, False)
    assert not Order.objects.exists()
    again = delete(client, shop)  # Shopify's retry of the deletion
    assert (again.status_code, again.json()["deleted"]) == (200, False)


def test_deleting_an_order_opsdesk_never_had_is_acknowledged_and_keeps_it_out(client, shop):
    response = delete(client, shop, order_id=424242)
    assert (response.status_code, response.json()["deleted"]) == (200, False)
    assert deliver(client, shop, dict(PAYLOAD, id=424242)).status_code == 200
    assert not Order.objects.exists()


def test_a_badly_signed_or_unreadable_deletion_keeps_the_order(client, shop):
    deliver(client, shop)
    assert deliver(client, shop, {"id": PAYLOAD["id"]}, secret="guess", topic="orders/delete").status_code == 401
    assert deliver(client, shop, {"order": 1}, topic="orders/delete").status_code == 422
    assert deliver(client, shop, [PAYLOAD["id"]], topic="orders/delete").status_code == 422
    assert Order.objects.count() == 1


def test_the_admin_lists_the_deleted_orders_ids(client, admin_client, shop):
    deliver(client, shop)
    delete(client, shop)
    page = admin_client.get("/admin/stores/deletedorder/").content.decode()
    assert str(PAYLOAD["id"]) in page
