"""CSV importers: all or nothing, every bad row named, safe to run twice on the same file.

The pattern every importer follows (other apps add theirs in `<app>/importers.py`):

- a function `import_<kind>(store, source) -> ImportResult`, where `source` is a `pathlib.Path`, an open
  file (an upload), bytes, or a `str`, which is always the CSV text itself, never a path; it reads every row
  first and raises `ImportRejected([(row, message), ...])` naming every bad row (row 1 is the header, as in
  a spreadsheet) before writing anything;
- then it writes inside one `transaction.atomic()` and counts what it created and what was already
  there (unique constraints, not luck, keep a re-import from adding anything twice);
- a module-level `IMPORTERS = {"<kind>": import_<kind>}`; `importers()` collects them from every
  installed app for `manage.py import_csv` and the upload page.

Orders come in two formats, told apart by the header: opsdesk's own columns (ORDER_COLUMNS) and
Shopify's order export (one row per line item; see docs/ingest.md). An order file over `ORDER_IMPORT_MAX_BYTES`
or `ORDER_IMPORT_MAX_ROWS` is refused whole before any row is checked (the upload page imports inside the
request); its size is known before a byte of it is read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsdesk.money import (
    CURRENCY_SIGN,
    MAX_COUNT,
    MAX_MONEY,
    TOO_LARGE_COUNT,
    TOO_LARGE_MONEY,
    MixedDecimalMarks,
    decimal_mark,
    foreign_sign_error,
    parse_decimal,
    readings,
    to_money,
)
from opsdesk.privacy import mask_phone

from . import shopify
from .models import Order, OrderStatus, PaymentType, Store, TrafficSource
from .orders import (
    MAX_DISCOUNT_CODE,
    LineData,
    OrderData,
    OrderRefused,
    PaymentData,
    create_orders,
    deleted_orders,
    fulfil_orders,
    fulfils_only,
    hold_deletions,
    limit_problems,
    line_refund_problems,
    moves_forward,
    products_by_sku,
    record_order,
    skipped_note,
)


@dataclass
class ImportResult:
    kind: str
    format: str
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    details: dict[str, int] = field(default_factory=dict)
    refreshed: list[date] = field(default_factory=list)  # store-local days whose daily numbers were redone
    notes: list[str] = field(default_factory=list)  # what the operator should know about rows imported as given

    def summary(self) -> str:
        from metrics.rollup import refreshed_note  # metrics builds on stores, not the other way round

        # Counts as the pages write them ("20,000", as the job's progress line does); the details are named in the
        # plural ("new products"), their last "s" dropped for one.
        extra = "".join(f", {n:,} {what if n != 1 else what.removesuffix('s')}" for what, n in self.details.items())
        return (f"{self.kind} ({self.format}): {self.rows:,} row{'' if self.rows == 1 else 's'}, {self.created:,} "
                f"created, {self.duplicates:,} already there{extra}.{refreshed_note(self.refreshed)}"
                + "".join(f" {note}" for note in self.notes))


@dataclass
class ImportedAs(ImportResult):
    """The result of an importer with its own words for what it did (`said`): an ad report's days are replaced,
    not "already there"; a review file opens cases and names the rows it could not link."""

    said: str = ""

    def summary(self) -> str:
        return f"{self.kind} ({self.format}): {self.said}"


class ImportRejected(Exception):
    """Nothing was imported; `errors` holds (row number, message) for every problem found."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = sorted(errors, key=lambda e: e[0])
        super().__init__(f"{len(self.errors)} problem(s); nothing was imported. "
                         + "; ".join(f"row {row}: {msg}" for row, msg in self.errors[:5]))


def source_size(source) -> int | None:
    """The size in bytes of a CSV given as a path, text, bytes or an upload, known without reading it;
    None for an open file that does not say."""
    if isinstance(source, Path):
        return source.stat().st_size
    if isinstance(source, bytes | str):  # a str is the CSV itself, never a path
        return len(source.encode() if isinstance(source, str) else source)
    return getattr(source, "size", None)


def size_text(size: int, *, limit: bool = False) -> str:
    """'8 MB' for a limit, '50.3 MB' for a file; bytes below a megabyte."""
    if size < 2**20:
        return f"{size:,} bytes"
    return f"{size / 2**20:g} MB" if limit else f"{size / 2**20:.1f} MB"


def _smaller(what: str) -> str:
    return "batches" if what == "batch" else f"{what}s"


def too_large(size: int, limit: int, what: str = "file", of: str = "") -> str | None:
    """Why a file (or batch) of `size` bytes is refused before any row is checked; None when it is small enough.
    Every importer's size limit says it in these words."""
    if size <= limit:
        return None
    return (f"The {what} is {size_text(size)}; import at most {size_text(limit, limit=True)}{of} at a time: "
            f"split it into smaller {_smaller(what)}.")


def too_many(count: int, limit: int, things: str, what: str = "file", hint: str = "") -> str | None:
    """Why a file (or batch) of `count` rows is refused before any row is checked; None when it is small enough."""
    if count <= limit:
        return None
    return (f"The {what} has {count:,} {things}; import at most {limit:,} at a time: "
            f"split it into smaller {_smaller(what)}{hint}.")


READ_CHUNK = 2**16  # bytes read from a file at a time
BOM = "\ufeff"


