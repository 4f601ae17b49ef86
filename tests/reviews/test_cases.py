"""When a case opens, its first-call SLA, and the workflow's legal and illegal moves."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from opsdesk.desk import open_items
from reviews.models import TRANSITIONS, CaseStatus, ContactOutcome, IllegalTransition, ReviewCase, ReviewPolicy
from reviews.services import log_contact, negative_words_in, open_case_if_bad, overdue_cases
from tests.reviews.conftest import make_case, make_review

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("rating", [1, 2])
def test_rating_two_or_less_opens_a_case(store_a, rating):
    case = make_case(store_a, rating=rating, body="")
    assert case.status == CaseStatus.NEW and case.reason == f"rating {rating}"
    assert case.events.get().to_status == CaseStatus.NEW


@pytest.mark.parametrize("text", ["Produto ruim", "NÃO RECEBI o pedido", "nao recebi", "arrived Broken.", "质量很差"])
def test_rating_three_with_a_negative_word_opens_a_case(store_a, text):
    assert make_case(store_a, rating=3, body=text) is not None


@pytest.mark.parametrize("text", ["", "ok, nothing special", "chocolate flavour", "Produto bom"])
def test_rating_three_without_a_negative_word_opens_no_case(store_a, text):
    assert make_case(store_a, rating=3, body=text) is None


@pytest.mark.parametrize("text", [
    "不好意思，问一下能开发票吗？整体还行",  # "excuse me, can I get an invoice? fine overall"
    "和图片差不多，一般般吧",  # "about the same as the picture, so-so"
    "包装完好无破损，物流不慢",  # "packed well, no damage, delivery not slow"
    "Nothing wrong with it, just average.",
    "Não faltou nada, produto ok",
])
def test_rating_three_with_a_harmless_phrase_around_a_negative_word_opens_no_case(store_a, text):
    assert make_case(store_a, rating=3, body=text) is None


@pytest.mark.parametrize(("text", "word"), [
    ("质量很差", "差"),
    ("不好用，按键失灵", "不好"),
    ("不好意思，收到的杯子坏了", "坏了"),  # a polite opening does not hide the complaint after it
    ("差不多用了两天就不好用了", "不好"),
    ("Nothing wrong with the fit, but the zip arrived broken", "broken"),
])
def test_a_complaint_beside_a_harmless_phrase_still_opens_a_case(store_a, text, word):
    case = make_case(store_a, rating=3, body=text)
    assert case is not None and f"“{word}”" in case.reason


def test_a_store_word_that_is_itself_a_harmless_phrase_still_matches(store_a):
    ReviewPolicy.objects.create(store=store_a, negative_words="差不多")
    assert make_case(store_a, rating=3, body="只能说差不多吧") is not None


def test_a_curly_apostrophe_matches_a_straight_one():
    # Phones type ’; the word list is written with '.
    assert negative_words_in("It doesn’t work", ["doesn't work"]) == ["doesn't work"]


@pytest.mark.parametrize("rating", [4, 5])
def test_good_ratings_open_no_case_even_with_negative_words(store_a, rating):
    assert make_case(store_a, rating=rating, body="broken but they replaced it") is None


def test_store_policy_replaces_the_default_words(store_a):
    ReviewPolicy.objects.create(store=store_a, negative_words="meh\nso-so")
    assert make_case(store_a, rating=3, body="meh") is not None
    assert make_case(store_a, rating=3, body="broken") is None


def test_title_counts_as_text():
    assert negative_words_in("Horrível\nchegou tarde", ["horrível"]) == ["horrível"]


@pytest.mark.parametrize(("text", "word"), [
    ("Неплохо, но коробка мятая", "плохо"),  # "not bad, but the box is crushed"
    ("Товар неплохой", "плохой"),
    ("Nice badge on the box", "bad"),
    ("Not bad at all for the price", "bad"),  # a harmless phrase
    ("Mauvaise taille", "mauvais"),  # whole words: an inflection needs its own line or a *
])
def test_a_word_in_a_spaced_script_does_not_match_inside_another_word(store_a, text, word):
    ReviewPolicy.objects.create(store=store_a, negative_words=word)
    assert make_case(store_a, rating=3, body=text) is None


@pytest.mark.parametrize(("text", "word"), [
    ("Упаковано плохо, товар мятый", "плохо"),
    ("Плохо упаковано", "плохо"),
    ("Bad packaging, box crushed", "bad"),
    ("Qualité MAUVAISE", "mauvaise"),
    ("Qualité mauvaise", "mauvais*"),
    ("Товар плохой", "плох*"),
    ("Το προϊόν είναι κακό", "κακό"),
    ("质量很差", "差"),  # Han keeps matching inside the sentence
    ("配送が遅いです", "遅い"),
    ("배송이 늦어요", "늦"),
])
def test_a_word_matches_the_way_its_script_writes_words(store_a, text, word):
    ReviewPolicy.objects.create(store=store_a, negative_words=word)
    case = make_case(store_a, rating=3, body=text)
    assert case is not None and f"“{word}”" in case.reason


def test_a_prefix_word_still_starts_at_the_start_of_a_word():
    assert negative_words_in("Товар неплохой", ["плох*"]) == []
    assert negative_words_in("anything", ["*"]) == []


def test_one_case_per_review_in_the_database(store_a):
    case = make_case(store_a, rating=1)
    assert open_case_if_bad(case.review) == case
    with pytest.raises(IntegrityError):
        ReviewCase.objects.create(store=store_a, review=case.review, reason="again", first_contact_due_at=NOW)


def test_first_call_is_due_within_the_stores_sla(store_a):
    ReviewPolicy.objects.create(store=store_a, first_contact_hours=4)
    case = make_case(store_a, now=NOW)
    assert case.first_contact_due_at == NOW + timedelta(hours=4)
    assert make_case(store_b_like(store_a), now=NOW).first_contact_due_at == NOW + timedelta(hours=24)


def store_b_like(store):
    from tests.factories import StoreFactory

    return StoreFactory(timezone=store.timezone)


def test_case_is_overdue_only_after_its_due_time_without_a_call(store_a, operator_a):
    with time_machine.travel(NOW, tick=False):
        case = make_case(store_a)
    with time_machine.travel(NOW + timedelta(hours=23, minutes=59), tick=False):
        assert list(overdue_cases(store_a)) == []
    with time_machine.travel(NOW + timedelta(hours=24), tick=False):
        assert list(overdue_cases(store_a)) == [case]
        items = {i.label: i.count for i in open_items(store_a, operator_a)}
        assert items["Bad-review cases overdue for a first call"] == 1
        log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
        assert list(overdue_cases(store_a)) == []
    case.refresh_from_db()
    assert case.first_contact_at == NOW + timedelta(hours=24) and case.status == CaseStatus.CONTACTING


def test_overdue_cases_take_now_as_an_argument_and_stay_in_their_store(store_a, store_b):
    mine = make_case(store_a, now=NOW)
    make_case(store_b, now=NOW)
    assert list(overdue_cases(store_a, NOW + timedelta(days=2))) == [mine]
    assert list(overdue_cases(store_a, NOW)) == []


def test_closed_case_is_never_overdue(store_a, operator_a):
    case = walk_to(make_case(store_a, now=NOW), CaseStatus.CLOSED, operator_a)
    case.first_contact_at = None
    case.save()
    assert list(overdue_cases(store_a, NOW + timedelta(days=5))) == []


def prepare(case, to_status, user):
    """Fill in what the case needs before moving to `to_status`."""
    if to_status == CaseStatus.CONTACTED:
        log_contact(case, user, ContactOutcome.REACHED, "Box arrived crushed; tea leaked.")
        case.refresh_from_db()
    if to_status == CaseStatus.RESOLVED and case.status == CaseStatus.CONTACTING:
        for _ in range(3):
            log_contact(case, user, ContactOutcome.NO_ANSWER)
        case.refresh_from_db()
    if to_status in (CaseStatus.PRODUCT_CHECK, CaseStatus.RESOLVED):
        case.root_cause = case.root_cause or "logistics"
    if to_status == CaseStatus.RESOLVED:
        case.resolution = "replacement"
        if case.status == CaseStatus.PRODUCT_CHECK:
            case.check_finding = "confirmed"
    case.save()
    return case


PATH = [CaseStatus.CONTACTING, CaseStatus.CONTACTED, CaseStatus.PRODUCT_CHECK, CaseStatus.RESOLVED, CaseStatus.CLOSED]


def walk_to(case, target, user):
    for step in PATH:
        prepare(case, step, user).transition(step, user)
        if step == target:
            break
    return case


LEGAL = [(src, dst) for src, targets in TRANSITIONS.items() for dst in targets]


@pytest.mark.parametrize(("src", "dst"), LEGAL)
def test_every_legal_transition_is_recorded_with_who_and_when(store_a, operator_a, src, dst):
    case = make_case(store_a)
    if src != CaseStatus.NEW:
        walk_to(case, src, operator_a)
    prepare(case, dst, operator_a)
    at = datetime(2026, 3, 11, 10, tzinfo=UTC)
    event = case.transition(dst, operator_a, note="step", now=at)
    case.refresh_from_db()
    assert case.status == dst
    assert (event.from_status, event.to_status, event.by, event.at, event.note) == (src, dst, operator_a, at, "step")


ILLEGAL = [(src, dst) for src in CaseStatus.values for dst in CaseStatus.values if dst not in TRANSITIONS[src]]


@pytest.mark.parametrize(("src", "dst"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(store_a, operator_a, src, dst):
    case = make_case(store_a)
    if src != CaseStatus.NEW:
        walk_to(case, src, operator_a)
    events = case.events.count()
    with pytest.raises(IllegalTransition, match="cannot go from"):
        case.transition(dst, operator_a)
    case.refresh_from_db()
    assert case.status == src and case.events.count() == events


def test_contacted_needs_a_call_that_reached_the_customer(store_a, operator_a):
    case = make_case(store_a)
    log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
    case.refresh_from_db()
    with pytest.raises(IllegalTransition, match="a call that reached the customer"):
        case.transition(CaseStatus.CONTACTED, operator_a)


def test_resolving_needs_a_root_cause_and_a_resolution(store_a, operator_a):
    case = walk_to(make_case(store_a), CaseStatus.CONTACTED, operator_a)
    case.root_cause = ""
    case.save()
    with pytest.raises(IllegalTransition, match="a root cause and a resolution"):
        case.transition(CaseStatus.RESOLVED, operator_a)


def test_product_check_must_record_a_finding_before_resolving(store_a, operator_a):
    case = walk_to(make_case(store_a), CaseStatus.PRODUCT_CHECK, operator_a)
    case.resolution = "refund"
    case.save()
    with pytest.raises(IllegalTransition, match="product check finding"):
        case.transition(CaseStatus.RESOLVED, operator_a)


def test_calls_cannot_be_logged_on_a_closed_case(store_a, operator_a):
    case = walk_to(make_case(store_a), CaseStatus.CLOSED, operator_a)
    with pytest.raises(IllegalTransition):
        log_contact(case, operator_a, ContactOutcome.REACHED, "Happy with the refund.")


def test_unknown_outcome_is_refused(store_a, operator_a):
    with pytest.raises(ValueError, match="Unknown call outcome"):
        log_contact(make_case(store_a), operator_a, "voicemail")


def test_review_without_case_for_mid_rating_no_text(store_a):
    assert not hasattr(make_review(store_a, rating=3), "case_cache")


def test_a_stale_copy_cannot_repeat_a_move_already_made(store_a, operator_a):
    case = make_case(store_a)
    stale = ReviewCase.objects.get(pk=case.pk)
    case.transition(CaseStatus.CONTACTING, operator_a)
    with pytest.raises(IllegalTransition, match="from Contacting to Contacting"):
        stale.transition(CaseStatus.CONTACTING, operator_a)
    assert case.events.filter(to_status=CaseStatus.CONTACTING).count() == 1


def test_a_move_checks_the_stored_findings_not_a_stale_copy(store_a, operator_a):
    case = walk_to(make_case(store_a), CaseStatus.CONTACTED, operator_a)
    case.root_cause, case.resolution = "logistics", "replacement"
    case.save()
    page = ReviewCase.objects.get(pk=case.pk)  # the case as one operator's request read it: root cause set
    ReviewCase.objects.filter(pk=case.pk).update(root_cause="")  # a colleague's findings clear it meanwhile
    with pytest.raises(IllegalTransition, match="needs a root cause"):
        page.transition(CaseStatus.RESOLVED, operator_a)
    case.refresh_from_db()
    assert (case.status, case.resolved_at) == (CaseStatus.CONTACTED, None)


def test_unreachable_customer_can_be_resolved_after_three_unanswered_calls(store_a, operator_a):
    case = make_case(store_a)
    for _ in range(2):
        log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
    case.refresh_from_db()
    case.root_cause, case.resolution = "other", "no_action"
    case.save()
    with pytest.raises(IllegalTransition, match=r"3 unanswered calls .*\(2 so far\)"):
        case.transition(CaseStatus.RESOLVED, operator_a)
    log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
    case.transition(CaseStatus.RESOLVED, operator_a, note="Unreachable")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.resolved_at is not None


def test_a_reached_call_without_notes_is_refused_and_does_not_stop_the_clock(store_a, operator_a):
    case = make_case(store_a)
    with pytest.raises(ValidationError) as caught:
        log_contact(case, operator_a, ContactOutcome.REACHED, "   ")
    assert "what was agreed" in caught.value.message_dict["notes"][0]
    case.refresh_from_db()
    assert not case.contacts.exists() and case.first_contact_at is None and case.status == CaseStatus.NEW


def test_an_unanswered_or_refused_call_needs_no_notes(store_a, operator_a):
    case = make_case(store_a)
    log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
    log_contact(case, operator_a, ContactOutcome.REFUSED)
    assert case.contacts.count() == 2


def test_a_reached_customer_is_resolved_from_contacting_and_only_what_is_missing_is_named(store_a, operator_a):
    case = make_case(store_a)
    log_contact(case, operator_a, ContactOutcome.REACHED, "Lid cracked; a replacement was agreed.")
    case.refresh_from_db()
    with pytest.raises(IllegalTransition) as caught:
        case.transition(CaseStatus.RESOLVED, operator_a)
    assert caught.value.messages == ["Before moving to Resolved the case needs a root cause and a resolution."]
    case.root_cause, case.resolution = "logistics", "replacement"
    case.save()
    case.transition(CaseStatus.RESOLVED, operator_a)
    assert case.status == CaseStatus.RESOLVED


def test_a_customer_neither_reached_nor_given_up_on_is_told_both_ways_out(store_a, operator_a):
    case = make_case(store_a)
    log_contact(case, operator_a, ContactOutcome.NO_ANSWER)
    case.refresh_from_db()
    case.root_cause, case.resolution = "other", "no_action"
    case.save()
    with pytest.raises(IllegalTransition) as caught:
        case.transition(CaseStatus.RESOLVED, operator_a)
    assert caught.value.messages == ["Before moving to Resolved the case needs a call that reached the customer, or "
                                     "3 unanswered calls to give up on reaching them (1 so far)."]
