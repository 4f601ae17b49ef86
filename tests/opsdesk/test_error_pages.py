"""Error pages keep the app around the reader: the navigation, why, and the way back to the desk. A webhook's
400 is plain text, as a machine reads it."""

import pytest
from django.urls import reverse

from stores.models import Violation
from tests.factories import StoreFactory, ViolationFactory

pytestmark = pytest.mark.django_db


def test_an_operator_on_a_managers_page_is_told_which_role_it_needs_and_keeps_the_navigation(client_a, store_a):
    page = client_a.get(reverse("members:template_new", args=[store_a.slug]))
    html = page.content.decode()
    assert page.status_code == 403
    assert f"This needs the manager role in {store_a.name}." in html
    assert 'aria-label="Duties"' in html and reverse("desk") in html


def test_another_stores_page_is_a_plain_not_found_that_leads_back_to_the_desk(client_a, store_b):
    page = client_a.get(reverse("reviews:store", args=[store_b.slug]))
    html = page.content.decode()
    assert page.status_code == 404
    assert "belongs to a store you do not work in" in html and store_b.name not in html
    assert 'aria-label="Duties"' in html


def test_the_server_error_page_renders_without_a_request_as_django_renders_it():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # django.views.defaults.server_error gives it no context at all
    assert "Something went wrong" in html and reverse("desk") in html


TOO_BIG = "The body is larger than the server accepts (at most 1000"


def test_an_oversized_twilio_webhook_gets_a_plain_text_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(reverse("twilio_inbound"), {"From": "+14155550100", "Body": "x" * 2000})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith(TOO_BIG)


def test_an_oversized_shopify_webhook_gets_a_plain_text_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    store = StoreFactory(webhook_secret="shpss_1")
    response = client.post(reverse("shopify-orders", args=[store.slug]), b'{"note": "%s"}' % (b"x" * 2000),
                           content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256="c2ln")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith(TOO_BIG)


def test_an_oversized_form_gets_the_apps_400_page_with_the_navigation(client_a, store_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    violation = ViolationFactory(store=store_a)
    response = client_a.post(reverse("stores:violation_status", args=[store_a.slug, violation.pk]),
                             {"status": "resolved", "next": "/" + "x" * 2000})
    html = response.content.decode()
    assert response.status_code == 400 and TOO_BIG in html
    assert 'aria-label="Duties"' in html and reverse("desk") in html
    assert Violation.objects.get(pk=violation.pk).status == "open"


def test_an_address_for_another_host_still_gets_the_400_page(client):
    response = client.get(reverse("login"), HTTP_HOST="evil.example.com")
    assert response.status_code == 400 and "Cannot use this request" in response.content.decode()