def _stream_lines(read: Callable[[int], bytes | str]) -> Iterator[bytes | str]:
    """The lines of an open file, each with its "\n" (as `io.StringIO(text)` splits them: "\r" is no line end
    here, the csv module reads it), read a chunk at a time: a line is never split, a file never held whole."""
    pending: list = []
    while block := read(READ_CHUNK):
        start = 0
        while (end := block.find("\n" if isinstance(block, str) else b"\n", start) + 1):
            pending.append(block[start:end])
            yield pending[0][:0].join(pending)
            pending.clear()
            start = end
        if start < len(block):
            pending.append(block[start:])
    if pending:
        yield pending[0][:0].join(pending)


def _text_lines(text: str) -> Iterator[str]:
    start = 0
    while end := text.find("\n", start) + 1:
        yield text[start:end]
        start = end
    if start < len(text):
        yield text[start:]


def read_lines(source) -> Iterator[str]:
    """The lines of a CSV, decoded one at a time (UTF-8, without BOM), each with its line break, for `csv.reader`.

    `source` is a `pathlib.Path` or an open file (an upload) to read, bytes, or a `str`: always the CSV text itself,
    never a path, whatever it looks like. A file that is not UTF-8 is refused at its first bad byte as it comes;
    one with a NUL character (Postgres text cannot hold it) at the end, naming the first NUL's line: so whatever
    else is wrong with the file, these two are said first, as when the whole file was read before its rows."""
    if isinstance(source, str):
        lines: Iterator = _text_lines(source)
    elif isinstance(source, bytes):
        lines = _stream_lines(io.BytesIO(source).read)
    elif isinstance(source, Path):
        lines = _opened_lines(source)
    else:
        lines = _stream_lines(source.read)
    nul_line = None
    offset = 0  # bytes before this line, after a BOM: where a decoding error is said to be
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            if number == 1 and line.startswith(BOM.encode()):
                line = line[len(BOM.encode()):]
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportRejected([(1, f"the file is not UTF-8 text ({exc.reason} at byte {offset + exc.start})")]
                                     ) from None
            offset += len(line)
        else:
            text = line
        if number == 1:
            text = text.lstrip(BOM)
        if nul_line is None and "\x00" in text:
            nul_line = number
        yield text
    if nul_line is not None:  # refuse with the line, never a server error
        raise ImportRejected([(nul_line, "contains a NUL character")])


def _opened_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        yield from _stream_lines(file.read)


def read_text(source) -> str:
    """The whole text of a CSV given as `read_lines` takes it (a `str` is the text itself): UTF-8, without BOM or
    NUL. For the importers that check a file as one text; the order import reads it line by line."""
    return "".join(read_lines(source))


