"""Forms of the case page and the upload page."""

from django import forms
from django.core.validators import URLValidator

from .importers import FORMATS
from .models import (
    CALL_OUTCOMES,
    CaseStatus,
    CheckFinding,
    Resolution,
    ReviewPolicy,
    RootCause,
    default_negative_words,
)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="Olist review CSV, opsdesk review CSV or Shopify-style JSON.")
    format = forms.ChoiceField(choices=[("", "Guess from the file")] + [(f, f) for f in FORMATS], required=False)
    open_cases = forms.BooleanField(initial=True, required=False, label="Open cases for bad reviews")


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=CaseStatus.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(choices=CALL_OUTCOMES)
    notes = forms.CharField(required=False, label="What the customer said (their actual situation)",
                            help_text="Required when the customer was reached: what they said and what was agreed.",
                            widget=forms.Textarea(attrs={"rows": 3}))


class FindingsForm(forms.Form):
    situation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                label="What really happened")
    root_cause = forms.ChoiceField(choices=[("", "—")] + RootCause.choices, required=False)
    check_finding = forms.ChoiceField(choices=[("", "—")] + CheckFinding.choices, required=False,
                                      label="Product check finding")
    check_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    resolution = forms.ChoiceField(choices=[("", "—")] + Resolution.choices, required=False)
    resolution_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    customer_updated_review = forms.BooleanField(required=False, label="Customer updated the review")
    updated_rating = forms.IntegerField(required=False, min_value=1, max_value=5, label="New rating")

    def __init__(self, *args, read_only: bool = False, **kwargs):
        """`read_only`: a closed case's findings are shown, not offered for editing (it has no Save button)."""
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    def clean(self):
        data = super().clean()
        if data.get("updated_rating") and not data.get("customer_updated_review"):
            self.add_error("customer_updated_review", "Tick this when you record a new rating.")
        return data


class ListingFixForm(forms.Form):
    title = forms.CharField(max_length=255, help_text="The corrected listing title.")
    # A web address only: a media path would have the store's picture page serve that file (another store's
    # upload too), and a javascript: or data: link would run from the product page's link to the picture.
    main_image = forms.CharField(
        max_length=500, required=False, label="Main picture URL",
        help_text="https://… of the new picture; leave empty to keep the current one.",
        validators=[URLValidator(schemes=["http", "https"], message=(
            "The main picture must be a web address starting with http:// or https:// (or empty, to keep the "
            "current picture)."))],
    )
    detail_page = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(max_length=255, required=False, help_text="What changed and why.")


class ProductTaskForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Task")
    owner = forms.ModelChoiceField(queryset=None, required=False)
    due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owners=None, store=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.store = store
        if store is not None:
            self.fields["due"].widget.attrs["min"] = store.today().isoformat()

    def clean_due(self):
        due = self.cleaned_data["due"]
        # A task born overdue is a typo (2020 for 2026); "today" is the store's own day.
        if due and self.store is not None and due < self.store.today():
            raise forms.ValidationError(f"{due.isoformat()} is in the past; give today "
                                        f"({self.store.today().isoformat()}) or a later day.")
        return due


class PolicyForm(forms.ModelForm):
    class Meta:
        model = ReviewPolicy
        fields = ["first_contact_hours", "negative_words"]
        widgets = {"negative_words": forms.Textarea(attrs={"rows": 12})}

    def clean_negative_words(self) -> str:
        words = [w.strip() for w in self.cleaned_data["negative_words"].splitlines() if w.strip()]
        if any(not w.rstrip("*").strip() for w in words):
            raise forms.ValidationError("A line with only * would match every review; put the start of a word "
                                        "before it (mauvais*).")
        # The page fills an unset list with the default; saved unchanged it must stay "the default" (blank), so a
        # later change of the project's default list reaches this store too.
        if set(words) == set(default_negative_words()):
            return ""
        return "\n".join(words)
