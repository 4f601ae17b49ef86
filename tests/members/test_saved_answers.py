"""Saved answers: a store's common answers to members' replies. Its managers add, edit and delete them; everyone of
the store reads them, and every Text back form offers the reply's own store's answers (never another store's)."""

import html
import re

import pytest
from django.urls import reverse

from members.models import InboundReply, Message, SavedAnswer
from tests.factories import MembershipFactory, UserFactory
from tests.members.conftest import BAD_ANSWERS, LA_MORNING, make_member
from tests.members.test_conversation import reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_2026")]
PHONE = "+14155550100"
PARCEL = "It left our warehouse today; tracking follows by text tonight."


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


def filled(page: str, box: str, title: str) -> str:
    """The text that picking the saved answer `title` under text box `box` fills in."""
    found = re.search(rf'<select data-fill-text="{box}">(.*?)</select>', page, re.S)
    options = re.findall(r'<option value="([^"]+)">([^<]*)</option>', found.group(1))
    return next(html.unescape(value) for value, label in options if label == title)


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


@pytest.mark.parametrize("page", ["members:texts", "members:conversation"])
def test_each_offered_answer_is_filled_for_its_replys_member_and_store(client, one_number_in_two_stores, store_a,
                                                                        store_b, page):
    reply_a, reply_b = one_number_in_two_stores
    SavedAnswer.objects.create(store=store_a, title="Hello", body="Hi {first_name}, {store} has your message.")
    SavedAnswer.objects.create(store=store_b, title="Hello", body="Hi {first_name}, {store} has your message.")
    url = reverse(page, args=[reply_b.member_id] if page == "members:conversation" else [])
    content = client.get(url).content.decode()
    assert filled(content, f"text-back-{reply_a.pk}", "Hello") == "Hi Ada, Store A has your message."
    assert filled(content, f"text-back-{reply_b.pk}", "Hello") == "Hi Grace, Store B has your message."


def test_two_members_of_one_store_are_each_greeted_by_their_own_name(client, store_b, operator_b):
    for name, sid in (("Zara Ahmed", "SMz"), ("Li Wei", "SMl")):
        InboundReply.objects.create(store=store_b, member=make_member(store_b, name=name), kind="message",
                                    body="Where is my parcel?", provider_sid=sid, received_at=LA_MORNING)
    SavedAnswer.objects.create(store=store_b, title="Parcel", body="Hi {first_name}! Your parcel left us today.")
    client.force_login(operator_b)
    content = client.get(reverse("members:texts")).content.decode()
    assert {filled(content, f"text-back-{r.pk}", "Parcel") for r in InboundReply.objects.all()} == {
        "Hi Zara! Your parcel left us today.", "Hi Li! Your parcel left us today."}


def test_every_placeholder_a_member_fills_is_filled(client, store_b, operator_b):
    member = make_member(store_b, name="Zara Ahmed", tier="gold")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Hello?",
                                           provider_sid="SMx", received_at=LA_MORNING)
    SavedAnswer.objects.create(store=store_b, title="All", body="Hi {first_name} ({name}), {store} thanks its {tier} "
                                                                "members.")
    client.force_login(operator_b)
    content = client.get(reverse("members:texts")).content.decode()
    assert filled(content, f"text-back-{received.pk}", "All") == ("Hi Zara (Zara Ahmed), Store B thanks its gold "
                                                                   "members.")


@pytest.mark.parametrize("body, error", [
    ("Hi {firstname}!", "Unknown placeholder {firstname}. Use one of: {first_name}, {name}, {store}, {tier}, "
                           "{order}."),
    ("Your code {coupon}", "Placeholder {coupon} has no value here. Use one of: {first_name}, {name}, {store}, "
                           "{tier}, {order}."),
    ("Hi {first_name!r}", "Placeholder {first_name} cannot have a format or conversion."),
], ids=["unknown", "a campaign's", "a conversion"])
def test_a_placeholder_a_member_cannot_fill_is_refused_naming_it_and_nothing_is_saved(client, admin_client, store_b,
                                                                                      manager_b, body, error):
    client.force_login(manager_b)
    response = add(client, store_b, "Hello", body)
    assert response.status_code == 400 and error in response.content.decode()
    assert f">\n{body}</textarea>" in response.content.decode()  # what was typed is kept
    response = admin_client.post(reverse("admin:members_savedanswer_add"),
                                 {"store": store_b.pk, "title": "Hello", "body": body})
    assert response.status_code == 200 and error in response.content.decode()
    assert not SavedAnswer.objects.exists()


