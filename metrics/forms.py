"""Forms of the anomaly page: status, plan and owner; action items."""

from django import forms

from stores.models import Violation

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


class ViolationForm(forms.ModelForm):
    """One penalty record typed in by hand (the platform's notice)."""

    class Meta:
        model = Violation
        fields = ["external_id", "kind", "occurred_at", "points", "amount", "status", "description"]
        widgets = {"occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
                   "description": forms.Textarea(attrs={"rows": 2})}
        labels = {"external_id": "Platform record id", "occurred_at": "When (store time)"}

    def __init__(self, *args, store=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store

    def clean_external_id(self):
        value = self.cleaned_data["external_id"].strip()
        if Violation.objects.filter(store=self.store, external_id=value).exists():
            raise forms.ValidationError("This store already has a record with that id.")
        return value


class ViolationUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="external_id, kind, occurred_at, points, amount "
                                                        "(+ status, description, product_sku)")
