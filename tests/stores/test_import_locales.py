"""Order files written in another locale's number format are read as meant or refused by line, never stored
as another amount."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

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
                            "thousands separator (like 2000.00), or choose the decimal mark on the upload form")


# --- dotted dates, and the operator's stated decimal mark ------------------------------------------------------

@pytest.fixture
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 27, 6, 0, tzinfo=UTC), tick=False):
        yield


def placed(store) -> dict[str, datetime]:
    return {o.external_id: o.placed_at.astimezone(store.zone).replace(tzinfo=None) for o in Order.objects.all()}


def test_an_order_file_with_dotted_dates_is_read_day_first(store_a, frozen_clock):
    import_orders(store_a, (HEADER + 'E-1,03.11.2026 14:05,"12,50",MUG-1,1,"12,50"\n'
                                     'E-2,3.11.2026,"7,50",TEA-1,1,"7,50"\n'
                                     'E-3,2026.11.04 09:30:15,"5,00",TEA-1,1,"5,00"\n').encode())
    assert placed(store_a) == {"E-1": datetime(2026, 11, 3, 14, 5), "E-2": datetime(2026, 11, 3),
                               "E-3": datetime(2026, 11, 4, 9, 30, 15)}  # 3 November, never 11 March


def test_a_shopify_export_with_dotted_dates_is_read_day_first(store_a, frozen_clock):
    shopify = ("Name,Financial Status,Paid at,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,"
               "Lineitem sku\n"
               '#1,paid,03.11.2026 14:06 +0100,"12,50",03.11.2026 14:05 +0100,1,Mug,"12,50",MUG-1\n')
    import_orders(store_a, shopify.encode())
    order = Order.objects.get()
    assert (order.placed_at, order.paid_at, order.total) == (
        datetime(2026, 11, 3, 13, 5, tzinfo=UTC), datetime(2026, 11, 3, 13, 6, tzinfo=UTC), Decimal("12.50"))


@pytest.mark.parametrize(("written", "why"), [
    ("31.02.2026 10:00", "'31.02.2026 10:00' is not a day on the calendar"),
    ("03.11.26 10:00", "'03.11.26 10:00' is not a date and time like 2026-11-24 18:42:07 or "
                       "2026-11-24T18:42:07+08:00"),
])
def test_a_dotted_date_that_is_no_day_is_refused_naming_the_line(store_a, frozen_clock, written, why):
    assert refusals(store_a, f"E-1,2026-11-02 10:00,5.00,MUG-1,1,5.00\nE-2,{written},5.00,MUG-1,1,5.00\n") == [
        (3, f"placed_at: {why}")]


def test_an_order_file_that_cannot_tell_its_decimal_mark_is_imported_with_the_mark_the_operator_states(store_a):
    errors = refusals(store_a, 'E-1,2026-11-24 10:00,"1,250",MUG-1,1,"1,250"\n')
    assert errors[0][1].endswith("or choose the decimal mark on the upload form")
    import_orders(store_a, (HEADER + 'E-1,2026-11-24 10:00,"1,250",MUG-1,1,"1,250"\n').encode(), mark=",")
    assert Order.objects.get().total == Decimal("1.25")
    import_orders(store_a, (HEADER + 'E-2,2026-11-24 10:00,"1,250",MUG-1,1,"1,250"\n').encode(), mark=".")
    assert Order.objects.get(external_id="E-2").total == Decimal("1250.00")


def test_a_stated_decimal_mark_the_file_contradicts_is_refused_naming_the_line(store_a):
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, (HEADER + 'E-1,2026-11-24 10:00,"1,250",MUG-1,1,"1,250"\n'
                                         'E-2,2026-11-24 11:00,7.50,TEA-1,1,7.50\n').encode(), mark=",")
    assert caught.value.errors == [
        (3, "total: 7.50 is written with a decimal point, but the upload says a decimal comma: check the decimal "
            "mark chosen on the upload form")]
    assert not Order.objects.exists()


def test_the_command_takes_the_decimal_mark_too(store_a, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + 'E-1,2026-11-24 10:00,"1,250",MUG-1,1,"1,250"\n')
    with pytest.raises(CommandError):
        call_command("import_csv", "orders", str(path), "--store", store_a.slug, stderr=StringIO())
    call_command("import_csv", "orders", str(path), "--store", store_a.slug, "--decimal-mark", "point",
                 stdout=StringIO())
    assert Order.objects.get().total == Decimal("1250.00")
