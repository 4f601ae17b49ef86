"""Forms of the daily pages: an anomaly's status, plan and owner; action items; violations; peer figures."""

from django import forms

from opsdesk.tenancy import assignable_users
from stores.forms import date_order_field, decimal_mark_field
from stores.importers import too_large
from stores.models import Violation
from stores.violations_import import ViolationRecordForm, too_big

from .models import ActionItem, Anomaly, AnomalyStatus
from .peers import MAX_BYTES as PEER_MAX_BYTES


class AnomalyForm(forms.ModelForm):
    class Meta:
        model = Anomaly
        fields = ["status", "plan", "owner"]
        widgets = {"plan": forms.Textarea(attrs={"rows": 4, "placeholder": "What we will do about it, by when."})}
        labels = {"plan": "Response plan"}
        help_texts = {"plan": ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The current owner stays a valid choice after their login was deactivated, so the plan can
        # still be saved; the status or plan is not blocked on reassigning first.
        self.fields["owner"].queryset = assignable_users([self.instance.store_id], keep=self.instance.owner_id)

    def clean(self):
        data = super().clean()
        if data.get("status") in (AnomalyStatus.PLAN, AnomalyStatus.RESOLVED) and not (data.get("plan") or "").strip():
            self.add_error("plan", "Write the response plan before moving to “plan” or “resolved”.")
        return data


class ActionItemForm(forms.ModelForm):
    """A new action item. Its fields belong to the page's plan form (`form_id`), so adding an item
    also keeps a plan typed but not yet saved; `today` is the store's, the earliest due date."""

    use_required_attribute = False  # an empty item must not stop the browser from saving the plan

    class Meta:
        model = ActionItem
        fields = ["text", "owner", "due_date"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"text": "New action item"}
        error_messages = {"text": {"required": "Say what is to be done."}}

    def __init__(self, *args, users=None, today=None, form_id=None, **kwargs):
        kwargs.setdefault("prefix", "item")
        super().__init__(*args, **kwargs)
        self.today = today
        if users is not None:
            self.fields["owner"].queryset = users
        # No `min` on the date: the browser would block the plan's own Save over a stray date in
        # this box, with its bubble on another card; clean_due_date says it in words instead.
        if form_id:
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id

    def clean_due_date(self):
        due = self.cleaned_data.get("due_date")
        if due and self.today and due < self.today:
            raise forms.ValidationError(f"The due date is in the past (today is {self.today:%Y-%m-%d}).")
        return due


class ViolationForm(ViolationRecordForm):
    """One penalty record typed in by hand (the platform's notice): the CSV import's checks, plus a unique id."""

    # The browser's date-time picker sends ISO 8601 (2026-11-05T14:30), the only form the import reads.
    occurred_at = forms.CharField(label="When (store time)",
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    class Meta(ViolationRecordForm.Meta):
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"external_id": "Platform record id"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = self.store.currency
        self.fields["amount"].label = f"Amount ({currency})"
        self.fields["amount"].help_text = f"Money deducted, in {currency} (the store's currency); 0 when none."

    def clean_external_id(self):
        value = self.cleaned_data["external_id"].strip()
        if Violation.objects.filter(store=self.store, external_id=value).exists():
            raise forms.ValidationError("This store already has a record with that id.")
        return value


class ViolationUploadForm(forms.Form):
    # An empty file goes on to the import, which says so in the words of its other file errors.
    file = forms.FileField(label="CSV file", allow_empty_file=True,
                           help_text="external_id, kind, occurred_at, points, amount (+ status, description, "
                                     "product_sku)")
    mark = decimal_mark_field()

    def clean_file(self):
        # Refused by its size before a byte is read; the import counts the rows of a file that passes.
        file = self.cleaned_data["file"]
        refusal = too_big(file.size)
        if refusal:
            raise forms.ValidationError(refusal)
        return file


class PeerBenchmarkForm(forms.Form):
    """The peers' figures of some days, pasted from the platform's page or uploaded as a CSV (one of the two)."""

    text = forms.CharField(
        label="Paste the rows", required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "date,metric,level,value\n"
                                                               "2026-11-26,支付转化率,同行同层平均,3.2%"}),
        help_text="Header row date, metric, level, value; comma- or tab-separated (a paste from a spreadsheet).")
    file = forms.FileField(label="Or upload a CSV file", required=False, allow_empty_file=True)
    source = forms.CharField(label="Source", max_length=120, required=False, initial="Business Advisor",
                             help_text="Where the figures come from, kept with them.")
    mark = decimal_mark_field()
    dates = date_order_field()

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file and (refusal := too_large(file.size, PEER_MAX_BYTES)):
            raise forms.ValidationError(refusal)
        return file

    def clean(self):
        data = super().clean()
        has_text, has_file = bool((data.get("text") or "").strip()), bool(data.get("file"))
        if has_text == has_file and not self.errors:
            raise forms.ValidationError("Paste the rows or choose a file." if not has_text else
                                        "Paste the rows or choose a file, not both.")
        return data

    def csv_text(self) -> str:
        """The CSV text pasted or uploaded; UnicodeDecodeError for a file that is no UTF-8 text."""
        if self.cleaned_data.get("file"):
            return self.cleaned_data["file"].read().decode("utf-8-sig")
        return self.cleaned_data["text"]
