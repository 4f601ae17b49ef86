"""Recording orders from any channel (ingest API, Shopify webhook, CSV import) in one way.

Every channel turns its input into an `OrderData` and calls `record_order`. The order is unique
per (store, external id) in the database, so delivering the same order twice creates nothing the
second time; a later delivery may only move an order forward (pending → paid, more refunded), and one the
platform stamped earlier than the state already recorded (`OrderData.updated_at`) changes nothing.
Shipping and delivery follow one rule, `fulfil`, whichever channel reports them (an `OrderData`'s
`shipped_at`/`delivered_at`, or the API's events through `record_fulfilment`).

The daily numbers count an order on its store-local paid day and its refund on the refunded day.
`record_order` and `record_refund` add the days they changed to a `touched` set; the channel then
has them rolled up again (the CSV import at once; the webhook and the API mark them in their
transaction and a worker rebuilds them: `metrics.stale_days`), since the nightly job never redoes a
day it has done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction

from opsdesk.money import MAX_COUNT, MAX_MONEY, TOO_LARGE_COUNT, TOO_LARGE_MONEY

from .models import DeletedOrder, Order, OrderLine, OrderStatus, Payment, PaymentType, Product, Store, TrafficSource

# Postgres text cannot hold a NUL character: channels refuse it by name rather than failing the insert (a 500).
NO_NUL = r"^[^\x00]*$"
NUL_REFUSED = "contains a NUL character (\\u0000), which cannot be stored"
# The statuses `fulfil` records: they count in no daily number.
FULFILMENT = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@dataclass
class LineData:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    amount: Decimal | None = None  # defaults to unit_price × quantity
    freight: Decimal = Decimal("0")
    product_id: int | None = None
    external_id: str = ""  # the platform's line id (Shopify's line item id), which its refunds name
    # Refunded of this line so far, as a file states it (opsdesk's refunded_quantity and line_refund_amount columns):
    # a state, not a new refund, so recording it again adds nothing (`refund_line_so_far`).
    refunded_quantity: int = 0
    refund_amount: Decimal = Decimal("0")


@dataclass
class PaymentData:
    type: str
    amount: Decimal
    installments: int = 1


@dataclass
class OrderData:
    external_id: str
    placed_at: datetime
    total: Decimal
    name: str = ""  # what the shop and the buyer call the order (Shopify's "#1042"), when the channel has one
    paid_at: datetime | None = None
    status: str = OrderStatus.PAID
    traffic_source: str = TrafficSource.OTHER
    buyer_ref: str = ""
    buyer_name: str = ""
    buyer_phone: str = ""
    buyer_email: str = ""
    marketing_consent: bool = False
    refund_amount: Decimal = Decimal("0")
    refunded_at: datetime | None = None
    updated_at: datetime | None = None  # the platform's own time of this state (Shopify's updated_at)
    # Fulfilment the channel reports with the order (CSV columns, Shopify's fulfillments), recorded by `fulfil`.
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    # Shipped, but the channel does not say when (Shopify's "Fulfillment Status" without "Fulfilled at"): the status
    # moves, no time is made up.
    shipped: bool = False
    # The discount codes the buyer used (Shopify's discount_codes, a file's column, the API's field): a member's
    # coupon among them is marked redeemed (`members.services.redeem_coupons`).
    discount_codes: list[str] = field(default_factory=list)
    lines: list[LineData] = field(default_factory=list)
    payments: list[PaymentData] = field(default_factory=list)


class OrderRefused(ValueError):
    """The order cannot be recorded as given (e.g. refund above the total)."""


class RefundLinesRefused(OrderRefused):
    """A refund's items cannot be put on the order's lines as given (`apply_refund_lines(strict=True)`):
    `problems` holds (index of the item, field, reason) for each."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"lines.{n}.{field}: {reason}" for n, field, reason in problems))


@dataclass(frozen=True)
class RefundLine:
    """Items of one refund on one of the order's lines: how many and how much of the line's amount (its items'
    price less their discount, as the line's amount is). The line is named by the platform's line id (Shopify's
    line item id), by its number on the order (1, 2, …) or by its SKU."""

    quantity: int
    amount: Decimal
    line_item_id: str = ""
    line_no: int | None = None
    sku: str = ""

    @property
    def named(self) -> tuple[str, str]:
        """(field, value) that names the line, as a message says it."""
        if self.line_item_id:
            return "line_item_id", self.line_item_id
        if self.line_no is not None:
            return "line_no", str(self.line_no)
        return "sku", self.sku


