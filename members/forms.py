from django import forms

from .models import SmsTemplate
from .texts import TemplateError, placeholders_in


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["name", "flow", "body", "is_active", "delay_days", "coupon_value", "coupon_valid_days",
                  "audience_segments", "audience_tiers"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 60})}

    def clean_body(self):
        body = self.cleaned_data["body"]
        try:
            placeholders_in(body)
        except TemplateError as exc:
            raise forms.ValidationError(str(exc)) from None
        return body
