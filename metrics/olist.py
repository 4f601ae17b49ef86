"""Load the public Olist sample (../shared/data/olist-sample) into one store, for tests and benchmarks.

Olist timestamps are Brazil-local wall times without an offset; they are read in America/Sao_Paulo
(which still had DST in 2016–2018: a repeated hour is taken as its first occurrence, a skipped one
is moved forward). The sample's files were drawn separately, so most orders have no items or
payments: an order's total is the sum of its payments, else of its items (price + freight), else 0.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import transaction

from stores.models import Order, OrderLine, OrderStatus, Payment, PaymentType, Product, Store

ZONE = "America/Sao_Paulo"
STATUS = {"delivered": OrderStatus.DELIVERED, "shipped": OrderStatus.SHIPPED, "canceled": OrderStatus.CANCELLED,
          "unavailable": OrderStatus.CANCELLED, "invoiced": OrderStatus.PAID, "processing": OrderStatus.PAID,
          "approved": OrderStatus.PAID, "created": OrderStatus.PENDING}
PAYMENT = {"credit_card": PaymentType.CREDIT_CARD, "debit_card": PaymentType.DEBIT_CARD,
           "boleto": PaymentType.BOLETO, "voucher": PaymentType.VOUCHER}


def read_frames(folder: Path) -> dict[str, pd.DataFrame]:
    """The three CSVs a rollup needs, typed; ids as strings whatever their quoting."""
    orders = pd.read_csv(folder / "olist_orders_dataset.csv", dtype=str)
    items = pd.read_csv(folder / "olist_order_items_dataset.csv", dtype=str)
    payments = pd.read_csv(folder / "olist_order_payments_dataset.csv", dtype=str)
    for col in ("price", "freight_value"):
        items[col] = items[col].astype(float)
    payments["payment_value"] = payments["payment_value"].astype(float)
    return {"orders": orders, "items": items, "payments": payments}


def localize(naive: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(naive, errors="coerce")
    return parsed.dt.tz_localize(ZONE, ambiguous=np.ones(len(parsed), dtype=bool), nonexistent="shift_forward")


def order_totals(frames: dict[str, pd.DataFrame]) -> pd.Series:
    pay = frames["payments"].groupby("order_id")["payment_value"].sum()
    items = frames["items"].assign(v=lambda d: d["price"] + d["freight_value"]).groupby("order_id")["v"].sum()
    ids = frames["orders"]["order_id"]
    return pay.reindex(ids).fillna(items.reindex(ids)).fillna(0.0).round(2).set_axis(ids)


@transaction.atomic
def load_store(store: Store, folder: Path) -> dict[str, int]:
    """Import the sample as `store`'s history (orders, lines, payments); returns counts."""
    frames = read_frames(folder)
    o = frames["orders"].drop_duplicates("order_id")
    totals = order_totals(frames)
    placed, approved = localize(o["order_purchase_timestamp"]), localize(o["order_approved_at"])
    delivered = localize(o["order_delivered_customer_date"])
    orders = []
    for i, row in enumerate(o.itertuples(index=False)):
        orders.append(Order(
            store=store, external_id=row.order_id, status=STATUS.get(row.order_status, OrderStatus.PENDING),
            placed_at=placed.iloc[i].to_pydatetime(),
            paid_at=None if pd.isna(approved.iloc[i]) else approved.iloc[i].to_pydatetime(),
            delivered_at=None if pd.isna(delivered.iloc[i]) else delivered.iloc[i].to_pydatetime(),
            total=Decimal(f"{totals[row.order_id]:.2f}"), traffic_source="other", buyer_ref=row.customer_id,
        ))
    Order.objects.bulk_create(orders, batch_size=2000)
    by_id = dict(Order.objects.filter(store=store).values_list("external_id", "pk"))
    items = frames["items"][frames["items"]["order_id"].isin(by_id)]
    products = {}
    for sku, price in items.groupby("product_id")["price"].first().items():
        products[sku] = Product(store=store, sku=sku, title=f"Olist {sku[:8]}", price=Decimal(f"{price:.2f}"))
    Product.objects.bulk_create(products.values())
    product_ids = dict(Product.objects.filter(store=store).values_list("sku", "pk"))
    OrderLine.objects.bulk_create([
        OrderLine(order_id=by_id[r.order_id], line_no=int(r.order_item_id), product_id=product_ids[r.product_id],
                  sku=r.product_id, quantity=1, unit_price=Decimal(f"{r.price:.2f}"),
                  amount=Decimal(f"{r.price:.2f}"), freight=Decimal(f"{r.freight_value:.2f}"))
        for r in items.drop_duplicates(["order_id", "order_item_id"]).itertuples(index=False)
    ], batch_size=2000)
    pays = frames["payments"][frames["payments"]["order_id"].isin(by_id)]
    Payment.objects.bulk_create([
        Payment(order_id=by_id[r.order_id], sequence=int(r.payment_sequential),
                type=PAYMENT.get(r.payment_type, PaymentType.OTHER), amount=Decimal(f"{r.payment_value:.2f}"),
                installments=max(1, int(float(r.payment_installments))))
        for r in pays.drop_duplicates(["order_id", "payment_sequential"]).itertuples(index=False)
    ], batch_size=2000)
    return {"orders": len(orders), "lines": len(items), "payments": len(pays)}
