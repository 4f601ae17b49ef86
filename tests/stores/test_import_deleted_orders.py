"""An order Shopify deleted stays deleted: an older order file that still holds it (opsdesk's columns or Shopify's
export) skips it, imports the rest and says which it skipped."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from stores.importers import import_orders
from stores.models import Order
from stores.orders import delete_order

pytestmark = pytest.mark.django_db
SHOPIFY_CSV = Path(__file__).parent / "fixtures" / "shopify_orders_export.csv"
DELETED_AT = datetime(2026, 11, 27, 12, tzinfo=UTC)  # Fri 27 Nov, in Los Angeles and in Shanghai

OPSDESK_CSV = """\
order_id,order_name,placed_at,paid_at,total,sku,title,quantity,unit_price
T-1,WEB-1,2026-11-24 10:00:00,2026-11-24 10:01:30,25.00,MUG-1,Mug,1,25.00
T-2,,2026-11-24 12:00:00,2026-11-24 12:05:00,25.00,MUG-1,Mug,1,25.00
"""


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False):
        yield


def deleted_on_friday(store, *external_ids):
    with time_machine.travel(DELETED_AT, tick=False):
        for external_id in external_ids:
            delete_order(store, external_id)


def test_an_older_file_does_not_bring_back_an_order_deleted_since(store_a):
    import_orders(store_a, OPSDESK_CSV)
    deleted_on_friday(store_a, "T-1")
    result = import_orders(store_a, OPSDESK_CSV)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T-2"]
    assert (result.created, result.duplicates) == (0, 1)
    assert result.summary().endswith("1 order skipped: deleted on Shopify on Fri 27 Nov (WEB-1).")


def test_the_rest_of_the_file_is_imported_and_the_command_says_what_it_skipped(store_a, tmp_path, capsys):
    deleted_on_friday(store_a, "T-1", "T-2")
    text = OPSDESK_CSV + "T-3,,2026-11-24 13:00:00,2026-11-24 13:05:00,25.00,MUG-1,Mug,1,25.00\n"
    path = tmp_path / "orders.csv"
    path.write_text(text)
    call_command("import_csv", "orders", str(path), "--store", store_a.slug)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T-3"]
    out = capsys.readouterr().out
    assert "1 created, 0 already there" in out
    assert "2 orders skipped: deleted on Shopify on Fri 27 Nov (WEB-1, #T-2)." in out


def test_shopifys_export_skips_an_order_its_webhook_deleted(shop):
    deleted_on_friday(shop, "5827361900001")  # #1041's id, as orders/delete names it
    result = import_orders(shop, SHOPIFY_CSV)
    assert list(Order.objects.values_list("name", flat=True)) == ["#1043"]
    assert result.created == 1
    assert "1 order skipped: deleted on Shopify on Fri 27 Nov (#1041)." in result.summary()


def test_a_file_without_deleted_orders_says_nothing_of_them(store_a):
    result = import_orders(store_a, OPSDESK_CSV)
    assert result.created == 2
    assert "skipped" not in result.summary()


def test_a_store_with_more_deleted_orders_than_the_file_holds_skips_only_the_files(store_a):
    deleted_on_friday(store_a, "T-1", "X-1", "X-2")  # more than the file's two orders: looked up by the file's ids
    result = import_orders(store_a, OPSDESK_CSV)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T-2"]
    assert result.summary().endswith("1 order skipped: deleted on Shopify on Fri 27 Nov (WEB-1).")
