"""Store members and the texts they get: members enrolled from paid orders, SMS templates,
festivals, coupons and one Message row per (member, flow, occasion) — the database, not luck,
keeps a customer from getting the same text twice."""

from __future__ import annotations

import random
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from metrics import figures
from opsdesk.money import MoneyField
from opsdesk.privacy import PHONE_DIGITS, mask_phone
from stores.models import Order, OrderStatus, Store, validate_timezone

from .sms import ERROR_WORDS
from .texts import TemplateError, placeholders_in, saved_answer_problem


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"


# Spend (total paid less refunds, store currency) from which a member reaches a tier when the store set none.
DEFAULT_TIERS = {"default": [(Tier.GOLD, 2000), (Tier.SILVER, 500)],
                 "CNY": [(Tier.GOLD, 10000), (Tier.SILVER, 2500)],
                 "JPY": [(Tier.GOLD, 300000), (Tier.SILVER, 75000)]}


def default_tier_limits(currency: str) -> dict[str, Decimal]:
    """The spend from which a member reaches each tier in a store of `currency` that set no thresholds of its
    own: `settings.MEMBER_TIERS` if set, else DEFAULT_TIERS."""
    table = getattr(settings, "MEMBER_TIERS", DEFAULT_TIERS)
    return {tier: Decimal(str(limit)) for tier, limit in table.get(currency, table["default"])}


class Segment(models.TextChoices):
    CHAMPIONS = "champions", "Champions"
    LOYAL = "loyal", "Loyal"
    POTENTIAL = "potential", "Potential loyalist"
    NEW = "new", "New"
    NEED_ATTENTION = "need_attention", "Needs attention"
    AT_RISK = "at_risk", "At risk"
    HIBERNATING = "hibernating", "Hibernating"
    LOST = "lost", "Lost"


@lru_cache(maxsize=2**17)
def foreign_number_zone(phone: str, country: str) -> str | None:
    """The time zone of a number from another country than `country` (the store's), when the number has
    exactly one (+86 → Asia/Shanghai, +1 415 → America/Los_Angeles by area code); else None.

    A number of the store's own country keeps the store's zone: people keep their number when they move."""
    from phonenumbers import timezone as number_zones

    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) in (None, country):
        return None
    zones = number_zones.time_zones_for_number(number)
    return zones[0] if len(zones) == 1 and zones[0] != number_zones.UNKNOWN_TIMEZONE else None


class MemberQuerySet(models.QuerySet):
    def textable(self):
        """Members we may text: consented, not opted out, with a number that works."""
        return self.filter(sms_consent=True, opted_out_at__isnull=True, phone_invalid_at__isnull=True)

    def search(self, text: str, countries) -> MemberQuerySet:
        """Members a caller names: by a phone number typed any way ("158 9766 0856", "+86 158-9766-0856",
        "0086…", read as a number of each of `countries` when it has no country code), else by name."""
        from .services import normalise_phone

        text = unicodedata.normalize("NFKC", text).strip()  # full-width digits from a Chinese input method
        digits = "".join(c for c in text if c.isascii() and c.isdigit())
        if len(digits) < PHONE_DIGITS:
            return self.filter(name__icontains=text)
        numbers = {normalise_phone(text, country) for country in countries} | {normalise_phone(f"+{digits}", "")}
        return self.filter(phone__in=numbers - {None})


def consent_words(opted_out_at: datetime | None, phone_invalid_at: datetime | None, sms_consent: bool) -> str:
    """Whether we may text a member, in the member list's words, from their fields as read: the one rule of the
    list's "Texts" column (`Member.texts_state`) and of its CSV, which reads values, not members."""
    if opted_out_at:
        return "opted out"
    if phone_invalid_at:
        return "invalid number"
    return "consented" if sms_consent else "no consent"


