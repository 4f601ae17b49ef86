"""Violation CSV import: all or nothing, every bad row named, re-import updates instead of duplicating."""

import io
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

from stores.models import Violation
from stores.violations_import import ViolationImportError, import_violations
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GOOD = """external_id,kind,occurred_at,points,amount,status,description,product_sku
V-1,Late shipment,2026-05-04 10:00,2,0,open,Shipped after 72 h,
V-2,Misleading description,2026-05-04T12:00:00+00:00,6,200.00,appealed,,SKU-A
"""


def test_import_reads_store_local_times_products_and_is_idempotent(store_a):
    ProductFactory(store=store_a, sku="SKU-A")
    assert import_violations(store_a, GOOD).created == 2
    v1 = Violation.objects.get(external_id="V-1")
    assert v1.occurred_at == datetime(2026, 5, 4, 10, tzinfo=store_a.zone)
    assert Violation.objects.get(external_id="V-2").product.sku == "SKU-A"
    again = import_violations(store_a, GOOD.replace("Shipped after 72 h", "Shipped after 80 h"))
    assert (again.created, again.updated) == (0, 2)
    assert Violation.objects.count() == 2
    assert Violation.objects.get(external_id="V-1").description == "Shipped after 80 h"


def test_one_bad_row_saves_nothing_and_every_error_is_named(store_a):
    bad = GOOD + "V-3,,yesterday,-1,abc,closed,,NOPE\nV-1,Dup,2026-05-04 10:00,1,0,,,\n"
    with pytest.raises(ViolationImportError) as caught:
        import_violations(store_a, bad)
    text = [str(e) for e in caught.value.errors]
    assert "row 4, kind: is empty" in text
    assert "row 5, external_id: 'V-1' repeats row 2" in text
    assert any(t.startswith("row 3, product_sku") for t in text)  # SKU-A does not exist in this store
    assert Violation.objects.count() == 0


def test_a_nul_character_is_a_named_row_error_not_a_server_error(store_a):
    ProductFactory(store=store_a, sku="SKU-A")
    with pytest.raises(ViolationImportError) as caught:
        import_violations(store_a, GOOD.replace("Shipped after", "Shipped\x00after"))
    assert [str(e) for e in caught.value.errors] == ["row 2, description: contains a NUL character"]
    assert Violation.objects.count() == 0


def test_command_reports_missing_columns_and_imports(store_a, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("external_id,kind\nV-1,x\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_csv", "violations", str(path), "--store", store_a.slug, stderr=err)
    assert "row 1: occurred_at: column missing from the header" in err.getvalue()
    path.write_text(GOOD.replace(",SKU-A", ","))
    call_command("import_csv", "violations", str(path), "--store", store_a.slug, stdout=io.StringIO())
    assert Violation.objects.filter(store=store_a).count() == 2
    with pytest.raises(CommandError, match="No store"):
        call_command("import_csv", "violations", str(path), "--store", "nope")
