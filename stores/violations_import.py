"""CSV import of platform penalty (violation) records: all or nothing, every bad column of every row named.

Columns (comma-separated, header row in any order and any case): external_id, kind, occurred_at, points,
amount, and optionally status (open/appealed/resolved; absent or empty: a new record is open, one already
there keeps its status), description, product_sku. `occurred_at` is ISO 8601, or
day first with dots as German and Russian exports write it (05.11.2026 14:30: `importers.DOTTED_DAY`), and
nothing else (05/11/2026 is 5 November to some and 11 May to others); without an offset it is read in the
store's zone, and refused when a DST change skips or repeats it there. Amounts are read in the file's locale
(1,234.50 or 1.234,50; `opsdesk.money.decimal_mark`), one either mark reads differently (2.000) only when the
file's other amounts settle it or the operator chose the mark on the upload form; a row with more cells than
the header is an error. Each row goes through
`ViolationRecordForm`, so it meets the Violation model's own limits (lengths, money digits, the integer
column's range, choices). Importing the same file again updates the same records (keyed by external_id), so
a retried import adds nothing. Store days that the nightly job already rolled up are rolled up again so their
violation numbers are current. A file over `VIOLATION_IMPORT_MAX_BYTES` or `VIOLATION_IMPORT_MAX_ROWS` is
refused before any row is checked, on the upload page and by `manage.py import_csv violations` alike (the
upload page checks the rows inside its request).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from opsdesk.money import MixedDecimalMarks, decimal_mark, parse_decimal, readings, to_money

from .importers import (
    BadValue,
    NotATime,
    ReportProgress,
    RowsWritten,
    no_progress,
    parse_time,
    too_large,
    too_many,
)
from .models import Store, Violation, ViolationStatus

REQUIRED = ["external_id", "kind", "occurred_at", "points", "amount"]
OPTIONAL = ["status", "description", "product_sku"]
TIME_EXAMPLE = "2026-11-25 10:00 (store time) or 2026-11-25T10:00:00+08:00"
NOT_ISO = "use ISO 8601, e.g. 2026-11-05 or 2026-11-05T14:30"
EMPTY_FILE = f"The file is empty: expected a header row with {', '.join(REQUIRED)}, then one row per record."
BATCH = 1000  # rows per INSERT … ON CONFLICT, and external ids per lookup (SQLite caps a query's parameters)


class ViolationRecordForm(forms.ModelForm):
    """One penalty record checked against the Violation model's limits: the CSV import runs it on every
    row and the entry page's form builds on it. A time without an offset is read in `store`'s zone."""

    # Parsed by clean_occurred_at alone: Django's DateTimeField would also take 05/11/2026 as 11 May.
    occurred_at = forms.CharField(help_text="ISO 8601: 2026-11-05, 2026-11-05T14:30 or 2026-11-05T14:30+08:00.")

    class Meta:
        model = Violation
        fields = ["external_id", "kind", "occurred_at", "points", "amount", "status", "description"]
        error_messages = {
            "points": {"min_value": "Must be 0 or more."},
            "amount": {"min_value": "Must be 0 or more."},
            "status": {"invalid_choice": f"“%(value)s” is not one of {', '.join(ViolationStatus.values)}."},
        }

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store
        # The database's check constraint keeps amounts ≥ 0: say so on the field, not as "Constraint … violated".
        amount = self.fields["amount"]
        amount.validators.append(MinValueValidator(0))
        amount.widget.attrs["min"] = "0"
        # SQLite (the demo) takes 64-bit integers where the other backends' column holds 32 bits: check the
        # portable range, so what the demo accepts fits production's column too.
        points = self.fields["points"]
        limit = BaseDatabaseOperations.integer_field_ranges[Violation._meta.get_field("points").get_internal_type()]
        points.validators.append(MaxValueValidator(limit[1]))
        points.widget.attrs["max"] = str(limit[1])

    def _get_validation_exclusions(self):
        # Django checks the amount's database constraint with one SELECT per form, which made a 20 000-row
        # import wait on 20 000 round trips; the MinValueValidator above already says what it says.
        return super()._get_validation_exclusions() | {"amount"}

    def clean_occurred_at(self) -> datetime:
        try:
            value = parse_time(self.cleaned_data["occurred_at"], self.store)
        except NotATime:
            raise forms.ValidationError(NOT_ISO) from None
        except BadValue as exc:  # skipped or repeated by a DST change, or off the calendar
            raise forms.ValidationError(f"{exc}.") from None
        # A penalty not yet given is a typo (2027 for 2026): it would sit atop the list and in every morning
        # email's open violations. Ten minutes allow for the platform's clock running ahead of ours.
        if value > timezone.now() + timedelta(minutes=10):
            raise forms.ValidationError(f"Is in the future; write when the platform gave it, like {TIME_EXAMPLE}.")
        return value


@dataclass(frozen=True)
class RowError:
    row: int | None  # 1-based line number in the file (the header is row 1); None for the whole file
    column: str
    reason: str

    @property
    def message(self) -> str:
        """The error without its row number: "column: reason", or the reason alone for a whole row or file."""
        return f"{self.column}: {self.reason}" if self.column else self.reason

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"row {self.row}, {self.message}" if self.column else f"row {self.row}: {self.message}"


class ViolationImportError(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:20]) + (" …" if len(errors) > 20 else ""))


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    refreshed: list[date]  # store-local days whose daily numbers were rolled up again


def _money_text(text: str, mark: str | None) -> str:
    """The amount rounded to cents like every money value, read under the file's decimal `mark`
    (`opsdesk.money.parse_decimal`); left as typed when it is no number (the form says so). One that either
    mark reads differently (2.000: two, or two thousand?) raises ValidationError saying so."""
    if not readings(text):
        return text
    try:
        return str(to_money(parse_decimal(text, mark)))
    except ValueError as exc:
        raise forms.ValidationError(f"{exc}.") from None


# Row errors read as the order importer's: "column: what is wrong with the value", in lower case, without a full
# stop, naming the value where it helps. The entry page's form keeps Django's sentences under each field.
ROW_REASONS = {
    "required": "is empty",
    "min_value": "{value} is negative",  # both number columns' limit is 0
    "max_value": "{value} is more than {limit_value}",
    "max_length": "has {show_value} characters, more than {limit_value}",
    "max_digits": "{value} has more than {max} digits, cents included",
    "max_whole_digits": "{value} has more than {max} digits before the decimal point",
    "max_decimal_places": "{value} has more than {max} digits after the decimal point",
}
NOT_A_NUMBER = {"points": "{value!r} is not a whole number", "amount": "{value!r} is not an amount"}


def _row_reason(message: str, error: forms.ValidationError | None = None, column: str = "", value: str = "") -> str:
    """A form's error `message` for `column`'s `value` in the row errors' style (ROW_REASONS); any other message
    lower-cased, its full stop dropped ("Is in the future; …" → "is in the future; …")."""
    code = error.code if error is not None else None
    template = NOT_A_NUMBER.get(column) if code == "invalid" else ROW_REASONS.get(code)
    if template:
        return template.format(**{**(error.params or {}), "value": value})  # the value as the file wrote it
    message = message.rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    return message


def _parse_row(store: Store, row: dict, line: int, skus: dict, mark: str | None = None
               ) -> tuple[dict, list[RowError]]:
    """The row's values for a Violation, and one error for every bad column (all of them, not the first)."""
    data = {column: (row.get(column) or "").strip() for column in ViolationRecordForm.Meta.fields}
    status_given = bool(data["status"])
    data["status"] = data["status"].lower() or ViolationStatus.OPEN
    amount_error = None
    try:
        data["amount"] = _money_text(data["amount"], mark)
    except forms.ValidationError as exc:
        amount_error = exc.message  # the form's own "Enter a number." would not say why
    form = ViolationRecordForm(data, store=store)
    form.is_valid()
    errors = [
        RowError(line, column if column in data else "row",
                 _row_reason(amount_error) if column == "amount" and amount_error else
                 _row_reason(message, error, column, (row.get(column) or "").strip()))
        for column, column_errors in form.errors.as_data().items()
        for error in column_errors
        for message in error.messages
    ]
    extra = row.get(None) or []  # DictReader's bin for cells beyond the header
    if any(cell.strip() for cell in extra):
        errors.append(RowError(line, "", f"{len(extra)} more cell{'s' * (len(extra) > 1)} than the header has "
                                         "columns"))
    values = dict(form.cleaned_data)
    if not status_given:  # a new record is open; one already there keeps the status somebody gave it
        values["status_given"] = False
    sku = (row.get("product_sku") or "").strip()
    if sku:
        if sku not in skus:
            errors.append(RowError(line, "product_sku", f"no product {sku!r} in {store.slug}"))
        values["product_id"] = skus.get(sku)
    return values, errors


