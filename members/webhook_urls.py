"""Twilio's webhooks, mounted at /webhooks/twilio/ (top-level URL names, no namespace)."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("status", webhooks.status, name="twilio_status"),
    path("inbound", webhooks.inbound, name="twilio_inbound"),
]
