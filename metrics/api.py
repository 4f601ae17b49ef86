"""The ingest API (django-ninja), mounted at /api/v1/: POST /events, plus /openapi.json and /docs.

Storefronts authenticate with `Authorization: Bearer <store API key>` (see `manage.py
create_api_key`); the key decides the store, so a key can only ever write to its own store.
The view is thin: size checks, then `metrics.ingest.ingest_body`.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import RequestDataTooBig
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI, Status
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from campaigns.ads_api import router as ads_router
from reviews.api import router as reviews_router
from stores.models import ApiKey

from . import ingest
from .schemas import Accepted, EventBatch, Problem, Rejected


class StoreApiKey(HttpBearer):
    openapi_description = "A store's ingest key, issued by `manage.py create_api_key STORE_SLUG`."

    def authenticate(self, request, token):
        key = ApiKey.objects.authenticate(token)
        return key.store if key else None


log = logging.getLogger(__name__)


class StoreRateThrottle(BaseThrottle):
    """At most API_REQUESTS_PER_MINUTE requests a store in any 60 seconds, over all its keys and every web
    process. A sliding window: this clock minute's count plus the last minute's, weighted by the share of the
    last minute still within the past 60 seconds (a fixed clock minute let twice the rate through across a
    minute's boundary). One counter per store and minute in the "limits" cache, raised atomically (Redis INCR),
    so concurrent requests cannot all slip under the limit as a read-then-write history would; a refused
    request is taken off again, so a client retrying early does not push its own wait further out.
    Unauthenticated requests are not counted here: they get 401 before this runs."""

    WINDOW = 60
    _last = threading.local()  # the seconds until a request fits again, for Retry-After (wait() has no request)

    def allow_request(self, request) -> bool:
        minute, elapsed = divmod(time.time(), self.WINDOW)
        key, last_key = (f"api:{request.auth.pk}:{int(m)}" for m in (minute, minute - 1))
        cache = caches["limits"]
        limit = settings.API_REQUESTS_PER_MINUTE
        try:
            try:
                count = cache.incr(key)  # one round trip for every request but a minute's first
            except ValueError:  # no counter yet for this minute: start it (or count on one a racer just started)
                count = 1 if cache.add(key, 1, self.WINDOW * 3) else cache.incr(key)
            before = cache.get(last_key, 0)
            if count * self.WINDOW + before * (self.WINDOW - elapsed) <= limit * self.WINDOW:  # no float rounding
                return True
            cache.decr(key)
        except Exception:  # the limiter's store is down: take the data rather than lose a storefront's events
            log.warning("API rate limit not checked: the limits cache is unavailable", exc_info=True)
            return True
        self._last.wait = self.seconds_to_wait(count - 1, before, elapsed, limit)
        return False

    @classmethod
    def seconds_to_wait(cls, taken: int, before: int, elapsed: float, limit: int) -> float:
        """Until one more request fits: `taken` this minute, `before` in the last one, fading as it slides out."""
        if taken < limit:  # the last minute's share must fade: taken + 1 + before × (1 − t / 60) ≤ limit
            return cls.WINDOW * (before - (limit - taken - 1)) / before - elapsed
        # This minute is full: into the next, where this one's count fades out as the last one's does now.
        return cls.WINDOW - elapsed + cls.WINDOW * (taken - (limit - 1)) / taken

    def wait(self) -> float:
        return getattr(self._last, "wait", self.WINDOW)


class IngestAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # The events body is parsed by the service (to reject a batch whole, with per-event reasons),
        # so its schema is published here rather than derived from a view parameter.
        schema = super().get_openapi_schema(*args, **kwargs)
        body = EventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["EventBatch"] = body
        return schema


api = IngestAPI(
    title="opsdesk ingest API",
    version="1",
    description="Send storefront events (sessions, product views, carts, paid orders, refunds) in batches. "
                "See docs/ingest.md.",
    urls_namespace="api-v1",
    auth=StoreApiKey(),
    throttle=StoreRateThrottle(),
)


@api.post(
    "/events",
    response={202: Accepted, 400: Rejected, 401: Problem, 413: Problem, 429: Problem},
    summary="Store a batch of events",
    description="All or nothing: a batch with any bad event is rejected whole (400) with each bad event's "
                "index and reason. Event ids are idempotency keys: an event already stored is counted as a "
                "duplicate, not stored again.",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}}}},
)
def post_events(request):
    store = request.auth
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > ingest.max_body_bytes():
        return Status(413, {"detail": f"The body is {declared} bytes; the limit is {ingest.max_body_bytes()}."})
    try:
        result = ingest.ingest_body(store, request.body)
    except RequestDataTooBig:
        return Status(413, {"detail": "The body is larger than the server accepts."})
    except ingest.BatchTooLarge as exc:
        return Status(413, {"detail": str(exc)})
    except ingest.BatchRejected as exc:
        return Status(400, {"detail": exc.detail, "errors": exc.errors})
    answer = {"accepted": result.accepted, "duplicates": result.duplicates}
    if result.skipped:
        answer["skipped"] = list(result.skipped)
    return Status(202, answer)


def public_urls(ninja_api: NinjaAPI):
    """The API's URLs, opted out of the site-wide login requirement (the API checks its own key)."""
    patterns, app_name, namespace = ninja_api.urls

    def open_up(items):
        for item in items:
            if isinstance(item, URLResolver):
                open_up(item.url_patterns)
            elif isinstance(item, URLPattern):
                item.callback.login_required = False

    open_up(patterns)
    return patterns, app_name, namespace


# Paid promotion's daily results and spend snapshots: POST /api/v1/ads/performance (campaigns.ads_api).
api.add_router("/", ads_router)
# Reviews from a platform connector: POST /api/v1/reviews (reviews.api).
api.add_router("/", reviews_router)
urls = public_urls(api)
