"""Review import API: `POST /api/v1/reviews` with a store API key (Bearer), on the project's NinjaAPI.

Body: `{"reviews": [...]}` or a bare list, in the Judge.me-like JSON shape of `reviews.importers`.
All or nothing: 400 with every bad item's index, field and message and nothing written; 413 for a body
over REVIEW_IMPORT_MAX_BYTES or more than REVIEW_IMPORT_MAX_ROWS reviews (refused before any is checked);
401 for a missing, unknown or revoked key (the API's own auth); 200 with counts otherwise. A retried batch
creates nothing twice. The router has no auth of its own: the API's store key sets `request.auth`
to the key's store, the only store the request may touch.
"""

from __future__ import annotations

import json

from ninja import Router, Schema
from ninja.responses import Status

from .importers import ImportTooLarge, ReviewImportError, check_size, import_reviews

router = Router(tags=["reviews"])


class UnmatchedOrder(Schema):
    index: int
    order_id: str


class UnmatchedProduct(Schema):
    index: int
    sku: str


class Imported(Schema):
    created: int
    already_imported: int
    updated: int
    cases_opened: int
    duplicates_in_batch: list[int]
    unmatched_orders: list[UnmatchedOrder]
    unmatched_products: list[UnmatchedProduct]


class ItemError(Schema):
    index: int | None
    field: str
    message: str


class Rejected(Schema):
    detail: str
    errors: list[ItemError] = []


@router.post(
    "/reviews",
    response={200: Imported, 400: Rejected, 413: Rejected},
    summary="Import a batch of reviews",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [{"type": "object", "properties": {"reviews": {"type": "array", "items": {"type": "object"}}}},
                  {"type": "array", "items": {"type": "object"}}]}}}}},
)
def post_reviews(request):
    """Reviews for the key's store; bad reviews open cases. See docs/reviews.md for the item fields."""
    try:
        check_size(len(request.body), "batch")
        payload = json.loads(request.body)
    except ImportTooLarge as exc:
        return Status(413, {"detail": exc.message})
    except (ValueError, UnicodeDecodeError):
        return Status(400, {"detail": "The body is not JSON."})
    try:
        result = import_reviews(request.auth, payload if isinstance(payload, (list, dict)) else {})
    except ImportTooLarge as exc:
        return Status(413, {"detail": exc.message})
    except ReviewImportError as exc:
        return Status(400, {"detail": f"{len(exc.errors)} problem(s); nothing was imported.", "errors": [
            {"index": e.row - 1 if e.row else None, "field": e.column, "message": e.message} for e in exc.errors
        ]})
    return Status(200, {
        "created": result.created, "already_imported": result.already_imported, "updated": result.updated,
        "cases_opened": result.cases_opened,
        "duplicates_in_batch": [i - 1 for i, _ in result.duplicates_in_file],
        "unmatched_orders": [{"index": i - 1, "order_id": k} for i, k in result.unmatched_orders],
        "unmatched_products": [{"index": i - 1, "sku": k} for i, k in result.unmatched_products],
    })
