"""Product reviews left by buyers, and the cases a bad one opens.

A case walks new → contacting → contacted → product check → resolved → closed; every step is a
CaseEvent (from, to, who, when, note). Calls go in the contact log; what really happened, the
product check, the resolution and any listing fix or product task hang off the case.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from members.models import InboundReply, Member, Message
from stores.models import ListingVersion, Order, Product, Store

# Words that make a 3-star review bad. Stores override them in their ReviewPolicy; a project may
# override the defaults with settings.REVIEWS_NEGATIVE_WORDS.
DEFAULT_NEGATIVE_WORDS = [
    # Portuguese. Accents are ignored, so “não recebi” also matches “nao recebi”. Adjectives take a *, since
    # Portuguese inflects them (a 3★ Olist buyer writes “cor errada”, “veio quebrada”, “péssima qualidade”).
    "ruim", "ruins", "péssim*", "horrível", "horríveis", "não recebi", "não chegou", "não veio", "não foi entregue",
    "só recebi", "recebi apenas", "recebi somente", "defeit*", "quebrad*", "quebrou", "atraso*", "atrasad*",
    "atrasou", "demorou", "demorad*", "errad*", "faltando", "faltou", "faltaram", "danificad*", "amassad*", "falso",
    "falsa", "falsificad*", "decepcionad*", "não gostei", "não funciona",
    # English
    "broken", "damaged", "defective", "never arrived", "not received", "late", "wrong", "missing", "fake",
    "refund", "terrible", "poor", "disappointed", "doesn't work", "does not work",
    # Chinese
    "差", "破损", "坏了", "没收到", "未收到", "假货", "退货", "退款", "失望", "慢", "不好",
    # Spanish
    "malo", "roto", "no llegó", "defectuoso",
]
# Everyday phrases that contain a negative word but are no complaint (不好意思 is "excuse me", 差不多 "about
# the same", 无破损 "no damage"). They are blanked out of a review's text before its negative words are looked
# for, so the complaint in "不好意思，杯子坏了" still counts. A project may replace them with
# settings.REVIEWS_HARMLESS_PHRASES; keep each one harmless in every context.
DEFAULT_HARMLESS_PHRASES = [
    # Portuguese
    "não faltou nada", "nada de errado", "sem defeito", "sem defeitos", "nenhum defeito", "sem atraso", "sem atrasos",
    "não atrasou", "não demorou", "sem demora", "nada quebrado", "não veio quebrado", "não veio com defeito",
    "não veio errado", "não decepciona", "não decepcionou",
    # English
    "nothing wrong", "can't go wrong", "cannot go wrong", "nothing missing", "not disappointed",
    "won't be disappointed", "not bad",
    # Chinese
    "不好意思", "差不多", "差点", "差一点", "出差", "时差", "不差", "不慢", "不失望", "没失望", "没有失望", "不会失望",
    "无破损", "没破损", "没有破损", "未破损", "不是假货",
    # Spanish
    "nada malo", "no es malo",
]
DEFAULT_FIRST_CONTACT_HOURS = 24
# A first call due more than a year after the case opened is a typo; a far larger one overflowed the due
# time of every new case (the import failed with a 500).
MAX_FIRST_CONTACT_HOURS = 24 * 365


def default_negative_words() -> list[str]:
    return list(getattr(settings, "REVIEWS_NEGATIVE_WORDS", DEFAULT_NEGATIVE_WORDS))


def harmless_phrases() -> list[str]:
    return list(getattr(settings, "REVIEWS_HARMLESS_PHRASES", DEFAULT_HARMLESS_PHRASES))


class Review(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="reviews")
    external_id = models.CharField(max_length=100)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(help_text="When the buyer wrote it.")
    imported_at = models.DateTimeField(auto_now_add=True)
    # The verdict of `services.case_reason` under the store's rules, stored so pages count bad reviews in SQL:
    # set by `save()` and the importer, judged again when the store's words change (ReviewPolicy.save/delete)
    # and by `manage.py recompute_bad_reviews` (after the project's default lists change).
    bad = models.BooleanField(default=False, db_default=False, editable=False,
                              help_text="Rated 1 or 2, or 3 with one of the store's negative words.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="review_unique_store_external_id"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["store", "created_at"], name="review_store_created"),
                   models.Index(fields=["store", "created_at"], condition=Q(bad=True), name="review_store_bad")]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title or self.external_id}"

    def save(self, *args, **kwargs):
        """Saves the review with its verdict, judged again unless only fields it does not depend on are saved."""
        fields = kwargs.get("update_fields")
        if fields is None or {"rating", "title", "body", "store"} & set(fields):
            from .services import case_reason

            self.bad = case_reason(self) is not None
            if fields is not None:
                kwargs["update_fields"] = {*fields, "bad"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("reviews:review", args=[self.store.slug, self.pk])

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.body) if part)


class ReviewPolicy(models.Model):
    """A store's rules for bad reviews: which 3-star words are negative, and the first-contact SLA."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="review_policy")
    first_contact_hours = models.PositiveIntegerField(
        default=DEFAULT_FIRST_CONTACT_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FIRST_CONTACT_HOURS)],
        help_text="The customer must be called within this many hours of the case opening.",
    )
    negative_words = models.TextField(
        blank=True, help_text="One word or phrase per line; a 3-star review containing one opens a case. "
                              "Blank means the default list (Portuguese, English, Chinese, Spanish).",
    )

    class Meta:
        verbose_name_plural = "review policies"

    def __str__(self) -> str:
        return f"Review policy of {self.store}"

    def save(self, *args, **kwargs):
        """Saves the rules; when the words change, the store's reviews are judged again (`Review.bad`) in the same
        transaction, under the store's row lock an import also takes, so no import writes verdicts meanwhile."""
        from .services import refresh_verdicts

        with transaction.atomic():
            list(Store.objects.select_for_update().filter(pk=self.store_id).values_list("pk"))
            saved = ReviewPolicy.objects.filter(pk=self.pk).first() if self.pk else None
            before = (saved or ReviewPolicy(store_id=self.store_id)).word_list()
            super().save(*args, **kwargs)
            if self.word_list() != before:
                refresh_verdicts(self.store, self)

    @classmethod
    def for_store(cls, store: Store) -> ReviewPolicy:
        """The store's saved policy, or an unsaved one holding the defaults."""
        try:
            return store.review_policy
        except cls.DoesNotExist:
            return cls(store=store)

    def word_list(self) -> list[str]:
        words = [w.strip() for w in self.negative_words.splitlines() if w.strip()]
        return words or default_negative_words()

    @property
    def first_contact_within(self) -> timedelta:
        return timedelta(hours=self.first_contact_hours)


