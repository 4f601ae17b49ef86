"""Shopify's order webhook: only correctly signed deliveries count, and each order counts once."""

import copy
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client

from members.models import Member
from stores.models import Order, OrderStatus, Product
from stores.shopify import payment_type, traffic_source
from stores.webhooks import shopify_signature
from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
PAYLOAD = json.loads((Path(__file__).parent / "fixtures" / "shopify_order_create.json").read_text())


def deliver(client, store, payload=None, secret=None, body=None, topic="orders/create"):
    body = body if body is not None else json.dumps(payload if payload is not None else PAYLOAD).encode()
    signature = shopify_signature(body, secret if secret is not None else store.webhook_secret)
    return client.post(f"/webhooks/shopify/{store.slug}/orders", body, content_type="application/json",
                       HTTP_X_SHOPIFY_HMAC_SHA256=signature, HTTP_X_SHOPIFY_TOPIC=topic,
                       HTTP_X_SHOPIFY_SHOP_DOMAIN="linen-and-wax.myshopify.com")


def test_signed_order_is_recorded_with_lines_payment_source_and_buyer(client, shop):
    apron = ProductFactory(store=shop, sku="APRON-LIN-NAT", title="Linen apron", price=Decimal("48.00"))
    response = deliver(client, shop)
    assert response.status_code == 201
    assert response.json() == {"order": "5827361940321", "created": True}
    order = Order.objects.get(store=shop, external_id="5827361940321")
    assert order.total == Decimal("114.80")
    assert order.status == OrderStatus.PAID
    assert order.placed_at == datetime(2026, 11, 25, 2, 42, 7, tzinfo=UTC)
    assert order.paid_at == datetime(2026, 11, 25, 2, 42, 9, tzinfo=UTC)
    assert order.traffic_source == "social"  # utm_medium=social on the landing page
    assert (order.buyer_name, order.buyer_email, order.buyer_phone) == (
        "Maria Gomez", "maria.gomez@example.com", "+14158675309")
    assert order.buyer_ref == "7391026581601"
    lines = list(order.lines.order_by("line_no"))
    assert [(line.sku, line.quantity, line.unit_price, line.amount) for line in lines] == [
        ("APRON-LIN-NAT", 2, Decimal("48.00"), Decimal("86.40")),
        ("WRAP-BW-3", 1, Decimal("18.00"), Decimal("18.00")),
    ]
    assert lines[0].product == apron
    # An SKU opsdesk did not know becomes a product, so its sales show up per product.
    wraps = Product.objects.get(store=shop, sku="WRAP-BW-3")
    assert (lines[1].product, wraps.title, wraps.price) == (wraps, "Beeswax wraps (3-pack)", Decimal("18.00"))
    assert list(order.payments.values_list("type", "amount")) == [("credit_card", Decimal("114.80"))]
    member = Member.objects.get(store=shop)
    assert (member.phone, member.sms_consent) == ("+14158675309", True)


def test_redelivery_records_nothing_twice(client, shop):
    assert deliver(client, shop).status_code == 201
    response = deliver(client, shop)
    assert response.status_code == 200
    assert response.json()["created"] is False
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert (order.lines.count(), order.payments.count(), Member.objects.count(), Product.objects.count()) == (
        2, 1, 1, 2)


def test_later_refund_notification_moves_the_order_forward_once(client, shop):
    deliver(client, shop)
    refunded = copy.deepcopy(PAYLOAD)
    refunded.update(financial_status="partially_refunded", current_total_price="96.80",
                    updated_at="2026-11-26T09:00:00-08:00")
    refunded["refunds"] = [{"id": 91, "created_at": "2026-11-26T08:59:00-08:00",
                            "transactions": [{"kind": "refund", "status": "success", "amount": "18.00"}]}]
    assert deliver(client, shop, refunded, topic="orders/updated").status_code == 200
    assert deliver(client, shop, refunded, topic="orders/updated").status_code == 200
    order = Order.objects.get()
    assert order.refund_amount == Decimal("18.00")
    assert order.refunded_at == datetime(2026, 11, 26, 16, 59, tzinfo=UTC)
    assert order.status == OrderStatus.PAID
    assert order.lines.count() == 2


