"""Related-sales suggestions: for the most-visited (or best-selling) products, what their buyers also buy.

Market-basket numbers over paid orders in a window, with pandas:
support(A→B) = orders with both / all orders, confidence = orders with both / orders with A,
lift = confidence / (orders with B / all orders). Lift above 1 means B sells with A more than by chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from metrics.rollup import product_views
from opsdesk.lazy import lazy_module
from stores.models import OrderLine, Product, Store

from . import activity_history
from .models import Activity, ActivityKind, ActivityStatus

pd = lazy_module("pandas")


@dataclass(frozen=True)
class Pair:
    anchor: Product
    anchor_views: int
    anchor_orders: int
    partner: Product
    both: int
    support: float
    confidence: float
    lift: float


def basket_frame(store: Store, first: date, last: date) -> pd.DataFrame:
    """Distinct (order, product) pairs of the paid orders in store-local days first..last."""
    start, _ = store.day_bounds(first)
    _, end = store.day_bounds(last)
    rows = (OrderLine.objects.filter(order__store=store, order__paid_at__gte=start, order__paid_at__lt=end,
                                     product__isnull=False).order_by().values_list("order_id", "product_id"))
    return pd.DataFrame(list(rows), columns=["order", "product"]).drop_duplicates()


def pair_table(baskets: pd.DataFrame, anchors=None) -> pd.DataFrame:
    """Every ordered pair (anchor, partner) bought together, with both, support, confidence, lift.

    With `anchors`, only pairs starting from those products (the self-merge then grows with the
    anchors' orders, not with the square of every basket)."""
    columns = ["anchor", "partner", "both", "support", "confidence", "lift"]
    if baskets.empty:
        return pd.DataFrame(columns=columns)
    n_orders = baskets["order"].nunique()
    per_product = baskets.groupby("product")["order"].nunique()
    left = baskets if anchors is None else baskets[baskets["product"].isin(list(anchors))]
    pairs = left.merge(baskets, on="order", suffixes=("_a", "_b"))
    pairs = pairs[pairs["product_a"] != pairs["product_b"]]
    both = pairs.groupby(["product_a", "product_b"]).size().rename("both").reset_index()
    both = both.rename(columns={"product_a": "anchor", "product_b": "partner"})
    both["support"] = both["both"] / n_orders
    both["confidence"] = both["both"] / both["anchor"].map(per_product)
    both["lift"] = both["confidence"] / (both["partner"].map(per_product) / n_orders)
    return both[columns]


def top_anchors(store: Store, first: date, last: date, baskets: pd.DataFrame, limit: int) -> list[tuple[int, int]]:
    """(product id, views) of the products with the most product views; by orders where nothing was viewed."""
    views = product_views(store, first, last)
    orders = baskets.groupby("product")["order"].nunique() if not baskets.empty else pd.Series(dtype=int)
    ranked = sorted(set(views) | set(orders.index),
                    key=lambda p: (-views.get(p, 0), -int(orders.get(p, 0)), p))
    return [(p, views.get(p, 0)) for p in ranked[:limit]]


def suggestions(store: Store, first: date, last: date, anchors: int = 5, per_anchor: int = 3,
                min_both: int = 2) -> list[Pair]:
    """For the top `anchors` products, the `per_anchor` partners with the highest confidence
    (then lift) bought together in at least `min_both` orders."""
    baskets = basket_frame(store, first, last)
    top = top_anchors(store, first, last, baskets, anchors)
    table = pair_table(baskets, anchors=[p for p, _ in top])
    per_product = baskets.groupby("product")["order"].nunique() if not baskets.empty else pd.Series(dtype=int)
    wanted = table[table["anchor"].isin([p for p, _ in top]) & (table["both"] >= min_both)]
    wanted = wanted.sort_values(["confidence", "lift", "partner"], ascending=[False, False, True])
    products = Product.objects.in_bulk(set(wanted["anchor"]) | set(wanted["partner"]))
    out = []
    for product_id, views in top:
        for row in wanted[wanted["anchor"] == product_id].head(per_anchor).itertuples():
            out.append(Pair(anchor=products[row.anchor], anchor_views=views,
                            anchor_orders=int(per_product.get(row.anchor, 0)), partner=products[row.partner],
                            both=int(row.both), support=float(row.support), confidence=float(row.confidence),
                            lift=float(row.lift)))
    return out


@transaction.atomic
def create_bundle(store: Store, anchor: Product, partner: Product, owner=None, note: str = "",
                  today: date | None = None) -> Activity:
    """An idea-stage bundle activity for the pair, starting in a week and running for 14 days.

    A note longer than the details keep (300 characters) raises ValidationError: kept whole or not at all."""
    today = today or store.today()
    activity = Activity(store=store, name=f"Bundle: {anchor.title} + {partner.title}"[:200],
                        kind=ActivityKind.RELATED_SALES, status=ActivityStatus.IDEA,
                        start_date=today + timedelta(days=7), end_date=today + timedelta(days=20), owner=owner,
                        details={"mode": "bundle", "source": note} if note else {"mode": "bundle"})
    activity.full_clean()
    activity.save()
    activity.products.set([anchor, partner])
    activity_history.record_created(activity, user=owner)
    return activity
