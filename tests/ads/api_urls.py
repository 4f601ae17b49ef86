"""A test urlconf that mounts a fresh ads router on its own NinjaAPI (the project's API lives in metrics)."""

from django.urls import path
from ninja import NinjaAPI

from campaigns.ads_api import build_router

api = NinjaAPI(urls_namespace="ads-api-test", docs_url=None)
api.add_router("/", build_router())

patterns, app_name, namespace = api.urls
for pattern in patterns:
    pattern.callback.login_required = False  # the API has its own auth (Bearer key)

urlpatterns = [path("api/v1/", (patterns, app_name, namespace))]