class Member(models.Model):
    """A buyer of a store, keyed by phone in E.164 (+8613800138000)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="members")
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +8613800138000.")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone],
                                help_text="Blank: a foreign number's zone, else the store's.")
    sms_consent = models.BooleanField(default=False)
    consent_source = models.CharField(max_length=100, blank=True, help_text="Where consent came from.")
    consent_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opted_out_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="Who recorded the customer's request to opt out "
                                                                 "(blank: the customer's reply or Twilio).")
    phone_invalid_at = models.DateTimeField(null=True, blank=True, help_text="Twilio said the number is invalid.")
    joined_at = models.DateTimeField()
    # Figures kept by enrolment and the nightly segment refresh (members.services).
    orders_count = models.PositiveIntegerField(default=0)
    total_spent = MoneyField(default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    rfm = models.CharField(max_length=3, blank=True, help_text="Recency, frequency, money scores 1-5, e.g. 545.")

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["-joined_at"]
        constraints = [models.UniqueConstraint(fields=["store", "phone"], name="member_unique_store_phone")]
        indexes = [models.Index(fields=["store", "segment"], name="member_store_segment"),
                   models.Index(fields=["store", "tier"], name="member_store_tier"),
                   # The member list: biggest spenders first.
                   models.Index(fields=["store", "-total_spent", "id"], name="member_store_spent"),
                   # A number's memberships in every store (one sending number): texting limits, opt-outs.
                   models.Index(fields=["phone"], name="member_phone")]

    def __str__(self) -> str:
        return self.name or f"member {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("members:detail", args=[self.pk])

    @property
    def zone(self) -> ZoneInfo:
        """Where the member's 09:00 and 21:00 are: their own zone, else a foreign number's (a store in
        Shanghai texting a +1 415 number keeps Los Angeles hours), else the store's."""
        return ZoneInfo(self.timezone or foreign_number_zone(self.phone, self.store.country) or self.store.timezone)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def texts_state(self) -> str:
        """Whether we may text them, in the member list's words (its "Texts" column and CSV)."""
        return consent_words(self.opted_out_at, self.phone_invalid_at, self.sms_consent)

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]


class TierRule(models.Model):
    """A store's own spend thresholds for Silver and Gold, in the store's currency. A blank one follows the
    default for the currency (`default_tier_limits`), so a store that never set any is tiered as before.
    Changed through `members.services.change_tier_rule`, which re-tiers the store's members."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="tier_rule")
    silver_from = MoneyField(null=True, blank=True, verbose_name="Silver from",
                             help_text="Spend (paid less refunds) from which a member is Silver. Blank: the default.")
    gold_from = MoneyField(null=True, blank=True, verbose_name="Gold from",
                           help_text="Spend from which a member is Gold; more than Silver's. Blank: the default.")
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(silver_from__isnull=True) | Q(silver_from__gt=0),
                                   name="tier_rule_silver_positive",
                                   violation_error_message="Silver's threshold must be more than 0."),
            models.CheckConstraint(condition=Q(gold_from__isnull=True) | Q(gold_from__gt=0),
                                   name="tier_rule_gold_positive",
                                   violation_error_message="Gold's threshold must be more than 0."),
            models.CheckConstraint(
                condition=(Q(silver_from__isnull=True) | Q(gold_from__isnull=True)
                           | Q(gold_from__gt=models.F("silver_from"))),
                name="tier_rule_gold_above_silver", violation_error_message="Gold must start above Silver."),
        ]

    def __str__(self) -> str:
        return f"Tier thresholds of {self.store}"

    @classmethod
    def for_store(cls, store: Store) -> TierRule:
        """The store's saved thresholds, or an unsaved rule with both blank (the defaults)."""
        try:
            return store.tier_rule
        except cls.DoesNotExist:
            return cls(store=store)

    def limits(self) -> dict[str, Decimal]:
        """The spend from which a member of this store reaches each tier: the store's own, else the default."""
        limits = default_tier_limits(self.store.currency)
        for tier, own in ((Tier.SILVER, self.silver_from), (Tier.GOLD, self.gold_from)):
            if own is not None:
                limits[tier] = own
        return limits

    def clean(self) -> None:
        currency = self.store.currency
        errors = {field: f"{label} must start at an amount above 0 {currency}; leave it blank for the default."
                  for field, label, value in (("silver_from", "Silver", self.silver_from),
                                              ("gold_from", "Gold", self.gold_from))
                  if value is not None and value <= 0}
        if errors:
            raise ValidationError(errors)
        limits = self.limits()
        gold, silver = limits.get(Tier.GOLD), limits.get(Tier.SILVER)
        if gold is not None and silver is not None and gold <= silver:
            def said(amount, own):
                return f"{amount:,.2f} {currency}" + ("" if own is not None else " (the default)")
            raise ValidationError({"gold_from": f"Gold must start above Silver: Gold from {said(gold, self.gold_from)} "
                                                f"is not more than Silver from {said(silver, self.silver_from)}."})