def line_refund_problems(line_quantity: int, line_amount: Decimal, quantity: int, amount: Decimal) -> list[
        tuple[str, str]]:
    """Why a line of `line_quantity` items and `line_amount` cannot have `quantity` items and `amount` refunded in
    all: (field, reason) pairs, empty when it can. Every channel that is told a line's refunds checks them so."""
    problems = []
    if quantity < 0:
        problems.append(("quantity", f"{quantity} is negative"))
    elif quantity > line_quantity:
        problems.append(("quantity", f"{quantity} refunded is more than the line's quantity {line_quantity}"))
    if amount < 0:
        problems.append(("amount", f"{amount} is negative"))
    elif amount > line_amount:
        problems.append(("amount", f"{amount} refunded is more than the line's amount {line_amount}"))
    return problems


def add_line_refund(line: OrderLine, quantity: int, amount: Decimal) -> bool:
    """The one rule for a line's refunds, whatever the channel: a refund's items add to the line's refunded
    quantity and amount, each capped at what the line holds. In memory; returns whether the line changed. The
    caller makes each refund count once (Shopify's refund id, the API's event id, `refund_line_so_far`)."""
    refunded_quantity = min(line.quantity, line.refunded_quantity + max(quantity, 0))
    refund_amount = min(line.amount, line.refund_amount + max(amount, Decimal("0")))
    changed = (refunded_quantity, refund_amount) != (line.refunded_quantity, line.refund_amount)
    line.refunded_quantity, line.refund_amount = refunded_quantity, refund_amount
    return changed


def refund_line_so_far(line: OrderLine, quantity: int, amount: Decimal) -> bool:
    """`add_line_refund` for a channel that states what a line has had refunded so far (a file): what it states
    beyond what the line already holds is added, so the same file twice, or an older one, adds nothing."""
    return add_line_refund(line, quantity - line.refunded_quantity, amount - line.refund_amount)


def apply_refund_lines(order: Order, lines: list[RefundLine], strict: bool = False) -> tuple[bool, list[str]]:
    """Add a newly recorded refund's items to the order's lines (`add_line_refund`). The caller holds the order's
    row lock and calls this once per refund. Returns (any line changed, the lines named that the order lacks).
    `strict` (a channel that can be told no, the ingest API): RefundLinesRefused naming every item the order has
    no line for, whose SKU is on several of its lines, or that would refund more than its line holds, and nothing
    is changed."""
    if not lines:
        return False, []
    order_lines = list(order.lines.all())
    by_id = {line.external_id: line for line in order_lines if line.external_id}
    by_no = {line.line_no: line for line in order_lines}
    by_sku: dict[str, list[OrderLine]] = {}
    for line in order_lines:
        if line.sku:
            by_sku.setdefault(line.sku, []).append(line)
    unknown, problems, found = [], [], []
    for n, item in enumerate(lines):
        field, value = item.named
        if item.line_item_id:
            line = by_id.get(item.line_item_id)
        elif item.line_no is not None:
            line = by_no.get(item.line_no)
        else:
            same = by_sku.get(item.sku, [])
            if len(same) > 1:
                problems.append((n, "sku", f"{item.sku!r} is on lines {', '.join(str(s.line_no) for s in same)} of "
                                           f"order {order.external_id!r}: name the line by line_no"))
                continue
            line = same[0] if same else None
        if line is None:
            unknown.append(value)
            problems.append((n, field, f"order {order.external_id!r} has no line with {field} {value}"))
            continue
        found.append((n, line, item))
    if strict:
        totals: dict[int, tuple[int, Decimal]] = {}
        for n, line, item in found:  # two items of one refund on the same line count together
            quantity, amount = totals.get(line.pk, (line.refunded_quantity, line.refund_amount))
            totals[line.pk] = (quantity + item.quantity, amount + item.amount)
            problems += [(n, field, reason + (f" (with {line.refunded_quantity} already refunded)"
                                               if field == "quantity" and line.refunded_quantity else
                                               f" (with {line.refund_amount} already refunded)"
                                               if field == "amount" and line.refund_amount else ""))
                         for field, reason in line_refund_problems(line.quantity, line.amount, *totals[line.pk])]
        if problems:
            raise RefundLinesRefused(sorted(problems))
    changed = {line.pk: line for _, line, item in found if add_line_refund(line, item.quantity, item.amount)}
    OrderLine.objects.bulk_update(changed.values(), ["refunded_quantity", "refund_amount"])
    return bool(changed), unknown


