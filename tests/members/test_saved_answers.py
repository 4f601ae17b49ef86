"""Saved answers: a store's common answers to members' replies. Its managers add, edit and delete them; everyone of
the store reads them, and every Text back form offers the reply's own store's answers (never another store's)."""

import re

import pytest
from django.urls import reverse

from members.models import SavedAnswer
from tests.factories import MembershipFactory, UserFactory
from tests.members.conftest import BAD_ANSWERS, LA_MORNING, make_member
from tests.members.test_conversation import reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_2026")]
PHONE = "+14155550100"
PARCEL = "It left our warehouse today; tracking follows by text tonight."


@pytest.fixture
def manager_b(store_b):
    return MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager").user


@pytest.fixture
def operator_b(store_b):
    return MembershipFactory(store=store_b, user=UserFactory(username="op-b"), role="operator").user


def add(client, store, title, body):
    return client.post(reverse("members:saved_answers", args=[store.slug]), {"title": title, "body": body},
                       follow=True)


def edit(client, answer, title, body):
    return client.post(reverse("members:saved_answer_edit", args=[answer.store.slug, answer.pk]),
                       {"title": title, "body": body}, follow=True)


def delete(client, answer):
    return client.post(reverse("members:saved_answer_delete", args=[answer.store.slug, answer.pk]), follow=True)


def offered(page: str, box: str) -> list[str]:
    """The titles of the saved answers the Text back form of text box `box` offers, in order."""
    found = re.search(rf'<select data-fill-text="{box}">(.*?)</select>', page, re.S)
    return re.findall(r'<option value="[^"]+">([^<]*)</option>', found.group(1)) if found else []


def test_a_manager_adds_edits_and_deletes_a_saved_answer(client, store_b, manager_b):
    client.force_login(manager_b)
    assert "Saved answer “Parcel” added." in add(client, store_b, " Parcel ", PARCEL).content.decode()
    answer = SavedAnswer.objects.get()
    assert (answer.store, answer.title, answer.body, answer.created_by, answer.updated_by) == (
        store_b, "Parcel", PARCEL, manager_b, manager_b)
    page = client.get(reverse("members:saved_answers", args=[store_b.slug])).content.decode()
    assert PARCEL in page and reverse("members:saved_answer_edit", args=[store_b.slug, answer.pk]) in page

    response = edit(client, answer, "Where is my parcel", "It ships tomorrow morning.")
    assert "Saved answer “Where is my parcel” changed." in response.content.decode()
    answer.refresh_from_db()
    assert (answer.title, answer.body) == ("Where is my parcel", "It ships tomorrow morning.")

    response = delete(client, answer)
    assert "Saved answer “Where is my parcel” deleted." in response.content.decode()
    assert "No saved answers yet." in response.content.decode()
    assert not SavedAnswer.objects.exists()


def test_an_operator_reads_the_saved_answers_but_may_not_add_edit_or_delete_them(client, store_b, operator_b):
    answer = SavedAnswer.objects.create(store=store_b, title="Parcel", body=PARCEL)
    client.force_login(operator_b)
    page = client.get(reverse("members:saved_answers", args=[store_b.slug])).content.decode()
    assert PARCEL in page and "you are an operator here" in page
    assert "Add a saved answer" not in page and "/delete/" not in page
    assert client.post(reverse("members:saved_answers", args=[store_b.slug]),
                       {"title": "Mine", "body": "Hi"}).status_code == 403
    assert client.get(reverse("members:saved_answer_edit", args=[store_b.slug, answer.pk])).status_code == 403
    assert edit(client, answer, "Parcel", "Changed").status_code == 403
    assert delete(client, answer).status_code == 403
    assert list(SavedAnswer.objects.values_list("title", "body")) == [("Parcel", PARCEL)]


