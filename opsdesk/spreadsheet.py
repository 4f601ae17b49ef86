"""CSV files for operators to download: safe to open in Excel, LibreOffice or Google Sheets.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula, so a
review title or product name like `=HYPERLINK(...)` would run on the operator's machine (OWASP "CSV
Injection"). Every export writes through `csv_writer`, which gives such text a leading single quote;
numbers our code writes (ints, Decimals) pass as they are, so -12.50 stays a number. A whole phone number in
E.164 (`+` and digits only) passes too: it can compute nothing, and a quote before it would spoil the file for
what a manager downloads it for (a custom-audience upload takes `+14155550100`, not `'+14155550100`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def spreadsheet_text(value: str) -> str:
    """The text as a spreadsheet shows it, never runs it: a leading single quote when it starts like a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) and not E164.fullmatch(value) else value


class SpreadsheetCsvWriter:
    """`csv.writer` whose text cells cannot become formulas; non-text cells (numbers) are written as given."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([spreadsheet_text(v) if isinstance(v, str) else v for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> SpreadsheetCsvWriter:
    """The writer every CSV export uses (see the module's docstring)."""
    return SpreadsheetCsvWriter(stream, **kwargs)
