"""Store-level services other apps call: sales summaries over a time window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from opsdesk.money import to_money

from .models import Order, Store


@dataclass(frozen=True)
class SalesSummary:
    orders: int
    buyers: int
    gmv: Decimal

    @property
    def aov(self) -> Decimal | None:
        # Half up like every other amount (to_money, the live view): 424.53 over 2 orders is 212.27.
        return to_money(self.gmv / self.orders) if self.orders else None


def sales_summary(store: Store, start: datetime, end: datetime) -> SalesSummary:
    """Paid orders, distinct buyers and GMV (main order totals) paid in [start, end).

    Buyers are distinct non-empty `buyer_ref`s, as on the live view: guest orders (no ref) are not
    one buyer between them."""
    row = Order.objects.filter(store=store).paid_between(start, end).aggregate(
        orders=Count("id"), buyers=Count("buyer_ref", distinct=True, filter=~Q(buyer_ref="")), gmv=Sum("total")
    )
    # SQLite sums decimals as floats-with-noise; money is always shown to the cent.
    return SalesSummary(orders=row["orders"], buyers=row["buyers"], gmv=to_money(row["gmv"] or 0))
