"""Error pages keep the app around the reader: the navigation, why, and the way back to the desk."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_operator_on_a_managers_page_is_told_which_role_it_needs_and_keeps_the_navigation(client_a, store_a):
    page = client_a.get(reverse("reviews:policy", args=[store_a.slug]))
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
