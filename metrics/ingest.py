"""Storing a batch of storefront events: validate all, then write all or nothing.

`ingest_events(store, events)` is the one entry point (the API view, importers and benchmarks
call it). A batch is checked whole first (shape, time stamps, SKUs, currencies, refunds) and
rejected whole with each bad event's index and reason. Events are unique per (store, event id)
in the database: the insert skips ids already stored (ON CONFLICT DO NOTHING ... RETURNING), so
a retried batch, even one sent twice at the same moment, counts each event once. Only events
stored by this call have side effects: an `order_paid` records its Order (and enrols the buyer
as a member), a `refund` adds to the order's refunded amount, in the same transaction; and a past
store-local day already rolled up that the stored events change is marked to be rebuilt
(`metrics.stale_days`), in that transaction too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from pydantic import ValidationError

from stores.models import Order, OrderStatus, Store
from stores.orders import (
    NUL_REFUSED,
    LineData,
    OrderData,
    OrderRefused,
    PaymentData,
    RefundLine,
    RefundLinesRefused,
    apply_refund_lines,
    deleted_orders,
    hold_deletions,
    record_fulfilment,
    record_order,
    record_refund,
)

from .live_cache import facts_arrived
from .models import TrafficEvent
from .schemas import (
    BODY,
    EVENTS,
    NO_NUL,
    AddToCart,
    Fulfilment,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    ProductView,
    Refund,
    SessionStart,
)
from .stale_days import mark_stale_days

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
TAGS = {"session_start", "product_view", "add_to_cart", "order_paid", "refund", "order_shipped", "order_delivered"}


def max_events() -> int:
    return settings.INGEST_MAX_EVENTS


def max_body_bytes() -> int:
    return settings.INGEST_MAX_BODY_BYTES


def max_clock_skew() -> timedelta:
    return timedelta(seconds=settings.INGEST_MAX_CLOCK_SKEW_SECONDS)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    orders_created: int = 0
    # Events naming an order the platform deleted: {index, id, order_id, reason}; stored as events, no effect.
    skipped: tuple[dict, ...] = ()


class BatchRejected(Exception):
    """The batch was refused whole; `errors` lists {index, id, field, reason} per bad event."""

    def __init__(self, errors: list[dict], detail: str = "The batch was rejected; nothing was stored."):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class BatchTooLarge(Exception):
    """More events (or bytes) than one request may carry."""


def parse_body(body: bytes) -> list:
    """The `events` list of a JSON request body; BatchRejected for a body that is not one."""
    if len(body) > max_body_bytes():
        raise BatchTooLarge(f"The body is {len(body)} bytes; the limit is {max_body_bytes()}.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BatchRejected([], f"The body is not JSON: {exc}.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BatchRejected([], 'The body must be a JSON object {"events": [...]}.')
    return data["events"]


def validate_body(store: Store, body: bytes, now=None) -> tuple[list, dict[str, int]]:
    """`validate_events` straight from a request body.

    A well-formed body is validated by pydantic from the JSON bytes in one go (no intermediate
    Python dicts: the cheap path for the API's big batches); any body it refuses takes the
    general path (`parse_body` + `validate_events`), so the errors a client sees are the same.
    """
    if len(body) > max_body_bytes():
        raise BatchTooLarge(f"The body is {len(body)} bytes; the limit is {max_body_bytes()}.")
    try:
        events = BODY.validate_json(body).events
    except ValidationError:
        return validate_events(store, parse_body(body), now=now)
    if len(events) > max_events():
        raise BatchTooLarge(f"The batch has {len(events)} events; the limit is {max_events()}.")
    return check_events(store, events, now=now)


def _friendly(error: dict) -> str:
    if error["type"] == "timezone_aware":
        return "needs a time zone offset, e.g. 2026-11-25T09:30:00+08:00"
    if error["type"] in ("datetime_from_date_parsing", "datetime_parsing", "datetime_type"):
        return f"is not an ISO 8601 time stamp: {error['msg']}"
    if error["type"] == "union_tag_invalid":
        return f"unknown event type {error.get('input', {}).get('type')!r}; expected one of {', '.join(sorted(TAGS))}"
    if error["type"] == "union_tag_not_found":
        return "has no type"
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == NO_NUL:
        return NUL_REFUSED
    if error["type"] == "extra_forbidden":
        return "is not a field of this event type"
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return error["msg"]


def _shape_errors(raw_events: list, exc: ValidationError) -> list[dict]:
    errors = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        index = loc[0] if loc and isinstance(loc[0], int) else -1
        path = list(loc[1:])
        if path and path[0] in TAGS:
            path = path[1:]
        raw = raw_events[index] if 0 <= index < len(raw_events) else None
        errors.append({
            "index": index,
            "id": raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None,
            "field": ".".join(str(p) for p in path),
            "reason": _friendly(error),
        })
    return errors


def _skus(event) -> list[tuple[str, str]]:
    """(field, sku) pairs that must name a product of the store."""
    if isinstance(event, SessionStart):
        return [("landing_sku", event.landing_sku)] if event.landing_sku else []
    if isinstance(event, ProductView | AddToCart):
        return [("sku", event.sku)]
    if isinstance(event, OrderPaid):
        return [(f"lines.{n}.sku", line.sku) for n, line in enumerate(event.lines)]
    return []


def validate_events(store: Store, raw_events: list, now=None) -> tuple[list, dict[str, int]]:
    """Parse and check every event against the store; returns (events, product id by SKU) or raises
    BatchRejected naming every bad event."""
    if len(raw_events) > max_events():
        raise BatchTooLarge(f"The batch has {len(raw_events)} events; the limit is {max_events()}.")
    try:
        events = EVENTS.validate_python(raw_events)
    except ValidationError as exc:
        raise BatchRejected(_shape_errors(raw_events, exc)) from None
    return check_events(store, events, now=now)


def check_events(store: Store, events: list, now=None) -> tuple[list, dict[str, int]]:
    """The checks against the store (time stamps, SKUs, currencies, refunds) of well-shaped events."""
    all_skus = {sku for event in events for _, sku in _skus(event)}
    products = dict(store.products.filter(sku__in=all_skus).values_list("sku", "id")) if all_skus else {}
    refund_orders = {e.order_id for e in events if isinstance(e, Refund | Fulfilment)}
    known_orders = set(
        Order.objects.filter(store=store, external_id__in=refund_orders).values_list("external_id", flat=True)
    ) if refund_orders else set()
    known_orders |= set(deleted_orders(store, list(refund_orders)))  # skipped when stored (`_deleted`), not refused
    latest = (now or timezone.now()) + max_clock_skew()

    errors = []
    for index, event in enumerate(events):
        def bad(field: str, reason: str, index=index, event=event):
            errors.append({"index": index, "id": event.id, "field": field, "reason": reason})

        for field in ("ts", "placed_at"):
            moment = getattr(event, field, None)
            if moment is None:
                continue
            if moment > latest:
                bad(field, "is in the future (more than the allowed clock skew ahead of the server)")
            elif moment < EARLIEST:
                # Year 1 and the like: no store has events then, and its local day cannot even be computed.
                bad(field, "is before 1970-01-01; not a time stamp of a storefront event")
        for field, sku in _skus(event):
            if sku not in products:
                bad(field, f"unknown product SKU {sku!r} in this store")
        if isinstance(event, OrderPaid):
            known_orders.add(event.order_id)
            if event.currency and event.currency != store.currency:
                bad("currency", f"{event.currency} is not the store's currency {store.currency}")
            if event.payments and sum(p.amount for p in event.payments) != event.total:
                bad("payments", f"payments add up to {sum(p.amount for p in event.payments)}, "
                                f"the total is {event.total}")
        if isinstance(event, Refund | Fulfilment) and event.order_id not in known_orders:
            bad("order_id", f"no order {event.order_id!r} in this store (send its order_paid first)")
    if errors:
        raise BatchRejected(errors)
    return events, products


def _row(event, products: dict[str, int]) -> tuple:
    fields = event.__dict__  # plain dict access: this runs once per event on the hot path
    sku = fields.get("sku") or fields.get("landing_sku")
    return (event.id, event.type, event.ts, event.session_id, event.visitor_id, str(fields.get("source") or ""),
            fields.get("device", ""), products.get(sku) if sku else None)


def _insert(store: Store, events: list, products: dict[str, int]) -> set[str]:
    """Insert events not yet stored; returns the ids this call stored."""
    table = connection.ops.quote_name(TrafficEvent._meta.db_table)
    columns = "event_id, type, ts, session_id, visitor_id, source, device, product_id"
    # A fixed order makes concurrent overlapping batches wait on each other instead of deadlocking.
    rows = sorted((_row(e, products) for e in events), key=lambda r: r[0])
    now = timezone.now()
    stored: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One typed array per column, bound server-side in binary (%b): no 150 kB SQL literal to
            # escape and parse, no JSON to build and take apart, no per-value text escaping; unnest
            # keeps the sorted order.
            with psycopg.Cursor(connection.connection) as raw:
                raw.execute(
                    f"INSERT INTO {table} (store_id, {columns}, received_at) "  # noqa: S608 (table name is ours)
                    f"SELECT %s, e.*, %s FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::text[], "
                    f"%b::text[], %b::text[], %b::text[], %b::bigint[]) AS e "
                    f"ON CONFLICT (store_id, event_id) DO NOTHING RETURNING event_id",
                    [store.pk, now, *(list(column) for column in zip(*rows, strict=True))],
                )
                stored.update(r[0] for r in raw.fetchall())
        else:
            # As the ORM stores them: naive UTC text. A time stamp kept with its own offset ("…+08:00")
            # compares as text against the UTC day bounds, so the event would count on the wrong day.
            utc = connection.ops.adapt_datetimefield_value
            received = utc(now)
            for start in range(0, len(rows), 200):
                chunk = rows[start:start + 200]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (store_id, {columns}, received_at) VALUES {values} "  # noqa: S608
                    f"ON CONFLICT (store_id, event_id) DO NOTHING RETURNING event_id",
                    [v for row in chunk for v in (store.pk, *row[:2], utc(row[2]), *row[3:], received)],  # row[2]: ts
                )
                stored.update(r[0] for r in cursor.fetchall())
    return stored


# A fulfilment event's status; it changes no daily number (those count paid and refund days).
_FULFILMENT_STATUS = {OrderShipped: OrderStatus.SHIPPED, OrderDelivered: OrderStatus.DELIVERED}


def _order_data(event: OrderPaid, products: dict[str, int]) -> OrderData:
    return OrderData(
        external_id=event.order_id, name=event.name,
        placed_at=event.placed_at or event.ts, paid_at=event.ts, total=event.total,
        traffic_source=event.source, buyer_ref=event.buyer.ref, buyer_name=event.buyer.name,
        buyer_phone=event.buyer.phone, buyer_email=event.buyer.email,
        marketing_consent=event.buyer.marketing_consent, discount_codes=event.discount_codes,
        lines=[LineData(sku=line.sku, title=line.title, quantity=line.quantity, unit_price=line.unit_price,
                        amount=line.amount, freight=line.freight, product_id=products[line.sku])
               for line in event.lines],
        payments=[PaymentData(type=p.type, amount=p.amount, installments=p.installments) for p in event.payments],
    )


def ingest_events(store: Store, raw_events: list, now=None) -> IngestResult:
    """Validate and store a batch of events for `store`, all or nothing.

    Raises BatchTooLarge or BatchRejected (nothing stored); returns accepted/duplicate counts.
    """
    return store_events(store, *validate_events(store, raw_events, now=now))


def ingest_body(store: Store, body: bytes, now=None) -> IngestResult:
    """`ingest_events` for a JSON request body {"events": [...]} (the API)."""
    return store_events(store, *validate_body(store, body, now=now))


_ORDER_EVENTS = OrderPaid | Refund | Fulfilment


def _deleted(store: Store, events: list) -> tuple[set[str], tuple[dict, ...]]:
    """The batch's order ids the platform deleted (`stores.orders.delete_order`), and each event naming one, as the
    answer lists them: such an event is stored, but its order is not recorded again, refunded or fulfilled."""
    order_ids = {event.order_id for event in events if isinstance(event, _ORDER_EVENTS)}
    if not order_ids:
        return set(), ()
    from metrics.figures import day_words

    deleted = deleted_orders(store, list(order_ids))
    this_year = store.today().year
    return set(deleted), tuple(
        {"index": index, "id": event.id, "order_id": event.order_id,
         "reason": f"deleted on Shopify on {day_words(store.today(deleted[event.order_id]), this_year)}"}
        for index, event in enumerate(events) if isinstance(event, _ORDER_EVENTS) and event.order_id in deleted)


def _refund_lines(order, event: Refund) -> None:
    """Put the refund's items on the order's lines (`stores.orders.apply_refund_lines`): an item the order has no
    line for, or more than its line holds, refuses the batch."""
    apply_refund_lines(order, [RefundLine(line.quantity, line.amount, line_no=line.line_no, sku=line.sku or "")
                               for line in event.lines], strict=True)


def store_events(store: Store, events: list, products: dict[str, int]) -> IngestResult:
    """Store validated events (see validate_events) and their orders and refunds, all or nothing. Events naming an
    order the platform deleted are stored with no effect, and listed in the result's `skipped`."""
    unique = {}
    for event in events:
        unique.setdefault(event.id, event)
    orders_created = 0
    touched: set = set()  # store-local days whose numbers the events, orders and refunds changed
    errors = []
    with transaction.atomic():
        if any(isinstance(event, _ORDER_EVENTS) for event in events):
            hold_deletions(store)  # a deletion landing meanwhile waits for this batch, or is seen by it
        deleted, skipped = _deleted(store, events)
        stored = _insert(store, list(unique.values()), products) if unique else set()
        # Orders are touched in order-id order (each order's own events keep their batch order), so two
        # concurrent batches lock the same orders in the same sequence instead of deadlocking.
        effects = sorted(
            ((index, event) for index, event in enumerate(events) if isinstance(event, _ORDER_EVENTS)
             and event.id in stored and unique[event.id] is event and event.order_id not in deleted),
            key=lambda item: (item[1].order_id, item[0]),
        )
        for index, event in effects:
            try:
                if isinstance(event, OrderPaid):
                    orders_created += record_order(store, _order_data(event, products), touched)[1]
                elif isinstance(event, Refund):
                    order = record_refund(store, event.order_id, Decimal(event.amount), event.ts, touched)
                    _refund_lines(order, event)
                else:
                    record_fulfilment(store, event.order_id, _FULFILMENT_STATUS[type(event)], event.ts)
            except RefundLinesRefused as exc:
                errors += [{"index": index, "id": event.id, "field": f"lines.{n}.{field}", "reason": reason}
                           for n, field, reason in exc.problems]
            except OrderRefused as exc:
                errors.append({"index": index, "id": event.id, "field": "", "reason": str(exc)})
        if errors:  # every refused effect named; the transaction rolls back whole
            raise BatchRejected(sorted(errors, key=lambda e: e["index"]))
        if stored:
            # Only a late event's day is worked out: the live batch's cost stays one comparison an event.
            # A shipping or delivery notice counts in no daily number: its day needs no rebuild.
            today_starts = store.day_bounds(store.today())[0]
            touched.update(store.today(event.ts) for event in unique.values()
                           if event.ts < today_starts and event.id in stored and not isinstance(event, Fulfilment))
        mark_stale_days(store, touched)  # late facts: their past, rolled-up days are rebuilt
        if stored:  # a retried batch (every id already stored) leaves the live view's shared snapshot as it is
            facts_arrived(store)
    return IngestResult(accepted=len(stored), duplicates=len(events) - len(stored), orders_created=orders_created,
                        skipped=skipped)