class SavedAnswer(models.Model):
    """One of a store's common answers to members' replies: an operator picks it in a Text back form (texts page,
    conversation, bad-review case), filled for the reply's member ({first_name}, {store}…; a case's {order}), and may
    still edit it before sending. Its managers write them; the body, filled for a long name and order, passes the
    same one-SMS check as an answer (`texts.saved_answer_problem`), so a picked answer nearly always sends as it
    stands."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="saved_answers")
    title = models.CharField(max_length=80, help_text="What the operator picks it by, e.g. “Where is my parcel”.")
    # Blank for the form: an empty body is refused by `clean` with the answer's own words, not Django's.
    body = models.TextField(blank=True, help_text="One text: 160 characters, 70 with Chinese or emoji. It may use "
                                                  "{first_name}, {name}, {store} and {tier}, filled for the member, "
                                                  "and {order}: an answer using it is offered only on a bad-review "
                                                  "case with an order.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["title", "pk"]
        constraints = [models.UniqueConstraint(fields=["store", "title"], name="saved_answer_title_unique_per_store",
                                               violation_error_message="The store already has an answer of that "
                                                                       "title.")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        try:
            problem = saved_answer_problem(self.body, self.store.name if self.store_id else "")
        except TemplateError as exc:
            problem = str(exc)
        if problem:
            raise ValidationError({"body": problem})


class MemberOrder(models.Model):
    """Which paid orders made up a member's history (enrolment is idempotent per order)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="member_orders")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="member_link")

    def __str__(self) -> str:
        return f"{self.member} ← {self.order}"


class Flow(models.TextChoices):
    HOLIDAY = "holiday", "Holiday care"
    AFTER_SALES = "after_sales", "After-sales care"
    BENEFIT = "benefit", "Benefit"
    CAMPAIGN = "campaign", "Campaign"
    # One text to one customer, sent by an operator from a bad-review case (reviews.services.text_customer);
    # occasion "review_care:case <id> text <n>". Never planned for an audience.
    REVIEW_CARE = "review_care", "Bad-review care"


# A text's flow when it is our automatic answer to a member's reply (members.replies), occasion
# "answer:<the reply's MessageSid>". Not a template flow: no template can be written for it.
ANSWER = "answer"
# An operator's own words texted back to a member's reply from the texts page or the number's conversation
# (members.replies.text_back), occasion "text_back:reply <id> answer <n>". Not a template flow either.
TEXT_BACK = "text_back"
MESSAGE_FLOWS = [*Flow.choices, (ANSWER, "Automatic answer"), (TEXT_BACK, "Text back to a reply")]
# Answers to a customer who wrote: never held back by, nor counted towards, the frequency cap or the one text a
# day (members.compliance), so a campaign's texts cannot delay one and a queued one is never moved for a greeting.
ANSWER_FLOWS = (ANSWER, TEXT_BACK)


def audience_choices(text: str, choices) -> tuple[list[str], list[str]]:
    """The choice values a comma-separated audience names (by value or label, in any case), and the names
    that are neither."""
    known = {}
    for value, label in choices:
        known[value.lower()] = known[str(label).lower()] = value
    names = [n.strip() for n in text.split(",") if n.strip()]
    values = [known[n.lower()] for n in names if n.lower() in known]
    return list(dict.fromkeys(values)), [n for n in names if n.lower() not in known]


