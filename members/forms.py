from django import forms

from .models import Segment, SmsTemplate, Tier
from .texts import TemplateError, placeholders_in


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
