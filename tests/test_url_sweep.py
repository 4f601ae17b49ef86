"""The whole-site sweep: every URL pattern is checked, so a new page cannot forget its guards.

For every route in the URL conf (admin aside, which is staff-only and has its own tests):
- anonymous users are sent to log in, unless the route is in PUBLIC with its own authentication;
- a POST without a CSRF token is refused (403), unless the route is public and signature-checked;
- a route that takes an object takes it from KWARGS, and an operator of store A gets 404/403 for
  store B's object, whether it is asked for under store B's slug or smuggled in under store A's.
A route missing from KWARGS fails the sweep: the author of a new page must say how to reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from stores.models import ListingVersion
from tests.factories import OrderFactory, ProductFactory, ViolationFactory

pytestmark = pytest.mark.django_db

# Routes anyone may call: Django's auth pages, the health check, and machine endpoints that check a
# key or a signature themselves (they have their own tests for 401/403).
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
}
# Routes for machines, csrf-exempt because they authenticate every call with a key or a signature.
MACHINE = {"api-v1:post_events", "shopify-orders"}
# Django's own password-reset link takes a uid/token pair, not a store object.
SKIP = {"password_reset_confirm"}


def store_world(store) -> dict:
    """One object of every kind a page can be asked for, all in `store`."""
    return {
        "store": store,
        "product": ProductFactory(store=store),
        "order": OrderFactory(store=store),
        "violation": ViolationFactory(store=store),
    }


def slug(world):
    return {"slug": world["store"].slug}


def slug_and(key: str, name: str = "pk") -> Callable[[dict], dict]:
    return lambda world: {"slug": world["store"].slug, name: world[key].pk}


# URL name -> kwargs that address an object of the given world.
KWARGS: dict[str, Callable[[dict], dict]] = {
    "stores:detail": slug,
    "stores:product": slug_and("product"),
    "stores:order": slug_and("order"),
    "stores:violations": slug,
    "stores:import": slug,
    "shopify-orders": slug,
    "metrics:store_live": slug,
    "metrics:store_live_json": slug,
    "stores:listing_picture": lambda world: {
        "slug": world["store"].slug, "pk": world["product"].pk,
        "version_pk": ListingVersion.objects.create(product=world["product"], title="v", main_image="x.png").pk},
}


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


def route_params(route: str) -> bool:
    return "<" in route


ALL = sorted({name for _, name, _ in routes()})
WITH_PARAMS = sorted({name for route, name, _ in routes() if route_params(route)} - PUBLIC - MACHINE - SKIP)
WITHOUT_PARAMS = sorted({name for route, name, _ in routes() if not route_params(route)})


def test_every_route_has_a_name():
    unnamed = [route for route, name, _ in routes() if not name.split(":")[-1]]
    assert not unnamed, f"name these routes so the sweep can address them: {unnamed}"


def test_every_route_with_parameters_is_in_the_sweep():
    missing = [name for name in WITH_PARAMS if name not in KWARGS]
    assert not missing, f"add these routes to KWARGS in {__file__}: {missing}"


@pytest.mark.parametrize("name", [n for n in WITHOUT_PARAMS if n not in PUBLIC | MACHINE])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("name", [n for n in WITH_PARAMS if n in KWARGS])
def test_anonymous_users_are_sent_to_log_in_from_object_pages(client, store_b, name):
    url = reverse(name, kwargs=KWARGS[name](store_world(store_b)))
    response = client.get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("name", [n for n in WITH_PARAMS if n in KWARGS])
def test_store_a_operator_cannot_read_or_change_store_b(client_a, store_a, store_b, name):
    world_b = store_world(store_b)
    kwargs = KWARGS[name](world_b)
    urls = [reverse(name, kwargs=kwargs)]
    if "slug" in kwargs and len(kwargs) > 1:
        # Store B's object asked for under store A's own slug.
        urls.append(reverse(name, kwargs={**kwargs, "slug": store_a.slug}))
    for url in urls:
        assert client_a.get(url).status_code in (403, 404), f"GET {url}"
        assert client_a.post(url, {}).status_code in (403, 404, 405), f"POST {url}"


@pytest.mark.parametrize("name", [n for n in ALL if n not in PUBLIC | MACHINE | SKIP])
def test_posts_without_a_csrf_token_are_refused(operator_a, store_a, name):
    world = store_world(store_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a)
    kwargs = KWARGS[name](world) if name in KWARGS else {}
    response = client.post(reverse(name, kwargs=kwargs), {})
    assert response.status_code == 403, name


@pytest.mark.parametrize("name", sorted(MACHINE))
def test_machine_endpoints_refuse_unsigned_calls(client, store_b, name):
    kwargs = KWARGS[name](store_world(store_b)) if name in KWARGS else {}
    response = client.post(reverse(name, kwargs=kwargs), data=b"{}", content_type="application/json")
    assert response.status_code in (401, 403), name