class SmsTemplate(models.Model):
    """The text of a flow, with placeholders such as {first_name}, {store}, {coupon}."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sms_templates")
    name = models.CharField(max_length=100)
    flow = models.CharField(max_length=20, choices=Flow.choices)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    delay_days = models.PositiveSmallIntegerField(default=3, help_text="After-sales: days after delivery.")
    coupon_value = models.CharField(max_length=40, blank=True, help_text="Benefit: what the coupon is worth.")
    coupon_valid_days = models.PositiveSmallIntegerField(default=30)
    audience_segments = models.CharField(max_length=200, blank=True,
                                         help_text="Comma-separated segments; blank means everyone.")
    audience_tiers = models.CharField(max_length=100, blank=True, help_text="Comma-separated tiers; blank = all.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["store", "flow", "name"]
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="smstemplate_unique_store_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        from .keywords import OPT_OUT_ALONE, OPT_OUT_WORDS, unhandled_opt_out_keywords

        errors = {}
        unhandled = unhandled_opt_out_keywords(self.body or "")
        if unhandled:
            known = ", ".join(sorted(OPT_OUT_WORDS | OPT_OUT_ALONE))
            errors["body"] = (f"The text tells customers to reply {', '.join(unhandled)} to unsubscribe, "
                              f"but that reply would not opt them out. Name one of: {known}.")
        # A name the members' field never holds ("Gold", "champs") would quietly reach nobody.
        for name, choices, what in (("audience_segments", Segment.choices, "segment"),
                                    ("audience_tiers", Tier.choices, "tier")):
            values, unknown = audience_choices(getattr(self, name) or "", choices)
            if unknown:
                errors[name] = (f"Unknown {what}{pluralize(unknown)}: {', '.join(unknown)}. Choose from: "
                                f"{', '.join(value for value, _ in choices)} (comma-separated; blank means everyone).")
            else:
                setattr(self, name, ", ".join(values))
        if "body" not in errors:
            errors.update(self._coupon_errors())
        if errors:
            raise ValidationError(errors)

    def _coupon_errors(self) -> dict[str, str]:
        """A coupon is issued only with a text that carries its code: a benefit without {coupon} would give
        nobody one, and {coupon_value} or {valid_until} without the code would describe a coupon never given."""
        try:
            used = set(placeholders_in(self.body or ""))
        except TemplateError:
            return {}  # the form names the bad placeholder
        if self.flow == Flow.REVIEW_CARE and used & {"coupon", "coupon_value", "valid_until"}:
            return {"body": "A bad-review text is sent from a case, one customer at a time, and issues no coupon: "
                            "leave {coupon}, {coupon_value} and {valid_until} out (offer a refund or a "
                            "replacement on the case instead)."}
        if "coupon" in used:
            return {}
        if self.flow == Flow.BENEFIT:
            return {"body": "A benefit text gives each member their own coupon: put {coupon} where the code goes "
                            "(a text without a coupon is a campaign)."}
        described = [f"{{{name}}}" for name in ("coupon_value", "valid_until") if name in used]
        if described:
            return {"body": f"{' and '.join(described)} describe{'s' if len(described) == 1 else ''} a coupon, but "
                            "the text carries no code: add {coupon} (each member then gets one) or leave "
                            f"{'it' if len(described) == 1 else 'them'} out."}
        return {}

    @property
    def carries_coupon(self) -> bool:
        """Whether the text shows a coupon code ({coupon}): only then is a coupon issued with it."""
        return "coupon" in placeholders_in(self.body)

    def segment_list(self) -> list[str]:
        return [s.strip() for s in self.audience_segments.split(",") if s.strip()]

    def tier_list(self) -> list[str]:
        return [s.strip() for s in self.audience_tiers.split(",") if s.strip()]


class Festival(models.Model):
    """A store's own festival (shop anniversary, Double 11 ...), texted like a public holiday."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="festivals")
    name = models.CharField(max_length=100)
    date = models.DateField(help_text="The day; with 'yearly' only month and day matter.")
    yearly = models.BooleanField(default=True)
    template = models.ForeignKey(SmsTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="Blank means the store's active holiday template.")

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["store", "name", "date"], name="festival_unique")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.template_id and self.store_id and self.template.store_id != self.store_id:
            raise ValidationError({"template": f"That template belongs to {self.template.store}; "
                                               f"choose one of {self.store}'s."})

    def own_template(self) -> SmsTemplate | None:
        """The festival's template if it can be used: active and the store's own (else the holiday template)."""
        template = self.template
        return template if template and template.is_active and template.store_id == self.store_id else None

    def falls_on(self, day) -> bool:
        if self.yearly:
            return (self.date.month, self.date.day) == (day.month, day.day)
        return self.date == day


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# Statuses after which the text has left us: no further attempt may be made.
HANDED_OVER = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED)
FINAL = (*HANDED_OVER, MessageStatus.FAILED, MessageStatus.SKIPPED)


OCCASION_WORDS = {Flow.HOLIDAY: "Holiday", Flow.AFTER_SALES: "After-sales", Flow.BENEFIT: "Benefit",
                  Flow.REVIEW_CARE: "Bad-review"}


ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
ISO_MONTH = re.compile(r"(\d{4})-(\d{2})")


