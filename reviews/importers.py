"""Review imports: Olist's review export, opsdesk's own CSV and Shopify-style JSON (Judge.me-like).

One function, `import_reviews(store, source, fmt)`, serves the command, the upload page and any
API. An import is all-or-nothing: every bad row is named (row, column, reason) and nothing is
written. A review already imported (same external id) is skipped, unless its rating or text changed on the
platform: then it is updated and its case told (`_update_changed`); re-running a file changes nothing.
Order and product keys that match nothing in the store are reported, not fatal. A time without an offset
is the store's local time; in opsdesk's CSV and the JSON one that a DST change skips or repeats there is
refused (stores.importers.parse_time), while Olist's export keeps its own reading (Brazil's dataset).
A file over `REVIEW_IMPORT_MAX_BYTES` or `REVIEW_IMPORT_MAX_ROWS` (an API batch: `REVIEW_BATCH_MAX_*`) is refused
whole before any row is checked (ImportTooLarge); a file's size is known before a byte of it is read. The upload
page's files are import jobs (kind "reviews", `import_reviews_file`): stored, then imported by a worker, the
summary or every bad row shown on the job's status page.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils import timezone

from members.models import Member
from members.services import normalise_phone
from stores.importers import (
    BadValue,
    ImportedAs,
    ImportRejected,
    NotATime,
    ReportProgress,
    RowsWritten,
    no_progress,
    parse_time,
    too_large,
    too_many,
)
from stores.models import Order, OrderLine, Product, Store

from .models import CaseEvent, Review, ReviewCase, ReviewPolicy
from .services import case_reason, open_cases_for

FORMATS = ("olist", "csv", "json")
OLIST_COLUMNS = ["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
                 "review_creation_date", "review_answer_timestamp"]
CSV_COLUMNS = ["external_id", "rating", "title", "body", "created_at", "order_id", "sku"]
CSV_REQUIRED = ["external_id", "rating", "created_at"]
# How far ahead of our clock a review's time may be (the platform's clock may run a little fast);
# anything later has not been written yet and is refused.
CLOCK_SKEW = timedelta(hours=1)
BATCH = 1000  # reviews written per INSERT (and the import job's progress told after each)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class ReviewImportError(Exception):
    """The import was refused; `errors` names every bad row. Nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s), nothing imported: {shown}{more}")


class ImportTooLarge(ReviewImportError):
    """The file or batch is over the size limits; refused whole, no row checked."""

    def __init__(self, message: str):
        self.message = message
        super().__init__([RowError(0, "", message)])


def check_size(size: int, what: str = "file") -> None:
    """ImportTooLarge when `size` bytes are over REVIEW_IMPORT_MAX_BYTES (a batch: REVIEW_BATCH_MAX_BYTES)."""
    limit = settings.REVIEW_BATCH_MAX_BYTES if what == "batch" else settings.REVIEW_IMPORT_MAX_BYTES
    if refusal := too_large(size, limit, what, of=" of reviews"):
        raise ImportTooLarge(refusal)


def check_count(count: int, what: str = "file") -> None:
    """ImportTooLarge when `count` reviews are over REVIEW_IMPORT_MAX_ROWS (a batch: REVIEW_BATCH_MAX_ROWS)."""
    limit = settings.REVIEW_BATCH_MAX_ROWS if what == "batch" else settings.REVIEW_IMPORT_MAX_ROWS
    if refusal := too_many(count, limit, "reviews", what):
        raise ImportTooLarge(refusal)


@dataclass
class ParsedReview:
    row: int
    external_id: str
    rating: int
    title: str
    body: str
    created_at: datetime
    order_key: str = ""
    product_key: str = ""
    email: str = ""


@dataclass
class ImportResult:
    format: str = ""  # one of FORMATS
    rows: int = 0
    created: int = 0
    already_imported: int = 0
    updated: int = 0  # of those already imported, the ones whose rating or text changed on the platform
    turned_around: int = 0  # of those updated, the ones with a case that are no longer bad
    cases_opened: int = 0
    linked_orders: int = 0
    linked_products: int = 0
    linked_members: int = 0
    duplicates_in_file: list[tuple[int, str]] = field(default_factory=list)  # (row, external id): first row kept
    unmatched_orders: list[tuple[int, str]] = field(default_factory=list)  # (row, order key)
    unmatched_products: list[tuple[int, str]] = field(default_factory=list)  # (row, sku / product id)

    def summary(self) -> str:
        updated = (f" ({self.updated} of them changed on the platform and updated, {self.turned_around} no longer bad)"
                   if self.updated else "")
        return (f"{self.rows} rows: {self.created} reviews created, {self.already_imported} already imported{updated}, "
                f"{len(self.duplicates_in_file)} repeated ids in the file (first kept), "
                f"{self.cases_opened} cases opened; linked {self.linked_orders} orders, "
                f"{self.linked_products} products, {self.linked_members} members; "
                f"unmatched: {len(self.unmatched_orders)} order keys, {len(self.unmatched_products)} product keys")


