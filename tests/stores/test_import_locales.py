"""Order files written in another locale's number format are read as meant or refused by line, never stored
as another amount."""

from decimal import Decimal

import pytest

from stores.importers import ImportRejected, import_orders
from stores.models import Order

pytestmark = pytest.mark.django_db

HEADER = "order_id,placed_at,total,sku,quantity,unit_price\n"


def refusals(store, rows: str) -> list[tuple[int, str]]:
    with pytest.raises(ImportRejected) as caught:
        import_orders(store, (HEADER + rows).encode())
    assert not Order.objects.exists()
    return caught.value.errors


def test_an_order_file_with_decimal_commas_is_read_as_meant(store_a):
    import_orders(store_a, (HEADER + 'E-1,2026-11-24 10:00,"12,50",MUG-1,1,"12,50"\n'
                                     'E-2,2026-11-24 11:00,"1.234,50",TEA-1,1,"1.234,50"\n').encode())
    assert dict(Order.objects.values_list("external_id", "total")) == {
        "E-1": Decimal("12.50"), "E-2": Decimal("1234.50")}  # not 1250 and 1.23


def test_an_order_file_mixing_decimal_points_and_commas_is_refused_naming_the_row(store_a):
    assert refusals(store_a, 'E-1,2026-11-24 10:00,12.50,MUG-1,1,12.50\n'
                             'E-2,2026-11-24 11:00,"7,50",TEA-1,1,"7,50"\n') == [
        (3, "total: 7,50 is written with a decimal comma, but 12.50 (row 2, total) with a decimal point: "
            "export the file with one number format")]


def test_an_amount_either_mark_reads_differently_is_refused_when_nothing_else_says_which(store_a):
    errors = refusals(store_a, 'E-1,2026-11-24 10:00,"2.000",MUG-1,1,"2.000"\n')
    assert errors[0] == (2, "total: 2.000 could be 2.000 or 2000: is its '.' a thousands separator or a decimal "
                            "point? No other number in the file shows which; write amounts with their cents and no "
                            "thousands separator (like 2000.00)")
