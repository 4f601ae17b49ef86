"""Forms of the activity and plan pages; store, product and owner choices are limited to the user's stores."""

from __future__ import annotations

from datetime import date

from django import forms
from django.forms.utils import pretty_name
from django.utils import timezone

from opsdesk.tenancy import assignable_users, stores_for

from .activity_kinds import clean_details
from .activity_templates import name_taken
from .models import (
    Activity,
    ActivityReview,
    ActivitySeries,
    ActivityTemplate,
    ChecklistItem,
    EntrantSource,
    Plan,
    PlanGoal,
    PlanTask,
    Playbook,
    TemplateStep,
)
from .product_choice import ProductField, form_store


class DateInput(forms.DateInput):
    input_type = "date"


def _not_negative(value, message: str):
    """The amount, or the model constraint's plain message beside the field (the database refuses it anyway)."""
    if value is not None and value < 0:
        raise forms.ValidationError(message)
    return value


REACH_YEARS = 10  # how far from today an activity's days, deadline or lottery window may lie


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def out_of_reach(day: date | None, today: date) -> str | None:
    """Why `day` is refused, when it lies more than REACH_YEARS years from `today`: a slip (9999 for 2026,
    a year 1) that no plan means, and that lead times, baselines and calendars could not count from."""
    if day is None:
        return None
    earliest, latest = _years_from(today, -REACH_YEARS), _years_from(today, REACH_YEARS)
    if earliest <= day <= latest:
        return None
    return (f"{day.isoformat()} is more than {REACH_YEARS} years from today; "
            f"pick a day from {earliest.isoformat()} to {latest.isoformat()}.")


class ActivityForm(forms.ModelForm):
    products = ProductField(multiple=True, required=False, help_text="Products of the chosen store.")

    class Meta:
        model = Activity
        fields = ["store", "name", "start_date", "end_date", "signup_deadline", "products", "budget", "goal_gmv",
                  "goal_orders", "goal_new_members", "owner", "notes"]
        widgets = {"start_date": DateInput, "end_date": DateInput, "signup_deadline": DateInput,
                   "notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"goal_gmv": "Goal: GMV", "goal_orders": "Goal: paid orders", "goal_new_members": "Goal: new members",
                  "signup_deadline": "Sign-up deadline"}
        help_texts = {"goal_gmv": "Over the activity's days, in the store's currency.", "goal_orders": "",
                      "goal_new_members": ""}

    def __init__(self, *args, user, kind: str, details: forms.Form, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.kind = kind
        self.details = details
        stores = stores_for(user)
        self.fields["store"].queryset = stores
        self.fields["products"].limit_to(stores, form_store(self, stores))
        self.fields["owner"].queryset = assignable_users(stores, keep=self.instance.owner_id)
        if kind != "platform_event":
            del self.fields["signup_deadline"]
        if self.instance.pk:
            self.fields["store"].disabled = True
        else:
            self.fields["owner"].initial = user.pk

    def clean_budget(self):
        return _not_negative(self.cleaned_data.get("budget"), "The budget cannot be negative.")

    def clean_goal_gmv(self):
        return _not_negative(self.cleaned_data.get("goal_gmv"), "Goal GMV cannot be negative.")

    def clean(self):
        data = super().clean()
        store = data.get("store")
        today = store.today() if store else timezone.localdate()
        for name in ("start_date", "end_date", "signup_deadline"):
            # An old activity keeps its days; a new or moved day must be one somebody can plan for.
            if name in data and (not self.instance.pk or name in self.changed_data) \
                    and (why := out_of_reach(data[name], today)):
                self.add_error(name, why)
        if store:
            owner = data.get("owner")
            if owner and not owner.is_superuser and not owner.memberships.filter(store=store).exists():
                self.add_error("owner", f"{owner} is not a member of {store.name}.")
            deadline = data.get("signup_deadline")
            # An old activity keeps its passed deadline; a new or moved one cannot be signed up for any more.
            if deadline and "signup_deadline" in self.changed_data and deadline < store.today():
                self.add_error("signup_deadline", f"The sign-up deadline {deadline:%Y-%m-%d} has already passed "
                                                  f"(today is {store.today():%Y-%m-%d} in {store.name}).")
        return data

    def _post_clean(self):
        # The kind's details form is validated first; the model's clean() then checks them again.
        if not self.details.is_valid():
            self.add_error(None, "Some details of this kind are missing or wrong; see below.")
            return
        self.instance.details = clean_details(self.details)
        super()._post_clean()


class RepeatForm(forms.Form):
    """The New activity form's repeat rule: once, or weekly / monthly until a day (campaigns.activity_series)."""

    repeat = forms.ChoiceField(choices=[("", "Does not repeat"), *ActivitySeries.Repeat.choices], required=False)
    until = forms.DateField(required=False, widget=DateInput, label="Repeat until",
                            help_text="The last day an occurrence may start on; at most 52 activities.")

    def clean(self):
        data = super().clean()
        if data.get("repeat") and not data.get("until"):
            self.add_error("until", "Say the last day an occurrence may start on.")
        return data


class SeriesRuleForm(RepeatForm):
    """A series' rule changed from one of its occurrences: weekly or monthly, until a day, perhaps from a new
    first day (its weekday or day of the month becomes the series')."""

    repeat = forms.ChoiceField(choices=ActivitySeries.Repeat.choices)
    until = forms.DateField(widget=DateInput, label="Repeat until",
                            help_text="The last day an occurrence may start on; at most 52 activities.")
    first_day = forms.DateField(
        required=False, widget=DateInput, label="New first day",
        help_text="Optional, a day after today: its weekday (weekly) or day of the month (monthly) becomes the "
                  "series'. The occurrences still to come move to the new days in order, as little as they can, "
                  "checklists with them.")


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["title", "link", "resource", "data_to_watch", "due_date"]
        # Laid out in one row without <label>s: the placeholders, and aria-labels where there is none, name them.
        widgets = {"due_date": DateInput(attrs={"aria-label": "Due date"}),
                   "title": forms.TextInput(attrs={"placeholder": "New step"}),
                   "link": forms.TextInput(attrs={"placeholder": "Link"}),
                   "resource": forms.TextInput(attrs={"placeholder": "Resource"}),
                   "data_to_watch": forms.TextInput(attrs={"placeholder": "Data to watch"})}


class SaveAsTemplateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="The name to pick it by when creating an activity.")


