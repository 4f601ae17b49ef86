"""Bad-review services other apps and the views call: open cases, log calls, find overdue cases,
record the outcome and the adjustments (listing fix, product task)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.flows import active_template
from members.models import NEEDS_ANSWER, Flow, InboundReply, Member, SmsTemplate
from members.replies import Refused, mark_answered_by, queue_answer
from members.sending import NotTextable, member_context, not_textable_reason, queue_one
from members.services import normalise_phone
from members.texts import render
from opsdesk.tenancy import assignable_users
from stores import listing
from stores.models import ListingVersion, Product, Store

from .models import (
    CALL_OUTCOMES,
    OPEN_STATUSES,
    CaseEvent,
    CaseStatus,
    ContactAttempt,
    ContactOutcome,
    IllegalTransition,
    ProductTask,
    Review,
    ReviewCase,
    ReviewPolicy,
    harmless_phrases,
)


def _fold(text: str) -> str:
    """Lower-case without accents, so “NÃO recebi” and “nao recebi” match “não recebi”; a phone's ’ reads as '."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Scripts written without spaces between words (Korean glues its particles and endings onto the word), so a
# word in them can only be found as a substring.
_UNSPACED_SCRIPTS = ("CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def _spaced_letter(ch: str) -> bool:
    return ch.isalnum() and not unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS)


def _word_pattern(word: str) -> re.Pattern:
    # Words of spaced scripts (Latin, Cyrillic, Greek, Arabic…) match whole words only (“late” must not match
    # “chocolate”, “плохо” not “неплохо”); a trailing * lets them take any ending (“mauvais*” matches
    # “mauvaise”). Chinese, Japanese, Korean and Thai words match anywhere in the text.
    prefix = word.endswith("*")
    folded = _fold(word.rstrip("*").strip())
    head = r"(?<!\w)" if _spaced_letter(folded[0]) else ""
    tail = r"(?!\w)" if _spaced_letter(folded[-1]) and not prefix else ""
    return re.compile(head + re.escape(folded) + tail)


@lru_cache(maxsize=64)
def _patterns(words: tuple[str, ...]) -> list[tuple[str, re.Pattern]]:
    return [(w.strip(), _word_pattern(w.strip())) for w in words if w.strip().rstrip("*")]


@lru_cache(maxsize=64)
def _matcher(words: tuple[str, ...], harmless: tuple[str, ...]):
    # Longest phrase first, so 没有失望 is blanked whole before a shorter phrase could split it.
    blanks = _patterns(tuple(sorted(harmless, key=len, reverse=True)))
    checks = [(word, pattern, any(blank.search(_fold(word)) for _, blank in blanks))
              for word, pattern in _patterns(words)]
    return blanks, checks


def negative_words_in(text: str, words: list[str], harmless: list[str] | None = None) -> list[str]:
    """The words of `words` found in `text` (case- and accent-insensitive), once the harmless phrases
    (default `harmless_phrases()`: 不好意思, 差不多, nothing wrong…) are blanked out of it. A word that itself
    contains a harmless phrase (a store listing 差不多) is looked for in the whole text."""
    if not text:
        return []
    blanks, checks = _matcher(tuple(words), tuple(harmless_phrases() if harmless is None else harmless))
    folded = cleaned = _fold(text)
    for _, blank in blanks:
        cleaned = blank.sub(" ", cleaned)
    found = {}  # by folded spelling: “não recebi” and “nao recebi” are one word to the reader, named once
    for word, pattern, itself_harmless in checks:
        if pattern.search(folded if itself_harmless else cleaned):
            found.setdefault(_fold(word), word)
    return list(found.values())


def case_reason(review: Review, policy: ReviewPolicy | None = None) -> str | None:
    """Why `review` is bad enough to open a case, or None when it is not."""
    if review.rating <= 2:
        return f"rating {review.rating}"
    if review.rating == 3:
        policy = policy or ReviewPolicy.for_store(review.store)
        found = negative_words_in(review.text, policy.word_list())
        if found:
            return "rating 3 with " + ", ".join(f"“{w}”" for w in found[:3])
    return None


