"""Reading Shopify's order data (webhook JSON and the order-export CSV) into opsdesk's terms.

Traffic source from the landing page and referrer (first rule that matches wins):

1. `gclid`, `msclkid` or a paid `utm_medium` (cpc, ppc, paid, paidsearch, paid_search, sem) → paid search
2. `fbclid`, `ttclid`, a social `utm_medium` (social, social-media, paid_social, content, influencer)
   or a social `utm_source` (facebook, instagram, tiktok, pinterest, twitter, x, youtube, weibo,
   xiaohongshu, douyin, wechat, reddit, linkedin, snapchat) → social / content
3. any other `utm_*` parameter (email, sms, newsletter, affiliate, a named campaign) → campaign
4. no referrer at all → direct
5. referrer is a shopping/recommendation site (shop.app, shopping.google.com) → recommendation
6. referrer is a search engine (google, bing, yahoo, duckduckgo, baidu, yandex, sogou, so.com) → organic search
7. referrer is a social site (the sources of rule 2, t.co, lnkd.in) → social / content; any other → other

Payment type from the gateway name (`payment_gateway_names`, or `gateway` on older payloads):
paypal → PayPal, alipay → Alipay, wechat → WeChat Pay, gift_card → voucher, shopify_payments,
stripe, braintree, authorize_net, card names (visa, mastercard, amex) and Shopify's test gateway
`bogus` → credit card, anything else (manual, cash on delivery, bank deposit) → other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.db.models import Sum
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsdesk.money import to_money

from .models import Order, OrderStatus, PaymentType, ShopifyRefund, TrafficSource
from .orders import (
    NO_NUL,
    NUL_REFUSED,
    LineData,
    OrderData,
    PaymentData,
    RefundLine,
    apply_refund_lines,
    delete_order,
    hold_deletions,
    is_deleted,
    products_by_sku,
    record_order,
    record_refund,
)

log = logging.getLogger(__name__)

PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "sem"}
SOCIAL_MEDIUMS = {"social", "social-media", "social_media", "paid_social", "paidsocial", "content", "influencer"}
SOCIAL_SITES = {"facebook", "instagram", "tiktok", "pinterest", "twitter", "x", "youtube", "weibo",
                "xiaohongshu", "douyin", "wechat", "reddit", "linkedin", "snapchat"}
SOCIAL_HOSTS = {"t.co", "lnkd.in", "fb.me", "xhslink.com"}
SEARCH_ENGINES = {"google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "sogou", "so", "ecosia"}
RECOMMENDATION_HOSTS = {"shop.app", "shopping.google.com"}


def _host_words(url: str) -> tuple[str, set[str]]:
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    host = host.lower().removeprefix("www.").removeprefix("m.")
    return host, set(host.split("."))


def traffic_source(landing_site: str | None, referring_site: str | None) -> str:
    """The opsdesk traffic source of a Shopify order (rules in the module docstring)."""
    landing_site = landing_site or ""
    referring_site = referring_site or ""
    query = {k.lower(): v[0].strip().lower() for k, v in parse_qs(urlsplit(landing_site).query).items() if v}
    medium = query.get("utm_medium", "")
    utm_source = query.get("utm_source", "")
    if "gclid" in query or "msclkid" in query or medium in PAID_MEDIUMS:
        return TrafficSource.PAID_SEARCH
    if "fbclid" in query or "ttclid" in query or medium in SOCIAL_MEDIUMS or utm_source in SOCIAL_SITES:
        return TrafficSource.SOCIAL
    if any(key.startswith("utm_") for key in query):
        return TrafficSource.CAMPAIGN
    if not referring_site.strip():
        return TrafficSource.DIRECT
    host, words = _host_words(referring_site.strip())
    if host in RECOMMENDATION_HOSTS:
        return TrafficSource.RECOMMENDATION
    if words & SEARCH_ENGINES:
        return TrafficSource.ORGANIC_SEARCH
    if words & SOCIAL_SITES or host in SOCIAL_HOSTS:
        return TrafficSource.SOCIAL
    return TrafficSource.OTHER


CARD_GATEWAYS = {"shopify_payments", "stripe", "braintree", "authorize_net", "authorize.net", "visa", "mastercard",
                 "amex", "american express", "bogus", "credit card", "credit_card"}


def payment_type(gateway: str | None) -> str:
    name = (gateway or "").strip().lower()
    if "paypal" in name:
        return PaymentType.PAYPAL
    if "alipay" in name:
        return PaymentType.ALIPAY
    if "wechat" in name:
        return PaymentType.WECHAT
    if "gift_card" in name or "gift card" in name:
        return PaymentType.VOUCHER
    if name in CARD_GATEWAYS or name.replace(" ", "_") in CARD_GATEWAYS or "card" in name:
        return PaymentType.CREDIT_CARD
    return PaymentType.OTHER


def primary_gateway(names: list[str] | str | None) -> str:
    """The gateway that took the money: the first one that is not a gift card."""
    if isinstance(names, str):
        names = [n.strip() for n in names.replace("+", ",").split(",")]
    names = [n for n in (names or []) if n]
    for name in names:
        if payment_type(name) != PaymentType.VOUCHER:
            return name
    return names[0] if names else ""


def order_status(financial_status: str | None, cancelled: bool) -> str:
    """opsdesk's status for Shopify's financial status (voided or cancelled orders are cancelled)."""
    status = (financial_status or "").strip().lower()
    if cancelled or status == "voided":
        return OrderStatus.CANCELLED
    if status == "refunded":
        return OrderStatus.REFUNDED
    if status in ("paid", "partially_paid", "partially_refunded"):
        return OrderStatus.PAID
    return OrderStatus.PENDING


def is_paid(financial_status: str | None) -> bool:
    return (financial_status or "").strip().lower() in ("paid", "partially_paid", "partially_refunded", "refunded")


def is_shipped(fulfillment_status: str | None) -> bool:
    """Whether the order's `fulfillment_status` ("Fulfillment Status" in the export) says some of it left:
    fulfilled, or partial (some items shipped). Shipped is not delivered: only a fulfillment's shipment_status
    says that."""
    return (fulfillment_status or "").strip().lower() in ("fulfilled", "partial")


class ShopifyOrderError(ValueError):
    """A Shopify order that cannot be read; `errors` lists what is wrong with it."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def _money(value, field: str, errors: list[str]):
    try:
        amount = to_money(value if value not in (None, "") else "0")
    except (InvalidOperation, ValueError):
        errors.append(f"{field}: {value!r} is not an amount")
        return Decimal("0")
    if amount < 0:
        errors.append(f"{field}: {value} is negative")
    return amount


