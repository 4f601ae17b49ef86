"""Top-level URLs: the desk, one namespace per app, auth and admin."""

from django.contrib import admin
from django.urls import include, path

from metrics.api import urls as api_urls
from stores.webhooks import shopify_orders

from . import views

urlpatterns = [
    path("", views.desk, name="desk"),
    path("healthz", views.healthz, name="healthz"),
    path("downloads/", views.downloads, name="downloads"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls),
    path("webhooks/shopify/<slug:slug>/orders", shopify_orders, name="shopify-orders"),
    path("stores/", include("stores.urls")),
    path("metrics/", include("metrics.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("members/", include("members.urls")),
    path("reviews/", include("reviews.urls")),
    path("webhooks/twilio/", include("members.webhook_urls")),
]

handler400 = "opsdesk.views.bad_request"