def _refund_lines_so_far(order: Order, data: OrderData) -> bool:
    """Put on the stored order's lines (by line number) what `data` states they have had refunded so far; returns
    whether any line changed."""
    stated = {n: line for n, line in enumerate(data.lines, start=1) if line.refunded_quantity or line.refund_amount}
    if not stated:
        return False
    changed = [line for line in order.lines.filter(line_no__in=stated)
               if refund_line_so_far(line, stated[line.line_no].refunded_quantity, stated[line.line_no].refund_amount)]
    OrderLine.objects.bulk_update(changed, ["refunded_quantity", "refund_amount"])
    return bool(changed)


def refunds_lines(data: OrderData) -> bool:
    """Whether `data` states refunds on its lines (which an order already stored may lack)."""
    return any(line.refunded_quantity or line.refund_amount for line in data.lines)


def counted_days(store: Store, order: Order) -> set[date]:
    """The store-local days whose daily numbers count the order: its paid day and its refund day."""
    return {store.today(at) for at in (order.paid_at, order.refunded_at) if at is not None}


def products_by_sku(store: Store, skus, create_missing: list[LineData] | None = None) -> dict[str, int]:
    """Map SKU → product id for the store; with `create_missing`, add a product for each unknown SKU
    (title and price taken from the first line that names it)."""
    skus = {s for s in skus if s}
    found = dict(Product.objects.filter(store=store, sku__in=skus).values_list("sku", "id"))
    if create_missing is not None:
        missing: dict[str, Product] = {}
        for line in create_missing:
            if line.sku and line.sku not in found and line.sku not in missing:
                missing[line.sku] = Product(store=store, sku=line.sku, title=(line.title or line.sku)[:255],
                                            price=line.unit_price)
        # In SKU order, so two imports creating the same products wait on each other, never deadlock; one that
        # another import created meanwhile is kept as it is (ignore_conflicts) and looked up below.
        Product.objects.bulk_create([missing[sku] for sku in sorted(missing)], batch_size=1000, ignore_conflicts=True)
        skus = sorted(missing)
        for start in range(0, len(skus), 2000):  # SQLite limits query parameters
            found.update(Product.objects.filter(store=store, sku__in=skus[start:start + 2000]).values_list("sku", "id"))
    return found


def moves_forward(order: Order, data: OrderData) -> bool:
    """Whether `data` would change the stored `order` (what `_advance` and the platform's time would write):
    an import of a file already imported skips the orders it would not change without a query each."""
    return (_moves_counted(order, data) or _moves_fulfilment(order, data) or _names(order, data)
            or _gives_codes(order, data)
            or refunds_lines(data)  # may: the lines are not read here; record_order adds only what is new
            or (data.status != order.status and _status_rank(data.status) > _status_rank(order.status))
            or (data.updated_at is not None and (order.platform_updated_at is None
                                                 or data.updated_at > order.platform_updated_at)))


def fulfils_only(order: Order, data: OrderData) -> bool:
    """Whether `data` moves the stored `order` on by a shipment or delivery alone (`fulfil_orders` writes those
    in bulk: a day's export marking thousands of orders delivered)."""
    return (data.updated_at is None and _moves_fulfilment(order, data) and not _moves_counted(order, data)
            and not _names(order, data) and not _gives_codes(order, data) and not refunds_lines(data))


def _names(order: Order, data: OrderData) -> bool:
    """Whether `data` gives a name to an order recorded without one (before names were stored, or by a channel
    that had none): the name is filled in once, never changed."""
    return bool(data.name) and not order.name


MAX_DISCOUNT_CODE = 100  # characters of one discount code kept (Shopify allows 255; our coupons' are 13)


