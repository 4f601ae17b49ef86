"""Assigning a case from its page: to a member of its store, or taking it; the lists' owner filter; the desk."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.urls import reverse

from opsdesk.desk import open_items
from reviews.models import CaseStatus, ReviewCase
from tests.factories import MembershipFactory, UserFactory
from tests.reviews.conftest import make_case

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _assign(client, case, assignee):
    return client.post(case.get_absolute_url(), {"action": "assign", "assignee": assignee})


def test_operator_takes_a_case_and_its_history_says_who_and_when(client_a, operator_a, store_a):
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        case = make_case(store_a)
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert "Take this case" in page and "Assigned to <b>nobody</b>" in page
    with time_machine.travel(NOW, tick=False):
        assert _assign(client_a, case, operator_a.pk).status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == operator_a
    event = case.events.last()
    assert (event.by, event.at, event.note) == (operator_a, NOW, f"{operator_a} took the case.")
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert "Assigned to <b>you</b>" in page and "Take this case" not in page
    assert f"{operator_a} took the case." in page


def test_manager_assigns_a_colleague_and_the_history_names_both(client, manager_a, operator_a, store_a):
    client.force_login(manager_a)
    case = make_case(store_a)
    _assign(client, case, operator_a.pk)
    colleague = MembershipFactory(store=store_a, user=UserFactory(username="lin"), role="operator").user
    _assign(client, case, colleague.pk)
    case.refresh_from_db()
    assert case.assigned_to == colleague
    notes = [(e.by, e.note) for e in case.events.all()][1:]  # after "Opened: …"
    assert notes == [(manager_a, f"Assigned to {operator_a}."), (manager_a, f"Assigned to lin (was {operator_a}).")]
    assert case.status == CaseStatus.NEW  # an assignment moves nothing


def test_a_case_cannot_be_given_to_someone_outside_its_store(client_a, store_a, store_b, operator_b):
    case = make_case(store_a)
    response = _assign(client_a, case, operator_b.pk)
    assert response.status_code == 400
    assert "has no active member with id" in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to is None and case.events.count() == 1


def test_assigning_twice_records_it_once(client_a, operator_a, store_a):
    case = make_case(store_a)
    _assign(client_a, case, operator_a.pk)
    _assign(client_a, case, operator_a.pk)
    assert case.events.count() == 2  # opened, taken


def test_unassigning_is_recorded(client_a, operator_a, store_a):
    case = make_case(store_a)
    _assign(client_a, case, operator_a.pk)
    _assign(client_a, case, "")
    case.refresh_from_db()
    assert case.assigned_to is None and case.events.last().note == f"Unassigned (was {operator_a})."


def test_another_stores_case_cannot_be_assigned(client_a, operator_a, store_a, operator_b):
    case_b = make_case(operator_b.memberships.get().store)
    assert _assign(client_a, case_b, operator_a.pk).status_code == 404
    url = reverse("reviews:case", args=[store_a.slug, case_b.pk])
    assert client_a.post(url, {"action": "assign", "assignee": operator_a.pk}).status_code == 404
    case_b.refresh_from_db()
    assert case_b.assigned_to is None


def test_lists_filter_my_and_unassigned_cases_and_name_the_owner(client_a, operator_a, store_a):
    colleague = MembershipFactory(store=store_a, user=UserFactory(username="lin"), role="operator").user
    mine, theirs, nobodys = make_case(store_a), make_case(store_a), make_case(store_a)
    _assign(client_a, mine, operator_a.pk)
    _assign(client_a, theirs, colleague.pk)
    for url in (reverse("reviews:index"), reverse("reviews:store", args=[store_a.slug])):
        assert list(client_a.get(url, {"assigned": "me"}).context["cases"]) == [mine]
        assert list(client_a.get(url, {"assigned": "none"}).context["cases"]) == [nobodys]
        assert len(client_a.get(url).context["cases"]) == 3
        page = client_a.get(url).content.decode()
        assert "<b>you</b>" in page and ">lin<" in page and ">nobody<" in page
        assert "1 open case assigned to you" in client_a.get(url, {"assigned": "me"}).content.decode()


def test_desk_counts_your_open_cases(client_a, operator_a, store_a):
    case = make_case(store_a)
    make_case(store_a)
    assert "Your open bad-review cases" not in {i.label for i in open_items(store_a, operator_a)}
    _assign(client_a, case, operator_a.pk)
    items = {i.label: (i.count, i.url) for i in open_items(store_a, operator_a)}
    assert items["Your open bad-review cases"] == (1, reverse("reviews:store", args=[store_a.slug]) + "?assigned=me")
    assert "Your open bad-review cases" in client_a.get(reverse("desk")).content.decode()


def test_a_closed_case_is_not_assigned(client_a, operator_a, store_a):
    case = make_case(store_a)
    ReviewCase.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    response = _assign(client_a, case, operator_a.pk)
    assert response.status_code == 400 and "The case is closed" in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to is None
