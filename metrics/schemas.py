"""The ingest API's event shapes (pydantic), also used to publish the OpenAPI schema.

Unknown fields are refused, so a misspelt field is an error rather than lost data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from stores.models import PaymentType, TrafficSource
from stores.orders import MAX_DISCOUNT_CODE, NO_NUL


def text(min_length: int = 0, max_length: int | None = None):
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=NO_NUL)]


Id = text(1, 64)
OptionalId = text(max_length=64)
Sku = text(1, 100)


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError(f"{value!r} is not an email address") from exc
    return value


Email = Annotated[text(max_length=254), AfterValidator(_email)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Client-made event id, unique per store: the idempotency key.")
    ts: AwareDatetime = Field(description="When it happened, ISO 8601 with an offset (e.g. 2026-11-25T09:30:00+08:00).")
    session_id: OptionalId = ""
    visitor_id: OptionalId = ""


class SessionStart(_Event):
    type: Literal["session_start"]
    session_id: Id
    source: TrafficSource = Field(description="How the visitor entered the store.")
    device: text(max_length=20) = ""
    landing_sku: Sku | None = Field(None, description="SKU of the landing product, if the session began on one.")


class ProductView(_Event):
    type: Literal["product_view"]
    session_id: Id
    sku: Sku


class AddToCart(_Event):
    type: Literal["add_to_cart"]
    session_id: Id
    sku: Sku
    quantity: Annotated[int, Field(ge=1)] = 1


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    title: text(max_length=255) = ""
    quantity: Annotated[int, Field(ge=1)] = 1
    unit_price: Money
    amount: Money | None = Field(None, description="Line total paid; defaults to unit_price × quantity.")
    freight: Money = Decimal("0")


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: PaymentType
    amount: Money
    installments: Annotated[int, Field(ge=1)] = 1


class BuyerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: text(max_length=100) = ""
    name: text(max_length=200) = ""
    phone: text(max_length=32) = ""
    email: Email = ""
    marketing_consent: bool = False


class OrderPaid(_Event):
    type: Literal["order_paid"]
    order_id: text(1, 100) = Field(
        description="The storefront's order id; an order is recorded once per store however often it is sent."
    )
    name: text(0, 100) = Field("", description="What the shop and the buyer call the order (#1042), if it differs "
                                              "from order_id; shown on opsdesk's pages and in after-sales texts.")
    placed_at: AwareDatetime | None = Field(None, description="When the order was placed; defaults to ts.")
    total: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        None, description="If given, must be the store's currency."
    )
    source: TrafficSource = TrafficSource.OTHER
    buyer: BuyerIn = Field(default_factory=BuyerIn)
    lines: Annotated[list[OrderLineIn], Field(min_length=1)]
    payments: list[PaymentIn] = Field(default_factory=list, description="Defaults to one payment of the total.")
    discount_codes: Annotated[list[text(1, MAX_DISCOUNT_CODE)], Field(max_length=20)] = Field(
        default_factory=list, description="The discount codes the buyer used (any case); a member's coupon among "
                                          "them is marked redeemed by this order.")


class RefundLineIn(BaseModel):
    """Items of a refund on one of the order's lines, named by its number or its SKU."""

    model_config = ConfigDict(extra="forbid")

    line_no: Annotated[int, Field(ge=1)] | None = Field(
        None, description="The line's position in the order_paid's lines, from 1.")
    sku: Sku | None = Field(None, description="The line's SKU, when no other line of the order has it.")
    quantity: Annotated[int, Field(ge=0, le=2**31 - 1)] = Field(description="Items refunded (0: money only).")
    amount: Money = Field(description="Money refunded of the line's amount.")

    @model_validator(mode="after")
    def _one_name(self):
        if (self.line_no is None) == (self.sku is None):
            raise ValueError("give the line's line_no or its sku (one of them)")
        return self


class Refund(_Event):
    type: Literal["refund"]
    order_id: text(1, 100)
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    lines: list[RefundLineIn] = Field(
        default_factory=list, description="The refunded items, if known: they show as refunds by product. Each "
                                          "line's refunds in all stay within its quantity and amount.")

    @model_validator(mode="after")
    def _lines_within_amount(self):
        lines = sum((line.amount for line in self.lines), Decimal("0"))
        if lines > self.amount:
            raise ValueError(f"the lines' amounts add up to {lines}, more than the refund's amount {self.amount}")
        return self


class OrderShipped(_Event):
    type: Literal["order_shipped"]
    order_id: text(1, 100) = Field(description="An order the store has (its order_paid sent earlier or in the batch).")


class OrderDelivered(_Event):
    type: Literal["order_delivered"]
    order_id: text(1, 100) = Field(
        description="An order the store has; `ts` is when it reached the buyer (the after-sales text counts from it)."
    )


Fulfilment = OrderShipped | OrderDelivered
Event = Annotated[SessionStart | ProductView | AddToCart | OrderPaid | Refund | OrderShipped | OrderDelivered,
                  Field(discriminator="type")]
EVENTS = TypeAdapter(list[Event])


class EventBatch(BaseModel):
    """The request body of POST /api/v1/events."""

    events: list[Event]


class _Body(BaseModel):
    # Other top-level keys are ignored, as by ingest.parse_body.
    events: list[Event]


BODY = TypeAdapter(_Body)


class SkippedEvent(BaseModel):
    index: int = Field(description="Position of the event in the batch, from 0.")
    id: str
    order_id: str
    reason: str = Field(description="Why its order was not recorded or changed, e.g. 'deleted on Shopify on Fri 27 "
                                    "Nov'.")


class Accepted(BaseModel):
    accepted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(description="Events already stored earlier (same id): counted once, not again.")
    skipped: list[SkippedEvent] | None = Field(
        None, description="Present when events of the batch name an order the platform deleted: they are stored as "
                          "events, but the order is not recorded again, refunded or fulfilled.")

    @model_serializer(mode="wrap")
    def _without_empty_skipped(self, handler):
        # Answers without skipped events read as they always have: {"accepted": …, "duplicates": …}.
        data = handler(self)
        if data.get("skipped") is None:
            data.pop("skipped", None)
        return data


class EventError(BaseModel):
    index: int = Field(description="Position of the event in the batch, from 0.")
    id: str | None = None
    field: str = ""
    reason: str


class Rejected(BaseModel):
    detail: str
    errors: list[EventError] = Field(default_factory=list)


class Problem(BaseModel):
    detail: str