def discount_codes(codes: list[str]) -> list[str]:
    """The codes as an order keeps them: each trimmed, empty ones and repeats (in any case) left out."""
    kept: dict[str, str] = {}
    for code in codes:
        code = code.strip()
        if code:
            kept.setdefault(code.upper(), code[:MAX_DISCOUNT_CODE])
    return list(kept.values())


def _gives_codes(order: Order, data: OrderData) -> bool:
    """Whether `data` gives discount codes to an order recorded without any (before codes were kept): like a name,
    they are filled in once, never changed."""
    return bool(discount_codes(data.discount_codes)) and not order.discount_codes


def _moves_counted(order: Order, data: OrderData) -> bool:
    """Paid, more refunded, or refunded or cancelled: what the daily numbers or the buyer's spend read."""
    return ((order.paid_at is None and data.paid_at is not None) or data.refund_amount > order.refund_amount
            or (data.status not in FULFILMENT and data.status != order.status
                and _status_rank(data.status) > _status_rank(order.status)))


def _moves_fulfilment(order: Order, data: OrderData) -> bool:
    status = _fulfilment_status(data)
    return order.paid_at is not None and status is not None and (
        (data.delivered_at is not None and order.delivered_at is None)
        or (data.shipped_at is not None and order.shipped_at is None)
        or _status_rank(status) > _status_rank(order.status))


def _advance(order: Order, data: OrderData) -> tuple[bool, bool]:
    """Move an existing order forward (paid, refunded, cancelled, shipped, delivered) without touching its lines.
    Returns (anything changed, anything the daily numbers or the buyer's spend read changed): a shipping or
    delivery notice alone changes neither."""
    changed = []
    if order.paid_at is None and data.paid_at is not None:
        order.paid_at = data.paid_at
        changed.append("paid_at")
    if data.refund_amount > order.refund_amount:
        if data.refund_amount > order.total:
            raise OrderRefused(f"refund {data.refund_amount} is more than the order total {order.total}")
        order.refund_amount = data.refund_amount
        order.refunded_at = data.refunded_at or order.refunded_at
        changed += ["refund_amount", "refunded_at"]
    if data.status != order.status and _status_rank(data.status) > _status_rank(order.status):
        order.status = data.status
        changed.append("status")
    fulfilled = _fulfil_from(order, data)  # after paid_at: an order paid and delivered in one notice
    if _names(order, data):
        order.name = data.name[:100]
        fulfilled.append("name")  # like a fulfilment, a name counts in no daily number
    if _gives_codes(order, data):
        order.discount_codes = discount_codes(data.discount_codes)
        fulfilled.append("discount_codes")
    if changed or fulfilled:
        order.save(update_fields=sorted(set(changed + fulfilled)))
    return bool(changed or fulfilled), bool(changed)


def fulfil(order: Order, status: str, at: datetime | None, shipped_at: datetime | None = None) -> list[str]:
    """The one rule for recording a shipment or delivery on `order` (in memory; returns the fields changed, for
    the caller to save): only forward, so a delivered, refunded or cancelled order is not shipped again, and a
    shipment or delivery already recorded keeps its time (`delivered_at`, which the after-sales texts key on).
    `at` is the time of `status`; a delivery may also tell when the order shipped (`shipped_at`)."""
    fields = []
    if status == OrderStatus.SHIPPED and shipped_at is None:
        shipped_at = at
    if shipped_at is not None and order.shipped_at is None:
        order.shipped_at = shipped_at
        fields.append("shipped_at")
    if status == OrderStatus.DELIVERED and at is not None and order.delivered_at is None:
        order.delivered_at = at
        fields.append("delivered_at")
    if _status_rank(status) > _status_rank(order.status):
        order.status = status
        fields.append("status")
    return fields


def _fulfil_from(order: Order, data: OrderData) -> list[str]:
    """`fulfil` with the shipment or delivery `data` reports; nothing for an unpaid order (a cash-on-delivery
    order Shopify ships before it is paid): opsdesk's after-sales care is for paid orders."""
    status = _fulfilment_status(data)
    if order.paid_at is None or status is None:
        return []
    return fulfil(order, status, data.delivered_at if status == OrderStatus.DELIVERED else data.shipped_at,
                  data.shipped_at)