def detect_format(name: str, head: str) -> str:
    """Guess the format from the file name and its first characters."""
    if name.lower().endswith(".json") or head.lstrip().startswith(("[", "{")):
        return "json"
    first_line = head.splitlines()[0] if head else ""
    return "olist" if "review_id" in first_line else "csv"


def _parse_olist_time(raw: str, store: Store) -> datetime:
    value = datetime.fromisoformat(raw.strip())
    if timezone.is_naive(value):
        # Platform exports without an offset are in the store's local time (Olist: Brazil).
        value = value.replace(tzinfo=store.zone)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 near midnight: stored, no page could read it back
        raise BadValue(f"{raw.strip()!r} is out of range") from None


def _parse_rating(raw: Any) -> int:
    number = float(str(raw).strip())
    # "inf", "1e400" and "NaN" read as floats too; int() of them would fail with a 500, not a row error.
    if not math.isfinite(number) or number != int(number) or not 1 <= number <= 5:
        raise ValueError
    return int(number)


def _parse_time(raw: str, store: Store) -> datetime:
    """opsdesk's CSV and the JSON: ISO 8601, a local time a DST change skips or repeats refused by name."""
    try:
        return parse_time(raw, store)
    except NotATime:
        raise ValueError from None  # _row_fields says what was expected


def _row_fields(row: int, data: dict[str, Any], store: Store, errors: list[RowError], *, id_col: str,
                rating_col: str, created_col: str, now: datetime, parse_created=_parse_time) -> dict[str, Any] | None:
    before = len(errors)
    external_id = str(data.get(id_col) or "").strip()
    if not external_id:
        errors.append(RowError(row, id_col, "is empty"))
    elif len(external_id) > 100:
        errors.append(RowError(row, id_col, "is longer than 100 characters"))
    rating = None
    try:
        rating = _parse_rating(data.get(rating_col))
    except (TypeError, ValueError):
        errors.append(RowError(row, rating_col, f"must be a whole number from 1 to 5, got {data.get(rating_col)!r}"))
    created = None
    raw_created = str(data.get(created_col) or "").strip()
    if not raw_created:
        errors.append(RowError(row, created_col, "is empty"))
    else:
        try:
            created = parse_created(raw_created, store)
        except BadValue as exc:  # skipped or repeated in the store's zone, or off the calendar
            errors.append(RowError(row, created_col, str(exc)))
        except ValueError:
            errors.append(RowError(row, created_col, f"is not a date-time (ISO 8601), got {raw_created!r}"))
        else:
            if created > now + CLOCK_SKEW:
                errors.append(RowError(row, created_col, f"is in the future, got {raw_created!r}"))
    if len(errors) > before:
        return None
    return {"external_id": external_id, "rating": rating, "created_at": created}


