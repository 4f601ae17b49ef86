"""Violations against the model's limits: a CSV row or a typed record that cannot be stored is a named error
(every bad column of it), clear messages for a wrong file, and pages that read in the store's zone."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stores.models import Violation
from stores.violations_import import ViolationImportError, import_violations
from tests.factories import ViolationFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,kind,occurred_at,points,amount\n"
GOOD_ROW = "V-1,late,2026-11-25 10:00,1,10\n"


def import_errors(store, text) -> list[str]:
    with pytest.raises(ViolationImportError) as caught:
        import_violations(store, text)
    return [str(e) for e in caught.value.errors]


def test_an_amount_with_more_digits_than_the_money_column_is_a_row_error_and_nothing_is_saved(store_a):
    errors = import_errors(store_a, HEADER + GOOD_ROW + "V-993,late,2026-11-25 10:00,1,1000000000000000\n")
    assert errors == ["row 3, amount: 1000000000000000 has more than 14 digits, cents included"]
    assert Violation.objects.count() == 0


def test_points_beyond_an_integer_column_are_a_row_error(store_a):
    errors = import_errors(store_a, HEADER + "V-1,late,2026-11-25 10:00,99999999999,0\n")
    assert errors == ["row 2, points: 99999999999 is more than 2147483647"]


def test_an_id_longer_than_its_column_is_a_row_error_not_cut_short(store_a):
    errors = import_errors(store_a, HEADER + f"{'V' * 101},late,2026-11-25 10:00,1,0\n")
    assert errors == ["row 2, external_id: has 101 characters, more than 100"]


def test_every_bad_column_of_a_row_is_reported_in_one_upload(store_a):
    errors = import_errors(store_a, HEADER.replace("\n", ",status\n") + "V-3,,soon,-1,abc,closed\n")
    assert [e.split(":")[0] for e in errors] == [
        "row 2, kind", "row 2, occurred_at", "row 2, points", "row 2, amount", "row 2, status"]
    # One style for every row error: "column: what is wrong", the value named, lower case, no full stop.
    assert errors == [
        "row 2, kind: is empty", "row 2, occurred_at: use ISO 8601, e.g. 2026-11-05 or 2026-11-05T14:30",
        "row 2, points: -1 is negative", "row 2, amount: 'abc' is not an amount",
        "row 2, status: “closed” is not one of open, appealed, resolved"]


@time_machine.travel(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tick=False)
def test_a_penalty_dated_after_now_is_a_row_error_and_nothing_is_saved(store_a):
    errors = import_errors(store_a, HEADER + GOOD_ROW + "V-2,late,2027-11-25 10:00,1,10\n")
    assert [e.split(";")[0] for e in errors] == ["row 3, occurred_at: is in the future"]
    assert Violation.objects.count() == 0


@time_machine.travel(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tick=False)
def test_a_penalty_given_a_moment_ago_by_a_clock_running_ahead_is_taken(store_a):
    import_violations(store_a, HEADER + "V-1,late,2026-11-26T03:05:00+00:00,1,10\n")
    assert Violation.objects.count() == 1


def test_a_negative_amount_says_it_is_negative(store_a):
    assert import_errors(store_a, HEADER + "V-1,late,2026-11-25 10:00,1,-5\n") == ["row 2, amount: -5 is negative"]


def test_an_unparsable_time_shows_the_expected_format(store_a):
    (error,) = import_errors(store_a, HEADER + "V-1,late,25/11/2026 10h,1,0\n")
    assert error == "row 2, occurred_at: use ISO 8601, e.g. 2026-11-05 or 2026-11-05T14:30"


@pytest.mark.parametrize("separator, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_not_separated_by_commas_is_told_to_use_commas(store_a, separator, name):
    text = (HEADER + GOOD_ROW).replace(",", separator)
    assert import_errors(store_a, text) == [
        f"The file must be comma-separated; this one is separated by {name}. Save it as CSV with commas."]


def test_a_header_only_file_says_it_has_no_records(store_a):
    assert import_errors(store_a, HEADER) == ["The file has no records, only the header."]


def test_an_empty_file_says_it_is_empty_and_what_was_expected(store_a):
    assert import_errors(store_a, "") == [
        "The file is empty: expected a header row with external_id, kind, occurred_at, points, amount, then one "
        "row per record."]


def test_amounts_are_still_rounded_to_cents(store_a):
    # 12.345 alone could be a German twelve thousand: the file's 5.50 shows it uses a decimal point
    import_violations(store_a, HEADER + "V-1,late,2026-11-25 10:00,1,12.345\nV-2,late,2026-11-25 11:00,1,5.50\n")
    assert str(Violation.objects.get(external_id="V-1").amount) == "12.35"


# --- the entry page -------------------------------------------------------------------------------------------

def entry(client, store, **fields):
    record = {"external_id": "N-1", "kind": "Slow reply", "occurred_at": "2026-11-25T10:00", "points": 1,
              "amount": "0", "status": "open", "description": ""}
    return client.post(reverse("metrics:violation_entry", args=[store.slug]), {**record, **fields})


@time_machine.travel(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tick=False)
def test_a_future_time_on_the_entry_form_is_a_field_error(client_a, store_a):
    page = entry(client_a, store_a, occurred_at="2026-11-27T10:00")
    assert list(page.context["form"].errors) == ["occurred_at"]
    assert "Is in the future" in page.content.decode()
    assert Violation.objects.count() == 0


@pytest.mark.parametrize("field", ["amount", "points"])
def test_a_negative_number_on_the_entry_form_is_a_field_error(client_a, store_a, field):
    page = entry(client_a, store_a, **{field: "-1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Must be 0 or more." in html and "Constraint" not in html
    assert page.context["form"].errors == {field: ["Must be 0 or more."]}
    assert Violation.objects.count() == 0


@pytest.mark.parametrize("field, value", [("amount", "1000000000000000"), ("points", "99999999999")])
def test_a_number_too_big_to_store_is_a_field_error_on_the_entry_form(client_a, store_a, field, value):
    page = entry(client_a, store_a, **{field: value})
    assert page.status_code == 200
    assert list(page.context["form"].errors) == [field]
    assert Violation.objects.count() == 0


def test_upload_errors_come_before_the_one_record_form(client_a, store_a):
    bad = SimpleUploadedFile("v.csv", (HEADER + "V-1,late,2026-11-25 10:00,1,1000000000000000\n").encode())
    html = client_a.post(reverse("metrics:violation_entry", args=[store_a.slug]),
                         {"upload": "1", "file": bad}).content.decode()
    assert html.index("row 2, amount") < html.index('name="external_id"')


def test_the_entry_page_links_back_to_daily_tracking(client_a, store_a):
    html = client_a.get(reverse("metrics:violation_entry", args=[store_a.slug])).content.decode()
    assert f'href="{reverse("metrics:store_daily", args=[store_a.slug])}"' in html
    assert f'href="{reverse("stores:violations", args=[store_a.slug])}"' in html



def test_the_entry_forms_amount_names_the_stores_currency(client_a, store_a):
    html = client_a.get(reverse("metrics:violation_entry", args=[store_a.slug])).content.decode()
    assert re.search(r'<label for="id_amount"[^>]*>Amount \(CNY\)', html), html
    assert "Money deducted, in CNY" in html


# --- the list -------------------------------------------------------------------------------------------------

@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_the_list_shows_times_in_the_stores_zone_and_names_it(client_a, store_a):
    ViolationFactory(store=store_a, occurred_at=datetime(2026, 11, 25, 10, tzinfo=store_a.zone))
    html = client_a.get(reverse("stores:violations", args=[store_a.slug])).content.decode()
    assert "Wed 25 Nov 10:00" in html
    assert "02:00" not in html
    assert "Asia/Shanghai" in html


def test_the_list_names_each_records_platform_id_so_two_alike_are_told_apart(client_a, store_a):
    at = datetime(2026, 11, 25, 12, 15, tzinfo=store_a.zone)
    for ext in ("TM-88120", "TM-88121"):
        ViolationFactory(store=store_a, external_id=ext, kind="Late shipment", occurred_at=at)
    html = client_a.get(reverse("stores:violations", args=[store_a.slug])).content.decode()
    assert '<td data-label="Record id">TM-88120</td>' in html and '<td data-label="Record id">TM-88121</td>' in html
