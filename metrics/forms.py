"""Forms of the anomaly page: status, plan and owner; action items."""

from django import forms

from .models import ActionItem, Anomaly, AnomalyStatus


class AnomalyForm(forms.ModelForm):
    class Meta:
        model = Anomaly
        fields = ["status", "plan", "owner"]
        widgets = {"plan": forms.Textarea(attrs={"rows": 4, "placeholder": "What we will do about it, by when."})}
        labels = {"plan": "Response plan"}

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["owner"].queryset = users

    def clean(self):
        data = super().clean()
        if data.get("status") in (AnomalyStatus.PLAN, AnomalyStatus.RESOLVED) and not (data.get("plan") or "").strip():
            self.add_error("plan", "Write the response plan before moving to “plan” or “resolved”.")
        return data


class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["text", "owner", "due_date"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["owner"].queryset = users