@receiver(post_delete, sender=ReviewPolicy)
def _judge_again_under_the_default(sender, instance: ReviewPolicy, origin=None, **kwargs) -> None:
    """A store whose own rules are deleted follows the default list again (not when the store itself goes)."""
    if isinstance(origin, Store):
        return
    from .services import refresh_verdicts

    store = Store.objects.filter(pk=instance.store_id).first()
    if store is not None and instance.word_list() != default_negative_words():
        with transaction.atomic():
            list(Store.objects.select_for_update().filter(pk=store.pk).values_list("pk"))
            refresh_verdicts(store, ReviewPolicy(store=store))


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTING = "contacting", "Contacting"
    CONTACTED = "contacted", "Contacted"
    PRODUCT_CHECK = "product_check", "Product check"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# Legal moves. A case whose cause is not the product (logistics, service…) may skip the product check;
# contacting → resolved is for a customer reached on a call (the talk is in the call's notes) or who
# never answers (UNREACHABLE_AFTER unanswered calls).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.NEW: (CaseStatus.CONTACTING,),
    CaseStatus.CONTACTING: (CaseStatus.CONTACTED, CaseStatus.RESOLVED),
    CaseStatus.CONTACTED: (CaseStatus.PRODUCT_CHECK, CaseStatus.RESOLVED),
    CaseStatus.PRODUCT_CHECK: (CaseStatus.RESOLVED,),
    CaseStatus.RESOLVED: (CaseStatus.CLOSED,),
    CaseStatus.CLOSED: (),
}
UNREACHABLE_AFTER = 3
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.CONTACTING, CaseStatus.CONTACTED, CaseStatus.PRODUCT_CHECK)


