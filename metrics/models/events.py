"""Traffic events: the raw facts behind the live view (sessions, product views, carts, ...)."""

from django.db import models

from stores.models import Product, Store, TrafficSource

__all__ = ["BROWSING", "EventChange", "EventType", "TrafficEvent"]


class EventType(models.TextChoices):
    SESSION_START = "session_start", "Session start"
    PRODUCT_VIEW = "product_view", "Product view"
    ADD_TO_CART = "add_to_cart", "Add to cart"
    ORDER_PAID = "order_paid", "Order paid"
    REFUND = "refund", "Refund"
    ORDER_SHIPPED = "order_shipped", "Order shipped"
    ORDER_DELIVERED = "order_delivered", "Order delivered"


# What a person does in the store: only these make someone a visitor (and the tracker "live"). Order, refund
# and fulfilment events are facts about orders, sent when a payment settles, a refund is booked or a parcel
# moves, often days after the visit (bank transfer, boleto, after-sales): counting them as visits inflated visitors.
BROWSING = (EventType.SESSION_START.value, EventType.PRODUCT_VIEW.value, EventType.ADD_TO_CART.value)


class TrafficEvent(models.Model):
    """One event sent by a storefront. (store, event_id) is unique, so a retried batch adds nothing."""

    # No index of its own: (store, event_id), (store, ts) and (store, type, ts) all lead with it, and a
    # fourth index would cost every insert and tempt the planner to read a whole store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="events", db_index=False)
    event_id = models.CharField(max_length=64, help_text="Client-made id; the idempotency key.")
    type = models.CharField(max_length=20, choices=EventType.choices)
    ts = models.DateTimeField()
    session_id = models.CharField(max_length=64, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=20, choices=TrafficSource.choices, blank=True)
    device = models.CharField(max_length=20, blank=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "event_id"], name="event_unique_store_event_id"),
        ]
        indexes = [
            models.Index(fields=["store", "ts"], name="event_store_ts"),
            # The live view reads one event type over a few hours of one store (sessions, visitors).
            models.Index(fields=["store", "type", "ts"], name="event_store_type_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class EventChange(models.Model):
    """A note that events of a (store, UTC hour) changed, written by a database trigger (Postgres).

    Migration 0005 adds statement-level triggers on TrafficEvent: every INSERT of events older than
    10 minutes (a late or back-filled event; live traffic is seconds old and skips this) and every
    UPDATE or DELETE appends one row per (store, hour) it touched. Whatever writes events (ingest,
    COPY, the ORM, a psql session) leaves its note. Append-only, so concurrent writers never wait
    on each other here. The live view caches past local days per process and uses a cached day
    only while the notes of its hours (count and sum of ids) are unchanged (metrics.live_history).
    """

    store_id = models.BigIntegerField()  # no foreign key: the note may outlive a deleted store
    hour = models.BigIntegerField(help_text="Hours since 1970-01-01 00:00 UTC.")

    class Meta:
        indexes = [models.Index(fields=["store_id", "hour"], name="eventchange_store_hour")]

    def __str__(self) -> str:
        return f"store {self.store_id} hour {self.hour}"