def _fulfilment_status(data: OrderData) -> str | None:
    """The furthest fulfilment `data` reports: by its times, or by its status alone (a file's `delivered` without
    `delivered_at`); None when it reports none."""
    reported = [status for status, at in ((OrderStatus.DELIVERED, data.delivered_at),
                                          (OrderStatus.SHIPPED, data.shipped_at)) if at is not None]
    if data.status in FULFILMENT:
        reported.append(data.status)
    if data.shipped:
        reported.append(OrderStatus.SHIPPED)
    return max(reported, key=_status_rank, default=None)


def limit_problems(data: OrderData) -> list[str]:
    """Every amount or quantity of the order that its columns cannot hold, in words (empty when all fit).
    Importers call it while checking rows, so such an order is named with every other bad row."""
    problems = []
    amounts = {"total": data.total, "refund": data.refund_amount}
    for n, line in enumerate(data.lines, start=1):
        amounts[f"line {n} unit price"] = line.unit_price
        amounts[f"line {n} amount"] = line.amount if line.amount is not None else line.unit_price * line.quantity
        amounts[f"line {n} freight"] = line.freight
        if line.quantity > MAX_COUNT:
            problems.append(f"line {n} quantity {line.quantity} is {TOO_LARGE_COUNT}")
    for n, payment in enumerate(data.payments, start=1):
        amounts[f"payment {n}"] = payment.amount
    problems += [f"{name} {amount} is {TOO_LARGE_MONEY}" for name, amount in amounts.items()
                 if abs(amount) >= MAX_MONEY]
    return problems


def _check_limits(data: OrderData) -> None:
    """Refuse, in words, an amount or quantity the columns cannot hold, whatever the source (webhook,
    CSV, API): the database would answer with an error and the caller with a 500."""
    problems = limit_problems(data)
    if problems:
        raise OrderRefused("; ".join(problems))


def _status_rank(status: str) -> int:
    # Cancelled is last: an order refunded in full and then cancelled is cancelled, as Shopify shows it and as
    # a cancellation that refunds at once already records it. Its refund amount and time stay, and the daily
    # numbers read those, not the status.
    order = [OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
             OrderStatus.REFUNDED, OrderStatus.CANCELLED]
    return order.index(status) if status in order else 0


@transaction.atomic
def record_order(store: Store, data: OrderData, touched: set[date] | None = None) -> tuple[Order, bool]:
    """Create the order with its lines and payments (and enrol a paid buyer as a member), or, when
    the store already has this external id, only move it forward. Returns (order, created); adds to
    `touched` the store-local days whose numbers changed (paid and refund days, before and after)."""
    touched = set() if touched is None else touched
    from members.services import enrol_from_order, redeem_coupons, release_coupons

    if data.refund_amount > data.total:
        raise OrderRefused(f"refund {data.refund_amount} is more than the order total {data.total}")
    _check_limits(data)
    order, created = Order.objects.get_or_create(
        store=store, external_id=data.external_id,
        defaults={
            "name": data.name[:100],
            "status": data.status, "placed_at": data.placed_at, "paid_at": data.paid_at, "total": data.total,
            "traffic_source": data.traffic_source, "buyer_ref": data.buyer_ref[:100],
            "buyer_name": data.buyer_name[:200], "buyer_phone": data.buyer_phone[:32],
            "buyer_email": data.buyer_email[:254], "marketing_consent": data.marketing_consent,
            "refund_amount": data.refund_amount, "refunded_at": data.refunded_at,
            "platform_updated_at": data.updated_at, "discount_codes": discount_codes(data.discount_codes),
        },
    )
    if not created:
        order = Order.objects.select_for_update().get(pk=order.pk)
        _name_lines(order, data)
        if data.updated_at and order.platform_updated_at and data.updated_at < order.platform_updated_at:
            # A notification sent before the one already recorded (webhooks arrive in any order): the order
            # already shows a newer state, which this one must not change (a cancellation back to refunded).
            return order, False
        before = counted_days(store, order)
        had_codes = bool(order.discount_codes)
        was_paid, was_cancelled = order.paid_at is not None, order.status == OrderStatus.CANCELLED
        _, counted = _advance(order, data)
        if order.status == OrderStatus.CANCELLED and not was_cancelled:
            release_coupons([order])  # a cancelled order used no coupon: the member may use it again
        if _refund_lines_so_far(order, data) and order.refunded_at is not None:
            touched.add(store.today(order.refunded_at))  # products' refunds count on the order's refund day
        if data.updated_at and (order.platform_updated_at is None or data.updated_at > order.platform_updated_at):
            order.platform_updated_at = data.updated_at
            order.save(update_fields=["platform_updated_at"])
        if counted:
            touched |= before | counted_days(store, order)
            if order.paid_at is not None:
                if not order.payments.exists():
                    _add_payments(order, data)
                enrol_from_order(order)
        if order.paid_at is not None and order.discount_codes and (not was_paid or not had_codes):
            redeem_coupons(store, [order])  # paid just now, or its codes just learnt
        return order, False
    if fulfilled := _fulfil_from(order, data):
        order.save(update_fields=fulfilled)
    touched |= counted_days(store, order)
    OrderLine.objects.bulk_create(_lines(order, data))
    _add_payments(order, data)
    if order.paid_at is not None:
        enrol_from_order(order)
        redeem_coupons(store, [order])
    return order, True