def refresh_verdicts(store: Store, policy: ReviewPolicy | None = None, batch: int = 5000) -> tuple[int, int]:
    """Judge the store's reviews again under `policy` (default: its rules) and store the verdicts (`Review.bad`);
    returns how many became bad and how many stopped being bad. Only a 3★ review's verdict depends on the rules:
    their texts are matched here, in batches; the others are set by rating in SQL (a row written around `save()`,
    by `bulk_create` or `update`, is put right too). The caller holds the store's row lock when rules change."""
    policy = policy or ReviewPolicy.for_store(store)
    reviews = Review.objects.filter(store=store)
    now_bad = list(reviews.filter(rating__lte=2, bad=False).values_list("pk", flat=True))
    no_longer = list(reviews.filter(rating__gte=4, bad=True).values_list("pk", flat=True))
    candidates = reviews.filter(rating=3).only("pk", "store_id", "rating", "title", "body", "bad")
    for review in candidates.iterator(chunk_size=batch):
        if review.bad != (case_reason(review, policy) is not None):
            (no_longer if review.bad else now_bad).append(review.pk)
    for pks, value in ((now_bad, True), (no_longer, False)):
        for i in range(0, len(pks), batch):
            Review.objects.filter(pk__in=pks[i:i + batch]).update(bad=value)
    return len(now_bad), len(no_longer)


def turned_around_filter() -> Q:
    """Reviews turned around: after their case opened, the customer changed them on the platform (a re-import
    brought the new rating or text, and the case says so) to one that is no longer bad."""
    return Q(bad=False, case__customer_updated_review=True)


def bad_filter() -> Q:
    """Which reviews are bad, for counting in SQL: `case_reason` finds a reason under the store's
    rules (rated 1 or 2, or 3 with a negative word; stored on the review as `bad`), or the review opened a case
    (under the rules of its day) and was not turned around since (`turned_around_filter`).

    A 3★ complaint imported without opening a case is bad too: the report used to count it only once it had a
    case, while its own page called it bad."""
    return Q(bad=True) | (Q(case__isnull=False) & ~turned_around_filter())


def bad_without_case(store: Store, since: datetime | None = None) -> QuerySet[Review]:
    """The store's bad reviews that have no case (imported without opening cases, or before the rules named
    their word), oldest first; with `since`, only those written from then on."""
    reviews = Review.objects.filter(store=store, bad=True, case__isnull=True)
    if since is not None:
        reviews = reviews.filter(created_at__gte=since)
    return reviews.order_by("created_at", "pk")


def bad_reviews_without_case(store: Store, since: datetime | None = None) -> list[Review]:
    """`bad_without_case` loaded, to open their cases."""
    return list(bad_without_case(store, since).only("pk", "store_id", "rating", "title", "body", "created_at"))


def open_cases_for(store: Store, reviews: list[Review], now: datetime, policy: ReviewPolicy | None = None) -> int:
    """Open a case, due after the store's first-call SLA, for each bad one of `reviews` (none of which has a case
    yet); returns how many. In bulk: an import opens hundreds. The caller holds the store's row lock."""
    policy = policy or ReviewPolicy.for_store(store)
    due = now + policy.first_contact_within
    cases = []
    for review in reviews:
        reason = case_reason(review, policy)
        if reason:
            cases.append(ReviewCase(store=store, review=review, reason=reason[:255], opened_at=now,
                                    first_contact_due_at=due))
    ReviewCase.objects.bulk_create(cases, batch_size=1000)
    CaseEvent.objects.bulk_create([CaseEvent(case=c, from_status="", to_status=CaseStatus.NEW, at=now,
                                             note=f"Opened: {c.reason}") for c in cases], batch_size=1000)
    return len(cases)


def open_missing_cases(store: Store, since: date | None = None, now: datetime | None = None) -> int:
    """Open the cases of the store's bad reviews that have none (written from the store-local day `since` on,
    when given); returns how many opened. Re-importing their file cannot do it: they count as already imported.
    Safe to run twice: the store's row lock (also taken by an import) makes a second run find them all cased."""
    now = now or timezone.now()
    with transaction.atomic():
        Store.objects.select_for_update().get(pk=store.pk)
        start = store.day_bounds(since)[0] if since else None
        return open_cases_for(store, bad_reviews_without_case(store, start), now)


def opened_sentence(opened: int, since: date | None = None) -> str:
    """What `open_missing_cases` did, for the store page's message and the command's output."""
    written = f" written since {since.isoformat()}" if since else ""
    if not opened:
        return f"Every bad review{written} already has a case; none was opened."
    return f"Opened {opened} case{'s' if opened != 1 else ''} for bad reviews{written} that had none."