def test_an_answer_that_a_long_name_would_make_two_texts_is_refused_at_save(client, store_b, manager_b):
    client.force_login(manager_b)
    body = "Hi {name}! " + "x" * 130  # 147 characters for "Grace Hopper", 157 for "Christopher Montgomery"…
    assert "Saved answer “Fits” added." in add(client, store_b, "Fits", body).content.decode()
    response = add(client, store_b, "Too long", body + "x" * 7)  # … and 164 with seven more
    assert response.status_code == 400
    assert ("Filled in for a member named “Christopher Montgomery”: The answer is 164 characters long; one text "
            "holds 160. Shorten it by 4.") in response.content.decode()
    assert list(SavedAnswer.objects.values_list("title", flat=True)) == ["Fits"]


def test_a_chinese_answer_is_checked_with_a_chinese_name(client, store_b, manager_b):
    client.force_login(manager_b)
    body = "{first_name}您好，" + "好" * 63  # 70 with a four-character name: one text, as "Christopher…" is not
    assert "Saved answer “问候” added." in add(client, store_b, "问候", body).content.decode()
    response = add(client, store_b, "太长", body + "好")
    assert response.status_code == 400
    assert "Filled in for a member named “欧阳思远”: The answer is 71 characters long" in response.content.decode()


def test_a_fill_that_makes_two_texts_is_refused_at_send_with_the_forms_error(client, store_b, operator_b):
    """A name longer than the check at save assumed: the offered text is the member's own, too long for one SMS,
    and sending it is refused with the Text back form's error, the words kept and nothing sent."""
    member = make_member(store_b, name="Maria-Guadalupe Featherstonehaugh-Montgomery")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Where is it?",
                                           provider_sid="SMlong", received_at=LA_MORNING)
    SavedAnswer.objects.create(store=store_b, title="Parcel", body="Hi {name}! " + "x" * 130)
    client.force_login(operator_b)
    url = reverse("members:texts")
    text = filled(client.get(url).content.decode(), f"text-back-{received.pk}", "Parcel")
    assert text == "Hi Maria-Guadalupe Featherstonehaugh-Montgomery! " + "x" * 130
    response = client.post(url, {"text_back": received.pk, "attempt": 1, "body": text})
    assert response.status_code == 400
    assert "The answer is 179 characters long; one text holds 160. Shorten it by 19." in response.content.decode()
    assert not Message.objects.exists()


def preview_of(page: str, answer: SavedAnswer) -> str:
    """The saved answers page's cell showing `answer` as a customer gets it, its tags stripped."""
    found = re.search(rf'data-answer-preview="{answer.pk}">(.*?)</td>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def test_each_saved_answer_shows_filled_for_the_stores_longest_named_member_with_its_length(client, store_b,
                                                                                           operator_b):
    make_member(store_b, name="Li Wei")
    make_member(store_b, name="Maria-Guadalupe Featherstonehaugh")
    make_member(store_b, name="")
    answer = SavedAnswer.objects.create(store=store_b, title="Parcel", body="Hi {first_name}! {store} sent it today.")
    client.force_login(operator_b)
    shown = preview_of(client.get(reverse("members:saved_answers", args=[store_b.slug])).content.decode(), answer)
    assert "Hi Maria-Guadalupe! Store B sent it today." in shown
    assert "42 / 160 characters · 1 SMS" in shown  # the send's count of the filled text
    assert "Filled for Maria-Guadalupe Featherstonehaugh" in shown
    assert "near the limit" not in shown and "refuses" not in shown


def test_without_members_the_preview_uses_the_long_example_name_of_the_texts_alphabet(client, store_b, operator_b):
    latin = SavedAnswer.objects.create(store=store_b, title="Hello", body="Hi {name}, thanks!")
    chinese = SavedAnswer.objects.create(store=store_b, title="问候", body="{first_name}您好，谢谢！")
    client.force_login(operator_b)
    page = client.get(reverse("members:saved_answers", args=[store_b.slug])).content.decode()
    assert "Hi Christopher Montgomery, thanks!" in preview_of(page, latin)
    assert "34 / 160 characters · 1 SMS" in preview_of(page, latin)
    assert "欧阳思远您好，谢谢！" in preview_of(page, chinese)
    assert "10 / 70 characters · 1 SMS" in preview_of(page, chinese)  # UCS-2, as the send counts it


