"""Forms for paid promotion: ad plans, creatives, report uploads and launch plans."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from opsdesk.images import CONTENT_TYPES, thumbnail_path
from opsdesk.tenancy import stores_for
from stores import import_jobs
from stores.forms import ImportOptionsForm, date_order_field, decimal_mark_field
from stores.models import ListingVersion

from .activity_forms import out_of_reach
from .ads_creatives import clean_creative_image
from .models import (
    Activity,
    AdCreative,
    AdPlan,
    AdPlanStatus,
    AdPlanStatusChange,
    LaunchPlan,
    StatusSource,
    StoreAdBudget,
)
from .product_choice import ProductField, form_store


class AdPlanForm(forms.ModelForm):
    products = ProductField(multiple=True, required=False, help_text="Products of the plan's store.")

    class Meta:
        model = AdPlan
        fields = ["store", "name", "external_id", "channel", "status", "products", "daily_budget", "total_budget",
                  "bid_strategy", "target_roas", "start_date", "end_date", "hour_from", "hour_to", "notes"]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"}),
                   "end_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"target_roas": "Target ROAS"}
        help_texts = {"daily_budget": "In the store's currency.",
                      "total_budget": "In the store's currency; 0 means no total cap."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.status_before = self.instance.status if self.instance.pk else None  # None: a new plan
        stores = stores_for(user)
        self.fields["store"].queryset = stores
        # A plan never moves to another store: its reports and snapshots belong to this one.
        self.fields["store"].disabled = bool(self.instance.pk)
        if self.instance.pk:  # a plan past its end date is offered as ended, as its pages show it
            self.initial["status"] = self.instance.shown_status
        self.fields["products"].limit_to(stores, form_store(self, stores))

    def clean(self):
        data = super().clean()
        store = data.get("store") or (self.instance.store if self.instance.pk else None)
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        if store and end and data.get("status") == AdPlanStatus.ACTIVE and end < (today := store.today()):
            self.add_error("status", f"A plan that ended on {end:%Y-%m-%d} cannot be active (the store's today is "
                                     f"{today:%Y-%m-%d}): move the end date or mark it ended.")
        hour_from, hour_to = data.get("hour_from"), data.get("hour_to")
        if hour_from is not None and hour_to is not None and not (0 <= hour_from < hour_to <= 24):
            self.add_error("hour_to", "Hours must satisfy 0 ≤ from < to ≤ 24 (store-local).")
        if store and data.get("name") and AdPlan.objects.filter(store=store, name=data["name"]).exclude(
                pk=self.instance.pk).exists():
            self.add_error("name", "This store already has a plan with that name.")
        return data

    def save(self, commit=True):
        if not commit:
            return super().save(commit)
        with transaction.atomic():  # the plan and its status history change together, or neither
            plan = super().save(commit)
            AdPlanStatusChange.record(plan, StatusSource.FORM, by=self.user, previous=self.status_before)
        return plan


class CreativeImageMixin:
    """For a ModelForm of AdCreative (the plan page's and the admin's): a new upload is checked, then replaced by
    its re-encoded copy (no EXIF, GPS or trailing bytes); `store_thumbnail` stores its thumbnail once saved."""

    clean_upload = None

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and hasattr(image, "size") and not getattr(image, "_committed", False):
            self.clean_upload = clean_creative_image(image)
            self.instance.original_filename = (image.name or "")[:255]
            ext = self.clean_upload.extension
            return SimpleUploadedFile(f"creative.{ext}", self.clean_upload.content, CONTENT_TYPES[ext])
        return image

    def store_thumbnail(self, creative: AdCreative) -> None:
        """Store the new picture's thumbnail beside it (thumbnail_path), now that the picture has its name."""
        if self.clean_upload:
            creative.image.storage.save(thumbnail_path(creative.image.name), ContentFile(self.clean_upload.thumbnail))