def _other_separator(header_line: str) -> str | None:
    """'semicolons' or 'tabs' when the header is split by one of those rather than by commas."""
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if separator in header_line and header_line.count(separator) >= header_line.count(","):
            return name
    return None


def _read_header(text: str) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise ViolationImportError([RowError(None, "", EMPTY_FILE)])
    missing = [c for c in REQUIRED if c not in header]
    separator = _other_separator(text.splitlines()[0]) if missing else None
    if separator:
        raise ViolationImportError([RowError(None, "", f"The file must be comma-separated; this one is "
                                                       f"separated by {separator}. Save it as CSV with commas.")])
    if missing:
        raise ViolationImportError([RowError(1, c, "column missing from the header") for c in missing])
    reader.fieldnames = header
    return reader


def too_big(size: int) -> str | None:
    """Why a file of `size` bytes is refused unread, or None when it is small enough."""
    return too_large(size, settings.VIOLATION_IMPORT_MAX_BYTES)


def _read_rows(text: str) -> list[tuple[int, dict]]:
    """(line, row) for every record, once the file is known to be small enough to check row by row."""
    refusal = too_big(len(text.encode()))
    if refusal:
        raise ViolationImportError([RowError(None, "", refusal)])
    reader, rows = None, []  # splitting cells is quick; the checks per row are what take time
    try:
        reader = _read_header(text.lstrip("\ufeff"))
        rows.extend(enumerate(reader, start=2))
    except csv.Error as exc:  # e.g. an unclosed quote running on past the reader's cell size limit
        line = len(rows) + 2 if reader is not None else 1  # the row after the last one read, or the header
        raise ViolationImportError([RowError(line, "", f"unreadable CSV: {exc}")]) from None
    if refusal := too_many(len(rows), settings.VIOLATION_IMPORT_MAX_ROWS, "records"):
        raise ViolationImportError([RowError(None, "", refusal)])
    return rows