def _time(value, field: str, errors: list[str], required: bool = False) -> datetime | None:
    if not value:
        if required:
            errors.append(f"{field} is required")
        return None
    parsed = parse_datetime(str(value))
    if parsed is None or parsed.tzinfo is None:
        errors.append(f"{field}: {value!r} is not an ISO 8601 time with an offset")
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 near midnight falls off the calendar in UTC
        errors.append(f"{field}: {value!r} is out of range")
        return None


def _refund_total(payload: dict, total: Decimal, updated_at: datetime | None, errors: list[str]
                  ) -> tuple[Decimal, datetime | None]:
    status = (payload.get("financial_status") or "").lower()
    refunded_at = None
    amount = Decimal("0")
    for n, refund in enumerate(payload.get("refunds") or []):
        amount += _refunded(refund, "refunds.transactions.amount", errors)
        refund_lines(refund, f"refunds.{n}.refund_line_items", errors)  # refused here, applied by _keep_refunds
        refunded_at = _time(refund.get("created_at"), "refunds.created_at", errors) or refunded_at
    if status == "refunded":
        amount = total
    elif status == "partially_refunded" and not amount and payload.get("current_total_price") not in (None, ""):
        amount = max(total - _money(payload["current_total_price"], "current_total_price", errors), Decimal("0"))
    if amount and refunded_at is None:
        refunded_at = updated_at
    return min(amount, total), refunded_at


