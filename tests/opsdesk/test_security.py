"""Log-in throttling, the security headers every page carries, and where a form's `next` may lead."""

import re

import pytest
from django.urls import reverse

from reviews.models import ProductTask
from tests.factories import ProductFactory, UserFactory, ViolationFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def olivia(db):
    user = UserFactory(username="olivia")
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_wrong_password_shows_the_form_again(client, olivia):
    response = log_in(client, "olivia", "nope")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_for_that_address_even_with_the_right_one(client, olivia):
    for _ in range(5):
        log_in(client, "olivia", "guess")
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_a_lockout_of_one_user_does_not_lock_out_another(client, olivia):
    marco = UserFactory(username="marco")
    marco.set_password(PASSWORD)
    marco.save()
    for _ in range(5):
        log_in(client, "olivia", "guess")
    response = log_in(client, "marco", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(marco.pk)


def test_a_successful_login_resets_the_count(client, olivia):
    for _ in range(4):
        log_in(client, "olivia", "guess")
    assert log_in(client, "olivia", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "olivia", "guess")
    assert log_in(client, "olivia", PASSWORD).status_code == 302


def log_in_via_proxy(client, forwarded_for, password):
    return client.post(reverse("login"), {"username": "olivia", "password": password},
                       REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_proxy_a_lockout_is_of_the_client_not_of_everyone_behind_the_proxy(client, olivia, settings):
    settings.PROXY_COUNT = 1
    for _ in range(5):
        log_in_via_proxy(client, "203.0.113.7", "guess")
    assert log_in_via_proxy(client, "203.0.113.7", PASSWORD).status_code == 429
    assert log_in_via_proxy(client, "198.51.100.4", PASSWORD).status_code == 302


def test_a_guesser_cannot_dodge_the_lockout_by_forging_forwarded_addresses(client, olivia, settings):
    settings.PROXY_COUNT = 1
    for n in range(5):
        # The proxy appends the real address; what the client wrote before it is ignored.
        log_in_via_proxy(client, f"192.0.2.{n}, 203.0.113.7", "guess")
    assert log_in_via_proxy(client, "192.0.2.99, 203.0.113.7", PASSWORD).status_code == 429


def test_a_forwarded_entry_that_is_no_address_is_a_wrong_password_not_a_server_error(client, olivia, settings):
    settings.PROXY_COUNT = 1  # a request that bypassed the proxy writes X-Forwarded-For itself
    response = log_in_via_proxy(client, "not-an-address", "guess")
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


def test_junk_forwarded_entries_still_count_towards_the_lockout(client, olivia, settings):
    settings.PROXY_COUNT = 1
    for n in range(5):
        log_in_via_proxy(client, f"junk-{n}", "guess")
    assert log_in_via_proxy(client, "junk-99", PASSWORD).status_code == 429


@pytest.mark.parametrize("url", [reverse("login"), reverse("admin:login")])
def test_a_wrong_password_with_an_overlong_username_shows_the_form_again(client, olivia, url):
    response = client.post(url, {"username": "o" * 300, "password": "guess"})
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


def test_overlong_usernames_still_count_towards_the_lockout(client, olivia):
    for _ in range(5):
        log_in(client, "o" * 300, "guess")
    assert log_in(client, "o" * 300, "guess").status_code == 429



@pytest.mark.parametrize("header,name", [("HTTP_USER_AGENT", "User-Agent"), ("HTTP_ACCEPT", "Accept")])
def test_a_failed_log_in_with_a_nul_in_a_header_the_throttle_stores_is_refused_by_name(client, olivia, header, name):
    response = client.post(reverse("login"), {"username": "olivia", "password": "guess"}, **{header: "Mozilla\x00"})
    assert response.status_code == 400
    assert f"{name}: contains a NUL character" in response.content.decode()

def test_pages_carry_csp_and_the_other_security_headers(client, olivia):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # Inline scripts run only with the page's nonce (added when a page uses one), never unsafe-*.
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src.startswith("'self'")
    assert "unsafe" not in script_src
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_carry_no_inline_script_or_event_handlers():
    """The CSP would block them: behaviour lives in static files (desk.js, live.js), data in json_script."""
    from pathlib import Path

    offenders = []
    for template in (Path(__file__).resolve().parents[2] / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{template.name}: {tag}")
        offenders += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
    assert not offenders, offenders


@pytest.fixture(params=["violation status", "review task done"])
def form_with_next(request, store_a):
    """(the form's address, its fields, where it leads without a usable `next`): the forms that send one."""
    if request.param == "violation status":
        violation = ViolationFactory(store=store_a)
        return (reverse("stores:violation_status", args=[store_a.slug, violation.pk]), {"status": "resolved"},
                reverse("stores:violations", args=[store_a.slug]))
    task = ProductTask.objects.create(store=store_a, product=ProductFactory(store=store_a), text="Thicker foam")
    return (reverse("reviews:task_done", args=[store_a.slug, task.pk]), {},
            reverse("reviews:product", args=[store_a.slug, task.product_id]))


def test_a_next_page_on_the_site_is_where_the_form_leads(client_a, form_with_next):
    url, fields, _ = form_with_next
    assert client_a.post(url, {**fields, "next": "/stores/?page=2"}, secure=True).url == "/stores/?page=2"


@pytest.mark.parametrize("next_url", ["https://evil.example.com/", "//evil.example.com/",
                                      "http://testserver/stores/"])  # same host, but off the encrypted site
def test_on_https_a_next_off_the_site_or_over_plain_http_is_not_followed(client_a, form_with_next, next_url):
    url, fields, fallback = form_with_next
    assert client_a.post(url, {**fields, "next": next_url}, secure=True).url == fallback
