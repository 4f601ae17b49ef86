"""Violation times in ISO 8601 only (05/11/2026 is a guess between May and November), local times a DST change
skips or repeats refused, and upload limits: a file too big is refused before its rows are checked, and a
refused file's page lists its first errors only."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stores.models import ImportJob, Violation
from stores.tasks import run_import
from stores.violations_import import ViolationImportError, import_violations
from tests.factories import MembershipFactory, UserFactory
from tests.metrics.test_violations_checks import HEADER, import_errors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    """A late-November "now": every time below is in the past, as a penalty's must be."""
    with time_machine.travel(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tick=False):
        yield


NOT_ISO = "use ISO 8601, e.g. 2026-11-05 or 2026-11-05T14:30"


def entry_page(client, store):
    return reverse("metrics:violation_entry", args=[store.slug])


# --- ISO 8601 only ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["05/11/2026", "05/11/2026 14:30", "11/05/2026", "5 Nov 2026", "2026/11/05"])
def test_a_date_not_in_iso_8601_is_refused_and_nothing_is_stored(store_a, written):
    errors = import_errors(store_a, HEADER + "V-1,late,2026-11-05,1,0\n" + f"V-2,late,{written},1,0\n")
    assert errors == [f"row 3, occurred_at: {NOT_ISO}"]
    assert Violation.objects.count() == 0


@pytest.mark.parametrize(
    "written, local",
    [
        ("2026-11-05", datetime(2026, 11, 5)),
        ("2026-11-05T14:30", datetime(2026, 11, 5, 14, 30)),
        ("2026-11-05 14:30:15", datetime(2026, 11, 5, 14, 30, 15)),
        ("2026-11-05T14:30+08:00", datetime(2026, 11, 5, 14, 30)),
        ("2026-11-05T06:30Z", datetime(2026, 11, 5, 14, 30)),
        # As German, Austrian, Swiss and Russian exports write them: day first, whatever the numbers.
        ("05.11.2026", datetime(2026, 11, 5)),
        ("05.11.2026 14:30", datetime(2026, 11, 5, 14, 30)),
        ("5.11.2026 14:30:15", datetime(2026, 11, 5, 14, 30, 15)),
        ("2026.11.05 14:30", datetime(2026, 11, 5, 14, 30)),
    ],
)
def test_iso_dates_and_times_are_read_in_the_stores_zone_unless_they_carry_an_offset(store_a, written, local):
    import_violations(store_a, HEADER + f"V-1,late,{written},1,0\n")
    assert Violation.objects.get().occurred_at == local.replace(tzinfo=store_a.zone)


def test_a_us_style_date_typed_on_the_entry_form_is_a_field_error(client_a, store_a):
    page = client_a.post(
        entry_page(client_a, store_a),
        {
            "external_id": "N-1",
            "kind": "Slow reply",
            "occurred_at": "05/11/2026",
            "points": 1,
            "amount": "0",
            "status": "open",
        },
    )
    assert page.context["form"].errors == {"occurred_at": [NOT_ISO]}
    assert Violation.objects.count() == 0


def test_the_entry_forms_date_time_picker_value_is_store_time(client_a, store_a):
    client_a.post(
        entry_page(client_a, store_a),
        {
            "external_id": "N-1",
            "kind": "Slow reply",
            "occurred_at": "2026-11-05T14:30",
            "points": 1,
            "amount": "0",
            "status": "open",
        },
    )
    assert Violation.objects.get().occurred_at == datetime(2026, 11, 5, 14, 30, tzinfo=store_a.zone)


# --- clock changes (store B is in America/Los_Angeles) ------------------------------------------------------------


def test_a_local_time_the_clocks_skip_is_refused_with_the_reason(store_b):
    (error,) = import_errors(store_b, HEADER + "V-1,late,2026-03-08 02:30,1,0\n")
    assert error.startswith("row 2, occurred_at: '2026-03-08 02:30' does not exist in America/Los_Angeles")
    assert Violation.objects.count() == 0


def test_a_local_time_the_clocks_show_twice_is_refused_naming_both_offsets(store_b):
    (error,) = import_errors(store_b, HEADER + "V-1,late,2026-11-01T01:30,1,0\n")
    assert error.startswith("row 2, occurred_at: '2026-11-01T01:30' happens twice in America/Los_Angeles")
    assert "-07:00 for the first or -08:00 for the second" in error


def test_a_repeated_local_time_with_its_offset_is_taken(store_b):
    import_violations(store_b, HEADER + "V-1,late,2026-11-01T01:30-08:00,1,0\n")
    assert Violation.objects.get().occurred_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_a_skipped_local_time_typed_on_the_entry_form_is_a_field_error(client, store_b):
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b")).user)
    page = client.post(
        entry_page(client, store_b),
        {
            "external_id": "N-1",
            "kind": "Slow reply",
            "occurred_at": "2026-03-08T02:30",
            "points": 1,
            "amount": "0",
            "status": "open",
        },
    )
    (error,) = page.context["form"].errors["occurred_at"]
    assert "does not exist in America/Los_Angeles" in error
    assert Violation.objects.count() == 0


