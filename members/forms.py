from django import forms

from .models import SavedAnswer, Segment, SmsTemplate, Tier, TierRule, default_tier_limits
from .texts import TemplateError, answer_problem, placeholders_in


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["name", "flow", "body", "is_active", "delay_days", "coupon_value", "coupon_valid_days",
                  "audience_segments", "audience_tiers"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 60})}
        help_texts = {"audience_segments": f"Comma-separated, from: {', '.join(Segment.values)}. Blank: everyone.",
                      "audience_tiers": f"Comma-separated, from: {', '.join(Tier.values)}. Blank: everyone."}

    def clean_name(self):
        """Names are unique per store; the form has no store field, so Django would not check it (a 500)."""
        name = self.cleaned_data["name"]
        taken = SmsTemplate.objects.filter(store_id=self.instance.store_id, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"{self.instance.store} already has a template named “{name}”.")
        return name

    def clean_body(self):
        body = self.cleaned_data["body"]
        try:
            placeholders_in(body)
        except TemplateError as exc:
            raise forms.ValidationError(str(exc)) from None
        return body


class AnswerForm(forms.Form):
    """An operator's text back to a customer's reply (the members' texts and conversation pages, a bad-review
    case): one SMS segment."""

    body = forms.CharField(label="Text back", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_body(self):
        body = self.cleaned_data["body"]
        if problem := answer_problem(body):
            raise forms.ValidationError(problem)
        return body


class SavedAnswerForm(forms.ModelForm):
    """A store's saved answer: a title unique in the store and a body that is one SMS (the model's check)."""

    class Meta:
        model = SavedAnswer
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def clean_title(self):
        """Unique per store; the form has no store field, so Django would not check it (a 500)."""
        title = self.cleaned_data["title"].strip()
        taken = SavedAnswer.objects.filter(store_id=self.instance.store_id, title__iexact=title)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"{self.instance.store} already has a saved answer titled “{title}”.")
        return title

    def save_by(self, user) -> SavedAnswer:
        """Save, recording who wrote it (and, for a new one, who first did)."""
        answer = self.save(commit=False)
        if answer.pk is None:
            answer.created_by = user
        answer.updated_by = user
        answer.save()
        return answer


class TierRuleForm(forms.ModelForm):
    """A store's Silver and Gold thresholds; a blank box shows (as its placeholder) the default it follows.
    The checks (above 0, Gold above Silver) are the model's, so they hold wherever a rule is saved."""

    class Meta:
        model = TierRule
        fields = ["silver_from", "gold_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = self.instance.store.currency
        defaults = default_tier_limits(currency)
        for name, tier in (("silver_from", Tier.SILVER), ("gold_from", Tier.GOLD)):
            field = self.fields[name]
            field.label = f"{field.label} ({currency})"
            if tier in defaults:
                field.widget.attrs["placeholder"] = f"{defaults[tier]:.2f} (default)"
                field.help_text = field.help_text.replace(
                    "Blank: the default.", f"Blank: the default for {currency}, {defaults[tier]:,.2f}.")