def days_in_words(text: str) -> str:
    """`text` with each ISO day in it as the pages write a day ("2026-12-23" → "Wed 23 Dec"); one that is no
    real day stays as it is."""
    def words(match: re.Match) -> str:
        try:
            return figures.day_words(date(*map(int, match.groups())))
        except ValueError:
            return match[0]

    return ISO_DAY.sub(words, text)


def describe_occasion(occasion: str, campaign_name: str = "") -> str:
    """An occasion key in the operator's words: "holiday:2026-12-25" → "Holiday · Fri 25 Dec", "benefit:2026-12"
    → "Benefit · Dec 2026", "after_sales:order 107056" → "After-sales · order 107056", "campaign:12" →
    "Campaign: <its template's name>". The key itself stays ISO: it is the text's exactly-once key."""
    kind, _, rest = occasion.partition(":")
    if kind == ANSWER:
        return "Automatic answer"
    if kind == TEXT_BACK:
        return "Text back to a reply"
    if kind == Flow.CAMPAIGN:
        return f"Campaign: {campaign_name}" if campaign_name else f"Campaign #{rest.partition(':')[0]}"
    if kind == Flow.HOLIDAY and ISO_DAY.fullmatch(rest):
        rest = days_in_words(rest)
    elif kind == Flow.BENEFIT and (month := ISO_MONTH.fullmatch(rest)) and 1 <= int(month[2]) <= 12:
        rest = f"{date(int(month[1]), int(month[2]), 1):%b %Y}"
    if kind in OCCASION_WORDS and rest:
        return f"{OCCASION_WORDS[kind]} · {rest}"
    return occasion


class MessageQuerySet(models.QuerySet):
    def waiting(self):
        """Queued texts not due yet: held until quiet hours end (09:00 local) or until a retry."""
        return self.filter(status=MessageStatus.QUEUED, scheduled_for__gt=timezone.now())