def _name_lines(order: Order, data: OrderData) -> None:
    """Give the order's lines the platform's line ids they lack (lines recorded before the ids were kept), by
    line number: a line's id is filled in once, never changed. Refunds find their lines by these ids."""
    ids = {n: line.external_id[:100] for n, line in enumerate(data.lines, start=1) if line.external_id}
    if not ids:
        return
    unnamed = list(order.lines.filter(external_id="", line_no__in=ids))
    for line in unnamed:
        line.external_id = ids[line.line_no]
    OrderLine.objects.bulk_update(unnamed, ["external_id"])


def _new_order(store: Store, data: OrderData) -> Order:
    order = Order(
        store=store, external_id=data.external_id, name=data.name[:100], status=data.status, placed_at=data.placed_at,
        paid_at=data.paid_at, total=data.total, traffic_source=data.traffic_source, buyer_ref=data.buyer_ref[:100],
        buyer_name=data.buyer_name[:200], buyer_phone=data.buyer_phone[:32], buyer_email=data.buyer_email[:254],
        marketing_consent=data.marketing_consent, refund_amount=data.refund_amount, refunded_at=data.refunded_at,
        platform_updated_at=data.updated_at, discount_codes=discount_codes(data.discount_codes),
    )
    _fulfil_from(order, data)
    return order


def _lines(order: Order, data: OrderData) -> list[OrderLine]:
    lines = []
    for n, line in enumerate(data.lines, start=1):
        row = OrderLine(
            order=order, line_no=n, product_id=line.product_id, sku=line.sku[:100], title=line.title[:255],
            quantity=line.quantity, unit_price=line.unit_price,
            amount=line.amount if line.amount is not None else line.unit_price * line.quantity,
            freight=line.freight, external_id=line.external_id[:100],
        )
        refund_line_so_far(row, line.refunded_quantity, line.refund_amount)
        lines.append(row)
    return lines


def _payments(order: Order, data: OrderData) -> list[Payment]:
    """The order's payments; a paid order given none gets one payment of its total, type other."""
    payments = data.payments or ([PaymentData(PaymentType.OTHER, order.total)] if order.paid_at else [])
    return [Payment(order=order, sequence=n, type=p.type, amount=p.amount, installments=p.installments)
            for n, p in enumerate(payments, start=1)]


def _add_payments(order: Order, data: OrderData) -> None:
    Payment.objects.bulk_create(_payments(order, data))


@transaction.atomic
def create_orders(store: Store, orders: list[OrderData], touched: set[date] | None = None) -> list[Order]:
    """`record_order` for a batch of orders the store does not have yet, in a few statements instead of a
    few per order (a month's export holds tens of thousands): orders, lines and payments inserted in bulk,
    paid buyers enrolled in bulk. An order of the batch that the store has after all (a webhook delivered it
    meanwhile) raises IntegrityError and rolls back the whole batch: the caller records it one by one."""
    touched = set() if touched is None else touched
    from members.services import enrol_orders, redeem_coupons

    for data in orders:
        if data.refund_amount > data.total:
            raise OrderRefused(f"refund {data.refund_amount} is more than the order total {data.total}")
        _check_limits(data)
    created = Order.objects.bulk_create([_new_order(store, data) for data in orders])
    OrderLine.objects.bulk_create([line for order, data in zip(created, orders, strict=True)
                                   for line in _lines(order, data)], batch_size=2000)
    Payment.objects.bulk_create([payment for order, data in zip(created, orders, strict=True)
                                 for payment in _payments(order, data)], batch_size=2000)
    for order in created:
        touched |= counted_days(store, order)
    enrol_orders(Order.objects.filter(pk__in=[order.pk for order in created if order.paid_at is not None]))
    redeem_coupons(store, created)
    return created