@BAD_ANSWERS
def test_a_body_that_is_no_single_text_is_refused_with_its_error_and_nothing_is_saved(client, store_b, manager_b,
                                                                                      body, error):
    client.force_login(manager_b)
    response = add(client, store_b, "Parcel", body)
    assert response.status_code == 400 and error in response.content.decode()
    assert 'value="Parcel"' in response.content.decode()  # what was typed is kept
    assert not SavedAnswer.objects.exists()

    answer = SavedAnswer.objects.create(store=store_b, title="Parcel", body=PARCEL)
    response = edit(client, answer, "Parcel", body)
    assert response.status_code == 400 and error in response.content.decode()
    answer.refresh_from_db()
    assert answer.body == PARCEL


def test_a_title_the_store_already_has_is_refused_but_another_store_may_have_it(client, store_a, store_b,
                                                                                 manager_b):
    SavedAnswer.objects.create(store=store_b, title="Parcel", body=PARCEL)
    SavedAnswer.objects.create(store=store_a, title="Refund", body="Refunded today.")
    client.force_login(manager_b)
    response = add(client, store_b, "parcel", "Another text.")
    assert response.status_code == 400
    assert "Store B already has a saved answer titled “parcel”." in response.content.decode()
    assert "Saved answer “Refund” added." in add(client, store_b, "Refund", "Refunded.").content.decode()
    assert SavedAnswer.objects.filter(store=store_b).count() == 2


def test_another_stores_saved_answer_is_404_and_stays(client, store_a, store_b, manager_b):
    theirs = SavedAnswer.objects.create(store=store_a, title="Refund", body="Refunded today.")
    client.force_login(manager_b)
    assert client.get(reverse("members:saved_answers", args=[store_a.slug])).status_code == 404
    assert client.get(reverse("members:saved_answer_edit", args=[store_a.slug, theirs.pk])).status_code == 404
    # Their id under one's own store: still not found.
    assert client.get(reverse("members:saved_answer_edit", args=[store_b.slug, theirs.pk])).status_code == 404
    assert client.post(reverse("members:saved_answer_edit", args=[store_b.slug, theirs.pk]),
                       {"title": "Mine", "body": "Mine"}).status_code == 404
    assert client.post(reverse("members:saved_answer_delete", args=[store_b.slug, theirs.pk])).status_code == 404
    assert delete(client, theirs).status_code == 404
    assert SavedAnswer.objects.get(pk=theirs.pk).body == "Refunded today."


@pytest.fixture
def one_number_in_two_stores(client, store_a, store_b):
    """The number is a member of both stores and wrote once (a copy of the reply in each); the operator works in
    both. Each store has its own saved answer."""
    member_a, member_b = make_member(store_a, phone=PHONE), make_member(store_b, phone=PHONE, name="Grace Hopper")
    reply(client, "Where is my parcel?", "SMin1", LA_MORNING)
    user = UserFactory(username="op-ab")
    for store in (store_a, store_b):
        MembershipFactory(store=store, user=user, role="operator")
    SavedAnswer.objects.create(store=store_a, title="A: refund", body="Your refund is on its way.")
    SavedAnswer.objects.create(store=store_b, title="B: parcel", body=PARCEL)
    SavedAnswer.objects.create(store=store_b, title="B: address", body="Please text us your new address.")
    client.force_login(user)
    return member_a.replies.get(), member_b.replies.get()


@pytest.mark.parametrize("page", ["members:texts", "members:conversation"])
def test_each_text_back_form_offers_its_replys_store_answers_only(client, one_number_in_two_stores, page):
    reply_a, reply_b = one_number_in_two_stores
    url = reverse(page, args=[reply_b.member_id] if page == "members:conversation" else [])
    content = client.get(url).content.decode()
    assert offered(content, f"text-back-{reply_a.pk}") == ["A: refund"]
    assert offered(content, f"text-back-{reply_b.pk}") == ["B: address", "B: parcel"]
    assert f'<option value="{PARCEL}">' in content  # picking one fills the text with its body


def test_the_texts_page_links_each_stores_saved_answers(client, one_number_in_two_stores, store_a, store_b):
    content = client.get(reverse("members:texts")).content.decode()
    for store in (store_a, store_b):
        assert reverse("members:saved_answers", args=[store.slug]) in content