def _refunded(refund: dict, field: str, errors: list[str]) -> Decimal:
    """The money a Shopify refund returned: its successful transactions of kind refund (a refund that only
    restocks items has none)."""
    return sum((_money(tx.get("amount"), field, errors) for tx in refund.get("transactions") or []
                if tx.get("kind") == "refund" and tx.get("status", "success") == "success"), Decimal("0"))


def refund_lines(refund: dict, field: str, errors: list[str]) -> list[RefundLine]:
    """The refund's `refund_line_items` in the shop's currency (`subtotal_set.shop_money`, else `subtotal`); an
    unreadable one is named in `errors`. Tax (`total_tax`) is not added: a line's amount carries tax only as the
    shop's prices do, and the refund's transactions, which the order's refund counts, include it anyway."""
    lines = []
    for n, item in enumerate(refund.get("refund_line_items") or []):
        try:
            quantity = int(item.get("quantity") or 0)
        except (TypeError, ValueError):
            quantity = -1
        if quantity < 0:
            errors.append(f"{field}.{n}.quantity: {item.get('quantity')!r} is not a whole number")
        shop_money = ((item.get("subtotal_set") or {}).get("shop_money") or {}).get("amount")
        amount = _money(shop_money if shop_money not in (None, "") else item.get("subtotal"), f"{field}.{n}.subtotal",
                        errors)
        if not item.get("line_item_id"):
            errors.append(f"{field}.{n}.line_item_id is required")
        elif quantity >= 0:
            lines.append(RefundLine(quantity, amount, line_item_id=str(item["line_item_id"])))
    return lines


def _put_refund_lines(order: Order, lines: list[RefundLine]) -> tuple[bool, list[str]]:
    """`stores.orders.apply_refund_lines`, each item capped at its line; an item naming a line item the order has
    no line for is logged (and returned) rather than refused."""
    changed, unknown = apply_refund_lines(order, lines)
    if unknown:
        # Recorded for its money all the same: refusing would make Shopify retry a refund that cannot change.
        log.warning("Shopify refund on order %s names line items the order has no line for: %s", order,
                    ", ".join(unknown))
    return changed, unknown


def _fulfilment(payload: dict, updated_at: datetime | None, errors: list[str]
                ) -> tuple[bool, datetime | None, datetime | None]:
    """(shipped, shipped at, delivered at) from the order's `fulfillments`: shipped once a fulfillment succeeded
    (or `fulfillment_status` says fulfilled or partial), at the first one's `created_at` (None when no fulfillment
    says: no time is made up); delivered once every item is
    fulfilled and the carrier reported each successful fulfillment `delivered` (`shipment_status`), at the last
    one's `updated_at` (the order JSON carries no delivery time of its own; the delivery is that update)."""
    shipments = [f for f in payload.get("fulfillments") or [] if (f.get("status") or "success") == "success"]
    created = [at for n, f in enumerate(shipments)
               if (at := _time(f.get("created_at"), f"fulfillments.{n}.created_at", errors))]
    shipped_at = min(created, default=None)
    shipped = bool(shipments) or is_shipped(payload.get("fulfillment_status"))
    delivered = [f for f in shipments if (f.get("shipment_status") or "").lower() == "delivered"]
    if not delivered or len(delivered) < len(shipments) or (payload.get("fulfillment_status") or "") != "fulfilled":
        return shipped, shipped_at, None
    times = [_time(f.get("updated_at"), f"fulfillments.{n}.updated_at", errors) for n, f in enumerate(delivered)]
    return shipped, shipped_at, max((at for at in times if at), default=updated_at)


def _text(limit: int):
    return Annotated[str, Field(max_length=limit, pattern=NO_NUL)] | None


class _Loose(BaseModel):
    # Only the containers and text fields we read are type-checked; Shopify sends many more fields.
    model_config = ConfigDict(extra="allow", strict=True)


class _Consent(_Loose):
    state: str | None = None


class _Customer(_Loose):
    id: int | _text(100) = None
    first_name: _text(100) = None
    last_name: _text(100) = None
    phone: _text(32) = None
    email: _text(254) = None
    sms_marketing_consent: _Consent | None = None


