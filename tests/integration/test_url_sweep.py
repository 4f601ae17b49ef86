"""The whole-site sweep: every URL pattern is checked, so a new page cannot forget its guards.

For every route in the URL conf (admin aside, which is staff-only and has its own tests):
- anonymous users are sent to log in, unless the route is in PUBLIC with its own authentication;
- a POST without a CSRF token is refused (403), unless the route is a machine endpoint that checks
  a key or a signature instead (MACHINE), which must refuse an unsigned call;
- a route that takes parameters is filled from tests/world.py's KWARGS, and an operator of store A
  gets 404/403 for store B's object, whether asked for under store B's slug or under store A's own.
A route missing from KWARGS fails the sweep: the author of a new page must say how to reach it.
The world is the demo's two stores with an object of every kind (loaded once for this module).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from stores.demo import remove_demo
from tests.world import KWARGS, NOT_STORE_SLUG, objects, seed_world

# Routes anyone may call: Django's auth pages, the health check and the API's schema.
PUBLIC = {
    "healthz",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "api-v1:openapi-json",
    "api-v1:openapi-view",
    "api-v1:api-root",
    "metrics:email_opt_out",  # its signed token is the credential (tests/metrics/test_morning_email.py)
    "campaigns:ad_alert_opt_out",  # the same (tests/ads/test_pacing_alert_email.py)
}
# Routes for machines, csrf-exempt because they authenticate every call with a key or a signature.
MACHINE = {"api-v1:post_events", "api-v1:post_performance", "shopify-orders", "api-v1:post_reviews",
           "twilio_status", "twilio_inbound"}
# Django's own password-reset link takes a uid/token pair, not a store object.
SKIP = {"password_reset_confirm"}


def routes(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    """(route, namespaced name, pattern) for every URL pattern outside the admin."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            route = prefix + str(entry.pattern)
            if route.startswith("admin/"):
                continue
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from routes(entry.url_patterns, route, inner)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield prefix + str(entry.pattern), name, entry


ALL = sorted({name for _, name, _ in routes()})
WITH_PARAMS = sorted({name for route, name, _ in routes() if "<" in route} - PUBLIC - SKIP)
WITHOUT_PARAMS = sorted({name for route, name, _ in routes() if "<" not in route})
GUARDED = [n for n in WITH_PARAMS if n in KWARGS and n not in MACHINE]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        store_a, store_b, operator = seed_world()
        yield {"a": objects(store_a), "b": objects(store_b), "operator": operator}
        remove_demo()
        operator.delete()


@pytest.fixture
def operator_client(db, world):
    client = Client()
    client.force_login(world["operator"])
    return client


def url_for(name: str, objs: dict, **override) -> str:
    return reverse(name, kwargs={**KWARGS[name](objs), **override}) if name in KWARGS else reverse(name)


def test_every_route_has_a_name():
    unnamed = [route for route, name, _ in routes() if not name.split(":")[-1]]
    assert not unnamed, f"name these routes so the sweep can address them: {unnamed}"


def test_every_route_with_parameters_is_in_the_sweep():
    missing = [name for name in WITH_PARAMS if name not in KWARGS]
    assert not missing, f"add these routes to KWARGS in tests/world.py: {missing}"


def test_every_machine_route_exists():
    assert not MACHINE - set(ALL), f"no longer routes: {MACHINE - set(ALL)}"


@pytest.mark.parametrize("name", [n for n in WITHOUT_PARAMS if n not in PUBLIC | MACHINE])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("name", GUARDED)
def test_anonymous_users_are_sent_to_log_in_from_object_pages(client, world, name):
    url = url_for(name, world["b"])
    response = client.get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("name", GUARDED)
def test_store_a_operator_cannot_read_or_change_store_b(operator_client, world, name):
    kwargs = KWARGS[name](world["b"])
    urls = [url_for(name, world["b"])]
    if "slug" in kwargs and len(kwargs) > 1 and name not in NOT_STORE_SLUG:
        # Store B's object asked for under store A's own slug.
        urls.append(url_for(name, world["b"], slug=world["a"]["store"].slug))
    for url in urls:
        get, post = operator_client.get(url).status_code, operator_client.post(url, {}).status_code
        # 405 is fine for the method a route does not take; the other one must hit the store check.
        assert {get, post} <= {403, 404, 405} and {get, post} != {405}, f"{url}: GET {get}, POST {post}"


@pytest.mark.parametrize("name", GUARDED)
def test_store_a_operator_can_open_store_a_pages(operator_client, world, name):
    """The other side of the sweep: the 404s above are about the store, not a broken page."""
    response = operator_client.get(url_for(name, world["a"]))
    assert response.status_code in (200, 302, 403, 405), f"{name}: {response.status_code}"


@pytest.mark.parametrize("name", [n for n in ALL if n not in PUBLIC | MACHINE | SKIP])
def test_posts_without_a_csrf_token_are_refused(db, world, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["operator"])
    assert client.post(url_for(name, world["a"]), {}).status_code == 403, name


@pytest.mark.parametrize("name", sorted(MACHINE))
def test_machine_endpoints_refuse_unsigned_calls(client, world, name):
    response = client.post(url_for(name, world["b"]), data=b"{}", content_type="application/json")
    assert response.status_code in (401, 403), name