class Message(models.Model):
    """One text to one member for one occasion; the unique constraint is the exactly-once guarantee."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="messages")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="messages")
    flow = models.CharField(max_length=20, choices=MESSAGE_FLOWS)
    occasion = models.CharField(max_length=100, help_text='e.g. "holiday:2026-12-25", "after_sales:order 123".')
    template = models.ForeignKey(SmsTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="texts",
                              help_text="After-sales: the order the text asks about (checked again at send time).")
    # The customer's reply an operator's text back answers (flow TEXT_BACK, or a bad-review case's answer), so the
    # conversation shows it beside that reply.
    reply = models.ForeignKey("InboundReply", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="text_backs")
    # The operator who wrote an answer to a reply: a late "delivered" marks the reply answered by them again.
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    body = models.TextField()
    segments = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    # Days in it stay ISO ("greeted for 2026-12-23"), like the occasion key; the pages word them when shown.
    skip_reason = models.CharField(max_length=100, blank=True)
    # Why a queued text was put off to a later day (one text a number a day); shown while it waits.
    # A default in the table too: code from before the field (a rolling deploy) still inserts texts.
    wait_reason = models.CharField(max_length=100, blank=True, default="", db_default="")
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Claims made to send it (fencing token).")
    created_at = models.DateTimeField(auto_now_add=True)
    scheduled_for = models.DateTimeField(help_text="Not before this (quiet hours push it to 09:00 local).")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "flow", "occasion"], name="message_once_per_occasion"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="message_status_due"),
            models.Index(fields=["member", "sent_at"], name="message_member_sent"),
            models.Index(fields=["store", "flow", "occasion"], name="message_store_occasion"),
            # The texts page (newest first) and the frequency cap (texts sent in the last days).
            models.Index(fields=["store", "-created_at"], name="message_store_created"),
            models.Index(fields=["store", "sent_at"], name="message_store_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.occasion} → {self.member_id} ({self.status})"

    @property
    def occasion_label(self) -> str:
        """The occasion as the pages show it (select_related("template") spares a query per campaign text)."""
        name = self.template.name if self.flow == Flow.CAMPAIGN and self.template_id else ""
        return describe_occasion(self.occasion, name)

    @property
    def skip_reason_words(self) -> str:
        """Why the text was skipped, as the pages show it: its days in words ("holiday period: greeted for Wed
        23 Dec"). Stored with ISO days and worded when read, so the year shows once it is not this year's and
        rows kept before the pages wrote days in words read the same."""
        return days_in_words(self.skip_reason)

    @property
    def waits_because(self) -> str:
        """Why a queued text waits for a later day ("waits: another store's text to this number that day"), or
        "" once it is no longer waiting."""
        return self.wait_reason if self.status == MessageStatus.QUEUED else ""

    def when_it_goes(self, now) -> str:
        """When a text an operator just queued goes, in their words: now, or 09:00 the customer's time."""
        if self.scheduled_for <= now:
            return "it goes out now"
        when = timezone.localtime(self.scheduled_for, self.member.zone)
        return (f"it is quiet hours for the customer, so it goes at {when:%H:%M} their time "
                f"({self.member.zone.key}) on {when:%a %d %b}")

    @property
    def error_words(self) -> str:
        """Twilio's error code in words ("landline or unreachable carrier"); "" for a code we have no words for."""
        return ERROR_WORDS.get(self.error_code, "")


COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud at the till


def new_coupon_code(store: Store, rng: random.Random | None = None) -> str:
    """A fresh code ("JAD-7KQ2-M9XD"): unguessable, or drawn from `rng` where it must repeat (the demo)."""
    prefix = "".join(ch for ch in store.slug.upper() if ch.isalnum())[:3] or "CPN"
    choice = rng.choice if rng else secrets.choice
    body = "".join(choice(COUPON_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def normalise_code(code: str) -> str:
    """A discount code as coupons are matched by: trimmed, upper case ("  pac-7kq2-m9xd " → "PAC-7KQ2-M9XD")."""
    return code.strip().upper()


REDEEMING_ORDERS_SHOWN = 50  # the campaign page lists this many, a page rather than a report: the rest are counted
REDEEMING_ORDERS_CHUNK = 2000  # rows read at a time by the CSV export of all of them


def RELEASE_REDEMPTION(collector, field, sub_objs, using):
    """`on_delete` of `Coupon.redeemed_order`: a deleted order no longer redeems its coupon (redeemed_at and the link
    emptied, in the deletion's transaction), so the member may use it again while it is valid. Whatever deletes the
    order, one UPDATE per field for all of the deletion's coupons. It only releases: passing the coupon on to
    another order with its code takes queries a collector (which also runs for the admin's "are you sure?" page)
    must not make, so `stores.orders.delete_order` and the admin call `members.services.release_coupons` first."""
    # redeemed_at first: the lazy querysets select the coupons by the link the second update empties.
    collector.add_field_update(field.model._meta.get_field("redeemed_at"), None, sub_objs)
    collector.add_field_update(field, None, sub_objs)


RELEASE_REDEMPTION.lazy_sub_objs = True  # as SET_NULL: UPDATE ... WHERE redeemed_order_id IN (...), no SELECT first


class CouponQuerySet(models.QuerySet):
    def issue(self, store: Store, template: SmsTemplate, wanted: list[tuple[Member, str]],
              today: date) -> dict[tuple[int, str], Coupon]:
        """One coupon per (member, occasion) in `wanted` (kept if it exists), each with a unique random code;
        keyed by (member id, occasion). Called by members.sending.plan for the texts it queues only."""
        valid_until = today + timedelta(days=template.coupon_valid_days)
        self.bulk_create([Coupon(store=store, member=member, occasion=occasion, code=new_coupon_code(store),
                                 value=template.coupon_value, valid_until=valid_until) for member, occasion in wanted],
                         batch_size=2000, ignore_conflicts=True)
        issued = self.filter(store=store, member__in={m.pk for m, _ in wanted}, occasion__in={o for _, o in wanted})
        return {(c.member_id, c.occasion): c for c in issued}

    def of_text(self, message: Message) -> CouponQuerySet:
        """The coupon a text announces (its member's, for its occasion), unless already redeemed."""
        return self.filter(member_id=message.member_id, occasion=message.occasion, redeemed_at__isnull=True)

    def held(self) -> CouponQuerySet:
        return self.filter(withdrawn_at__isnull=True)

    def of_template(self, template: SmsTemplate) -> CouponQuerySet:
        """The coupons `template`'s texts carried to members (member and occasion of one of its texts), withdrawn
        ones left out: what the campaign page counts and lists."""
        texts = Message.objects.filter(member=OuterRef("member"), flow=template.flow, occasion=OuterRef("occasion"),
                                       template=template)
        return self.held().filter(Exists(texts), store_id=template.store_id)

    def redemption_of(self, template: SmsTemplate) -> CouponRedemption:
        """What the coupons issued with `template`'s texts did (those its texts carried to the member, not the
        withdrawn): how many were issued and redeemed, and the sales of the orders that used them, as a member's
        spend counts them (less refunds; a cancelled order sold nothing). One query."""
        figures = self.of_template(template).aggregate(
            issued=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False)),
            sales=Sum(F("redeemed_order__total") - F("redeemed_order__refund_amount"),
                      filter=~Q(redeemed_order__status=OrderStatus.CANCELLED)))
        return CouponRedemption(figures["issued"], figures["redeemed"], figures["sales"] or Decimal("0"),
                                template.store.currency)

    def _redeeming(self, template: SmsTemplate) -> CouponQuerySet:
        """`template`'s coupons that an order of its store redeemed, newest paid first, with member and order."""
        return (self.of_template(template).filter(redeemed_order__isnull=False, redeemed_order__store=template.store)
                .select_related("member", "redeemed_order").order_by("-redeemed_at", "-pk"))

    def redeeming_orders(self, template: SmsTemplate, limit: int = REDEEMING_ORDERS_SHOWN) -> list[RedeemingOrder]:
        """The newest `limit` orders that redeemed `template`'s coupons (newest paid first), each with its member,
        its paid day in the store's time and its total less refunds. One query; the campaign page says how many
        more there are from `redemption_of`'s count, which counts the same coupons."""
        return [RedeemingOrder.of(c, template.store) for c in self._redeeming(template)[:limit]]

    def count_redeeming_orders(self, template: SmsTemplate) -> int:
        """How many rows `all_redeeming_orders` yields (one COUNT)."""
        return self._redeeming(template).count()

    def all_redeeming_orders(self, template: SmsTemplate) -> Iterator[RedeemingOrder]:
        """Every order that redeemed `template`'s coupons, in `redeeming_orders`' order, read in chunks (a
        server-side cursor on Postgres) so the CSV export of 100k orders never holds them all. One query."""
        for c in self._redeeming(template).iterator(chunk_size=REDEEMING_ORDERS_CHUNK):
            yield RedeemingOrder.of(c, template.store)


@dataclass(frozen=True)
class RedeemingOrder:
    """One row of a campaign's redeeming orders: the order, the member whose coupon it used, the code, the store-local
    day it was paid and what it sold (its total less refunds)."""

    order: Order
    member: Member
    code: str
    paid_day: date
    net: Decimal

    @classmethod
    def of(cls, coupon: Coupon, store: Store) -> RedeemingOrder:
        order = coupon.redeemed_order
        order.store = store  # its link names the store: the one filtered on, no query per row
        return cls(order, coupon.member, coupon.code, store.today(order.paid_at or coupon.redeemed_at),
                   order.total - order.refund_amount)


@dataclass(frozen=True)
class CouponRedemption:
    """A template's coupons: issued (held by members), redeemed by an order, and what those orders sold."""

    issued: int
    redeemed: int
    sales: Decimal
    currency: str

    @property
    def percent(self) -> int:
        """The share redeemed, in whole percent (rounded half up, as the pages show it)."""
        return int((Decimal(self.redeemed * 100) / self.issued).quantize(Decimal("1"), "ROUND_HALF_UP")) \
            if self.issued else 0


class Coupon(models.Model):
    """A benefit coupon: one unique code per member and occasion, issued with the text that tells them,
    withdrawn while that text has not reached them (skipped, refused or given up on, reported failed or
    undelivered) and given back if Twilio reports it sent or delivered after all (members.sending)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="coupons")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="coupons")
    occasion = models.CharField(max_length=100)
    code = models.CharField(max_length=20, unique=True)
    value = models.CharField(max_length=40, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    redeemed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the order that used it was paid (members.services.redeem_coupons).")
    redeemed_order = models.ForeignKey(Order, null=True, blank=True, on_delete=RELEASE_REDEMPTION,
                                       related_name="redeemed_coupons", help_text="The order that used the code.")
    withdrawn_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Its text did not reach the member: the code is not valid.")

    objects = CouponQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["member", "occasion"], name="coupon_once_per_occasion")]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        # Codes are matched against orders' discount codes upper-cased (members.services.redeem_coupons).
        self.code = normalise_code(self.code)
        super().save(*args, **kwargs)

    def placeholders(self) -> dict[str, str]:
        """The template placeholders this coupon fills."""
        return {"coupon": self.code, "coupon_value": self.value,
                "valid_until": self.valid_until.isoformat() if self.valid_until else ""}


class ReplyKind(models.TextChoices):
    OPT_OUT = "opt_out", "Opt-out"
    OPT_IN = "opt_in", "Opt-in"
    HELP = "help", "Help"
    MESSAGE = "message", "Message"


# Replies a person has to read and answer; opt-outs and opt-ins are handled by the app.
NEEDS_ANSWER = (ReplyKind.HELP, ReplyKind.MESSAGE)


class StrangerHelp(models.Model):
    """A HELP from a number that is no member of any store, answered once: only Twilio's MessageSid is kept
    (not the number), so a webhook Twilio delivers again gets no second answer."""

    provider_sid = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.provider_sid


# The send step's skip reasons for a customer who may no longer be texted (members.sending), in a reply's note.
SKIPPED_ANSWER_WORDS = {"opted out": "the customer opted out", "invalid number": "Twilio reported the number invalid",
                        "no consent": "the customer has not agreed to texts"}


class InboundReplyQuerySet(models.QuerySet):
    def awaiting_answer(self):
        return self.filter(kind__in=NEEDS_ANSWER, answered_at__isnull=True)

    def with_next_text_back(self):
        """Each reply with `next_text_back`: the number its next text back from the members' pages would have
        (the form carries it, so a double POST of one form sends once)."""
        return self.with_last_answer().annotate(
            next_text_back=Count("text_backs", filter=Q(text_backs__flow=TEXT_BACK)) + 1)

    def with_last_answer(self):
        """Each reply with its latest operator answer's status and skip reason, which `answer_not_reached` reads."""
        latest = Message.objects.filter(reply=OuterRef("pk")).order_by("-pk")
        return self.annotate(last_answer_status=Subquery(latest.values("status")[:1]),
                             last_answer_skip_reason=Subquery(latest.values("skip_reason")[:1]))


class InboundReply(models.Model):
    """A text a member sent to our number, kept once for each of that number's memberships."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="inbound_replies")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(max_length=20, choices=ReplyKind.choices)
    body = models.TextField()
    provider_sid = models.CharField(max_length=64, blank=True, help_text="Twilio's MessageSid of the reply.")
    received_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # The operator's answer that marked it answered (members.replies.mark_answered_by); empty when marked by hand.
    # Only that answer's failure puts the reply back to waiting.
    answered_with = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = InboundReplyQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "inbound replies"
        constraints = [
            # Twilio may deliver the same webhook again: one row per member and reply.
            models.UniqueConstraint(fields=["member", "provider_sid"], condition=~Q(provider_sid=""),
                                    name="inboundreply_once_per_member"),
        ]
        indexes = [models.Index(fields=["store", "answered_at"], name="inboundreply_store_answered")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.member_id}: {self.body[:40]}"

    @property
    def needs_answer(self) -> bool:
        return self.kind in NEEDS_ANSWER and self.answered_at is None

    @property
    def answer_not_reached(self) -> str:
        """While the reply waits again, why its latest answer did not reach the customer, in the operator's words
        ("Answer failed: undelivered — text back again or call", "Answer not sent: the customer opted out — call"),
        else "": needs `with_last_answer()`. Such an answer puts its reply back to waiting
        (members.replies.answer_failed)."""
        status = getattr(self, "last_answer_status", None)
        if not self.needs_answer:
            return ""
        if status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):
            return f"Answer failed: {MessageStatus(status).label.lower()} — text back again or call"
        if status == MessageStatus.SKIPPED:
            # Skipped at the send step: the customer may not be texted now, so texting again is no way.
            reason = SKIPPED_ANSWER_WORDS.get(self.last_answer_skip_reason, self.last_answer_skip_reason)
            return f"Answer not sent: {reason} — call"
        return ""

    @property
    def may_text_back(self) -> bool:
        """An operator may text the customer back under it (again, too, once it is answered)."""
        return self.kind in NEEDS_ANSWER
