"""Refunded items in opsdesk's order file (refunded_quantity, line_refund_amount on a line's row): refunds by product
in the daily figures, once however often the file is imported; a line refund the line cannot hold is refused by
row and column, and nothing is imported."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from metrics.models import DailyMetric
from metrics.rollup import rollup_days
from stores.importers import ImportRejected, import_orders
from stores.models import Order, OrderLine

pytestmark = pytest.mark.django_db
REFUND_DAY = date(2026, 11, 26)  # refunded_at below, in Shanghai

HEADER = "order_id,placed_at,paid_at,total,refund_amount,refunded_at,sku,title,quantity,unit_price"


def order_file(mug="", tea="", refund="30.00", header_extra=",refunded_quantity,line_refund_amount"):
    """Order T-1: a mug (1 × 25.00) and two tea tins (2 × 25.00), with 30.00 refunded on 26 Nov; `mug` and `tea`
    are the lines' refund columns ("1,25.00")."""
    refunded_at = "2026-11-26 15:00:00" if refund else ""
    mug, tea = (f",{mug}", f",{tea}") if header_extra else ("", "")
    return (f"{HEADER}{header_extra}\n"
            f"T-1,2026-11-24 10:00:00,2026-11-24 10:01:30,75.00,{refund},{refunded_at},MUG-1,Mug,1,25.00{mug}\n"
            f"T-1,,,,,,TEA-9,Tea tin,2,25.00{tea}\n")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


def product_refunds(store, day):
    """The day's refunds by product title, through the nightly rollup: {title: (refunds, units refunded)}."""
    rollup_days([(store, day)])
    rows = DailyMetric.objects.filter(store=store, day=day, dimension="product",
                                      metric__in=["refunds", "refunded_units"])
    titles = dict(store.products.values_list("pk", "title"))
    found: dict[str, dict[str, Decimal]] = {}
    for metric, product, value in rows.values_list("metric", "dimension_value", "value"):
        found.setdefault(titles[int(product)], {})[metric] = value
    return {title: (v["refunds"], v["refunded_units"]) for title, v in found.items()}


def line_refunds():
    return list(OrderLine.objects.order_by("line_no").values_list("sku", "refunded_quantity", "refund_amount"))


def test_refunded_items_in_the_file_show_as_refunds_by_product_on_the_refund_day(store_a):
    import_orders(store_a, order_file(tea="1,25.00"))
    assert line_refunds() == [("MUG-1", 0, 0), ("TEA-9", 1, Decimal("25.00"))]
    assert product_refunds(store_a, REFUND_DAY) == {"Tea tin": (Decimal("25.00"), 1)}


def test_importing_the_file_again_refunds_nothing_twice(store_a):
    import_orders(store_a, order_file(tea="1,25.00"))
    again = import_orders(store_a, order_file(tea="1,25.00"))
    assert (again.created, again.duplicates, again.refreshed) == (0, 1, [])
    assert product_refunds(store_a, REFUND_DAY) == {"Tea tin": (Decimal("25.00"), 1)}


def test_a_later_file_adds_the_items_refunded_since_and_redoes_the_day(store_a):
    import_orders(store_a, order_file(refund="25.00", tea="1,25.00"))
    rollup_days([(store_a, REFUND_DAY)])
    later = import_orders(store_a, order_file(refund="55.00", mug="1,5.00", tea="2,50.00"))
    assert later.refreshed == [REFUND_DAY]
    assert line_refunds() == [("MUG-1", 1, Decimal("5.00")), ("TEA-9", 2, Decimal("50.00"))]
    assert product_refunds(store_a, REFUND_DAY) == {"Mug": (Decimal("5.00"), 1), "Tea tin": (Decimal("50.00"), 2)}


def test_an_order_imported_without_the_columns_gains_its_refunded_items_from_a_file_with_them(store_a):
    import_orders(store_a, order_file(header_extra=""))
    assert line_refunds() == [("MUG-1", 0, 0), ("TEA-9", 0, 0)]
    result = import_orders(store_a, order_file(mug="1,25.00"))
    assert result.duplicates == 1
    assert line_refunds() == [("MUG-1", 1, Decimal("25.00")), ("TEA-9", 0, 0)]


def test_an_older_file_stating_fewer_refunded_items_takes_none_back(store_a):
    import_orders(store_a, order_file(tea="2,30.00"))
    import_orders(store_a, order_file(tea="1,25.00"))
    assert line_refunds()[1] == ("TEA-9", 2, Decimal("30.00"))


def test_a_line_refund_its_line_cannot_hold_is_refused_by_row_and_column_and_nothing_is_imported(store_a):
    text = order_file(mug="2,26.00", tea="-1,x") + (
        "T-2,2026-11-24 12:00:00,2026-11-24 12:05:00,25.00,,,MUG-1,Mug,1,25.00,1,\n"
        "T-3,2026-11-24 12:00:00,2026-11-24 12:05:00,50.00,10.00,2026-11-26 15:00:00,MUG-1,Mug,2,25.00,0,20.00\n")
    with pytest.raises(ImportRejected) as refused:
        import_orders(store_a, text)
    assert refused.value.errors == [
        (2, "refunded_quantity: 2 refunded is more than the line's quantity 1"),
        (2, "line_refund_amount: 26.00 refunded is more than the line's amount 25.00"),
        (3, "refunded_quantity: '-1' is not a whole number of 0 or more"),
        (3, "line_refund_amount: 'x' is not an amount"),
        (4, "refunded_quantity: give the order's refund_amount and refunded_at too: a product's refunds count on "
            "the day of the order's refund"),
        (5, "line_refund_amount: the lines' refunds add up to 20.00, more than the order's refund_amount 10.00"),
    ]
    assert not Order.objects.exists()
