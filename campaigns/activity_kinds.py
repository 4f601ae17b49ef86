"""Each activity kind's details: one small form per kind validates them and cleans them into JSON.

`Activity.details` holds what only one kind has (a discount %, an event's name, a lottery's prize
count, a post's channel). `validate_details(kind, data)` is the one check, used by the model's
`clean()` and by the pages, so a bad detail gets a clear message naming the field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name

from metrics.figures import day_words, metric_value

from .models.activities import ActivityKind


class PromotionDetails(forms.Form):
    MECHANISMS = [("discount", "Discount %"), ("threshold", "Full reduction (spend X, save Y)"),
                  ("coupon", "Coupon")]
    mechanism = forms.ChoiceField(choices=MECHANISMS)
    discount_percent = forms.DecimalField(required=False, min_value=Decimal("0.5"), max_value=Decimal("95"),
                                          decimal_places=1, help_text="Discount: percent off.")
    threshold = forms.DecimalField(required=False, min_value=Decimal("0.01"), decimal_places=2,
                                   help_text="Full reduction / coupon: minimum spend.")
    reduction = forms.DecimalField(required=False, min_value=Decimal("0.01"), decimal_places=2,
                                   help_text="Full reduction: amount off once the minimum is reached.")
    coupon_value = forms.DecimalField(required=False, min_value=Decimal("0.01"), decimal_places=2)
    coupon_count = forms.IntegerField(required=False, min_value=1, help_text="Coupons to hand out.")

    def clean(self):
        data = super().clean()
        need = {"discount": ["discount_percent"], "threshold": ["threshold", "reduction"],
                "coupon": ["coupon_value", "coupon_count"]}.get(data.get("mechanism"), [])
        for name in need:
            if data.get(name) in (None, ""):
                self.add_error(name, "Required for this kind of promotion.")
        if data.get("mechanism") == "threshold" and data.get("threshold") and data.get("reduction") \
                and data["reduction"] >= data["threshold"]:
            self.add_error("reduction", "The reduction must be less than the minimum spend.")
        return data


class PlatformEventDetails(forms.Form):
    EVENTS = [("double_11", "Double 11 (Singles' Day)"), ("618", "618 mid-year sale"),
              ("double_12", "Double 12"), ("black_friday", "Black Friday"), ("cyber_monday", "Cyber Monday"),
              ("prime_day", "Prime Day"), ("other", "Other")]
    SIGNUP = [("not_started", "Not signed up"), ("submitted", "Submitted"), ("approved", "Approved"),
              ("rejected", "Rejected")]
    event = forms.ChoiceField(choices=EVENTS)
    event_name = forms.CharField(required=False, max_length=120, help_text="Name when the event is 'Other'.")
    requirements = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="The platform's entry rules: discount depth, stock, ratings ...")
    signup_status = forms.ChoiceField(label="Sign-up status", choices=SIGNUP, initial="not_started")

    def clean(self):
        data = super().clean()
        if data.get("event") == "other" and not data.get("event_name"):
            self.add_error("event_name", "Name the event.")
        return data


def event_day(event: str, year: int) -> date | None:
    """The day a named platform event falls on in `year`; None for one without a fixed day (Prime Day, other).

    Black Friday is the day after the fourth Thursday of November, Cyber Monday the Monday after it.
    """
    fixed = {"double_11": (11, 11), "double_12": (12, 12), "618": (6, 18)}
    if event in fixed:
        return date(year, *fixed[event])
    if event in ("black_friday", "cyber_monday"):
        first = date(year, 11, 1)
        thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        return thanksgiving + timedelta(days=1 if event == "black_friday" else 4)
    return None


def next_event_day(event: str, after: date) -> date | None:
    """The first day strictly after `after` on which the named event falls, or None (no fixed day)."""
    for year in (after.year, after.year + 1):
        day = event_day(event, year)
        if day is None:
            return None
        if day > after:
            return day
    return None


class GiftDetails(forms.Form):
    TYPES = [("free_gift", "Free gift with purchase"), ("lottery", "Lottery")]
    gift_type = forms.ChoiceField(choices=TYPES)
    gift_item = forms.CharField(max_length=200, help_text="What is given or won.")
    min_spend = forms.DecimalField(required=False, min_value=Decimal("0"), decimal_places=2,
                                   help_text="Free gift: minimum order value.")
    prize_count = forms.IntegerField(required=False, min_value=1, help_text="Lottery: number of winners.")

    def clean(self):
        data = super().clean()
        if data.get("gift_type") == "lottery" and not data.get("prize_count"):
            self.add_error("prize_count", "A lottery needs the number of winners.")
        return data


class RelatedSalesDetails(forms.Form):
    MODES = [("bundle", "Bundle (buy together for less)"), ("cross_sell", "Cross-sell (recommend on page)")]
    mode = forms.ChoiceField(choices=MODES)
    bundle_price = forms.DecimalField(required=False, min_value=Decimal("0.01"), decimal_places=2,
                                      help_text="Bundle: price of the set.")
    source = forms.CharField(required=False, max_length=300,
                             help_text="Why these products (e.g. the suggestion's lift).")


class ContentDetails(forms.Form):
    CHANNELS = [("wechat", "WeChat"), ("weibo", "Weibo"), ("xiaohongshu", "Xiaohongshu (RED)"),
                ("douyin", "Douyin"), ("instagram", "Instagram"), ("tiktok", "TikTok"), ("youtube", "YouTube"),
                ("blog", "Blog / newsletter"), ("other", "Other")]
    channel = forms.ChoiceField(choices=CHANNELS)
    publish_at = forms.DateTimeField(help_text="Store-local time, e.g. 2026-11-20 20:00.",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    topic = forms.CharField(required=False, max_length=200)
    link = forms.URLField(required=False, max_length=500, assume_scheme="https")


DETAIL_FORMS: dict[str, type[forms.Form]] = {
    ActivityKind.STORE_PROMOTION: PromotionDetails,
    ActivityKind.PLATFORM_EVENT: PlatformEventDetails,
    ActivityKind.GIFT: GiftDetails,
    ActivityKind.RELATED_SALES: RelatedSalesDetails,
    ActivityKind.CONTENT: ContentDetails,
}


def _to_json(value):
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal(1))) if value == value.to_integral() else str(value)
    if isinstance(value, datetime):
        # Stored as the store-local wall time the operator typed (no zone: the store's zone applies).
        return value.replace(tzinfo=None).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def details_form(kind: str, data=None, initial=None, prefix: str = "d") -> forms.Form:
    return DETAIL_FORMS[kind](data=data, initial=initial, prefix=prefix)


def clean_details(form: forms.Form) -> dict:
    return {k: _to_json(v) for k, v in form.cleaned_data.items() if v not in (None, "")}


def validate_details(kind: str, details: dict | None) -> dict:
    """Cleaned details for `kind`, or ValidationError listing each bad field."""
    if kind not in DETAIL_FORMS:
        raise ValidationError(f"Unknown activity kind {kind!r}.")
    form = DETAIL_FORMS[kind](data=details or {})
    if not form.is_valid():
        # Plain messages (not keyed by field): a ModelForm has no "details" field to attach them to.
        raise ValidationError([f"Details, {name}: {'; '.join(msgs)}" for name, msgs in form.errors.items()])
    return clean_details(form)


def describe(activity) -> list[tuple[str, str]]:
    """The details as (label, value) pairs in the form's order, with choices shown by their label."""
    form = DETAIL_FORMS[activity.kind]()
    rows = []
    for name, field in form.fields.items():
        value = activity.details.get(name)
        if value in (None, ""):
            continue
        if isinstance(field, forms.ChoiceField):
            value = dict(field.choices).get(value, value)
        elif isinstance(field, forms.DecimalField) and field.decimal_places == 2:  # money, as Budget is written
            value = f"{metric_value(value, 'money')} {activity.store.currency}"
        elif isinstance(field, forms.DateTimeField):
            value = wall_time_words(value, activity.store.today().year)
        rows.append((field.label or pretty_name(name), str(value)))
    return rows


def wall_time_words(value: str, this_year: int) -> str:
    """A details time kept as the store's wall time ("2026-12-02T20:00", naive ISO) as operators read it:
    "Wed 2 Dec 20:00"."""
    moment = datetime.fromisoformat(value)
    return f"{day_words(moment.date(), this_year)} {moment:%H:%M}"


def is_lottery(activity) -> bool:
    return activity.kind == ActivityKind.GIFT and activity.details.get("gift_type") == "lottery"
