"""CSV import of platform penalty (violation) records: all or nothing, every bad row named.

Columns (header row, any order): external_id, kind, occurred_at, points, amount, and optionally
status (open/appealed/resolved), description, product_sku. `occurred_at` is ISO 8601; without an
offset it is read in the store's zone. Importing the same file again updates the same records
(keyed by external_id), so a retried import adds nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import InvalidOperation

from django.db import transaction

from opsdesk.money import to_money

from .models import Store, Violation, ViolationStatus

REQUIRED = ["external_id", "kind", "occurred_at", "points", "amount"]
OPTIONAL = ["status", "description", "product_sku"]


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the file (the header is row 1)
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


class ViolationImportError(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:20]) + (" …" if len(errors) > 20 else ""))


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _parse_row(store: Store, row: dict, line: int, skus: dict) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    values: dict = {}
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            errors.append(RowError(line, column, "is empty"))
    if errors:
        return values, errors
    values["external_id"] = row["external_id"].strip()[:100]
    values["kind"] = row["kind"].strip()[:100]
    try:
        ts = datetime.fromisoformat(row["occurred_at"].strip())
        values["occurred_at"] = ts if ts.tzinfo else ts.replace(tzinfo=store.zone)
    except ValueError:
        errors.append(RowError(line, "occurred_at", f"{row['occurred_at']!r} is not an ISO 8601 date-time"))
    try:
        points = int(row["points"].strip())
        if points < 0:
            raise ValueError
        values["points"] = points
    except ValueError:
        errors.append(RowError(line, "points", f"{row['points']!r} is not a whole number ≥ 0"))
    try:
        amount = to_money(row["amount"])
        if amount < 0:
            raise InvalidOperation
        values["amount"] = amount
    except (InvalidOperation, ValueError):
        errors.append(RowError(line, "amount", f"{row['amount']!r} is not an amount ≥ 0"))
    status = (row.get("status") or "").strip().lower() or ViolationStatus.OPEN
    if status not in ViolationStatus.values:
        errors.append(RowError(line, "status", f"{status!r} is not one of {', '.join(ViolationStatus.values)}"))
    values["status"] = status
    values["description"] = (row.get("description") or "").strip()
    sku = (row.get("product_sku") or "").strip()
    if sku:
        if sku not in skus:
            errors.append(RowError(line, "product_sku", f"no product {sku!r} in {store.slug}"))
        values["product_id"] = skus.get(sku)
    return values, errors


def import_violations(store: Store, text: str) -> ImportResult:
    """Import the CSV text for `store`; raises ViolationImportError (nothing saved) on any bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ViolationImportError([RowError(1, c, "column missing from the header") for c in missing])
    reader.fieldnames = header
    skus = dict(store.products.values_list("sku", "pk"))
    parsed, errors, seen = [], [], {}
    for line, row in enumerate(reader, start=2):
        nul = [c for c, v in row.items() if c and "\x00" in (v or "")]  # Postgres text cannot hold NUL
        if nul:
            errors.extend(RowError(line, c, "contains a NUL character") for c in nul)
            continue
        values, row_errors = _parse_row(store, row, line, skus)
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
        raise ViolationImportError([RowError(2, "-", "the file has no records")])
    created = updated = 0
    with transaction.atomic():
        for values in parsed:
            ext = values.pop("external_id")
            _, was_created = Violation.objects.update_or_create(store=store, external_id=ext, defaults=values)
            created += was_created
            updated += not was_created
    return ImportResult(created, updated)
