"""CSV exports: text that a spreadsheet would run as a formula is written as text; numbers stay numbers."""

import csv
import io
from decimal import Decimal

import pytest

from opsdesk.spreadsheet import csv_writer


def _written(row) -> list[str]:
    out = io.StringIO()
    csv_writer(out).writerow(row)
    return next(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A2)",
                                  "\t=1+1", "\r=1+1", "-12.50", "+14*****0100", "+1415555010a", "+1+4155550100",
                                  "+123"])
def test_text_starting_like_a_formula_gets_a_leading_quote(text):
    assert _written([text]) == ["'" + text]


def test_ordinary_text_and_numbers_are_written_as_they_are():
    assert _written(["Green tea 250 g", "a=b", "", Decimal("-12.50"), -3, 4]) == [
        "Green tea 250 g", "a=b", "", "-12.50", "-3", "4"]


def test_a_whole_phone_number_is_written_as_it_is_for_an_audience_upload():
    assert _written(["+14155550100", "+8615897660856"]) == ["+14155550100", "+8615897660856"]