@pytest.mark.parametrize("tamper", ["wrong secret", "changed body", "no header", "empty store secret"])
def test_unsigned_or_badly_signed_delivery_is_a_401_and_records_nothing(client, shop, tamper):
    body = json.dumps(PAYLOAD).encode()
    if tamper == "wrong secret":
        response = deliver(client, shop, secret="shpss_guess")
    elif tamper == "changed body":
        signature = shopify_signature(body, shop.webhook_secret)
        response = client.post(f"/webhooks/shopify/{shop.slug}/orders", body.replace(b"114.80", b"1.00"),
                               content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256=signature)
    elif tamper == "no header":
        response = client.post(f"/webhooks/shopify/{shop.slug}/orders", body, content_type="application/json")
    else:
        shop.webhook_secret = ""
        shop.save()
        response = deliver(client, shop, secret="")
    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_signature_of_another_store_does_not_open_this_one(client, shop):
    other = StoreFactory(slug="other-shop", webhook_secret="shpss_other")
    body = json.dumps(PAYLOAD).encode()
    response = client.post(f"/webhooks/shopify/{shop.slug}/orders", body, content_type="application/json",
                           HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, other.webhook_secret))
    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_unknown_store_looks_like_a_bad_signature(client):
    body = json.dumps(PAYLOAD).encode()
    response = client.post("/webhooks/shopify/no-such-store/orders", body, content_type="application/json",
                           HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, "x"))
    assert response.status_code == 401


def test_signed_but_unreadable_order_is_refused_with_reasons(client, shop):
    bad = copy.deepcopy(PAYLOAD)
    bad["created_at"] = "last tuesday"
    bad["line_items"][1]["quantity"] = 0
    response = deliver(client, shop, bad)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e.startswith("created_at") for e in errors)
    assert any(e.startswith("line_items.1.quantity") for e in errors)
    assert Order.objects.count() == 0 and Product.objects.count() == 0


@pytest.mark.parametrize("change", [
    {"total_price": "46677553159491"},  # found by the fuzz test: a numeric overflow, answered with a 500
    {"line_items": [{"sku": "SKU-1", "title": "Tea", "quantity": 100000, "price": "99999999999.00"}]},
])
def test_an_amount_beyond_what_a_ledger_holds_is_refused_in_words(client, shop, change):
    response = deliver(client, shop, dict(PAYLOAD, **change))
    assert response.status_code == 422
    assert any("is too large (at most 999,999,999,999.99)" in e for e in response.json()["errors"])
    assert Order.objects.count() == 0