# --- size limits --------------------------------------------------------------------------------------------------


def test_a_file_with_more_rows_than_the_limit_is_refused_before_any_row_is_checked(store_a):
    # Every row is bad: had the rows been checked there would be thousands of errors, not this one.
    rows = "".join(f"V-{i},,05/11/2026,-1,x\n" for i in range(5001))
    assert import_errors(store_a, HEADER + rows) == [
        "The file has 5,001 records; import at most 5,000 at a time: split it into smaller files."
    ]
    assert Violation.objects.count() == 0


def test_the_row_limit_is_a_setting(store_a, settings):
    settings.VIOLATION_IMPORT_MAX_ROWS = 2
    rows = "".join(f"V-{i},late,2026-11-05,1,0\n" for i in range(3))
    assert import_errors(store_a, HEADER + rows)[0].startswith("The file has 3 records; import at most 2 at a time")
    assert import_violations(store_a, HEADER + rows[: rows.index("V-2")]).created == 2


def test_a_file_over_the_byte_limit_is_refused_on_upload_and_from_the_importer(client_a, store_a):
    big = HEADER + "V-1,late,2026-11-05,1,0," + "x" * (2 * 2**20) + "\n"
    assert import_errors(store_a, big) == [
        "The file is 2.0 MB; import at most 2 MB at a time: split it into smaller files."
    ]
    page = client_a.post(
        entry_page(client_a, store_a), {"upload": "1", "file": SimpleUploadedFile("v.csv", big.encode())}
    )
    assert "import at most 2 MB at a time" in page.content.decode()
    assert Violation.objects.count() == 0


def test_a_refused_upload_shows_its_first_200_errors_and_how_many_there_were(client_a, store_a):
    rows = "".join(f"V-{i},,2026-11-05,1,0\n" for i in range(250))  # kind is empty on every row
    page = client_a.post(
        entry_page(client_a, store_a), {"upload": "1", "file": SimpleUploadedFile("v.csv", (HEADER + rows).encode())}
    )
    html = page.content.decode()
    assert "showing the first 200 of 250 errors" in html
    assert "row 201, kind: is empty" in html and "row 202, kind: is empty" not in html
    assert Violation.objects.count() == 0


def test_the_generic_import_page_caps_its_error_list_too(client_a, store_a):
    rows = "".join(f"V-{i},,2026-11-05,1,0\n" for i in range(250))
    page = client_a.post(
        reverse("stores:import", args=[store_a.slug]),
        {"kind": "violations", "file": SimpleUploadedFile("v.csv", (HEADER + rows).encode())},
    )
    run_import(ImportJob.objects.get(store=store_a).pk)  # the worker's task, here in the test's process
    html = client_a.get(page["Location"]).content.decode()
    assert "Nothing was imported: 250 problems" in html and "Showing the first 200 of 250 errors." in html
    assert html.count("kind: is empty") == 200


# --- the decimal mark the operator states -----------------------------------------------------------------------

def test_a_file_whose_amounts_either_mark_reads_is_imported_with_the_mark_chosen_on_the_entry_page(client_a,
                                                                                                  store_a):
    text = HEADER + 'V-1,late,05.11.2026 14:30,1,"1.250"\nV-2,late,06.11.2026,1,"2.500"\n'
    page = client_a.post(entry_page(client_a, store_a),
                         {"upload": "1", "file": SimpleUploadedFile("v.csv", text.encode())})
    assert "choose the decimal mark on the upload form" in page.content.decode()
    assert Violation.objects.count() == 0
    page = client_a.post(entry_page(client_a, store_a),
                         {"upload": "1", "mark": ",", "file": SimpleUploadedFile("v.csv", text.encode())})
    assert page.status_code == 302
    assert dict(Violation.objects.values_list("external_id", "amount")) == {"V-1": 1250, "V-2": 2500}


def test_a_stated_mark_the_file_contradicts_is_refused_naming_the_row(store_a):
    with pytest.raises(ViolationImportError) as caught:
        import_violations(store_a, HEADER + 'V-1,late,2026-11-05,1,"1,250"\nV-2,late,2026-11-05,1,"7,5"\n', mark=".")
    assert [str(e) for e in caught.value.errors] == [
        "row 3, amount: 7,5 is written with a decimal comma, but the upload says a decimal point: check the "
        "decimal mark chosen on the upload form"]
    assert Violation.objects.count() == 0


def test_the_entry_page_offers_the_decimal_mark_its_refusal_asks_for_and_keeps_the_choice(client_a, store_a):
    text = HEADER + 'V-1,late,2026-11-05,1,"1,250"\nV-2,late,2026-11-05,1,"7,5"\n'
    page = client_a.post(entry_page(client_a, store_a),
                         {"upload": "1", "mark": ".", "file": SimpleUploadedFile("v.csv", text.encode())})
    html = page.content.decode()
    assert "check the decimal mark chosen on the upload form" in html
    upload_form = html[html.index('enctype="multipart/form-data"'):]
    upload_form = upload_form[:upload_form.index("</form>")]
    assert '<select name="mark"' in upload_form
    assert '<option value="." selected>Point (1,234.50)</option>' in upload_form