class AdCreativeForm(CreativeImageMixin, forms.ModelForm):
    class Meta:
        model = AdCreative
        fields = ["name", "headline", "text", "image", "is_active"]

    def __init__(self, *args, plan: AdPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.instance.plan = plan
        self.fields["image"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"

    def clean_name(self):
        name = self.cleaned_data["name"]
        if AdCreative.objects.filter(plan=self.plan, name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This plan already has a creative with that name.")
        return name

    def save(self, commit=True):
        creative = super().save(commit)
        if commit:
            self.store_thumbnail(creative)
        return creative


class AdCreativeAdminForm(CreativeImageMixin, forms.ModelForm):
    class Meta:
        model = AdCreative
        fields = ["plan", "name", "headline", "text", "image", "original_filename", "is_active"]


class AdReportUploadForm(ImportOptionsForm):
    store = forms.ModelChoiceField(queryset=None)
    format = forms.ChoiceField(choices=[("", "Detect from the header"), ("google", "Google Ads campaign report"),
                                        ("through-train", "Through train (Alibaba / Tmall)")], required=False)
    file = forms.FileField(help_text="CSV (UTF-8, UTF-16 or GBK), as exported by the ad platform.")
    dates = date_order_field()
    mark = decimal_mark_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores_for(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if refused := import_jobs.refusal("ad_report", upload):  # before it is stored (AD_REPORT_MAX_BYTES)
            raise forms.ValidationError(refused)
        return upload


def budget_months(store) -> list[date]:
    """The months a store's ad budget may be set for: its local this month and next month."""
    this = store.today().replace(day=1)
    return [this, (this.replace(day=28) + timedelta(days=4)).replace(day=1)]


class StoreAdBudgetForm(forms.Form):
    """A store's ad budget for this or next store-local month, all plans together, in its currency."""

    store = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    month = forms.CharField(max_length=7)
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, label="Budget",
        error_messages={"invalid": "Enter the budget as a number, like 12000.00.",
                        "min_value": "The budget cannot be negative.",
                        "max_decimal_places": "Enter the budget to the cent at most (2 decimal places).",
                        "max_digits": "Too large: at most 999,999,999,999.99.",
                        "max_whole_digits": "Too large: at most 999,999,999,999.99."})

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", False)  # one form per store on the page: no repeated element ids
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores_for(user)
        self.user = user

    def clean(self):
        data = super().clean()
        store, month = data.get("store"), data.get("month")
        if store and month:
            months = budget_months(store)
            chosen = next((m for m in months if f"{m:%Y-%m}" == month), None)
            if chosen is None:
                self.add_error("month", f"Set the budget of {months[0]:%B %Y} or {months[1]:%B %Y} (the months "
                                        f"of {store.name}'s today and the next, {store.timezone} time).")
            data["month"] = chosen
        return data

    def save(self) -> StoreAdBudget:
        data = self.cleaned_data
        budget, _ = StoreAdBudget.objects.update_or_create(
            store=data["store"], month=data["month"], defaults={"amount": data["amount"], "updated_by": self.user})
        return budget


class LaunchPlanForm(forms.ModelForm):
    product = ProductField(help_text="A product of the launch's store.")

    class Meta:
        model = LaunchPlan
        fields = ["store", "name", "product", "launch_date", "status", "listing_versions", "ad_plans", "activities",
                  "notes"]
        widgets = {"launch_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        stores = stores_for(user)
        if self.instance.pk:
            self.fields["store"].disabled = True
            stores = stores.filter(pk=self.instance.store_id)
        self.fields["store"].queryset = stores_for(user)
        self.fields["product"].limit_to(stores, form_store(self, stores))
        # Only the launch's product's listing versions are offered (the store's products have thousands of
        # them): once it is saved with its product. A posted choice is checked against the product in clean().
        versions = ListingVersion.objects.filter(product__store__in=stores).select_related("product__store")
        self.fields["listing_versions"].queryset = (
            versions if self.is_bound else versions.filter(product_id=self.instance.product_id))
        self.fields["listing_versions"].help_text = "The launch's product's; offered once the launch is saved."
        self.fields["ad_plans"].queryset = AdPlan.objects.filter(store__in=stores).select_related("store")
        self.fields["activities"].queryset = Activity.objects.filter(store__in=stores).select_related("store")
        if len(stores) > 1:  # two stores may both sell a "Green tea": say whose each choice is
            for name, store_of in (("listing_versions", lambda o: o.product.store),
                                   ("ad_plans", lambda o: o.store), ("activities", lambda o: o.store)):
                self.fields[name].label_from_instance = lambda o, store_of=store_of: f"{store_of(o).name} · {o}"

    def clean(self):
        data = super().clean()
        store = data.get("store") or (self.instance.store if self.instance.pk else None)
        if not store:
            return data
        # As for activities: a slip such as 9999-12-31 is refused beside the field (its launch week would run
        # past the last date Python knows, a 500 on the launch page); an old launch keeps its day.
        if "launch_date" in data and (not self.instance.pk or "launch_date" in self.changed_data) \
                and (why := out_of_reach(data["launch_date"], store.today())):
            self.add_error("launch_date", why)
        product = data.get("product") or (self.instance.product if self.instance.product_id else None)
        versions = self.fields["listing_versions"]
        versions.queryset = versions.queryset.filter(product=product)  # what the form offers when shown again
        if any(v.product != product for v in data.get("listing_versions") or []):
            self.add_error("listing_versions", "Pick only listing versions of the launch's product.")
        for field in ("ad_plans", "activities"):
            if any(obj.store_id != store.pk for obj in data.get(field) or []):
                self.add_error(field, "Pick only items of the launch's store.")
        if data.get("name") and LaunchPlan.objects.filter(store=store, name=data["name"]).exclude(
                pk=self.instance.pk).exists():
            self.add_error("name", "This store already has a launch plan with that name.")
        return data