class _Address(_Loose):
    phone: _text(32) = None


class _LineItem(_Loose):
    id: int | _text(100) = None
    sku: _text(100) = None
    title: _text(255) = None
    name: _text(255) = None


class _DiscountCode(_Loose):
    code: _text(100) = None


class _Transaction(_Loose):
    kind: str | None = None
    status: str | None = None


class _RefundLineItem(_Loose):
    line_item_id: int | _text(100) = None


class _Refund(_Loose):
    transactions: list[_Transaction] | None = None
    refund_line_items: list[_RefundLineItem] | None = None


class _RefundShape(_Loose):
    id: int | _text(100) = None
    order_id: int | _text(100) = None
    transactions: list[_Transaction] | None = None
    refund_line_items: list[_RefundLineItem] | None = None


class _DeletedShape(_Loose):
    id: int | _text(100) = None


class _Fulfillment(_Loose):
    status: str | None = None
    shipment_status: str | None = None


class _OrderShape(_Loose):
    id: int | _text(100) = None
    name: _text(100) = None
    currency: str | None = None
    financial_status: str | None = None
    landing_site: str | None = None
    referring_site: str | None = None
    email: _text(254) = None
    contact_email: _text(254) = None
    phone: _text(32) = None
    gateway: str | None = None
    payment_gateway_names: list[str] | None = None
    customer: _Customer | None = None
    shipping_address: _Address | None = None
    billing_address: _Address | None = None
    line_items: list[_LineItem] | None = None
    discount_codes: list[_DiscountCode] | None = None
    refunds: list[_Refund] | None = None
    fulfillments: list[_Fulfillment] | None = None
    fulfillment_status: str | None = None


def _shape_errors(payload, shape: type[_Loose] = _OrderShape) -> list[str]:
    """Wrongly typed fields (a list where an object belongs, a number where text belongs), as messages."""
    try:
        shape.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return []
    # A NUL in text is named once for its field, without the "not a number" of an id's other type.
    nul = {_field(e["loc"]) for e in errors
           if e["type"] == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NO_NUL}
    return [f"{field}: {NUL_REFUSED}" for field in sorted(nul)] + [
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg'].lower()}" for e in errors
        if _field(e["loc"]) not in nul]


def _field(loc) -> str:
    return ".".join(str(p) for p in loc if p not in ("int", "constrained-str"))


def order_from_payload(store, payload: dict) -> OrderData:
    """An OrderData from Shopify's order JSON (webhook or REST API); ShopifyOrderError if unreadable."""
    if not isinstance(payload, dict):
        raise ShopifyOrderError(["the body is not a JSON object"])
    errors: list[str] = _shape_errors(payload)
    if errors:
        raise ShopifyOrderError(errors)
    if not payload.get("id"):
        errors.append("id is required")
    currency = (payload.get("currency") or store.currency).upper()
    if currency != store.currency:
        errors.append(f"currency {currency} is not the store's currency {store.currency}")
    total = _money(payload.get("total_price"), "total_price", errors)
    placed_at = _time(payload.get("created_at"), "created_at", errors, required=True)
    financial_status = payload.get("financial_status")
    paid_at = None
    if is_paid(financial_status):
        paid_at = _time(payload.get("processed_at"), "processed_at", errors) or placed_at
    lines = []
    for n, item in enumerate(payload.get("line_items") or []):
        try:
            quantity = int(item.get("quantity") or 0)
        except (TypeError, ValueError):
            quantity = 0
        if quantity < 1:
            errors.append(f"line_items.{n}.quantity: {item.get('quantity')!r} is not a positive whole number")
            continue
        price = _money(item.get("price"), f"line_items.{n}.price", errors)
        discount = _money(item.get("total_discount"), f"line_items.{n}.total_discount", errors)
        lines.append(LineData(
            sku=(item.get("sku") or "").strip(), title=(item.get("title") or item.get("name") or "").strip(),
            quantity=quantity, unit_price=price, amount=max(price * quantity - discount, Decimal("0")),
            external_id=str(item.get("id") or ""),
        ))
    updated_at = _time(payload.get("updated_at"), "updated_at", errors)
    refund_amount, refunded_at = _refund_total(payload, total, updated_at, errors)
    shipped, shipped_at, delivered_at = _fulfilment(payload, updated_at, errors)
    if errors:
        raise ShopifyOrderError(errors)

    customer = payload.get("customer") or {}
    name = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p).strip()
    phones = [payload.get("phone"), customer.get("phone"), (payload.get("shipping_address") or {}).get("phone"),
              (payload.get("billing_address") or {}).get("phone")]
    sms_consent = (customer.get("sms_marketing_consent") or {}).get("state") == "subscribed"
    gateway = primary_gateway(payload.get("payment_gateway_names") or payload.get("gateway"))
    return OrderData(
        external_id=str(payload["id"]), name=(payload.get("name") or "").strip(),
        placed_at=placed_at, paid_at=paid_at, total=total,
        status=order_status(financial_status, bool(payload.get("cancelled_at"))),
        traffic_source=traffic_source(payload.get("landing_site"), payload.get("referring_site")),
        buyer_ref=str(customer.get("id") or ""), buyer_name=name,
        buyer_phone=next((p for p in phones if p), "") or "",
        buyer_email=payload.get("email") or payload.get("contact_email") or customer.get("email") or "",
        marketing_consent=sms_consent, refund_amount=refund_amount, refunded_at=refunded_at,
        updated_at=updated_at, shipped=shipped, shipped_at=shipped_at, delivered_at=delivered_at,
        discount_codes=[d.get("code") or "" for d in payload.get("discount_codes") or []],
        lines=lines,
        payments=[PaymentData(type=payment_type(gateway), amount=total)] if paid_at else [],
    )


