"""Platform webhooks: Shopify's order notifications, verified with the store's shared secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Store
from .orders import OrderRefused
from .shopify import (
    OrderWasDeleted,
    ShopifyOrderError,
    delete_shopify_order,
    record_shopify_order,
    record_shopify_refund,
)

log = logging.getLogger(__name__)
REFUND_TOPIC = "refunds/create"
DELETE_TOPIC = "orders/delete"


def shopify_signature(body: bytes, secret: str) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256(body, secret)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_is_valid(body: bytes, secret: str, received: str) -> bool:
    if not secret or not received:
        return False
    return hmac.compare_digest(shopify_signature(body, secret).encode(), received.strip().encode())


@csrf_exempt
@login_not_required
@require_POST
def shopify_orders(request, slug):
    """orders/create, orders/paid, orders/updated…: record the order once, move it forward after; refunds/create:
    record the refund once; orders/delete: remove the order."""
    store = Store.objects.filter(slug=slug).first()
    # An unknown store answers like a bad signature: the endpoint does not reveal which stores exist.
    if store is None or not signature_is_valid(
        request.body, store.webhook_secret, request.headers.get("X-Shopify-Hmac-Sha256", "")
    ):
        return JsonResponse({"detail": "The X-Shopify-Hmac-Sha256 signature does not match."}, status=401)
    topic = request.headers.get("X-Shopify-Topic", "")
    try:
        payload = json.loads(request.body)
        if topic == REFUND_TOPIC:
            return _refund_response(store, payload)
        if topic == DELETE_TOPIC:
            # 200 for an order opsdesk never had too: its id is kept, and a retry would change nothing.
            deleted = delete_shopify_order(store, payload)
            return JsonResponse({"order": str(payload["id"]), "deleted": deleted})
        order, created = record_shopify_order(store, payload)
    except OrderWasDeleted as exc:
        # A notification sent before the deletion, arriving after it: acknowledged, so Shopify stops sending it.
        return JsonResponse({"order": str(exc), "ignored": "the order was deleted", "created": False})
    except ValueError as exc:
        errors = exc.errors if isinstance(exc, ShopifyOrderError) else [str(exc)]
        status = 422 if isinstance(exc, ShopifyOrderError | OrderRefused) else 400
        log.warning("Shopify order refused for %s: %s", store.slug, "; ".join(errors))
        return JsonResponse({"detail": "The order was not recorded.", "errors": errors}, status=status)
    return JsonResponse({"order": order.external_id, "created": created}, status=201 if created else 200)


def _refund_response(store, payload) -> JsonResponse:
    recorded = record_shopify_refund(store, payload)
    if recorded.order is None:
        # Acknowledged, not refused: Shopify would retry and then disable the webhook, and the refund still
        # arrives with the order itself in its next orders/updated.
        log.warning("Shopify refund for an order %s does not have: %s", store.slug, payload.get("order_id"))
        return JsonResponse({"order": str(payload["order_id"]), "recorded": False,
                             "detail": "No such order in this store; its orders/updated will carry the refund."})
    body = {"order": recorded.order.external_id, "refund": str(payload["id"]), "created": recorded.created}
    if recorded.unknown_line_items:
        body["unknown_line_items"] = recorded.unknown_line_items
    return JsonResponse(body, status=201 if recorded.created else 200)