class RootCause(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", "Product defect"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    LOGISTICS = "logistics", "Logistics"
    SERVICE = "service", "Service"
    EXPECTATION = "expectation", "Expectation"
    OTHER = "other", "Other"


class CheckFinding(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    NOT_REPRODUCED = "not_reproduced", "Not reproduced"


class Resolution(models.TextChoices):
    REFUND = "refund", "Refund"
    REPLACEMENT = "replacement", "Replacement"
    LISTING_FIX = "listing_fix", "Listing fix"
    SUPPLIER_FEEDBACK = "supplier_feedback", "Supplier feedback"
    NO_ACTION = "no_action", "No action"


class IllegalTransition(ValidationError):
    """A case was asked to move to a status it cannot reach from where it is, or is not ready to."""


class ReviewCase(models.Model):
    """The follow-up of one bad review: call, find the real situation, check, resolve, adjust."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="review_cases")
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="case")
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    reason = models.CharField(max_length=255, help_text="Why the case opened, e.g. rating 3 with “ruim”.")
    opened_at = models.DateTimeField(default=timezone.now)
    first_contact_due_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True, help_text="First call attempt, any outcome.")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    situation = models.TextField(blank=True, help_text="What really happened, in the customer's words.")
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    check_finding = models.CharField(max_length=20, choices=CheckFinding.choices, blank=True)
    check_notes = models.TextField(blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_notes = models.TextField(blank=True)
    listing_version = models.ForeignKey(
        ListingVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_cases",
        help_text="The listing change this case led to.",
    )
    customer_updated_review = models.BooleanField(default=False)
    updated_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_contact_due_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(updated_rating__isnull=True) | (Q(updated_rating__gte=1) & Q(updated_rating__lte=5)),
                name="reviewcase_updated_rating_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["store", "status", "first_contact_due_at"], name="reviewcase_store_due")]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("reviews:case", args=[self.store.slug, self.pk])

    @property
    def product(self) -> Product | None:
        return self.review.product

    @property
    def reason_beyond_rating(self) -> str:
        """What the reason adds to the review's own rating ("with “ruim”"), "" when it only repeats it ("rating 1")."""
        return self.reason.removeprefix(f"rating {self.review.rating}").strip()

    @property
    def phone(self) -> str:
        """The number to call: the linked member's, else the order's buyer phone."""
        if self.review.member_id:
            return self.review.member.phone
        if self.review.order_id:
            return self.review.order.buyer_phone
        return ""

    def clean(self):
        super().clean()
        # What a move required stays recorded while the case is at or past that step (see missing_for).
        if self.status == CaseStatus.PRODUCT_CHECK and not self.root_cause:
            raise ValidationError("A case in product check keeps its root cause.")
        if self.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            if not (self.root_cause and self.resolution):
                raise ValidationError("A resolved case keeps its root cause and resolution.")
            if not self.check_finding and self.pk and self.events.filter(
                    from_status=CaseStatus.PRODUCT_CHECK, to_status=CaseStatus.RESOLVED).exists():
                raise ValidationError("A case resolved after a product check keeps the check's finding.")
        if self.updated_rating and not self.customer_updated_review:
            raise ValidationError({"updated_rating": "Only a customer who updated the review has a new rating."})

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_open() and self.first_contact_at is None and self.first_contact_due_at <= now

    def allowed_next(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def missing_for(self, to_status: str) -> list[str]:
        """What the case still needs before it may enter `to_status` (empty when ready)."""
        missing = []
        if to_status == CaseStatus.CONTACTED and not self._reached():
            missing.append("a call that reached the customer (outcome reached or refused)")
        if to_status == CaseStatus.PRODUCT_CHECK and not self.root_cause:
            missing.append("a root cause")
        if to_status == CaseStatus.RESOLVED:
            if not self.root_cause:
                missing.append("a root cause")
            if not self.resolution:
                missing.append("a resolution")
            if self.status == CaseStatus.PRODUCT_CHECK and not self.check_finding:
                missing.append("the product check finding")
            # From contacting, the customer was either reached (the talk is logged with the call) or, after
            # UNREACHABLE_AFTER unanswered calls, given up on; only when neither holds is a call missing.
            if self.status == CaseStatus.CONTACTING and not self._reached():
                unanswered = self.contacts.filter(outcome=ContactOutcome.NO_ANSWER).count()
                if unanswered < UNREACHABLE_AFTER:
                    missing.append(f"a call that reached the customer, or {UNREACHABLE_AFTER} unanswered calls to "
                                   f"give up on reaching them ({unanswered} so far)")
        return missing

    def record(self, note: str, by=None, at=None) -> CaseEvent:
        """A line in the case's history that moves nothing (an assignment, the customer changing the review):
        an event from the case's status to the same status."""
        return self.events.create(from_status=self.status, to_status=self.status, by=by, at=at or timezone.now(),
                                  note=note)

    def _reached(self) -> bool:
        return self.contacts.filter(outcome__in=[ContactOutcome.REACHED, ContactOutcome.REFUSED]).exists()

    def transition(self, to_status: str, user=None, note: str = "", now=None) -> CaseEvent:
        """Move the case to `to_status` and record who did it; IllegalTransition if not allowed."""
        now = now or timezone.now()
        with transaction.atomic():
            # Lock the row so a double-click or a colleague's move cannot both leave the same status, and
            # decide on the stored findings: a colleague may have changed them since this copy was read.
            locked = ReviewCase.objects.select_for_update().get(pk=self.pk)
            for name in ("status", "root_cause", "check_finding", "resolution"):
                setattr(self, name, getattr(locked, name))
            return self._transition_locked(to_status, user, note, now)

    def _transition_locked(self, to_status: str, user, note: str, now) -> CaseEvent:
        if to_status not in CaseStatus.values:
            raise IllegalTransition(f"“{to_status}” is not a case status.")
        if to_status not in self.allowed_next():
            allowed = ", ".join(CaseStatus(s).label for s in self.allowed_next()) or "nothing (the case is closed)"
            raise IllegalTransition(
                f"A case cannot go from {self.get_status_display()} to {CaseStatus(to_status).label}; "
                f"from here it can go to: {allowed}."
            )
        missing = self.missing_for(to_status)
        if missing:
            raise IllegalTransition(
                f"Before moving to {CaseStatus(to_status).label} the case needs {' and '.join(missing)}."
            )
        from_status = self.status
        self.status = to_status
        fields = ["status"]
        if to_status == CaseStatus.RESOLVED:
            self.resolved_at = now
            fields.append("resolved_at")
        if to_status == CaseStatus.CLOSED:
            self.closed_at = now
            fields.append("closed_at")
        self.save(update_fields=fields)
        return self.events.create(from_status=from_status, to_status=to_status, by=user, at=now, note=note)


class CaseEvent(models.Model):
    """One step of a case: from which status to which, by whom, when, with an optional note."""

    case = models.ForeignKey(ReviewCase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.note if self.is_note() else f"{self.from_status or '–'} → {self.to_status}"

    def is_note(self) -> bool:
        """Recorded without a move (ReviewCase.record): the history shows its note only."""
        return self.from_status == self.to_status


class ContactOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    REFUSED = "refused", "Refused to talk"
    # A text sent from the case (reviews.services.text_customer), not a call: it does not stop the first-call
    # clock, move the case or count towards giving up on an unreachable customer. Never logged by hand.
    TEXTED = "texted", "Texted"
    # The operator's text back to a reply of the customer, from the case (reviews.services.answer_reply). The
    # customer wrote and a person answered, so it is a first contact for the SLA (docs/reviews.md); it is no call
    # that reached them (the case's move to contacted still needs one). Never logged by hand.
    ANSWERED = "answered", "Answered a reply"


# Texts, not calls: logged by the services that send them, never chosen in the "Log call" form.
TEXT_OUTCOMES = (ContactOutcome.TEXTED, ContactOutcome.ANSWERED)
CALL_OUTCOMES = [(value, label) for value, label in ContactOutcome.choices if value not in TEXT_OUTCOMES]


class ContactAttempt(models.Model):
    """One call to the customer about a case, and what they said; or a text sent from the case."""

    case = models.ForeignKey(ReviewCase, on_delete=models.CASCADE, related_name="contacts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    notes = models.TextField(blank=True, help_text="The customer's actual situation, as they told it.")
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="case_contact",
                                   help_text="Texted: the text, whose delivery status Twilio's reports keep.")
    reply = models.ForeignKey(InboundReply, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Answered a reply: the customer's reply (the store's copy) it answers.")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        # A call that reached the customer is only worth logging with what they said and what was agreed;
        # an unanswered or refused call has nothing to record.
        if self.outcome == ContactOutcome.REACHED and not self.notes.strip():
            raise ValidationError({"notes": "A reached call needs notes: what the customer said and what was agreed."})


class ProductTask(models.Model):
    """A to-do on a product that came out of review feedback (fix the listing, talk to the supplier…)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="product_tasks")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="review_tasks")
    case = models.ForeignKey(ReviewCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    text = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="review_product_tasks")
    due = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done", "due", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