def open_case_if_bad(review: Review, policy: ReviewPolicy | None = None, now: datetime | None = None
                     ) -> ReviewCase | None:
    """Open the review's case if it is bad (once: the database allows one case per review)."""
    reason = case_reason(review, policy)
    if reason is None:
        return None
    existing = ReviewCase.objects.filter(review=review).first()
    if existing:
        return existing
    policy = policy or ReviewPolicy.for_store(review.store)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            case = ReviewCase.objects.create(
                store=review.store, review=review, reason=reason[:255], opened_at=now,
                first_contact_due_at=now + policy.first_contact_within,
            )
            case.events.create(from_status="", to_status=CaseStatus.NEW, at=now, note=f"Opened: {reason}")
    except IntegrityError:
        # Another worker opened it between our check and our insert.
        return ReviewCase.objects.get(review=review)
    return case


def overdue_cases(store: Store, now: datetime | None = None) -> QuerySet[ReviewCase]:
    """Open cases of `store` whose first call is past due and not yet made (for the desk and the morning email)."""
    return overdue_cases_of([store], now)


def overdue_cases_of(stores, now: datetime | None = None) -> QuerySet[ReviewCase]:
    """`overdue_cases` of several stores at once (the desk counts them per store in one query)."""
    now = now or timezone.now()
    return (ReviewCase.objects.filter(store__in=stores, status__in=OPEN_STATUSES, first_contact_at__isnull=True,
                                      first_contact_due_at__lte=now)
            .select_related("store", "review", "review__product").order_by("first_contact_due_at"))


def by_urgency(cases: QuerySet[ReviewCase]) -> QuerySet[ReviewCase]:
    """Cases still waiting for their first call first, the longest overdue at the top, then those already
    called; each by due time. (By due time alone, a case called long ago sat above one overdue today.)"""
    called = ExpressionWrapper(Q(first_contact_at__isnull=False), output_field=BooleanField())
    return cases.order_by(called.asc(), "first_contact_due_at", "pk")


@transaction.atomic
def log_contact(case: ReviewCase, user, outcome: str, notes: str = "", now: datetime | None = None
                ) -> ContactAttempt:
    """Record a call; the first one stops the SLA clock and moves a new case to contacting.

    A reached call needs notes (ValidationError on `notes` otherwise); other outcomes may have none."""
    calls = [value for value, _ in CALL_OUTCOMES]
    if outcome not in calls:  # "texted" too: a text is logged by text_customer, with its text
        raise ValueError(f"Unknown call outcome {outcome!r}; use one of {', '.join(calls)}.")
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open():
        raise IllegalTransition(f"The case is {case.get_status_display().lower()}; calls are logged on open cases.")
    now = now or timezone.now()
    attempt = ContactAttempt(case=case, by=user, at=now, outcome=outcome, notes=notes.strip())
    attempt.full_clean(exclude=["case", "by"])
    attempt.save()
    if case.first_contact_at is None:
        case.first_contact_at = now
        case.save(update_fields=["first_contact_at"])
    if case.status == CaseStatus.NEW:
        case.transition(CaseStatus.CONTACTING, user, note="First call logged.", now=now)
    return attempt


CARE_TEMPLATE_MISSING = ("The store has no active text for bad-review cases: a manager writes one under Members → "
                         "Templates (flow “Bad-review care”).")


@dataclass
class CareText:
    """What the case page offers for texting the customer: the store's template, the member it goes to, the
    text as it would read, the number the next text would have on this case, and why it cannot be sent ("" if
    it can)."""

    template: SmsTemplate | None
    member: Member | None
    preview: str
    attempt: int
    refusal: str


def case_member(case: ReviewCase) -> Member | None:
    """The store's member the case's customer is: the review's member, else the member of the order's buyer
    phone (members are enrolled from paid orders, so a buyer with a phone usually is one)."""
    review = case.review
    if review.member_id:
        return review.member
    if review.order_id and review.order.buyer_phone:
        phone = normalise_phone(review.order.buyer_phone, case.store.country)
        return Member.objects.filter(store_id=case.store_id, phone=phone).select_related("store").first() if phone \
            else None
    return None