def _read_csv(text: str, expected: list[str], required: list[str], errors: list[RowError],
              progress: ReportProgress = no_progress):
    """(row number, record) pairs; row 1 is the header, as in a spreadsheet and the order import: a quoted
    multi-line text is one row and a blank line is a row (with nothing in it, skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0  # the last row read: a row the reader cannot split is the next one
    rows = []
    try:
        header = [h.strip() for h in next(reader, [])]
        number = 1
        missing = [c for c in required if c not in header]
        if missing:
            errors.append(RowError(0, "", f"missing column(s) {', '.join(missing)}; expected {', '.join(expected)}"))
            return []
        for number, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) > len(header):
                errors.append(RowError(number, "", f"has {len(values)} fields, the header has {len(header)}"))
                continue
            rows.append((number, dict(zip(header, values + [None] * (len(header) - len(values)), strict=True))))
    except csv.Error as exc:
        errors.append(RowError(number + 1, "", f"unreadable CSV: {exc}"))
    check_count(len(rows) + len(errors))  # splitting cells is quick; checking and writing rows is what takes time
    progress("checking", 0, len(rows))
    return rows


def parse_olist(text: str, store: Store, errors: list[RowError], now: datetime,
                progress: ReportProgress = no_progress) -> list[ParsedReview]:
    parsed = []
    for number, rec in _read_csv(text, OLIST_COLUMNS, ["review_id", "order_id", "review_score",
                                                       "review_creation_date"], errors, progress):
        got = _row_fields(number, rec, store, errors, id_col="review_id", rating_col="review_score",
                          created_col="review_creation_date", now=now, parse_created=_parse_olist_time)
        if got:
            parsed.append(ParsedReview(number, **got, title=(rec.get("review_comment_title") or "").strip()[:255],
                                       body=(rec.get("review_comment_message") or "").strip(),
                                       order_key=(rec.get("order_id") or "").strip()))
    return parsed


def parse_csv(text: str, store: Store, errors: list[RowError], now: datetime,
              progress: ReportProgress = no_progress) -> list[ParsedReview]:
    parsed = []
    for number, rec in _read_csv(text, CSV_COLUMNS, CSV_REQUIRED, errors, progress):
        got = _row_fields(number, rec, store, errors, id_col="external_id", rating_col="rating",
                          created_col="created_at", now=now)
        if got:
            parsed.append(ParsedReview(number, **got, title=(rec.get("title") or "").strip()[:255],
                                       body=(rec.get("body") or "").strip(),
                                       order_key=(rec.get("order_id") or "").strip(),
                                       product_key=(rec.get("sku") or "").strip()))
    return parsed


def parse_json_items(items: Any, store: Store, errors: list[RowError], now: datetime, what: str = "file",
                     progress: ReportProgress = no_progress) -> list[ParsedReview]:
    """Judge.me-like objects: id, rating, title, body, created_at, product_external_id or sku,
    order_id, reviewer {email} (or reviewer_email). Row numbers here are 1-based item positions."""
    if isinstance(items, dict):
        items = items.get("reviews")
    if not isinstance(items, list):
        errors.append(RowError(0, "", 'expected a list of reviews or {"reviews": [...]}'))
        return []
    check_count(len(items), what)
    progress("checking", 0, len(items))
    parsed = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, "", "is not an object"))
            continue
        got = _row_fields(number, item, store, errors, id_col="id", rating_col="rating", created_col="created_at",
                          now=now)
        if not got:
            continue
        reviewer = item.get("reviewer") if isinstance(item.get("reviewer"), dict) else {}
        product_key = item.get("sku") or item.get("product_external_id") or item.get("product_sku") or ""
        parsed.append(ParsedReview(
            number, **got, title=str(item.get("title") or "").strip()[:255], body=str(item.get("body") or "").strip(),
            order_key=str(item.get("order_id") or item.get("order_external_id") or "").strip(),
            product_key=str(product_key).strip(),
            email=str(reviewer.get("email") or item.get("reviewer_email") or "").strip().lower(),
        ))
    return parsed


def _read_text(source: str | Path | IO | bytes) -> tuple[str, str]:
    """The name and text of `source`: a `pathlib.Path` or an open file (an upload) is read, a `str` is the text
    itself (never a path, whatever it looks like); a file over REVIEW_IMPORT_MAX_BYTES is refused before it is
    read."""
    if isinstance(source, Path):
        check_size(source.stat().st_size)
        return source.name, source.read_bytes().decode("utf-8-sig")
    if isinstance(source, str):
        check_size(len(source.encode()))
        return "", source.lstrip("\ufeff")
    if isinstance(source, bytes):
        check_size(len(source))
        return "", source.decode("utf-8-sig")
    size = getattr(source, "size", None)  # an upload knows its size; another open file is read one byte past
    if size is not None:
        check_size(size)
    raw = source.read() if size is not None else source.read(settings.REVIEW_IMPORT_MAX_BYTES + 1)
    check_size(len(raw))
    name = getattr(source, "name", "") or ""
    return str(name), raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw


def parse(store: Store, source, fmt: str | None = None, now: datetime | None = None,
          progress: ReportProgress = no_progress) -> tuple[str, list[ParsedReview], list[RowError]]:
    """Read `source` (a `pathlib.Path`, an uploaded file, bytes, text as a `str`, or a list of JSON objects) into
    reviews and errors; a review dated later than `now` (plus a little clock skew) is an error. `progress` is told
    the rows to check."""
    now = now or timezone.now()
    errors: list[RowError] = []
    if isinstance(source, (list, dict)):
        return "json", _without_nul(parse_json_items(source, store, errors, now, "batch"), errors), errors
    try:
        name, text = _read_text(source)
    except UnicodeDecodeError as exc:
        return fmt or "csv", [], [RowError(0, "", f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")]
    fmt = fmt or detect_format(name, text[:2000])
    if fmt not in FORMATS:
        raise ValueError(f"Unknown review format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return fmt, [], [RowError(0, "", f"not valid JSON: {exc.msg} at line {exc.lineno}")]
        return fmt, _without_nul(parse_json_items(data, store, errors, now, progress=progress), errors), errors
    parser = parse_olist if fmt == "olist" else parse_csv
    return fmt, _without_nul(parser(text, store, errors, now, progress), errors), errors


# ParsedReview's text fields and the input column each comes from (as users name it).
TEXT_FIELDS = {"external_id": "id", "title": "title", "body": "body", "order_key": "order_id", "product_key": "sku",
               "email": "email"}


def _without_nul(parsed: list[ParsedReview], errors: list[RowError]) -> list[ParsedReview]:
    """Refuse text with NUL characters: no database text column can hold them (Postgres refuses)."""
    kept = []
    for review in parsed:
        bad = [column for name, column in TEXT_FIELDS.items() if "\x00" in getattr(review, name)]
        errors.extend(RowError(review.row, column, "contains a NUL character") for column in bad)
        if not bad:
            kept.append(review)
    return kept


def import_reviews(store: Store, source, fmt: str | None = None, *, open_cases: bool = True,
                   now: datetime | None = None, progress: ReportProgress = no_progress) -> ImportResult:
    """Import reviews into `store`; raises ReviewImportError (nothing written) when any row is bad. `progress` is
    told how far it got (the rows checked, written, then "opening cases"), as by an order import."""
    now = now or timezone.now()
    fmt, parsed, errors = parse(store, source, fmt, now, progress)
    if errors:
        raise ReviewImportError(errors)
    result = ImportResult(format=fmt, rows=len(parsed))
    first: dict[str, ParsedReview] = {}
    for p in parsed:
        if p.external_id in first:
            result.duplicates_in_file.append((p.row, p.external_id))
        else:
            first[p.external_id] = p

    with transaction.atomic():
        # One import per store at a time, so two uploads of the same file cannot race on the ids.
        Store.objects.select_for_update().get(pk=store.pk)
        existing = {r.external_id: r for r in Review.objects.filter(store=store, external_id__in=list(first)).only(
            "pk", "store_id", "external_id", "rating", "title", "body", "bad")}
        todo = [p for p in first.values() if p.external_id not in existing]
        result.already_imported = len(first) - len(todo)
        changed = [(existing[p.external_id], p) for p in first.values() if p.external_id in existing
                   and (existing[p.external_id].rating, existing[p.external_id].title, existing[p.external_id].body)
                   != (p.rating, p.title, p.body)]
        orders = _orders_by_key(store, {p.order_key for p in todo if p.order_key})
        products = {p.sku: p for p in Product.objects.filter(store=store, sku__in={
            p.product_key for p in todo if p.product_key})}
        members = _members(store, orders.values(), {p.email for p in todo if p.email})
        # The rules as committed now, read under the lock a change of rules also takes (not a copy cached on
        # `store`): the verdicts stored below and the cases opened follow the same ones.
        policy = ReviewPolicy.objects.filter(store=store).first() or ReviewPolicy(store=store)
        reviews = []
        for p in todo:
            order = orders.get(p.order_key) if p.order_key else None
            if p.order_key and order is None:
                result.unmatched_orders.append((p.row, p.order_key))
            product = products.get(p.product_key) if p.product_key else None
            if p.product_key and product is None:
                result.unmatched_products.append((p.row, p.product_key))
            if product is None and order is not None:
                product = next((line.product for line in order.lines.all() if line.product_id), None)
            member = None
            if order is not None and order.buyer_phone:
                member = members["phone"].get(normalise_phone(order.buyer_phone, store.country))
            if member is None and p.email:
                member = members["email"].get(p.email)
            result.linked_orders += order is not None
            result.linked_products += product is not None
            result.linked_members += member is not None
            review = Review(store=store, external_id=p.external_id, rating=p.rating, title=p.title, body=p.body,
                            created_at=p.created_at, order=order, product=product, member=member)
            review.bad = case_reason(review, policy) is not None  # bulk_create skips save(), which sets it
            reviews.append(review)
        # Reviews already there, and ids the file repeats, need no writing.
        for batch in RowsWritten(progress, len(parsed), len(parsed) - len(reviews)).batches(reviews, BATCH):
            Review.objects.bulk_create(batch)
        result.created = len(reviews)
        turned_bad = _update_changed(changed, policy, now, result)
        if open_cases:
            progress("opening cases", len(parsed), len(parsed))
            result.cases_opened = open_cases_for(store, [r for r in reviews if r.bad] + turned_bad, now, policy)
    return result


def _update_changed(changed: list[tuple[Review, ParsedReview]], policy: ReviewPolicy, now: datetime,
                    result: ImportResult) -> list[Review]:
    """Write the rating and text the platform now shows for reviews already imported, and tell their cases ("Customer
    changed the review 1★ → 4★.", at `now`; a case whose review is no longer bad says so). Returns the reviews that
    became bad and have no case, for the caller to open one. Safe to repeat: an unchanged review is not passed in."""
    reviews, before = [], {}
    for review, p in changed:
        before[review.pk] = (review.rating, review.bad)
        review.rating, review.title, review.body = p.rating, p.title, p.body
        review.bad = case_reason(review, policy) is not None  # bulk_update skips save(), which sets it
        reviews.append(review)
    Review.objects.bulk_update(reviews, ["rating", "title", "body", "bad"], batch_size=BATCH)
    result.updated = len(reviews)
    cases = {c.review_id: c for c in ReviewCase.objects.select_for_update().filter(review__in=reviews)}
    events = []
    for review in reviews:
        case = cases.get(review.pk)
        if case is None:
            continue
        old = before[review.pk][0]
        note = (f"Customer changed the review {old}★ → {review.rating}★." if old != review.rating
                else f"Customer edited the review's text (still {old}★).")
        if not review.bad:
            note += " It is no longer a bad review."
            result.turned_around += 1
        # The platform's word is the record: it replaces a new rating an operator may have typed in.
        case.customer_updated_review, case.updated_rating = True, review.rating
        events.append(CaseEvent(case=case, from_status=case.status, to_status=case.status, at=now, note=note))
    ReviewCase.objects.bulk_update([e.case for e in events], ["customer_updated_review", "updated_rating"],
                                   batch_size=BATCH)
    CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    return [r for r in reviews if r.bad and not before[r.pk][1] and r.pk not in cases]


def _orders_by_key(store: Store, keys: set[str]) -> dict[str, Order]:
    if not keys:
        return {}
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_no"))
    qs = Order.objects.filter(store=store, external_id__in=keys).prefetch_related(lines)
    return {o.external_id: o for o in qs}


def _members(store: Store, orders, emails: set[str]) -> dict[str, dict[str, Member]]:
    phones = {normalise_phone(o.buyer_phone, store.country) for o in orders if o.buyer_phone} - {None}
    by_phone = {m.phone: m for m in Member.objects.filter(store=store, phone__in=phones)} if phones else {}
    by_email = {}
    if emails:
        # Members keep their email as the order gave it; reviewer emails are lower-cased.
        for m in Member.objects.annotate(email_lower=Lower("email")).filter(store=store, email_lower__in=emails):
            by_email.setdefault(m.email.lower(), m)
    return {"phone": by_phone, "email": by_email}


ROWS_NAMED = 100  # unmatched keys and repeated ids named in a job's summary; the rest are counted


def to_look_at(result: ImportResult) -> list[str]:
    """The rows an operator may want to check after a good import: keys that match nothing, ids repeated."""
    return ([f"row {row}: no order {key}" for row, key in result.unmatched_orders]
            + [f"row {row}: no product {key}" for row, key in result.unmatched_products]
            + [f"row {row}: review id {key} repeated (first row kept)" for row, key in result.duplicates_in_file])


def import_reviews_file(store: Store, source, format: str | None = None,  # noqa: A002  (the form's name)
                        open_cases: bool = True, progress: ReportProgress = no_progress) -> ImportedAs:
    """`import_reviews` as an importer kind (the upload page's import jobs, `manage.py import_csv reviews`):
    bad rows as (row, "column: message"), a problem with the whole file as row 1."""
    try:
        result = import_reviews(store, source, format or None, open_cases=open_cases, progress=progress)
    except ReviewImportError as exc:
        raise ImportRejected([(e.row or 1, f"{e.column}: {e.message}" if e.column else e.message)
                              for e in exc.errors]) from None
    except ValueError as exc:  # an unknown format (the command's typo; the page offers only known ones)
        raise ImportRejected([(1, str(exc))]) from None
    said = result.summary() + "."
    if rows := to_look_at(result):
        more = f" … and {len(rows) - ROWS_NAMED} more" if len(rows) > ROWS_NAMED else ""
        said += " Rows to look at: " + "; ".join(rows[:ROWS_NAMED]) + more + "."
    return ImportedAs(kind="reviews", format=result.format, rows=result.rows, created=result.created,
                      duplicates=result.already_imported, said=said)


IMPORTERS = {"reviews": import_reviews_file}