# A template's days and lead times stay within a year: further, an activity made from it would fall past the
# days a plan may name (out_of_reach), or its dates overflow.
TEMPLATE_DAYS = 366


class TemplateForm(forms.ModelForm):
    """A store template's name, description and duration (its steps are the TemplateStepFormSet beside it)."""

    duration_days = forms.IntegerField(label="Duration (days)", min_value=1, max_value=TEMPLATE_DAYS)

    class Meta:
        model = ActivityTemplate
        fields = ["name", "description", "duration_days"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if name_taken(self.instance.store, name, keep=self.instance):
            raise forms.ValidationError(f"{self.instance.store.name} already has a template called “{name}”.")
        return name


class TemplateStepForm(forms.ModelForm):
    days_before_start = forms.IntegerField(
        initial=0, min_value=-TEMPLATE_DAYS, max_value=TEMPLATE_DAYS,
        help_text="Negative: after the first day (a review 4 days after is -4).")

    class Meta:
        model = TemplateStep
        fields = ["title", "link", "resource", "data_to_watch", "days_before_start", "due_on_signup_deadline"]
        labels = {"due_on_signup_deadline": "On the sign-up deadline"}


class BaseTemplateStepFormSet(forms.BaseFormSet):
    # The editor's column headings; each input is named by its column and row for a screen reader (a table cell
    # holds no <label>).
    COLUMNS = {"title": "Step", "ORDER": "Order", "DELETE": "Remove"}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new step" if index is None else f"row {index + 1}"
        for name, field in form.fields.items():
            field.label = self.COLUMNS.get(name, field.label or pretty_name(name))
            field.widget.attrs["aria-label"] = f"{field.label}, {row}"


# Rows in their order (ORDER), ticked ones removed (DELETE), two empty rows to add steps.
TemplateStepFormSet = forms.formset_factory(TemplateStepForm, formset=BaseTemplateStepFormSet, extra=2,
                                            can_order=True, can_delete=True)


def step_rows(formset) -> list[dict]:
    """The valid formset's steps, in their new order, without the removed and the empty rows."""
    return [{k: v for k, v in form.cleaned_data.items() if k not in ("ORDER", "DELETE")}
            for form in formset.ordered_forms]


class LotteryForm(forms.Form):
    source = forms.ChoiceField(choices=EntrantSource.choices)
    window_start = forms.DateField(widget=DateInput)
    window_end = forms.DateField(widget=DateInput)
    winner_count = forms.IntegerField(min_value=1, max_value=10000)

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self):
        data = super().clean()
        for name in ("window_start", "window_end"):
            if name in data and (why := out_of_reach(data[name], self.today)):
                self.add_error(name, why)
        if data.get("window_start") and data.get("window_end") and data["window_end"] < data["window_start"]:
            self.add_error("window_end", "The window ends before it starts.")
        return data


class ReviewForm(forms.ModelForm):
    class Meta:
        model = ActivityReview
        fields = ["summary", "root_cause", "playbook"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = visible_playbooks(store)


def visible_playbooks(store):
    from django.db.models import Q

    return Playbook.objects.filter(Q(store=None) | Q(store=store))


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["store", "level", "parent", "period_start", "title", "notes"]
        widgets = {"period_start": DateInput, "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"period_start": "Any day in the period: the plan starts on 1 January, the 1st or the Monday."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        stores = stores_for(user)
        self.fields["store"].queryset = stores
        self.fields["parent"].queryset = Plan.objects.filter(store__in=stores).exclude(level="week")
        self.fields["parent"].required = False

    def clean(self):
        data = super().clean()
        store = data.get("store")
        # As for activities: a slip such as 9999-12-31 is refused beside the field (its week would end
        # past the last date Python knows, a 500 when the period was snapped).
        if data.get("period_start") and (why := out_of_reach(data["period_start"],
                                                              store.today() if store else timezone.localdate())):
            self.add_error("period_start", why)
        return data


class GoalForm(forms.ModelForm):
    class Meta:
        model = PlanGoal
        fields = ["metric", "target"]
        widgets = {"metric": forms.Select(attrs={"aria-label": "Goal metric"}),
                   "target": forms.NumberInput(attrs={"placeholder": "Target", "step": "0.01"})}


class TaskForm(forms.ModelForm):
    class Meta:
        model = PlanTask
        fields = ["title", "owner", "due"]
        widgets = {"due": DateInput(attrs={"aria-label": "Due date"}),
                   "owner": forms.Select(attrs={"aria-label": "Owner"}),
                   "title": forms.TextInput(attrs={"placeholder": "New task"})}

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_users([store], keep=self.instance.owner_id)
        self.fields["owner"].empty_label = "Owner…"
