"""A NUL character (U+0000) in an address or a form: Postgres text cannot hold one, so it is refused by name:
to a person on the app's 400 page, to the ingest API as its JSON problem, to a webhook as plain text."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from campaigns.models import Activity
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [reverse("members:index") + "?q=Li%00", reverse("campaigns:plans") + "?store=a%00",
                                 reverse("campaigns:activities") + "?store=store-a%00&kind=gift",
                                 reverse("metrics:anomalies") + "?store=%00"])
def test_a_filter_with_a_nul_character_is_refused_by_name_on_the_apps_page(client_a, url):
    response = client_a.get(url)
    html = response.content.decode()
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "contains a NUL character" in html
    assert 'aria-label="Duties"' in html and reverse("desk") in html  # the navigation and the way back
    assert "Content-Security-Policy" in response.headers


def test_a_form_field_with_a_nul_character_is_refused_and_nothing_is_created(client_a, store_a):
    anchor, partner = ProductFactory(store=store_a), ProductFactory(store=store_a)
    response = client_a.post(reverse("campaigns:related_sales_bundle"), {
        "store": store_a.slug, "anchor": anchor.pk, "partner": partner.pk, "note": "Buy\x00 both"})
    assert response.status_code == 400
    assert "note: contains a NUL character" in response.content.decode()
    assert 'aria-label="Duties"' in response.content.decode()
    assert not Activity.objects.exists()


def test_the_ingest_api_gets_its_json_problem(client):
    response = client.post(reverse("api-v1:post_events") + "?store=%00", b"{}", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "store: contains a NUL character (\\u0000), which cannot be stored or "
                                         "searched for."}


def test_a_webhook_gets_plain_text(client):
    response = client.post(reverse("twilio_inbound") + "?m=%00", {"From": "+14155550100", "Body": "hi"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("m: contains a NUL character")


# Plain ASCII on the wire, so no server refuses it; Django's cookie parser unquotes the \\000 to a NUL.
NUL_SESSION_COOKIE = 'sessionid="abcdefgh\\000ijkl"'


def test_a_session_cookie_that_unquotes_to_a_nul_is_no_session_so_the_log_in_page_opens(client):
    response = client.get(reverse("login"), HTTP_COOKIE=NUL_SESSION_COOKIE)
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


def test_a_session_cookie_that_unquotes_to_a_nul_is_sent_to_log_in_from_the_desk(client):
    response = client.get(reverse("desk"), HTTP_COOKIE=NUL_SESSION_COOKIE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_400_page_renders_without_a_request_as_django_renders_it():
    html = render_to_string("400.html")  # django.views.defaults.bad_request gives it no context at all
    assert "could not be read" in html and reverse("desk") in html


def test_text_without_nul_characters_passes(client_a):
    assert client_a.get(reverse("members:index") + "?q=Li").status_code == 200