def order_name(case: ReviewCase) -> str:
    """The case's order as its texts name it ({order}: "#1042", or # and its id), "" for a review without one."""
    return case.review.order.display_name if case.review.order_id else ""


def _care_context(case: ReviewCase) -> dict:
    return {"order": order_name(case)}


def care_text(case: ReviewCase) -> CareText:
    """The case page's texting section: see CareText."""
    template = active_template(case.store, Flow.REVIEW_CARE)
    member = case_member(case)
    attempt = case.contacts.filter(outcome=ContactOutcome.TEXTED).count() + 1
    refusal = ""
    if not case.is_open():
        refusal = f"The case is {case.get_status_display().lower()}; texts are sent from open cases."
    elif not case.phone:
        refusal = "There is no phone number: the review is not linked to an order or member with a phone."
    elif member is None:
        refusal = ("The buyer's number is not a member of the store (members come from paid orders with a valid "
                   "number), so it cannot be texted; call it instead.")
    elif reason := not_textable_reason(member):
        refusal = f"The customer cannot be texted: {reason}."
    elif template is None:
        refusal = CARE_TEMPLATE_MISSING
    preview = ""
    if template is not None:
        context = {**(member_context(member) if member else {}), **_care_context(case)}
        preview = render(template.body, context)
    return CareText(template, member, preview, attempt, refusal)


@transaction.atomic
def text_customer(case: ReviewCase, user, attempt: int, now: datetime | None = None
                  ) -> tuple[ContactAttempt, bool]:
    """Text the case's customer the store's bad-review text through the members' sending pipeline, and log it
    in the contact log (outcome texted): (the log line, whether this request queued it).

    `attempt` is the text's number on the case, which the page's form carries: the text's occasion is
    "review_care:case <id> text <n>", one per (member, flow, occasion) in the database, so a double-click or
    a retried POST finds the text already queued and sends nothing more. A text is no call: it does not stop
    the first-call clock nor move the case (docs/reviews.md). Refused (IllegalTransition, nothing queued) on
    a case that is not open, without a member to text, when the customer opted out, the number is invalid,
    they never agreed to texts, or the store has no bad-review text."""
    now = now or timezone.now()
    case = (ReviewCase.objects.select_for_update(of=("self",))
            .select_related("store", "review__order", "review__member").get(pk=case.pk))
    care = care_text(case)
    if attempt < 1 or attempt > care.attempt:
        raise IllegalTransition(f"The page asked for text {attempt} of the case, but the next one is text "
                                f"{care.attempt}; reload the page.")
    occasion = f"{Flow.REVIEW_CARE}:case {case.pk} text {attempt}"
    if attempt < care.attempt:  # sent already: the same POST again (a retry, a second click)
        contact = case.contacts.filter(message__occasion=occasion).first()
        if contact is not None:
            return contact, False
    if care.refusal:
        raise IllegalTransition(care.refusal)
    try:
        message, created = queue_one(care.member, Flow.REVIEW_CARE, occasion, care.template, _care_context(case), now)
    except NotTextable as exc:
        raise IllegalTransition(f"The customer cannot be texted: {exc}.") from exc
    if not created:
        return ContactAttempt.objects.get(message=message), False
    return ContactAttempt.objects.create(case=case, by=user, at=now, outcome=ContactOutcome.TEXTED,
                                         message=message), True


# The customer's replies shown on a case page; a number that keeps texting has the rest in its conversation.
CASE_REPLIES_SHOWN = 50


def _answered_case():
    """For an InboundReply row: the case whose text to that member (the store's membership of the number) was
    the latest before the reply, across the store's cases (None when no case texted them before), as
    _text_time reads a text's time. A reply shows on that case only: two open cases of one customer would
    otherwise both show it."""
    latest = (ContactAttempt.objects.filter(message__member_id=OuterRef("member_id"))
              .alias(text_time=Coalesce("message__sent_at", "message__scheduled_for"))
              .filter(text_time__lte=OuterRef("received_at"))
              .order_by("-text_time", "-pk").values("case_id")[:1])
    return Subquery(latest)


