"""Marking a penalty appealed or resolved from the violations list: one small form a row, any member of the
store may, another store's record is a 404, and a resolved one stops counting as open."""

import pytest
from django.test import Client
from django.urls import reverse

from stores.models import Violation
from tests.factories import MembershipFactory, UserFactory, ViolationFactory

pytestmark = pytest.mark.django_db


def mark(client, violation, status, **extra):
    url = reverse("stores:violation_status", args=[violation.store.slug, violation.pk])
    return client.post(url, {"status": status, **extra})


def status_of(violation) -> str:
    return Violation.objects.get(pk=violation.pk).status


def test_an_operator_marks_a_penalty_appealed_then_resolved_from_the_list(client_a, store_a):
    violation = ViolationFactory(store=store_a, external_id="TM-1")
    listing = reverse("stores:violations", args=[store_a.slug])
    page = client_a.get(listing).content.decode()
    assert reverse("stores:violation_status", args=[store_a.slug, violation.pk]) in page
    assert 'name="csrfmiddlewaretoken"' in page

    response = mark(client_a, violation, "appealed", next=listing + "?status=open")
    assert response.status_code == 302 and response.url == listing + "?status=open"
    assert status_of(violation) == "appealed"
    mark(client_a, violation, "resolved")
    assert status_of(violation) == "resolved"
    assert "TM-1 (Late shipment) is now resolved." in client_a.get(listing).content.decode()


def test_marking_the_same_status_twice_changes_nothing_and_says_so(client_a, store_a):
    violation = ViolationFactory(store=store_a, external_id="TM-1")
    mark(client_a, violation, "resolved")
    page = client_a.get(mark(client_a, violation, "resolved").url).content.decode()
    assert "TM-1 was already resolved." in page
    assert status_of(violation) == "resolved"


def test_a_status_the_model_does_not_know_is_refused_and_nothing_changes(client_a, store_a):
    violation = ViolationFactory(store=store_a, external_id="TM-1")
    page = client_a.get(mark(client_a, violation, "closed").url).content.decode()
    assert "Choose one of open, appealed, resolved; TM-1 is still open." in page
    assert status_of(violation) == "open"


def test_another_stores_penalty_is_a_404_under_either_slug_and_is_left_alone(client_a, store_a, store_b):
    theirs = ViolationFactory(store=store_b)
    assert mark(client_a, theirs, "resolved").status_code == 404
    under_own_slug = reverse("stores:violation_status", args=[store_a.slug, theirs.pk])
    assert client_a.post(under_own_slug, {"status": "resolved"}).status_code == 404
    assert status_of(theirs) == "open"


def test_a_manager_may_mark_too_and_a_user_of_no_store_may_not(client, store_a, manager_a):
    violation = ViolationFactory(store=store_a)
    client.force_login(manager_a)
    mark(client, violation, "appealed")
    assert status_of(violation) == "appealed"
    client.force_login(UserFactory(username="stranger"))
    assert mark(client, violation, "resolved").status_code == 404
    assert status_of(violation) == "appealed"


def test_an_operator_of_another_store_only_gets_a_404(client, store_a, store_b):
    violation = ViolationFactory(store=store_a)
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user)
    assert mark(client, violation, "resolved").status_code == 404
    assert status_of(violation) == "open"


def test_the_status_changes_only_by_post_with_a_csrf_token(operator_a, store_a):
    violation = ViolationFactory(store=store_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a)
    url = reverse("stores:violation_status", args=[store_a.slug, violation.pk])
    assert client.get(url, {"status": "resolved"}).status_code == 405
    assert client.post(url, {"status": "resolved"}).status_code == 403
    assert status_of(violation) == "open"


def test_a_next_address_off_the_site_is_not_followed(client_a, store_a):
    violation = ViolationFactory(store=store_a)
    response = mark(client_a, violation, "resolved", next="https://evil.example.com/")
    assert response.url == reverse("stores:violations", args=[store_a.slug])


def test_a_resolved_or_appealed_penalty_leaves_the_desk_and_store_page_open_counts(client_a, store_a):
    resolved, appealed, still_open = (ViolationFactory(store=store_a, kind=k) for k in ("Fake", "Slow", "Late"))
    mark(client_a, resolved, "resolved")
    mark(client_a, appealed, "appealed")
    assert list(store_a.violations.open()) == [still_open]
    page = client_a.get(reverse("stores:detail", args=[store_a.slug]))
    assert list(page.context["open_violations"]) == [still_open]
    desk = client_a.get(reverse("desk")).context["panels"][0]["items"]
    assert [i.count for i in desk if i.label == "Open violations"] == [1]
