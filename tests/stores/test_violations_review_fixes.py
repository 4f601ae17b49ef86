"""Violations after the operator's review: headers in any case, amounts with thousands commas, no silently
dropped cells, upload errors in one place, a paged list that links to the entry page, one name throughout,
and an import that writes in a few statements instead of several per row."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stores.importers import ImportRejected, import_violations_csv
from stores.models import Violation
from stores.violations_import import ViolationImportError, import_violations
from tests.factories import ProductFactory, ViolationFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,kind,occurred_at,points,amount\n"


def import_errors(store, text) -> list[str]:
    with pytest.raises(ViolationImportError) as caught:
        import_violations(store, text)
    return [str(e) for e in caught.value.errors]


def upload(client, store, content: bytes):
    return client.post(reverse("metrics:violation_entry", args=[store.slug]),
                       {"upload": "1", "file": SimpleUploadedFile("v.csv", content)})


def top_box(html: str) -> str:
    start = html.index('id="import-errors"')
    return html[start:html.index("</section>", start)]


# --- the file ---------------------------------------------------------------------------------------------------

def test_headers_are_read_whatever_their_case_and_surrounding_spaces(store_a):
    text = "\ufeff External_ID ,Kind,Occurred_At, POINTS ,Amount\nV-1,late,2026-11-25 10:00,1,10\n"
    assert import_violations(store_a, text).created == 1
    assert Violation.objects.get().external_id == "V-1"


def test_an_amount_with_commas_between_thousands_is_read_as_one_number(store_a):
    import_violations(store_a, HEADER + 'V-1,late,2026-11-25 10:00,1,"1,234.50"\n')
    assert Violation.objects.get().amount == Decimal("1234.50")


@pytest.mark.parametrize("amount", ["2,000", "2.000"])
def test_an_amount_either_decimal_mark_reads_differently_is_refused_not_guessed(store_a, amount):
    (error,) = import_errors(store_a, HEADER + f'V-1,late,2026-11-25 10:00,1,"{amount}"\n')
    assert error.startswith(f"row 2, amount: {amount} could be ")  # two, or two thousand
    assert "No other number in the file shows which" in error
    assert Violation.objects.count() == 0


def test_a_file_written_with_decimal_commas_is_read_as_meant(store_a):
    import_violations(store_a, HEADER + 'V-1,late,2026-11-25 10:00,1,"1.234,50"\n'
                                        'V-2,late,2026-11-25 11:00,1,"1,5"\n'
                                        'V-3,late,2026-11-25 12:00,1,"2.000"\n')
    assert dict(Violation.objects.values_list("external_id", "amount")) == {
        "V-1": Decimal("1234.50"), "V-2": Decimal("1.50"), "V-3": Decimal("2000.00")}


def test_a_file_mixing_decimal_points_and_commas_is_refused_naming_the_row(store_a):
    assert import_errors(store_a, HEADER + 'V-1,late,2026-11-25 10:00,1,12.50\n'
                                           'V-2,late,2026-11-25 11:00,1,"7,50"\n') == [
        "row 3, amount: 7,50 is written with a decimal comma, but 12.50 (row 2, amount) with a decimal point: "
        "export the file with one number format"]


def test_an_amount_with_commas_in_the_wrong_places_is_no_amount(store_a):
    (error,) = import_errors(store_a, HEADER + 'V-1,late,2026-11-25 10:00,1,"12,34.50"\n')
    assert error.startswith("row 2, amount:")
    assert Violation.objects.count() == 0


def test_a_row_with_more_cells_than_the_header_is_an_error_and_nothing_is_saved(store_a):
    text = (HEADER.replace("\n", ",status\n") + "V-1,late,2026-11-25 10:00,1,10,open\n"
            "V-2,late,2026-11-25 11:00,1,10,open,extra,cols\n")
    assert import_errors(store_a, text) == ["row 3: 2 more cells than the header has columns"]
    assert Violation.objects.count() == 0


def test_an_unclosed_quote_running_past_the_cell_limit_is_refused_naming_the_line(store_a):
    text = HEADER + "V-1,late,2026-11-25 10:00,1,10\n" + 'V-2,"late,2026-11-25 11:00,1,10\n' + "x" * 140_000
    (error,) = import_errors(store_a, text)
    assert error.startswith("row 3: unreadable CSV: field larger than field limit")
    assert Violation.objects.count() == 0


def test_a_header_the_csv_reader_cannot_read_is_refused_as_row_1(store_a):
    (error,) = import_errors(store_a, 'external_id,"kind' + "x" * 140_000)
    assert error.startswith("row 1: unreadable CSV: field larger than field limit")


def test_empty_cells_after_the_last_column_are_not_extra_cells(store_a):
    assert import_violations(store_a, HEADER + "V-1,late,2026-11-25 10:00,1,10,,\n").created == 1


def test_a_row_error_without_a_column_reads_plainly_from_the_import_command(store_a):
    with pytest.raises(ImportRejected) as caught:
        import_violations_csv(store_a, HEADER + "V-1,late,2026-11-25 10:00,1,10,extra\n")
    assert caught.value.errors == [(2, "1 more cell than the header has columns")]


def test_an_import_writes_in_a_few_statements_whatever_the_number_of_rows(store_a):
    day = datetime(2026, 11, 25, 10, tzinfo=store_a.zone)
    rows = [f"V-{i},late,{(day + timedelta(minutes=i)).isoformat()},1,10\n" for i in range(300)]
    import_violations(store_a, HEADER + "".join(rows[:150]))  # half of them are there already
    with CaptureQueriesContext(connection) as queries:
        result = import_violations(store_a, HEADER + "".join(rows))
    assert (result.created, result.updated) == (150, 150)
    assert len(queries) < 20


def test_a_reimport_without_product_sku_keeps_the_records_product(store_a):
    ProductFactory(store=store_a, sku="SKU-A")
    import_violations(store_a, HEADER.replace("\n", ",product_sku\n") + "V-1,late,2026-11-25 10:00,1,10,SKU-A\n")
    import_violations(store_a, HEADER + "V-1,later,2026-11-25 10:00,1,10\n")
    record = Violation.objects.get()
    assert (record.kind, record.product.sku) == ("later", "SKU-A")


# --- the entry page ---------------------------------------------------------------------------------------------

def test_an_upload_the_form_itself_refuses_is_reported_in_the_top_box_not_inside_the_form(client_a, store_a):
    html = upload(client_a, store_a, b"").content.decode()
    assert "empty" in top_box(html)
    assert html.count("empty") == 1  # once, in the box; not again beside the file field
    assert Violation.objects.count() == 0


def test_an_empty_upload_says_the_file_is_empty_in_the_words_of_the_other_upload_errors(client_a, store_a):
    assert "The file is empty: expected a header row" in top_box(upload(client_a, store_a, b"").content.decode())


def test_the_entry_page_is_called_record_or_import_violations_like_the_links_to_it(client_a, store_a):
    html = client_a.get(reverse("metrics:violation_entry", args=[store_a.slug])).content.decode()
    assert "<h1>Record / import violations</h1>" in html
    assert "penalty records" not in html


# --- the list ---------------------------------------------------------------------------------------------------

def test_the_list_links_to_the_entry_page_for_a_member_who_may_record(client_a, store_a):
    html = client_a.get(reverse("stores:violations", args=[store_a.slug])).content.decode()
    entry = reverse("metrics:violation_entry", args=[store_a.slug])
    assert f'<a href="{entry}">Record / import violations</a>' in html
    assert client_a.get(entry).status_code == 200  # an operator may record


def test_the_list_shows_100_a_page_and_its_page_links_keep_the_status_filter(client_a, store_a):
    start = datetime(2026, 11, 1, tzinfo=store_a.zone)
    Violation.objects.bulk_create([ViolationFactory.build(store=store_a, occurred_at=start + timedelta(hours=i))
                                   for i in range(150)])
    ViolationFactory(store=store_a, status="resolved", occurred_at=start)
    url = reverse("stores:violations", args=[store_a.slug])
    first = client_a.get(url, {"status": "open"})
    assert len(first.context["violations"]) == 100
    assert "150 violations open · page 1 of 2" in first.content.decode()
    assert 'href="?status=open&amp;page=2"' in first.content.decode()
    second = client_a.get(url, {"status": "open", "page": 2})
    assert len(second.context["violations"]) == 50
    assert second.context["violations"][49].occurred_at == start  # the oldest is there, not cut off


def test_a_header_alone_given_as_one_line_of_text_is_read_as_the_file(store_a):
    # A str is always the CSV's text, never a path (it was opened as one when it had no line break: no such file).
    with pytest.raises(ImportRejected) as caught:
        import_violations_csv(store_a, HEADER.rstrip("\n"))
    assert caught.value.errors == [(1, "The file has no records, only the header.")]