def import_violations(store: Store, text: str, mark: str | None = None,
                      progress: ReportProgress = no_progress) -> ImportResult:
    """Import the CSV text for `store`, its amounts with the decimal `mark` chosen on the upload form ("," or
    "."; None: the file's own); raises ViolationImportError (nothing saved) on any bad row, an amount only the
    other mark reads, or a file over the size limits. `progress` is told how far it got, as an order import's."""
    rows = _read_rows(text)
    progress("checking", 0, len(rows))
    skus = dict(store.products.values_list("sku", "pk"))
    try:
        mark = decimal_mark(((line, "amount", row.get("amount") or "") for line, row in rows), mark)
    except MixedDecimalMarks as exc:
        raise ViolationImportError([RowError(exc.row, exc.column, str(exc))]) from None
    parsed, errors, seen = [], [], {}
    for line, row in rows:
        # Postgres text cannot hold NUL: name those columns instead of their other faults.
        nul = [c for c, v in row.items() if c and "\x00" in (v or "")]
        values, row_errors = _parse_row(store, row, line, skus, mark)
        row_errors = [RowError(line, c, "contains a NUL character") for c in nul] + [
            e for e in row_errors if e.column not in nul]
        ext = values.get("external_id")
        if ext and ext in seen:
            row_errors.append(RowError(line, "external_id", f"{ext!r} repeats row {seen[ext]}"))
        elif ext:
            seen[ext] = line
        errors.extend(row_errors)
        parsed.append(values)
    if errors:
        raise ViolationImportError(errors)
    if not parsed:
        raise ViolationImportError([RowError(None, "", "The file has no records, only the header.")])
    from metrics.rollup import refresh_days  # metrics builds on stores, not the other way round

    with transaction.atomic():
        ids = [v["external_id"] for v in parsed]
        before = {}  # external_id → (occurred_at, status) of the records already there
        for at in range(0, len(ids), BATCH):
            before.update((ext, (when, status)) for ext, when, status in store.violations.filter(
                external_id__in=ids[at:at + BATCH]).values_list("external_id", "occurred_at", "status"))
        # A record moved to another day leaves the old one.
        days = {store.today(when) for when, _ in before.values()}
        days.update(store.today(v["occurred_at"]) for v in parsed)
        _save(store, parsed, RowsWritten(progress, len(rows)))
        # A status the file changes is dated now and named to nobody: the last hand change's name would be false.
        restated = [v["external_id"] for v in parsed if v.get("status_given", True)
                    and v["external_id"] in before and before[v["external_id"]][1] != v["status"]]
        for at in range(0, len(restated), BATCH):
            store.violations.filter(external_id__in=restated[at:at + BATCH]).update(
                status_changed_at=timezone.now(), status_changed_by=None)
        progress("rolling up", len(rows), len(rows))
        refreshed = refresh_days(store, days)
    updated = sum(ext in before for ext in ids)
    return ImportResult(len(parsed) - updated, updated, refreshed)


def _save(store: Store, parsed: list[dict], written: RowsWritten) -> None:
    """Insert the new records and update those already there (same store and external_id) in a few
    INSERT … ON CONFLICT statements. A row without product_sku leaves a record's product as it was, and
    one without a status its status (a file without the column does not reopen resolved penalties)."""
    fields = [f for f in ViolationRecordForm.Meta.fields if f != "external_id"]
    for with_product in (False, True):
        for with_status in (False, True):
            rows = [Violation(store=store, **{k: x for k, x in v.items() if k != "status_given"}) for v in parsed
                    if ("product_id" in v) == with_product and v.get("status_given", True) == with_status]
            for batch in written.batches(rows, BATCH):
                Violation.objects.bulk_create(
                    batch, update_conflicts=True, unique_fields=["store", "external_id"],
                    update_fields=[f for f in fields if with_status or f != "status"] + ["product"] * with_product)
