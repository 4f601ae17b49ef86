"""Ad performance API: `POST /ads/performance` with a store API key (Bearer), as the ingest API.

Body: {"rows": [...], "snapshots": [...]}
- rows: {"date": "2026-11-24", "plan": "<plan name>", "creative": "<name>" (optional), "impressions",
  "clicks", "spend", "orders", "sales"}; idempotent on (plan, date[, creative]) like a CSV import.
- snapshots: {"plan": "<plan name>", "ts": ISO 8601 with offset, "spend_today": cumulative spend of
  the plan's store-local day at ts}; idempotent on (plan, ts). They feed today's pacing.
The batch is checked whole: 400 with the index, field and reason of every bad item, and nothing
written; 401 for a missing, unknown or revoked key; 200 with counts otherwise, and `refreshed`: the
store-local days already rolled up that the rows rolled up again.

`router` is mounted by the project's NinjaAPI (`api.add_router("/", router)`); `build_router()`
makes a fresh one (a router may belong to only one API, so tests build their own).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status
from ninja.security import HttpBearer

from metrics.live_cache import facts_arrived
from opsdesk.money import foreign_sign_error, to_money
from stores.models import ApiKey

from .ads_importers import (
    AdReportError,
    ImportResult,
    RowError,
    money_or_error,
    parse_number,
    save_performance,
    validate_rows,
)
from .models import AdPlan, AdSpendSnapshot

MAX_ITEMS = 5000
CLOCK_SKEW = timedelta(minutes=10)  # how far ahead of ours a platform's clock may run


class StoreKeyAuth(HttpBearer):
    """`Authorization: Bearer <store API key>`; the key's store is the only store the request may touch."""

    def authenticate(self, request, token: str):
        key = ApiKey.objects.authenticate(token)
        if key is None:
            return None
        request.api_store = key.store
        return key


class PerformanceBatch(Schema):
    rows: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []


class ItemError(Schema):
    item: str
    field: str
    reason: str


class BatchRejected(Schema):
    detail: str
    errors: list[ItemError]


class BatchAccepted(Schema):
    rows: int
    created: int
    updated: int
    snapshots: int
    refreshed: list[date]  # rolled-up store days whose daily numbers were rolled up again


def _snapshot_objects(store, items: list[dict]) -> tuple[list[AdSpendSnapshot], list[RowError]]:
    plans = {p.name: p for p in AdPlan.objects.filter(store=store)}
    errors, objects, seen = [], [], set()
    for i, item in enumerate(items):
        label = f"snapshots[{i}]"
        plan = plans.get(str(item.get("plan") or "").strip())
        if plan is None:
            errors.append(RowError(label, "plan", f"no ad plan named {item.get('plan')!r} in {store.slug}"))
        ts = None
        try:
            ts = datetime.fromisoformat(str(item.get("ts") or ""))
        except ValueError:
            errors.append(RowError(label, "ts", f"{item.get('ts')!r} is not an ISO 8601 time"))
        if ts is not None and ts.tzinfo is None:
            errors.append(RowError(label, "ts", "needs a UTC offset (e.g. +08:00 or Z)"))
            ts = None
        elif ts is not None and ts > timezone.now() + CLOCK_SKEW:  # spend not spent yet: a wrong clock
            errors.append(RowError(label, "ts", f"{item.get('ts')} is in the future"))
            ts = None
        try:
            spend = parse_number(item.get("spend_today"), ".")  # one amount alone: JSON's decimal point
        except ValueError:
            spend = None
        why = None
        if spend is None or spend < 0 or item.get("spend_today") is None:
            errors.append(RowError(label, "spend_today", f"{item.get('spend_today')!r} is not a non-negative amount"))
        elif why := foreign_sign_error(item.get("spend_today"), store.currency, store.slug):
            errors.append(RowError(label, "spend_today", why))
        elif (why := money_or_error(spend)[1]):
            errors.append(RowError(label, "spend_today", f"{item.get('spend_today')} is {why}"))
        if plan is None or ts is None or spend is None or spend < 0 or why:
            continue
        if (plan.pk, ts) in seen:
            errors.append(RowError(label, "ts", "same plan and time twice in the batch"))
            continue
        seen.add((plan.pk, ts))
        objects.append(AdSpendSnapshot(plan=plan, ts=ts, spend_today=to_money(spend)))
    return objects, errors


def save_batch(store, rows: list, snapshots: list[AdSpendSnapshot]) -> ImportResult | None:
    """Store a checked batch (`validate_rows`' rows, `_snapshot_objects`' snapshots) in one transaction; the live
    view's cost column reads both, so its shared snapshot ends once, when that commits. None without rows."""
    with transaction.atomic():
        result = save_performance(store, rows) if rows else None
        if snapshots:
            AdSpendSnapshot.objects.bulk_create(snapshots, update_conflicts=True, unique_fields=["plan", "ts"],
                                                update_fields=["spend_today"])
        facts_arrived(store)
    return result


def build_router() -> Router:
    router = Router(auth=StoreKeyAuth(), tags=["ads"])

    @router.post("/ads/performance", response={200: BatchAccepted, 400: BatchRejected})
    def post_performance(request, batch: PerformanceBatch):
        """Daily ad performance rows and intraday spend snapshots for the key's store, all or nothing."""
        store = request.api_store
        if len(batch.rows) + len(batch.snapshots) > MAX_ITEMS:
            return Status(400, {"detail": f"at most {MAX_ITEMS} items per batch", "errors": []})
        errors: list[RowError] = []
        rows = []
        records = [{"row": f"rows[{i}]", **{k: v for k, v in item.items() if k != "row"}}
                   for i, item in enumerate(batch.rows)]
        for rec in records:
            rec.setdefault("date", "")
        try:
            rows = validate_rows(store, records)
        except AdReportError as exc:
            errors.extend(exc.errors)
        snapshots, snapshot_errors = _snapshot_objects(store, batch.snapshots)
        errors.extend(snapshot_errors)
        if errors:
            return Status(400, {"detail": f"{len(errors)} problem(s); nothing was saved",
                                "errors": [{"item": str(e.row), "field": e.column, "reason": e.reason}
                                           for e in errors]})
        result = save_batch(store, rows, snapshots)
        return Status(200, {"rows": len(rows), "created": result.created if result else 0,
                            "updated": result.updated if result else 0, "snapshots": len(snapshots),
                            "refreshed": result.refreshed if result else []})

    return router


router = build_router()