def test_a_price_of_nan_is_refused_in_words(client, shop):
    bad = copy.deepcopy(PAYLOAD)
    bad["line_items"][0]["price"] = "NaN"
    response = deliver(client, shop, bad)
    assert response.status_code == 422
    assert "line_items.0.price: 'NaN' is not an amount" in response.json()["errors"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("field, value", [
    ("created_at", "0001-01-01T00:00:00+05:00"), ("processed_at", "0001-01-01T00:00:00+05:00"),
    ("updated_at", "9999-12-31T23:00:00-05:00"),
])
def test_a_time_off_the_calendar_in_utc_is_refused_in_words(client, shop, field, value):
    response = deliver(client, shop, dict(PAYLOAD, **{field: value}))
    assert response.status_code == 422  # a 500 has Shopify retry it for two days, then drop the webhook
    assert f"{field}: {value!r} is out of range" in response.json()["errors"]
    assert Order.objects.count() == 0


def test_order_in_another_currency_is_refused(client, shop):
    response = deliver(client, shop, dict(PAYLOAD, currency="EUR"))
    assert response.status_code == 422
    assert Order.objects.count() == 0


def test_get_is_not_allowed(client, shop):
    assert client.get(f"/webhooks/shopify/{shop.slug}/orders").status_code == 405


def test_order_times_are_utc_and_fall_on_each_stores_local_day(client, shop):
    shanghai = StoreFactory(slug="sh-shop", timezone="Asia/Shanghai", currency="CNY", country="CN",
                            webhook_secret="shpss_sh")
    cn = dict(PAYLOAD, currency="CNY", created_at="2026-11-25T10:42:07+08:00",
              processed_at="2026-11-25T10:42:09+08:00")
    cn["customer"] = dict(PAYLOAD["customer"], phone="+8613800138000")
    deliver(client, shanghai, cn)
    deliver(client, shop)
    sh_order = Order.objects.get(store=shanghai)
    la_order = Order.objects.get(store=shop)
    # The same instant, 02:42:07 UTC, is the 25th in Shanghai but still the 24th in Los Angeles.
    assert sh_order.placed_at == la_order.placed_at == datetime(2026, 11, 25, 2, 42, 7, tzinfo=UTC)
    assert sh_order.placed_at.utcoffset().total_seconds() == 0
    assert shanghai.today(sh_order.placed_at).isoformat() == "2026-11-25"
    assert shop.today(la_order.placed_at).isoformat() == "2026-11-24"


@pytest.mark.parametrize("landing, referrer, expected", [
    ("/products/apron?gclid=Cj0KCQ", "https://www.google.com/", "paid_search"),
    ("/?utm_source=google&utm_medium=cpc&utm_campaign=bf", "", "paid_search"),
    ("/?utm_source=instagram&utm_medium=social", "https://l.instagram.com/", "social"),
    ("/?fbclid=IwAR0x", "", "social"),
    ("/?utm_source=newsletter&utm_medium=email&utm_campaign=bf26", "", "campaign"),
    ("/products/apron", "https://www.google.com/", "organic_search"),
    ("/", "https://www.baidu.com/s?wd=apron", "organic_search"),
    ("/", "https://t.co/abc", "social"),
    ("/", "https://shop.app/", "recommendation"),
    ("/", "", "direct"),
    (None, None, "direct"),
    ("/", "https://someblog.example.org/post", "other"),
])
def test_landing_page_and_referrer_decide_the_traffic_source(landing, referrer, expected):
    assert traffic_source(landing, referrer) == expected


@pytest.mark.parametrize("gateway, expected", [
    ("shopify_payments", "credit_card"), ("Shopify Payments", "credit_card"),
    ("paypal", "paypal"), ("PayPal Express Checkout", "paypal"),
    ("gift_card", "voucher"), ("manual", "other"), ("Cash on Delivery (COD)", "other"), ("bogus", "credit_card"),
])
def test_gateway_names_map_to_payment_types(gateway, expected):
    assert payment_type(gateway) == expected


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_record_one_order(shop):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for real concurrent transactions")
    barrier = threading.Barrier(3)
    statuses = []

    def send():
        try:
            barrier.wait()
            statuses.append(deliver(Client(), shop).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 201]
    assert Order.objects.count() == 1
    assert Order.objects.get().lines.count() == 2


def test_webhook_needs_no_csrf_token_or_session(shop):
    assert deliver(Client(enforce_csrf_checks=True), shop).status_code == 201


def test_pending_order_becomes_paid_on_the_payment_notification(client, shop):
    pending = dict(PAYLOAD, financial_status="pending")
    deliver(client, shop, pending)
    order = Order.objects.get()
    assert (order.status, order.paid_at, order.payments.count(), Member.objects.count()) == (
        OrderStatus.PENDING, None, 0, 0)
    deliver(client, shop, topic="orders/paid")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at == datetime(2026, 11, 25, 2, 42, 9, tzinfo=UTC)
    assert Member.objects.count() == 1
    assert order.lines.count() == 2
    assert list(order.payments.values_list("type", "amount")) == [("credit_card", Decimal("114.80"))]


def _refunded(updated_at, cancelled_at=None):
    payload = copy.deepcopy(PAYLOAD)
    payload.update(financial_status="refunded", cancelled_at=cancelled_at, updated_at=updated_at)
    payload["refunds"] = [{"id": 92, "created_at": "2026-11-26T08:59:00-08:00",
                           "transactions": [{"kind": "refund", "status": "success", "amount": "114.80"}]}]
    return payload


def test_an_older_notification_arriving_late_does_not_undo_a_newer_one(client, shop):
    deliver(client, shop)
    refund = _refunded("2026-11-26T09:00:00-08:00")
    cancel = _refunded("2026-11-26T09:05:00-08:00", cancelled_at="2026-11-26T09:05:00-08:00")
    assert deliver(client, shop, cancel, topic="orders/cancelled").status_code == 200
    # Shopify does not promise order: the refund's orders/updated, sent before the cancellation, comes last.
    assert deliver(client, shop, refund, topic="orders/updated").status_code == 200
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert order.platform_updated_at == datetime(2026, 11, 26, 17, 5, tzinfo=UTC)


def test_redelivered_older_notification_changes_nothing(client, shop):
    deliver(client, shop)
    refund = _refunded("2026-11-26T09:00:00-08:00")
    deliver(client, shop, refund, topic="orders/updated")
    before = Order.objects.values().get()
    assert deliver(client, shop, topic="orders/create").status_code == 200
    assert deliver(client, shop, refund, topic="orders/updated").status_code == 200
    assert Order.objects.values().get() == before


def test_an_unreadable_updated_at_is_refused_in_words(client, shop):
    response = deliver(client, shop, dict(PAYLOAD, updated_at="yesterday"))
    assert response.status_code == 422
    assert response.json()["errors"] == ["updated_at: 'yesterday' is not an ISO 8601 time with an offset"]


def test_a_nul_character_in_a_text_field_is_refused_by_name_not_a_server_error(client, shop):
    bad = copy.deepcopy(PAYLOAD)
    bad["id"] = "58273\x0061940321"
    bad["customer"]["first_name"] = "Ma\x00ria"
    bad["line_items"][0]["sku"] = "APRON\x00"
    response = deliver(client, shop, bad)
    assert response.status_code == 422
    assert response.json()["errors"] == [f"{field}: contains a NUL character (\\u0000), which cannot be stored"
                                         for field in ("customer.first_name", "id", "line_items.0.sku")]
    assert Order.objects.count() == 0 and Product.objects.count() == 0