class OrderWasDeleted(Exception):
    """A notification of an order Shopify reported deleted since (orders/delete): nothing is recorded."""


def record_shopify_order(store, payload: dict) -> tuple[Order, bool]:
    """Record a Shopify order once (keyed on Shopify's order id); unknown SKUs become new products.
    Past rolled-up days whose numbers it changed (an order paid or refunded late) are marked in the
    same transaction and rebuilt after the commit, on a worker (`metrics.stale_days`). OrderWasDeleted
    for an order Shopify deleted since (its notification arriving late)."""
    from metrics.stale_days import mark_stale_days  # metrics builds on stores, not the other way round

    data = order_from_payload(store, payload)
    touched: set = set()
    with transaction.atomic():
        hold_deletions(store)
        if is_deleted(store, data.external_id):
            raise OrderWasDeleted(data.external_id)
        products = products_by_sku(store, [line.sku for line in data.lines], create_missing=data.lines)
        for line in data.lines:
            line.product_id = products.get(line.sku)
        result = record_order(store, data, touched)
        _keep_refunds(store, result[0], payload, touched)
        mark_stale_days(store, touched)
        _live_view_changed(store, touched)
    return result


def _keep_refunds(store, order: Order, payload: dict, touched: set[date]) -> None:
    """Note the order's refunds by id, so refunds/create reporting one of them again adds nothing, and put the
    items of those not noted before on the order's lines (under the order's row lock, which record_order took)."""
    reported = {str(refund["id"]): refund for refund in payload.get("refunds") or [] if refund.get("id")}
    if not reported:
        return
    known = set(order.shopify_refunds.values_list("external_id", flat=True))
    new = [ShopifyRefund(order=order, external_id=refund_id, amount=_refunded(refund, "", []),
                         refunded_at=_time(refund.get("created_at"), "", []) or order.refunded_at)
           for refund_id, refund in reported.items() if refund_id not in known]
    new = [r for r in new if r.refunded_at]
    ShopifyRefund.objects.bulk_create(new, ignore_conflicts=True)
    items = [item for r in new for item in refund_lines(reported[r.external_id], "", [])]
    if _put_refund_lines(order, items)[0]:
        _touch_refund_day(store, order, touched)


def _touch_refund_day(store, order: Order, touched: set[date]) -> None:
    # Products' refunds count on the day the order's refund does (its refunded_at), as the overall refunds do.
    if order.refunded_at is not None:
        touched.add(store.today(order.refunded_at))