def contact_log(case: ReviewCase) -> tuple[list[ContactAttempt], bool]:
    """The case's contact log, oldest first, each line with `replies`: for a text (the case's text or an answer
    sent from it), the customer's replies to the store (`members.InboundReply`, the store's own copy of each)
    that came after it was sent (or, not sent yet, was due) and before the case's next text, oldest first; and
    whether replies beyond CASE_REPLIES_SHOWN were left out. A reply shows on one case only, the one whose text
    to the number was the latest before it (`_answered_case`). Each reply carries `answers` (this case's
    answers to it), `next_answer` (the number the next one would have), `answerable` and its `member` (whom its
    saved answers are filled for). Two queries however many texts and replies."""
    contacts = list(case.contacts.select_related("by", "message__member", "reply"))
    texts = sorted((c for c in contacts if c.message), key=lambda c: (_text_time(c.message), c.pk))
    for contact in contacts:
        contact.replies = []
    if not texts:
        return contacts, False
    replies = list(InboundReply.objects.filter(store_id=case.store_id,
                                               member_id__in={c.message.member_id for c in texts},
                                               received_at__gte=_text_time(texts[0].message))
                   .alias(answered_case=_answered_case()).filter(answered_case=case.pk).with_last_answer()
                   .select_related("member", "answered_by").order_by("received_at", "pk")[:CASE_REPLIES_SHOWN + 1])
    for reply in replies[:CASE_REPLIES_SHOWN]:
        reply.answers = [c for c in contacts if c.reply_id == reply.pk]
        reply.next_answer = len(reply.answers) + 1
        reply.answerable = case.is_open() and reply.kind in NEEDS_ANSWER  # opt-outs and opt-ins the app answers
        # The text it answers: the latest of the case's texts to that member sent before it arrived.
        earlier = [c for c in texts if c.message.member_id == reply.member_id
                   and _text_time(c.message) <= reply.received_at]
        if earlier:
            earlier[-1].replies.append(reply)
    return contacts, len(replies) > CASE_REPLIES_SHOWN


def _text_time(message) -> datetime:
    return message.sent_at or message.scheduled_for


@transaction.atomic
def answer_reply(case: ReviewCase, reply: InboundReply, user, body: str, attempt: int,
                 now: datetime | None = None) -> tuple[ContactAttempt, bool]:
    """Text the customer back, from the case, in the operator's words: (the contact log's line, whether this
    request queued it). The reply is marked answered by `user`, as the members' texts page marks it.

    `attempt` is the answer's number to that reply on the case, which the page's form carries: the text's
    occasion is "review_care:case <id> reply <reply id> answer <n>", so a double-click or a retried POST finds
    it queued and sends nothing more. The case text's rules apply (open case, opt-out, invalid number, consent,
    quiet hours; not held back by the frequency cap). Like the case's text it is no call: the first-call
    clock runs on (docs/reviews.md, "A text is no call"). Refused (IllegalTransition,
    nothing queued) for a reply shown under another case or an opt-out or opt-in (the app answers those);
    ValueError for a body that is no one-segment text."""
    now = now or timezone.now()
    case = ReviewCase.objects.select_for_update(of=("self",)).select_related("store").get(pk=case.pk)
    answered = (InboundReply.objects.filter(pk=reply.pk).annotate(answered_case=_answered_case())
                .values_list("answered_case", flat=True).first())
    if answered != case.pk:
        raise IllegalTransition("That reply is not shown under this case: it answers "
                                + (f"the text of case {answered}" if answered else "no text of a case")
                                + "; answer it from there or from the number's conversation.")
    done = case.contacts.filter(reply=reply).count()
    if attempt < 1 or attempt > done + 1:
        raise IllegalTransition(f"The page asked for answer {attempt} to that reply, but the next one is answer "
                                f"{done + 1}; reload the page.")
    occasion = f"{Flow.REVIEW_CARE}:case {case.pk} reply {reply.pk} answer {attempt}"
    if attempt <= done:  # sent already: the same POST again (a retry, a second click)
        contact = case.contacts.filter(message__occasion=occasion).first()
        if contact is not None:
            return contact, False
    if not case.is_open():
        raise IllegalTransition(f"The case is {case.get_status_display().lower()}; texts are sent from open cases.")
    try:
        message, created = queue_answer(reply, user, Flow.REVIEW_CARE, occasion, body, now)
    except Refused as exc:
        raise IllegalTransition(str(exc)) from exc
    if not created:
        return ContactAttempt.objects.get(message=message), False
    contact = ContactAttempt.objects.create(case=case, by=user, at=now, outcome=ContactOutcome.ANSWERED,
                                            message=message, reply=reply)
    # The same record the members' texts page's "Mark answered" writes; a reply already marked keeps its first.
    # No call: the first-call clock and the case's status stay as they are, as for the case's own text.
    mark_answered_by(reply, message, user)
    return contact, True