class Row(Mapping):
    """A CSV row as its header's columns (a column the row is short of reads ""), kept as a tuple of its values:
    a fraction of a dict's memory, for files of a few hundred thousand rows."""

    __slots__ = ("columns", "values")

    def __init__(self, columns: dict[str, int], values: tuple[str, ...]):
        self.columns, self.values = columns, values

    def __getitem__(self, column: str) -> str:
        i = self.columns[column]
        return self.values[i] if i < len(self.values) else ""

    def get(self, column: str, default=None):  # Mapping's, without its exception for a column not in the header
        i = self.columns.get(column)
        if i is None:
            return default
        return self.values[i] if i < len(self.values) else ""

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def read_rows(source) -> tuple[list[str], list[tuple[int, Row]]]:
    """The header and (row number, row) pairs of a CSV (given as `read_lines` takes it); row 1 is the header, data
    starts at row 2. The file is read line by line: only its rows are held, as `Row`s."""
    lines = read_lines(source)
    reader = csv.reader(lines)
    number = 0  # the last row read: a row that cannot be read is the next one
    problem = None
    rows: list[tuple[int, Row]] = []
    header: list[str] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        number = 1
        if not any(header):
            problem = ImportRejected([(1, "the file is empty: expected a header row")])
        columns = {h: i for i, h in enumerate(header)}
        for number, values in enumerate(reader if problem is None else (), start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                problem = ImportRejected([(number, f"{len(values)} values but the header has {len(header)} columns")])
                break
            rows.append((number, Row(columns, tuple(v.strip() for v in values))))
    except csv.Error as exc:  # e.g. an unclosed quote running on past the reader's cell size limit
        problem = ImportRejected([(number + 1, f"unreadable CSV: {exc}")])
    if problem is not None:
        for _ in lines:  # a file not UTF-8 or with a NUL is refused for that first, wherever it is
            pass
        raise problem
    return header, rows


# --- parsing single values -------------------------------------------------------------------

class BadValue(ValueError):
    pass


class NotATime(BadValue):
    """The text is no ISO 8601 date or time at all (as opposed to a local time a DST change makes unclear)."""


_OFFSET_GAP = re.compile(r"\s+(?=[+-]\d{2}:?\d{2}$)")
# A time later than now by more than this is refused: an order cannot be placed or paid in the future,
# but the exporting platform's clock may run a little ahead of ours (the ingest API allows the same hour).
CLOCK_SKEW = timedelta(hours=1)


def parse_time(value: str, store: Store) -> datetime:
    """ISO 8601 time (Shopify's `2026-11-24 18:42:07 -0800` too), or one whose date is dotted (`03.11.2026 14:05`,
    `DOTTED_DAY`), as aware UTC; a time without an offset is read as the store's local time, and refused when
    the store's clocks skip it or show it twice (a DST change): only an offset says which instant was meant."""
    text = _OFFSET_GAP.sub("", value.strip()).replace(" UTC", "+00:00")
    if match := DOTTED_DAY.match(text):
        try:
            text = _dotted(match).isoformat() + text[match.end():]
        except ValueError:  # 31.02.2026
            raise BadValue(f"{value!r} is not a day on the calendar") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        example = "2026-11-24 18:42:07 or 2026-11-24T18:42:07+08:00"
        raise NotATime(f"{value!r} is not a date and time like {example}") from None
    try:
        if parsed.tzinfo is None:
            parsed = _store_local(parsed, value, store)
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 near midnight falls off the calendar in UTC
        raise BadValue(f"{value!r} is out of range") from None


def _store_local(naive: datetime, value: str, store: Store) -> datetime:
    earlier, later = naive.replace(tzinfo=store.zone, fold=0), naive.replace(tzinfo=store.zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    if earlier.astimezone(UTC).astimezone(store.zone).replace(tzinfo=None) != naive:
        raise BadValue(f"{value!r} does not exist in {store.timezone}: the clocks jump forward over it that night; "
                       "check the time, or give it with its offset")
    raise BadValue(f"{value!r} happens twice in {store.timezone} (the clocks go back that night): give its offset, "
                   f"{earlier.isoformat()[-6:]} for the first or {later.isoformat()[-6:]} for the second, like "
                   f"{naive:%Y-%m-%dT%H:%M:%S}{earlier.isoformat()[-6:]}")


# Report days (ad reports): ISO dates and the forms with one reading each, and d/m/y or m/d/y, which a file
# writes one way throughout: 11/03/2026 is 11 March to a European export and 3 November to a US one. The
# operator may say which on the upload form (`DATE_ORDERS`).
DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%b %d, %Y")
SLASHED_DAY = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")
DAY_FIRST, MONTH_FIRST = "day first", "month first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
# A dotted date, as German, Austrian, Swiss and Russian exports write one (03.11.2026, 3.11.2026), is day first
# by convention: nowhere writes it month first, so it needs no other date to say so. With a four-digit first
# part (2026.11.03) it is year first. A time may follow (03.11.2026 14:05); a two-digit year is no date.
DOTTED_DAY = re.compile(r"(?:(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})|(?P<Y>\d{4})\.(?P<M>\d{1,2})\.(?P<D>\d{1,2}))"
                        r"(?=$|[ T])")


def _dotted(match: re.Match) -> date:
    """The day of a DOTTED_DAY match; ValueError when it is none on the calendar (31.11.2026)."""
    if match["y"]:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    return date(int(match["Y"]), int(match["M"]), int(match["D"]))


def _slashed_order(value: str) -> str | None:
    """DAY_FIRST or MONTH_FIRST when a slashed date can only be read one way (13/11/2026, 11/13/2026)."""
    match = SLASHED_DAY.fullmatch(value)
    if not match or int(match[1]) == int(match[2]):
        return None
    if int(match[1]) > 12 >= int(match[2]):
        return DAY_FIRST
    return MONTH_FIRST if int(match[2]) > 12 >= int(match[1]) else None


class MixedDayOrder(ValueError):
    """A file writes some dates day first and others month first; `row` is the later one's."""

    def __init__(self, row, message: str):
        self.row = row
        super().__init__(message)


def day_order(values, stated: str | None = None) -> str | None:
    """Whether a file's slashed dates are DAY_FIRST or MONTH_FIRST, from its (row, text) `values`: settled by
    a date with a day after the 12th, None when none has one. Raises MixedDayOrder when they disagree. The
    order the operator `stated` on the upload form is the file's, but a date only the other order reads
    (25/03/2026 stated month first) is refused (MixedDayOrder naming it), not read as another day."""
    first: dict[str, tuple] = {}
    for row, value in values:
        if order := _slashed_order(value):
            if stated and order != stated:
                raise MixedDayOrder(row, f"{value.strip()} is written {order}, but the upload says {stated}: check "
                                         "how dates are written on the upload form")
            first.setdefault(order, (row, value))
            if len(first) == 2:
                other = DAY_FIRST if order == MONTH_FIRST else MONTH_FIRST
                iso = _slashed(value, order).isoformat()
                raise MixedDayOrder(row, f"{value.strip()} is written {order}, but {first[other][1].strip()} "
                                         f"(row {first[other][0]}) {other}: export the report with dates like {iso}")
    return stated or next(iter(first), None)


def _slashed(value: str, order: str) -> date:
    a, b, year = (int(part) for part in SLASHED_DAY.fullmatch(value).groups())
    return date(year, b, a) if order == DAY_FIRST else date(year, a, b)


def parse_day(value: str, order: str | None) -> date:
    """A report's day under the file's `order` of slashed dates (`day_order`), a dotted one day first (or year
    first: `DOTTED_DAY`); ValueError saying why it is no day, or why it cannot be told which: a date either
    order reads differently is never guessed."""
    value = value.strip()
    for f in DAY_FORMATS:
        try:
            return datetime.strptime(value, f).date()
        except ValueError:
            continue
    if match := DOTTED_DAY.fullmatch(value):
        try:
            return _dotted(match)
        except ValueError:  # 31.11.2026
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not SLASHED_DAY.fullmatch(value):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    readings = {}
    for each in (order,) if order else (DAY_FIRST, MONTH_FIRST):
        try:
            readings[each] = _slashed(value, each)
        except ValueError:  # 31/02/2026; 11/13/2026 read day first
            continue
    if len(set(readings.values())) == 1:
        return next(iter(readings.values()))
    if not readings:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    day, month = readings[DAY_FIRST], readings[MONTH_FIRST]
    raise ValueError(f"{value} could be {day.day} {day:%B %Y} ({DAY_FIRST}) or {month.day} {month:%B %Y} "
                     f"({MONTH_FIRST}), and no date in the file has a day after the 12th to show which: choose how "
                     f"dates are written on the upload form, or export the report with dates like {month.isoformat()}")


def parse_money(value: str, currency: str = "", mark: str | None = None) -> Decimal:
    """An amount of the store's `currency`: its own sign is allowed ("¥1,299.00" in a CNY store); another
    sign ("$1,299.00") is refused, not read as the store's money. Read under the file's decimal `mark`
    (`file_mark`), so 12,50 in a German file is 12.50, never 1250."""
    if currency and (why := foreign_sign_error(value, currency)):
        raise BadValue(why)
    text = CURRENCY_SIGN.sub("", value).strip()
    if not readings(text):
        raise BadValue(f"{value!r} is not an amount")
    try:
        amount = to_money(parse_decimal(text, mark))
    except ValueError as exc:
        raise BadValue(str(exc)) from None
    if amount < 0:
        raise BadValue(f"{value} is negative")
    if amount >= MAX_MONEY:
        raise BadValue(f"{value} is {TOO_LARGE_MONEY}")
    return amount


def file_mark(rows, columns, stated: str | None = None) -> str | None:
    """The decimal mark of a file's amounts in `columns` (`opsdesk.money.decimal_mark`; the one `stated` on the
    upload form, if any); ImportRejected naming the row when some are written with a decimal point and others
    with a decimal comma, or with the mark not stated."""
    try:
        return decimal_mark(((number, column, row.get(column)) for number, row in rows for column in columns), stated)
    except MixedDecimalMarks as exc:
        raise ImportRejected([(exc.row, f"{exc.column}: {exc}")]) from None


def parse_quantity(value: str) -> int:
    try:
        quantity = int(Decimal(value or "1"))
    except (InvalidOperation, ValueError, OverflowError):
        raise BadValue(f"{value!r} is not a whole number") from None
    if quantity < 1 or quantity != Decimal(value or "1"):
        raise BadValue(f"{value!r} is not a positive whole number")
    if quantity > MAX_COUNT:
        raise BadValue(f"{value} is {TOO_LARGE_COUNT}")
    return quantity


def parse_count(value: str) -> int:
    """A whole number ≥ 0 (a count that may be none, as a line's refunded items)."""
    try:
        count = int(Decimal(value))
    except (InvalidOperation, ValueError, OverflowError):
        raise BadValue(f"{value!r} is not a whole number") from None
    if count < 0 or count != Decimal(value):
        raise BadValue(f"{value!r} is not a whole number of 0 or more")
    if count > MAX_COUNT:
        raise BadValue(f"{value} is {TOO_LARGE_COUNT}")
    return count


def parse_codes(value: str) -> list[str]:
    """Discount codes separated by commas, as Shopify's export writes several ("SPRING10, PAC-7KQ2-M9XD")."""
    codes = [code.strip() for code in value.split(",") if code.strip()]
    for code in codes:
        if len(code) > MAX_DISCOUNT_CODE:
            raise BadValue(f"{code[:20]!r}… is longer than {MAX_DISCOUNT_CODE} characters: not a discount code")
    return codes


def parse_bool(value: str) -> bool:
    text = value.strip().lower()
    if text in ("", "0", "no", "false", "n"):
        return False
    if text in ("1", "yes", "true", "y"):
        return True
    raise BadValue(f"{value!r} is not yes/no")


def parse_choice(value: str, choices, default: str) -> str:
    text = value.strip().lower().replace(" ", "_")
    if not text:
        return default
    if text not in choices.values:
        raise BadValue(f"{value!r} is not one of {', '.join(choices.values)}")
    return text


class RowReader:
    """Reads one row's columns, collecting every bad value as (row, 'column: reason')."""

    def __init__(self, number: int, row: dict[str, str], errors: list[tuple[int, str]]):
        self.number, self.row, self.errors = number, row, errors

    def get(self, column: str, parse: Callable | None = None, required: bool = False, default=None):
        value = self.row.get(column, "")
        if not value:
            if required:
                self.errors.append((self.number, f"{column}: is required"))
            return default
        if parse is None:
            return value
        try:
            return parse(value)
        except BadValue as exc:
            self.errors.append((self.number, f"{column}: {exc}"))
            return default


# --- orders ------------------------------------------------------------------------------------

ORDER_COLUMNS = [
    "order_id", "order_name", "placed_at", "paid_at",
    "status", "total", "currency", "traffic_source", "buyer_ref", "buyer_name",
    "buyer_phone", "buyer_email", "marketing_consent", "sku", "title", "quantity", "unit_price", "line_amount",
    "freight", "payment_type", "refund_amount", "refunded_at", "shipped_at", "delivered_at",
    "refunded_quantity", "line_refund_amount", "discount_codes",
]
ORDER_REQUIRED = ["order_id", "placed_at", "total", "unit_price"]
SHOPIFY_REQUIRED = ["Name", "Created at", "Total", "Lineitem quantity", "Lineitem price"]
# Order-level columns: given on an order's first row; later rows of the order may leave them blank.
ORDER_LEVEL = {"order_name", "placed_at", "paid_at", "status", "total", "currency", "traffic_source", "buyer_ref",
               "buyer_name", "buyer_phone", "buyer_email", "marketing_consent", "payment_type", "refund_amount",
               "refunded_at", "shipped_at", "delivered_at", "discount_codes"}


def detect_order_format(header: list[str]) -> str:
    if "order_id" in header and "unit_price" in header:
        return "opsdesk"
    if "Name" in header and "Lineitem quantity" in header:
        return "shopify"
    raise ImportRejected([(1, "unknown order file: expected opsdesk's columns (" + ", ".join(ORDER_REQUIRED)
                           + ", ...) or Shopify's order export (" + ", ".join(SHOPIFY_REQUIRED) + ", ...)")])


def _take_groups(rows: list[tuple[int, Row]], key_column: str) -> Iterator[tuple[str, list[tuple[int, Row]]]]:
    """The rows of each order (by `key_column`, in the file's order), taken out of `rows` (left empty): an order's
    rows are freed once the caller has checked them and asks for the next order's, so a large file's rows are not
    all held beside the orders made of them."""
    groups: dict[str, list] = {}
    for number, row in rows:
        groups.setdefault(row.get(key_column, ""), []).append((number, row))
    rows.clear()
    for key in list(groups):
        yield key, groups.pop(key)


def _order_level(rows: list[tuple[int, Row]], errors) -> Row:
    """An order's order-level values from its first row; a later row may repeat them or leave them blank."""
    first_no, first = rows[0]
    for number, row in rows[1:]:
        for column in ORDER_LEVEL:
            if row.get(column) and first.get(column) and row[column] != first[column]:
                # Errors are shown to operators and printed by the command: phone numbers only masked.
                shown = mask_phone if column == "buyer_phone" else str
                errors.append((number, f"{column}: {shown(row[column])!r} differs from {shown(first[column])!r} on row "
                                       f"{first_no} for the same order"))
    return first


def _refuse_future(head: RowReader, times: dict[str, datetime | None], now: datetime) -> None:
    """Name each of the order's times that lies ahead of now (beyond the clock-skew grace): a typo
    (2030 for 2026) would otherwise count as sales of a day that has not come."""
    for column, at in times.items():
        if at is not None and at > now + CLOCK_SKEW:
            head.errors.append((head.number, f"{column}: {head.row[column]!r} is in the future; give the time "
                                             "it happened"))


def _default_status(paid_at, shipped_at, delivered_at) -> str:
    """An order's status when its row gives none: the furthest its times reach."""
    if not paid_at:
        return OrderStatus.PENDING
    return OrderStatus.DELIVERED if delivered_at else OrderStatus.SHIPPED if shipped_at else OrderStatus.PAID


def _check_fulfilment(head: RowReader, paid_at, shipped_at, delivered_at) -> None:
    """Name a shipping or delivery time an order cannot have: without a payment (opsdesk records the fulfilment
    of paid orders, as the ingest API does), before the payment, or a delivery before the shipment."""
    times = {"shipped_at": (shipped_at, "ships"), "delivered_at": (delivered_at, "is delivered")}
    for column, (at, verb) in times.items():
        if at is None:
            continue
        if paid_at is None:
            head.errors.append((head.number, f"{column}: {head.row[column]!r} is given but paid_at is blank; give "
                                             "the time the order was paid"))
        elif at < paid_at:
            head.errors.append((head.number, f"{column}: {head.row[column]!r} is before paid_at "
                                             f"{head.row['paid_at']!r}; an order {verb} after it is paid"))
    if shipped_at and delivered_at and delivered_at < shipped_at:
        head.errors.append((head.number, f"delivered_at: {head.row['delivered_at']!r} is before shipped_at "
                                         f"{head.row['shipped_at']!r}; an order is delivered after it ships"))


LINE_REFUND_COLUMNS = {"quantity": "refunded_quantity", "amount": "line_refund_amount"}


def _check_line_refund(number: int, line: LineData, errors: list[tuple[int, str]]) -> None:
    """Name a line's refund that the line cannot hold (more items or money than it has), as every channel checks
    it (`stores.orders.line_refund_problems`)."""
    if not (line.refunded_quantity or line.refund_amount):  # most lines: nothing to check
        return
    amount = line.amount if line.amount is not None else line.unit_price * line.quantity
    errors += [(number, f"{LINE_REFUND_COLUMNS[field]}: {reason}")
               for field, reason in line_refund_problems(line.quantity, amount, line.refunded_quantity,
                                                         line.refund_amount)]


def _check_line_refunds(head: RowReader, group: list[tuple[int, Row]], data: OrderData) -> None:
    """Name line refunds the order's refund cannot carry: products' refunds count on the order's refund day, so
    the order needs its refund_amount and refunded_at, and its lines cannot have more money back than it had."""
    refunded = [(number, line) for (number, _), line in zip(group, data.lines, strict=True)
                if line.refunded_quantity or line.refund_amount]
    if not refunded:
        return
    first = refunded[0][0]
    column = "refunded_quantity" if refunded[0][1].refunded_quantity else "line_refund_amount"
    if not data.refund_amount or data.refunded_at is None:
        head.errors.append((first, f"{column}: give the order's refund_amount and refunded_at too: a product's "
                                   "refunds count on the day of the order's refund"))
        return
    lines_total = sum(line.refund_amount for _, line in refunded)
    if lines_total > data.refund_amount:
        head.errors.append((first, f"line_refund_amount: the lines' refunds add up to {lines_total}, more than the "
                                   f"order's refund_amount {data.refund_amount}"))


ORDER_MONEY = ["total", "unit_price", "line_amount", "freight", "refund_amount", "line_refund_amount"]
SHOPIFY_MONEY = ["Total", "Lineitem price", "Lineitem discount", "Refunded Amount"]


def _opsdesk_orders(store: Store, rows: list[tuple[int, Row]], mark: str | None = None) -> list[tuple[int, OrderData]]:
    """The file's orders, all checked (ImportRejected naming every bad row); `rows` is emptied (`_take_groups`)."""
    mark = file_mark(rows, ORDER_MONEY, mark)
    errors: list[tuple[int, str]] = []
    orders = []
    now = timezone.now()
    refund_columns = bool(rows) and any(c in rows[0][1].columns for c in ("refunded_quantity", "line_refund_amount"))
    for external_id, group in _take_groups(rows, "order_id"):
        if not external_id:
            errors += [(n, "order_id: is required") for n, _ in group]
            continue
        head = RowReader(group[0][0], _order_level(group, errors), errors)
        money = partial(parse_money, currency=store.currency, mark=mark)
        currency = head.get("currency", str.upper)
        if currency and currency != store.currency:
            errors.append((head.number, f"currency: {currency} is not the store's currency {store.currency}"))
        paid_at = head.get("paid_at", lambda v: parse_time(v, store))
        shipped_at = head.get("shipped_at", lambda v: parse_time(v, store))
        delivered_at = head.get("delivered_at", lambda v: parse_time(v, store))
        total = head.get("total", money, required=True, default=Decimal("0"))
        data = OrderData(
            external_id=external_id[:100], name=head.get("order_name", default=""),
            placed_at=head.get("placed_at", lambda v: parse_time(v, store), required=True),
            paid_at=paid_at, total=total,
            status=head.get("status", lambda v: parse_choice(v, OrderStatus, ""), default=_default_status(
                paid_at, shipped_at, delivered_at)),
            traffic_source=head.get("traffic_source", lambda v: parse_choice(v, TrafficSource, "other"),
                                    default=TrafficSource.OTHER),
            buyer_ref=head.get("buyer_ref", default=""), buyer_name=head.get("buyer_name", default=""),
            buyer_phone=head.get("buyer_phone", default=""), buyer_email=head.get("buyer_email", default=""),
            marketing_consent=head.get("marketing_consent", parse_bool, default=False),
            refund_amount=head.get("refund_amount", money, default=Decimal("0")),
            refunded_at=head.get("refunded_at", lambda v: parse_time(v, store)),
            shipped_at=shipped_at, delivered_at=delivered_at,
            discount_codes=head.get("discount_codes", parse_codes, default=[]),
        )
        if paid_at:
            ptype = head.get("payment_type", lambda v: parse_choice(v, PaymentType, "other"), default="other")
            data.payments = [PaymentData(ptype, total)]
        for number, row in group:
            line = RowReader(number, row, errors)
            if not row.get("sku") and not row.get("title"):
                errors.append((number, "sku: give the line's sku or title"))
            data.lines.append(LineData(
                sku=line.get("sku", default="")[:100], title=line.get("title", default="")[:255],
                quantity=line.get("quantity", parse_quantity, default=1),
                unit_price=line.get("unit_price", money, required=True, default=Decimal("0")),
                amount=line.get("line_amount", money), freight=line.get("freight", money,
                                                                              default=Decimal("0")),
                refunded_quantity=line.get("refunded_quantity", parse_count, default=0) if refund_columns else 0,
                refund_amount=(line.get("line_refund_amount", money, default=Decimal("0")) if refund_columns
                               else Decimal("0")),
            ))
            _check_line_refund(number, data.lines[-1], errors)
        if data.refund_amount > data.total:
            errors.append((head.number, f"refund_amount: {data.refund_amount} is more than the total {data.total}"))
        _check_line_refunds(head, group, data)
        _refuse_future(head, {"placed_at": data.placed_at, "paid_at": paid_at, "refunded_at": data.refunded_at,
                              "shipped_at": shipped_at, "delivered_at": delivered_at}, now)
        if paid_at and data.placed_at and paid_at < data.placed_at:
            errors.append((head.number, f"paid_at: {head.row['paid_at']!r} is before placed_at "
                                        f"{head.row['placed_at']!r}; an order is paid after it is placed"))
        if data.refunded_at and paid_at and data.refunded_at < paid_at:
            errors.append((head.number, f"refunded_at: {head.row['refunded_at']!r} is before paid_at "
                                        f"{head.row['paid_at']!r}; a refund comes after the payment"))
        _check_fulfilment(head, paid_at, shipped_at, delivered_at)
        errors += [(head.number, problem) for problem in limit_problems(data)]
        orders.append((head.number, data))
    if errors:
        raise ImportRejected(errors)
    return orders


def _shopify_orders(store: Store, rows: list[tuple[int, Row]], mark: str | None = None) -> list[tuple[int, OrderData]]:
    """As `_opsdesk_orders`, for Shopify's order export."""
    mark = file_mark(rows, SHOPIFY_MONEY, mark)
    errors: list[tuple[int, str]] = []
    orders = []
    now = timezone.now()
    for name, group in _take_groups(rows, "Name"):
        if not name:
            errors += [(n, "Name: is required") for n, _ in group]
            continue
        number, head_row = group[0]
        head = RowReader(number, head_row, errors)
        money = partial(parse_money, currency=store.currency, mark=mark)
        currency = head.get("Currency", str.upper)
        if currency and currency != store.currency:
            errors.append((number, f"Currency: {currency} is not the store's currency {store.currency}"))
        financial = head.get("Financial Status", str.lower, default="")
        total = head.get("Total", money, required=True, default=Decimal("0"))
        placed_at = head.get("Created at", lambda v: parse_time(v, store), required=True)
        paid_at = head.get("Paid at", lambda v: parse_time(v, store))
        # Not "paid before created": Shopify lets an app importing old orders date processed_at (Paid at)
        # before the order's creation in the shop.
        # "Fulfilled at": the order left the warehouse; the export has no column for its delivery.
        fulfilled_at = head.get("Fulfilled at", lambda v: parse_time(v, store))
        _refuse_future(head, {"Created at": placed_at, "Paid at": paid_at, "Fulfilled at": fulfilled_at}, now)
        if paid_at is None and shopify.is_paid(financial):
            paid_at = placed_at
        refund = head.get("Refunded Amount", money, default=Decimal("0"))
        if financial == "refunded" and not refund:
            refund = total
        if refund > total:
            errors.append((number, f"Refunded Amount: {refund} is more than the Total {total}"))
        phone = next((head_row.get(c) for c in ("Phone", "Billing Phone", "Shipping Phone") if head_row.get(c)), "")
        gateway = shopify.primary_gateway(head_row.get("Payment Method", ""))
        data = OrderData(
            external_id=(head_row.get("Id") or name)[:100], name=name,
            placed_at=placed_at, paid_at=paid_at, total=total,
            status=shopify.order_status(financial, bool(head_row.get("Cancelled at"))),
            traffic_source=shopify.traffic_source(head_row.get("Landing Site"), head_row.get("Referring Site")),
            buyer_name=head_row.get("Billing Name", ""), buyer_phone=phone, buyer_email=head_row.get("Email", ""),
            marketing_consent=head.get("Accepts SMS Marketing", parse_bool, default=False),
            refund_amount=min(refund, total), refunded_at=(paid_at or placed_at) if refund else None,
            payments=[PaymentData(shopify.payment_type(gateway), total)] if paid_at else [],
            shipped_at=fulfilled_at, shipped=shopify.is_shipped(head_row.get("Fulfillment Status")),
            discount_codes=head.get("Discount Code", parse_codes, default=[]),
        )
        for line_no, row in group:
            line = RowReader(line_no, row, errors)
            quantity = line.get("Lineitem quantity", parse_quantity, required=True, default=1)
            price = line.get("Lineitem price", money, required=True, default=Decimal("0"))
            discount = line.get("Lineitem discount", money, default=Decimal("0"))
            data.lines.append(LineData(
                sku=row.get("Lineitem sku", "")[:100], title=row.get("Lineitem name", "")[:255], quantity=quantity,
                unit_price=price, amount=max(price * quantity - discount, Decimal("0")),
            ))
        errors += [(number, problem) for problem in limit_problems(data)]
        orders.append((number, data))
    if errors:
        raise ImportRejected(errors)
    return orders


ORDER_BATCH = 1000  # new orders written per bulk insert


def _undated_deliveries(store: Store, orders: list[OrderData]) -> str:
    """What to say of the file's delivered orders that still have no delivery time (a status `delivered` without
    `delivered_at`, in an older file): they are imported, but the after-sales text counts from that time."""
    said = [data.external_id for data in orders if data.status == OrderStatus.DELIVERED and data.delivered_at is None]
    if not said:
        return ""
    undated = sum(Order.objects.filter(store=store, external_id__in=said[start:start + 2000],
                                       delivered_at__isnull=True).count() for start in range(0, len(said), 2000))
    if not undated:
        return ""
    orders_are = "1 delivered order has" if undated == 1 else f"{undated:,} delivered orders have"
    return (f"{orders_are} no delivered_at, so no after-sales text will go out for "
            f"{'it' if undated == 1 else 'them'}: add their delivery times in a delivered_at column and import the "
            "file again.")


def _known_orders(store: Store, external_ids: list[str], chunk: int = 2000) -> dict[str, Order]:
    """Those of `external_ids` the store already has (looked up in chunks: SQLite limits query parameters)."""
    known: dict[str, Order] = {}
    fields = ["external_id", "name", "discount_codes", "status", "paid_at", "shipped_at", "delivered_at",
              "refund_amount", "platform_updated_at"]
    for start in range(0, len(external_ids), chunk):
        known.update((o.external_id, o) for o in Order.objects.filter(
            store=store, external_id__in=external_ids[start:start + chunk]).only(*fields))
    return known


# How an importer tells an import job's status page how far it got (`import_jobs.Progress` throttles the writes):
# `progress(step, rows done, rows)` with step "checking" (once, before any row is written), "writing" (as
# `RowsWritten` counts them) and, after the last row, "rolling up" (days rolled up again) or "opening cases".
ReportProgress = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    """The `progress` of an import that no status page follows (a command, the API, a benchmark)."""


class RowsWritten:
    """The file's rows written so far, told to `progress` as "writing" at the start and after each batch: the
    one way every importer reports its writing. Rows that need no writing (already there) count from the start."""

    def __init__(self, progress: ReportProgress, total: int, done: int = 0):
        self.progress, self.total, self.done = progress, total, done
        progress("writing", done, total)

    def add(self, rows: int) -> None:
        self.done += rows
        self.progress("writing", self.done, self.total)

    def batches(self, items: list, size: int, rows: Callable[[list], int] = len) -> Iterator[list]:
        """`items` `size` at a time, each counted (`rows(batch)` of the file's rows) once the caller has written
        it and asks for the next."""
        for start in range(0, len(items), size):
            batch = items[start:start + size]
            yield batch
            self.add(rows(batch))


def import_orders(store: Store, source, mark: str | None = None,
                  progress: ReportProgress = no_progress) -> ImportResult:
    """Import orders (opsdesk's columns or Shopify's export) into `store`, all or nothing; amounts are read
    with the decimal `mark` chosen on the upload form ("," or "."), or the file's own (`file_mark`).

    An order already in the store (same order id) counts as a duplicate and gains nothing but what
    moves it forward (paid, refunded); unknown SKUs become products (title and price from the first
    line naming them). The store-local days already rolled up whose numbers the import changed (paid
    days, refund days, a day an updated order's refund moved away from) are rolled up and judged again.
    `progress(step, rows done, rows)` is told each step ("checking", "writing", "rolling up") and each batch
    written (an import job's status page shows it).
    """
    size = source_size(source)
    if refusal := too_large(size or 0, settings.ORDER_IMPORT_MAX_BYTES):
        raise ImportRejected([(1, refusal)])
    header, rows = read_rows(source)
    count = len(rows)  # the checks below empty `rows` as they go
    if refusal := too_many(count, settings.ORDER_IMPORT_MAX_ROWS, "rows",
                           hint=" (an order's lines in the same file)"):
        raise ImportRejected([(1, refusal)])
    fmt = detect_order_format(header)
    missing = [c for c in (ORDER_REQUIRED if fmt == "opsdesk" else SHOPIFY_REQUIRED) if c not in header]
    if missing:
        raise ImportRejected([(1, f"missing column(s): {', '.join(missing)}")])
    progress("checking", 0, count)
    orders = (_opsdesk_orders if fmt == "opsdesk" else _shopify_orders)(store, rows, mark or None)
    result = ImportResult(kind="orders", format=fmt, rows=count, details={"lines": 0, "new products": 0})
    from metrics.live_cache import facts_arrived  # metrics builds on stores, not the other way round
    from metrics.rollup import refresh_days

    touched: set[date] = set()
    with transaction.atomic():
        # Orders the platform deleted stay deleted: an older file that still holds one skips it, and says so.
        hold_deletions(store)
        deleted = deleted_orders(store, [data.external_id for _, data in orders])
        if deleted:
            result.notes.append(skipped_note(store, deleted, {data.external_id: data.name for _, data in orders}))
            orders = [(number, data) for number, data in orders if data.external_id not in deleted]
        all_lines = [line for _, data in orders for line in data.lines]
        known = store.products.count()
        products = products_by_sku(store, [line.sku for line in all_lines], create_missing=all_lines)
        result.details["new products"] = store.products.count() - known
        for _, data in orders:
            for line in data.lines:
                line.product_id = products.get(line.sku)
        # Orders the store has not seen go in by the batch (a few statements per thousand orders); the
        # others, and a batch an order of which arrived meanwhile by webhook, one by one (`record_order`).
        known = _known_orders(store, [data.external_id for _, data in orders])
        new = [(number, data) for number, data in orders if data.external_id not in known]
        forward = [(number, data) for number, data in orders
                   if data.external_id in known and moves_forward(known[data.external_id], data)]
        # Orders only shipped or delivered since (a later export of the same orders) go in by the batch too.
        fulfilled = [(number, data) for number, data in forward if fulfils_only(known[data.external_id], data)]
        one_by_one = [(number, data) for number, data in forward if not fulfils_only(known[data.external_id], data)]
        result.duplicates = len(orders) - len(new) - len(one_by_one)  # already there (if since shipped, delivered)
        # A row is an order's line; those of orders already there as the file has them need no writing.
        written = RowsWritten(progress, count,
                              count - sum(len(data.lines) for _, data in new + one_by_one + fulfilled))
        for batch in written.batches(fulfilled, ORDER_BATCH, rows=lambda b: sum(len(data.lines) for _, data in b)):
            fulfil_orders(store, [data for _, data in batch])
        for start in range(0, len(new), ORDER_BATCH):
            batch = new[start:start + ORDER_BATCH]
            try:
                create_orders(store, [data for _, data in batch], touched)
            except (IntegrityError, OrderRefused):  # an order arrived meanwhile, or one the parse let by: name it
                one_by_one += batch
                continue
            result.created += len(batch)
            lines = sum(len(data.lines) for _, data in batch)
            result.details["lines"] += lines
            written.add(lines)
        refused = []
        for number, data in sorted(one_by_one, key=lambda pair: pair[0]):
            written.add(len(data.lines))
            try:
                order, created = record_order(store, data, touched)
            except OrderRefused as exc:  # e.g. a refund beyond the total of the order already stored
                refused.append((number, str(exc)))  # name them all; the whole import is rolled back below
                continue
            if created:
                result.created += 1
                result.details["lines"] += len(data.lines)
            else:
                result.duplicates += 1
        if refused:
            raise ImportRejected(refused)
        if note := _undated_deliveries(store, [data for _, data in orders]):
            result.notes.append(note)
        progress("rolling up", count, count)
        result.refreshed = refresh_days(store, touched)
        # The live view's shared snapshot ends when this commits, unless no day's numbers changed (the same file
        # imported again, or one that only ships its orders).
        if touched:
            facts_arrived(store)
    return result


def import_violations_csv(store: Store, source, mark: str | None = None,
                          progress: ReportProgress = no_progress) -> ImportResult:
    """Penalty records (`violations_import.import_violations`, with its own columns and checks; amounts with
    the decimal `mark` chosen on the upload form, if any) as an importer kind: `manage.py import_csv violations`
    and the upload page. A record already there (same external id) is updated; store days already rolled up
    are rolled up again. `progress` is told how far it got, as by `import_orders`."""
    from .violations_import import ViolationImportError, import_violations  # it parses times with parse_time

    try:
        result = import_violations(store, read_text(source), mark=mark or None, progress=progress)
    except ViolationImportError as exc:
        raise ImportRejected([(e.row or 1, e.message) for e in exc.errors]) from None
    return ImportResult("violations", "opsdesk", rows=result.created + result.updated, created=result.created,
                        duplicates=result.updated, refreshed=result.refreshed)


IMPORTERS = {"orders": import_orders, "violations": import_violations_csv}


def importers() -> dict[str, Callable[[Store, object], ImportResult]]:
    """Every importer kind from the installed apps' `importers.py` (`IMPORTERS = {kind: function}`)."""
    found: dict[str, Callable] = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.importers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.importers":
                raise
            continue
        found.update(getattr(module, "IMPORTERS", {}))
    return found