@dataclass(frozen=True)
class ShopifyRefundData:
    refund_id: str
    order_id: str
    amount: Decimal
    refunded_at: datetime
    lines: list[RefundLine]


def refund_from_payload(payload) -> ShopifyRefundData:
    """The refund in Shopify's refund JSON (refunds/create); ShopifyOrderError naming each problem if
    unreadable."""
    if not isinstance(payload, dict):
        raise ShopifyOrderError(["the body is not a JSON object"])
    errors = _shape_errors(payload, _RefundShape)
    if errors:
        raise ShopifyOrderError(errors)
    errors += [f"{key} is required" for key in ("id", "order_id") if not payload.get(key)]
    amount = _refunded(payload, "transactions.amount", errors)
    refunded_at = _time(payload.get("created_at"), "created_at", errors, required=True)
    lines = refund_lines(payload, "refund_line_items", errors)
    if errors:
        raise ShopifyOrderError(errors)
    return ShopifyRefundData(str(payload["id"]), str(payload["order_id"]), amount, refunded_at, lines)


@dataclass
class RefundRecorded:
    order: Order | None  # None: the store has no such order
    created: bool = False
    unknown_line_items: list[str] | None = None


def record_shopify_refund(store, payload: dict) -> RefundRecorded:
    """Record a Shopify refund once (keyed on its id): the order's refund amount rises to the sum of the refunds
    Shopify reported for it, if that is more than the amount already recorded (from orders/updated, which also
    carries them), and its items are added to the order's lines they name (refunded quantity and amount); a line
    item the order has no line for is logged and named in the result, the money recorded all the same. Past
    rolled-up days whose numbers changed are marked for a rebuild in the same transaction, as for orders."""
    from metrics.stale_days import mark_stale_days  # metrics builds on stores, not the other way round

    refund = refund_from_payload(payload)
    touched: set = set()
    with transaction.atomic():
        # The order's row lock makes a refund delivered twice at once wait, then find itself recorded.
        order = Order.objects.select_for_update().filter(store=store, external_id=refund.order_id).first()
        if order is None:
            return RefundRecorded(None)
        _, created = ShopifyRefund.objects.get_or_create(
            order=order, external_id=refund.refund_id,
            defaults={"amount": refund.amount, "refunded_at": refund.refunded_at})
        unknown: list[str] = []
        if created:
            reported = order.shopify_refunds.aggregate(total=Sum("amount"))["total"]
            if reported > order.refund_amount:
                order = record_refund(store, refund.order_id, reported - order.refund_amount, refund.refunded_at,
                                      touched)
            changed, unknown = _put_refund_lines(order, refund.lines)
            if changed:
                _touch_refund_day(store, order, touched)
            mark_stale_days(store, touched)
            _live_view_changed(store, touched)
    return RefundRecorded(order, created, unknown)


def delete_shopify_order(store, payload) -> bool:
    """orders/delete (its body is `{"id": …}`): remove the order (`stores.orders.delete_order`) and mark its
    rolled-up days for a rebuild in the same transaction. Returns whether opsdesk had the order."""
    from metrics.stale_days import mark_stale_days  # metrics builds on stores, not the other way round

    if not isinstance(payload, dict):
        raise ShopifyOrderError(["the body is not a JSON object"])
    errors = _shape_errors(payload, _DeletedShape) or (["id is required"] if not payload.get("id") else [])
    if errors:
        raise ShopifyOrderError(errors)
    touched: set = set()
    with transaction.atomic():
        deleted = delete_order(store, str(payload["id"]), touched)
        mark_stale_days(store, touched)
        _live_view_changed(store, touched)
    return deleted


def _live_view_changed(store, touched: set[date]) -> None:
    """End the live view's shared snapshot if the notification changed a day's numbers: one delivered twice (or
    only shipping an order, naming it) changes none of its figures, so it leaves the snapshot as it is."""
    from metrics.live_cache import facts_arrived  # metrics builds on stores, not the other way round

    if touched:
        facts_arrived(store)