@transaction.atomic
def save_findings(case: ReviewCase, values: dict) -> ReviewCase:
    """Save the case's findings (FindingsForm's fields) checked against its stored status.

    The row is locked, as a move locks it, so a save racing a colleague's move to resolved sees the resolved
    status and cannot leave a resolved case without its root cause or resolution (ValidationError); a case
    closed meanwhile refuses (IllegalTransition)."""
    locked = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if locked.status == CaseStatus.CLOSED:
        raise IllegalTransition("The case is closed; its findings can no longer change.")
    for name, value in values.items():
        setattr(locked, name, value)
    locked.full_clean(exclude=["review"], validate_unique=False)
    locked.save(update_fields=list(values))
    return locked


@transaction.atomic
def assign_case(case: ReviewCase, by, assignee_id: int | None, now: datetime | None = None) -> CaseEvent | None:
    """Give the case to `assignee_id` (None: to nobody), recording who did it in the case's history; None when
    it already was theirs (a double-click records nothing twice). Only an active member of the case's store can
    be given a case (ValueError otherwise); a closed case is the finished record (IllegalTransition)."""
    assignee = None
    if assignee_id is not None:
        assignee = assignable_users([case.store]).filter(pk=assignee_id).first()
        if assignee is None:
            raise ValueError(f"{case.store.name} has no active member with id {assignee_id}; a case is assigned to "
                             "a member of its store.")
    locked = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if locked.status == CaseStatus.CLOSED:
        raise IllegalTransition("The case is closed; it is assigned while it is open or resolved.")
    before = locked.assigned_to
    if before == assignee:
        return None
    locked.assigned_to = case.assigned_to = assignee
    locked.save(update_fields=["assigned_to"])
    if assignee is None:
        note = f"Unassigned (was {before})."
    elif assignee == by:
        note = f"{by} took the case" + (f" (was {before})." if before else ".")
    else:
        note = f"Assigned to {assignee}" + (f" (was {before})." if before else ".")
    return locked.record(note, by=by, at=now)


def _refuse_closed(case: ReviewCase, what: str) -> None:
    """IllegalTransition when the case is closed, read under a row lock (a close may be racing this request):
    a closed case is the finished record, so it takes no new adjustment; a resolved one still does."""
    if ReviewCase.objects.select_for_update().values_list("status", flat=True).get(pk=case.pk) == CaseStatus.CLOSED:
        raise IllegalTransition(f"The case is closed; {what} is made from an open or resolved case.")


@transaction.atomic
def create_listing_fix(case: ReviewCase, user, title: str, main_image: str = "", detail_page: str = "",
                       note: str = "", now: datetime | None = None) -> ListingVersion:
    """A new listing version for the case's product, live from now, linked to the case; empty fields keep the
    live listing's values."""
    product = case.product
    if product is None:
        raise ValueError("This review is not linked to a product, so there is no listing to fix.")
    _refuse_closed(case, "a listing fix")
    current = product.current_listing()
    # The stores app's listing change: it records the listing so far as a baseline when none is, renames the
    # product, and refuses a listing identical to the live one (NothingChanged).
    version = listing.create_version(
        product, title=title or (current.title if current else product.title),
        detail_page=detail_page or (current.detail_page if current else product.detail_url),
        main_image=main_image or None, note=note or f"Listing fix from review case {case.pk}", user=user, now=now,
    )
    case.listing_version = version
    case.save(update_fields=["listing_version"])
    return version


@transaction.atomic
def create_product_task(case: ReviewCase | None, product: Product, text: str, owner=None,
                        due: date | None = None) -> ProductTask:
    if case is not None and case.product is not None and case.product != product:
        raise ValueError("The task's product must be the reviewed product.")
    if case is not None:
        _refuse_closed(case, "a product task")
    return ProductTask.objects.create(store=product.store, product=product, case=case, text=text, owner=owner,
                                      due=due)


def complete_task(task: ProductTask, now: datetime | None = None) -> None:
    task.done, task.done_at = True, now or timezone.now()
    task.save(update_fields=["done", "done_at"])