@transaction.atomic
def record_refund(store: Store, external_id: str, amount: Decimal, refunded_at: datetime,
                  touched: set[date] | None = None) -> Order:
    """Add a refund of `amount` to an order; the order becomes `refunded` once fully refunded (a cancelled one
    stays cancelled). Adds the refund's day, and the day the order's earlier refund was counted on, to
    `touched`."""
    order = Order.objects.select_for_update().filter(store=store, external_id=external_id).first()
    if order is None:
        raise OrderRefused(f"no order {external_id!r} in this store")
    if touched is not None:
        touched.update(store.today(at) for at in (order.refunded_at, refunded_at) if at is not None)
    new_amount = order.refund_amount + amount
    if new_amount > order.total:
        raise OrderRefused(f"refunds would reach {new_amount}, more than the order total {order.total}")
    order.refund_amount = new_amount
    order.refunded_at = refunded_at
    fields = ["refund_amount", "refunded_at"]
    if new_amount == order.total and _status_rank(OrderStatus.REFUNDED) > _status_rank(order.status):
        order.status = OrderStatus.REFUNDED
        fields.append("status")
    order.save(update_fields=fields)
    from members.services import enrol_from_order

    enrol_from_order(order)  # the buyer's spend and tier follow the refund
    return order


@transaction.atomic
def delete_order(store: Store, external_id: str, touched: set[date] | None = None) -> bool:
    """Remove an order the platform deleted (Shopify lets a merchant delete only cancelled or archived orders):
    the order goes with its lines, payments and refunds, so it leaves the live view, the daily figures (its paid
    and refund days are added to `touched`, for the rebuild) and its member's spend (recounted now). Texts and
    reviews about it are kept, their link to it emptied (`on_delete=SET_NULL`): a text already sent stays in the
    member's history as it was written, and one still queued is skipped at send time (order not found). The id is
    kept (`DeletedOrder`) even for an order opsdesk never had, so a late notification cannot record it again.
    Returns whether there was an order to remove."""
    from members.services import forget_order, release_coupons

    _lock_deletions(store, exclusive=True)
    DeletedOrder.objects.get_or_create(store=store, external_id=external_id)
    order = Order.objects.select_for_update().filter(store=store, external_id=external_id).first()
    if order is None:
        return False
    if touched is not None:
        touched |= counted_days(store, order)
    forget_order(order)
    release_coupons([order])  # before the deletion: its coupons pass on to another order with their code
    order.delete()
    return True


# A deletion and a writer of orders (an import, an ingest batch, a Shopify notification) of one store take turns:
# without it a deletion landing while a file is written finds no order to remove, and the file's commit then
# brings the deleted order back. Writers share the store's lock; a deletion takes it alone.
DELETION_LOCK_SPACE = 0x4F524444  # pg_advisory_xact_lock's first key: these locks, not another feature's


def _lock_deletions(store: Store, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite (the demo) serialises every writer anyway
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {lock}(%s, %s)", [DELETION_LOCK_SPACE, store.pk])


def hold_deletions(store: Store) -> None:
    """Keep the store's order deletions (`delete_order`) waiting until the transaction ends; call it inside the
    writer's transaction before reading `deleted_orders`, so a deletion is either seen or waits for the write."""
    if not connection.in_atomic_block:
        raise RuntimeError("hold_deletions holds the lock for a transaction: call it inside one")
    _lock_deletions(store, exclusive=False)


def is_deleted(store: Store, external_id: str) -> bool:
    """Whether the platform reported the order deleted (`delete_order`)."""
    return DeletedOrder.objects.filter(store=store, external_id=external_id).exists()


def deleted_orders(store: Store, external_ids: list[str]) -> dict[str, datetime]:
    """Those of `external_ids` the platform reported deleted (`delete_order`), with when: every channel skips
    them, so an older file or a late event does not bring a deleted order back."""
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    # A store deletes few orders: all its deleted ids in one query, unless they outnumber those asked about.
    every = list(DeletedOrder.objects.filter(store=store).values_list("external_id", "deleted_at")[:len(ids) + 1])
    if len(every) <= len(ids):
        asked = set(ids)
        return {external_id: at for external_id, at in every if external_id in asked}
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), 2000):  # SQLite limits query parameters
        found.update(DeletedOrder.objects.filter(store=store, external_id__in=ids[start:start + 2000])
                     .values_list("external_id", "deleted_at"))
    return found