def test_the_page_flags_an_answer_near_the_limit_and_one_too_long_for_the_stores_longest_name(client, store_b,
                                                                                             manager_b):
    body = "Hi {name}! " + "x" * 130  # saved: 157 for "Christopher Montgomery"
    near = SavedAnswer.objects.create(store=store_b, title="Near", body=body)
    short = SavedAnswer.objects.create(store=store_b, title="Short", body="Hi {name}!")
    client.force_login(manager_b)
    url = reverse("members:saved_answers", args=[store_b.slug])
    make_member(store_b, name="Grace Hopper")
    page = client.get(url).content.decode()
    assert "147 / 160 characters · 1 SMS near the limit" in " ".join(preview_of(page, near).split())
    assert "near the limit" not in preview_of(page, short)

    make_member(store_b, name="Maria-Guadalupe Featherstonehaugh-Montgomery")
    page = client.get(url).content.decode()
    assert ("Too long for one text: 179 / 160 — shorten it the send refuses it for this name"
            in " ".join(preview_of(page, near).split()))


@pytest.mark.parametrize("page", ["members:texts", "members:conversation"])
def test_every_text_back_box_has_a_character_counter(client, store_b, operator_b, page):
    member = make_member(store_b, name="Zara Ahmed")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Hello?",
                                           provider_sid="SMc", received_at=LA_MORNING)
    client.force_login(operator_b)
    content = client.get(reverse(page, args=[member.pk] if page == "members:conversation" else [])).content.decode()
    box = f"text-back-{received.pk}"
    assert f'aria-describedby="{box}-count"' in content
    assert re.search(rf'id="{box}-count" data-sms-counter="{box}"[^>]*>0 / 160 characters · 1 SMS</p>', content)


@pytest.mark.parametrize("back", ["", "conversation"])
def test_a_refused_too_long_text_back_says_so_under_the_box_and_keeps_the_servers_refusal(client, store_b,
                                                                                          operator_b, back):
    member = make_member(store_b, name="Zara Ahmed")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Hello?",
                                           provider_sid="SMc", received_at=LA_MORNING)
    client.force_login(operator_b)
    url = reverse("members:conversation", args=[member.pk]) if back else reverse("members:texts")
    response = client.post(url, {"text_back": received.pk, "attempt": 1, "body": "x" * 172})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The answer is 172 characters long; one text holds 160. Shorten it by 12." in content
    box = f"text-back-{received.pk}"
    assert re.search(rf'class="small sms-too-long" id="{box}-count"[^>]*>Too long for one text: 172 / 160 — '
                     "shorten it</p>", content)
    assert not Message.objects.exists()


@pytest.mark.parametrize("text, words", [
    ("Hi Zara, your parcel left us today.", "35 / 160 characters · 1 SMS"),
    ("{[€]}" * 32, "320 / 160 — shorten it"),  # five extension characters: two each
    ("您好" * 35, "70 / 70 characters · 1 SMS"),
    ("Hi 😀" * 18, "Too long for one text: 90 / 70 — shorten it"),  # an emoji: two UCS-2 units
])
def test_the_counter_counts_as_the_send_does(text, words):
    from members.templatetags.sms import sms_counter
    from members.texts import answer_problem

    counter = html.unescape(str(sms_counter("box-", 1, text)))
    assert words in counter
    assert ("Too long" in counter) == bool(answer_problem(text))


def test_an_answer_using_order_is_checked_at_save_with_a_long_order_number(client, store_b, manager_b):
    client.force_login(manager_b)
    body = "Hi {first_name}, your order {order} left us today. " + "x" * 103  # 160 with #5001234567890
    assert "Saved answer “Order” added." in add(client, store_b, "Order", body).content.decode()
    response = add(client, store_b, "Too long", body + "x")
    assert response.status_code == 400
    assert ("Filled in for a member named “Christopher” and order #5001234567890: The answer is 161 characters "
            "long; one text holds 160. Shorten it by 1.") in response.content.decode()


@pytest.mark.parametrize("page", ["members:texts", "members:conversation"])
def test_an_answer_using_order_is_not_offered_where_there_is_no_order(client, store_b, operator_b, page):
    member = make_member(store_b, name="Zara Ahmed")
    received = InboundReply.objects.create(store=store_b, member=member, kind="message", body="Hello?",
                                           provider_sid="SMc", received_at=LA_MORNING)
    SavedAnswer.objects.create(store=store_b, title="Order", body="Your order {order} left us today.")
    SavedAnswer.objects.create(store=store_b, title="Parcel", body=PARCEL)
    client.force_login(operator_b)
    content = client.get(reverse(page, args=[member.pk] if page == "members:conversation" else [])).content.decode()
    assert offered(content, f"text-back-{received.pk}") == ["Parcel"]