SKIPPED_SHOWN = 5  # orders a note names; it counts the rest


def skipped_note(store: Store, deleted: dict[str, datetime], names: dict[str, str] | None = None) -> str:
    """What an import says of the orders it skipped because they were deleted: '1 order skipped: deleted on Shopify
    on Fri 27 Nov (#1042).' The days are the store's; an order is named by its name when the input gives one."""
    from metrics.figures import day_words  # metrics builds on stores, not the other way round

    names = names or {}
    by_day: dict[date, list[str]] = {}
    for external_id in sorted(deleted, key=lambda i: (deleted[i], i)):
        by_day.setdefault(store.today(deleted[external_id]), []).append(names.get(external_id) or f"#{external_id}")
    this_year = store.today().year
    shown, parts = 0, []
    for day, orders in by_day.items():
        named = orders[:max(SKIPPED_SHOWN - shown, 0)]
        shown += len(named)
        parts.append(f"{day_words(day, this_year)}" + (f" ({', '.join(named)})" if named else ""))
    more = len(deleted) - shown
    count = "1 order" if len(deleted) == 1 else f"{len(deleted):,} orders"
    return (f"{count} skipped: deleted on Shopify on {_and(parts)}" + (f", and {more:,} more" if more else "")
            + ".")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


@transaction.atomic
def fulfil_orders(store: Store, orders: list[OrderData]) -> int:
    """`fulfil` the store's orders with the shipments and deliveries `orders` report, in a few statements (rows
    locked in id order, so two imports wait on each other rather than deadlock). Returns how many changed."""
    reported = {data.external_id: data for data in orders}
    changed = []
    ids = sorted(reported)
    for start in range(0, len(ids), 2000):  # SQLite limits query parameters
        for order in Order.objects.select_for_update().filter(store=store, external_id__in=ids[start:start + 2000]
                                                               ).order_by("pk"):
            if _fulfil_from(order, reported[order.external_id]):
                changed.append(order)
    if connection.vendor == "postgresql" and changed:
        # One UPDATE from arrays: bulk_update's CASE per row cost ~0.6 ms an order in Django alone (20,000 orders
        # newly delivered: 13 s of an 18 s import).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Order._meta.db_table} AS o SET status = v.status, shipped_at = v.shipped_at, "  # noqa: S608 (our table)
                "delivered_at = v.delivered_at "
                "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
                "AS v(id, status, shipped_at, delivered_at) WHERE o.id = v.id",
                [[o.pk for o in changed], [o.status for o in changed], [o.shipped_at for o in changed],
                 [o.delivered_at for o in changed]])
    else:
        Order.objects.bulk_update(changed, ["status", "shipped_at", "delivered_at"], batch_size=1000)
    return len(changed)


def record_fulfilment(store: Store, external_id: str, status: str, at: datetime) -> Order:
    """Move an order to shipped or delivered (a shipped one gets `shipped_at` = `at`, a delivered one
    `delivered_at` = `at`, which the after-sales texts key on). Only forward: a delivered, refunded or cancelled
    order is not shipped again, and a shipment or delivery already recorded keeps its time, so the same notice
    twice changes nothing."""
    if status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderRefused(f"{status!r} is not a fulfilment status")
    order = Order.objects.select_for_update().filter(store=store, external_id=external_id).first()
    if order is None:
        raise OrderRefused(f"no order {external_id!r} in this store")
    if order.paid_at is None:
        raise OrderRefused(f"order {external_id!r} is not paid")
    if fields := fulfil(order, status, at):
        order.save(update_fields=fields)
    return order
