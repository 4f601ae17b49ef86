from functools import cache
from importlib.resources import files

from django import forms
from django.utils.html import format_html

from opsdesk.images import clean_image

from .importers import DAY_FIRST, MONTH_FIRST
from .models import SHIP_WITHIN_HOURS_VALIDATORS, Platform, Role, Store, StoreMembership


@cache
def timezone_choices():
    """The places of the IANA database's zone.tab, one zone each: the database's aliases ("localtime",
    "Factory", "Etc/GMT+5", "US/…") and old names ("Africa/Asmera", "America/Godthab") are no one's answer
    to "where do you read your email?"."""
    table = files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    zones = sorted(line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#"))
    return [("", "The store's own zone"), ("UTC", "UTC")] + [(zone, zone.replace("_", " ")) for zone in zones]


class MembershipSettingsForm(forms.ModelForm):
    email_timezone = forms.TypedChoiceField(choices=timezone_choices, required=False,
                                            label="Morning email time zone",
                                            help_text="The email arrives at 08:00 in this zone.",
                                            error_messages={"invalid_choice": "%(value)s is not an IANA time zone "
                                                            "(e.g. Europe/Berlin)."})

    all_stores = forms.BooleanField(required=False, label="Use this time zone for all my stores")
    # The store's, not the person's: a manager sets it for everyone in the store. Left blank (a page from before
    # the field) it stays as it was.
    ship_within_hours = forms.IntegerField(required=False, label="Ship orders within (hours)",
                                           validators=SHIP_WITHIN_HOURS_VALIDATORS)
    # "All my stores" right under the zone it applies to; the pacing alerts after the morning email's settings.
    field_order = ["morning_email", "email_timezone", "all_stores", "ad_alert_email"]

    class Meta:
        model = StoreMembership
        fields = ["email_timezone", "morning_email", "ad_alert_email"]
        labels = {"email_timezone": "Morning email time zone", "morning_email": "Send me the morning email",
                  "ad_alert_email": "Email me new ad pacing alerts"}

    def __init__(self, *args, several: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = timezone_choices()
        if self.instance.store_id:  # say which zone "the store's own" is
            choices = [("", f"The store's own zone ({self.instance.store.timezone})"), *choices[1:]]
        current = self.instance.email_timezone
        if current and current not in dict(choices):  # an old name chosen before: still valid
            choices = [*choices, (current, current)]
        self.fields["email_timezone"].choices = choices
        # What the email is and where it goes (the model's help text speaks to the admin: "Managers: receive …").
        email = self.instance.user.email if self.instance.user_id else ""
        self.fields["morning_email"].help_text = (
            (f"Sent to {email}: " if email else "Your account has no email address (ask an admin to add one) for ")
            + "yesterday's figures against the day before and last week, anomalies and open violations.")
        self.fields["ad_alert_email"].help_text = (
            (f"Sent to {email}" if email else "Your account has no email address (ask an admin to add one) for the "
             "emails") + ", at most hourly: ad plans that stopped spending or are on pace to overspend the day.")
        if not several:  # one store: nothing else to apply it to
            del self.fields["all_stores"]
        if self.instance.role != Role.MANAGER:  # operators get no morning email: the pacing alerts are theirs
            for name in ("email_timezone", "morning_email", "all_stores"):
                self.fields.pop(name, None)
        if self.instance.role == Role.MANAGER and self.instance.store_id:
            self.fields["ship_within_hours"].initial = self.instance.store.ship_within_hours
            store = self.instance.store
            # Only Taobao and Tmall set a standard; a Shopify or Amazon store sets its own. No possessive of the
            # name: "Pacific Outfitters's" reads wrong.
            standard = ("Taobao's standard is 48." if store.platform in (Platform.TAOBAO, Platform.TMALL)
                        else "Two days (48) is a common promise.")
            # Django does not escape help text: the store's name is escaped here.
            self.fields["ship_within_hours"].help_text = format_html(
                "The shipping promise of {}, for everyone in it: the desk and the morning email warn of paid orders "
                "not shipped this long after payment. {}", store.name, standard)
        else:
            del self.fields["ship_within_hours"]

    def save(self, commit: bool = True) -> StoreMembership:
        """Save; with "all my stores" ticked, the zone is the person's: every membership of theirs gets it. A
        manager's shipping promise goes to the store."""
        membership = super().save(commit)
        hours = self.cleaned_data.get("ship_within_hours")
        if commit and hours and hours != membership.store.ship_within_hours:
            Store.objects.filter(pk=membership.store_id).update(ship_within_hours=hours)
            membership.store.ship_within_hours = hours
        if commit and self.cleaned_data.get("all_stores"):
            StoreMembership.objects.filter(user=membership.user).update(email_timezone=membership.email_timezone)
        return membership


class ListingVersionForm(forms.Form):
    """A new listing version: title, optional main picture (checked with Pillow) and detail page."""

    MAX_PICTURE_BYTES = 5 * 1024 * 1024
    MAX_PICTURE_SIDE = 6000
    FORMATS = ("JPEG", "PNG", "WEBP", "GIF")

    title = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 80}))
    main_picture = forms.FileField(
        required=False, help_text="JPEG, PNG, WebP or GIF, up to 5 MB. Leave empty to keep the current picture.")
    detail_page = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  label="Detail page text")
    note = forms.CharField(max_length=255, required=False, label="What changed and why")

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("The title cannot be empty.")
        return title

    def clean_main_picture(self):
        """The checked picture, re-encoded without its metadata (a CleanImage), or None."""
        upload = self.cleaned_data.get("main_picture")
        if not upload:
            return None
        return clean_image(
            upload, formats=self.FORMATS, max_bytes=self.MAX_PICTURE_BYTES, max_side=self.MAX_PICTURE_SIDE,
            unreadable="This file is not a picture we can read (JPEG, PNG, WebP or GIF).")


def date_order_field() -> forms.ChoiceField:
    """How the file writes slashed dates, when its dates cannot say (every one could be read either way)."""
    return forms.ChoiceField(
        label="Dates are written", required=False,
        choices=[("", "Tell from the file"), (DAY_FIRST, "Day first (03/11/2026 is 3 November)"),
                 (MONTH_FIRST, "Month first (03/11/2026 is 11 March)")],
        help_text="Only needed when every date could be read either way; a date the file writes the other way "
                  "is refused, not misread. Dotted dates (03.11.2026) are always day first.")


def decimal_mark_field() -> forms.ChoiceField:
    """The file's decimal mark, when its numbers cannot say (every one like 1,250 or 1.250)."""
    return forms.ChoiceField(
        label="Decimal mark", required=False,
        choices=[("", "Tell from the file"), (",", "Comma (1.234,50)"), (".", "Point (1,234.50)")],
        help_text="Only needed when every amount could be read either way (1,250 or 1.250); an amount the file "
                  "writes with the other mark is refused, not misread.")


class ImportOptionsForm(forms.Form):
    """An upload form whose choices (date order, decimal mark) go to the importer as the job's options."""

    OPTIONS = ("dates", "mark")

    def options(self) -> dict[str, str]:
        """The choices the operator made (a file left to tell its own has none): the job's options."""
        return {name: self.cleaned_data[name] for name in self.OPTIONS
                if name in self.fields and self.cleaned_data.get(name)}


class ImportForm(ImportOptionsForm):
    """Upload a CSV to import into a store; `kind` chooses the importer. Orders and violations write their
    times in ISO 8601 (or dotted, day first), so only the decimal mark is asked."""

    kind = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header row.")
    mark = decimal_mark_field()

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k.replace("_", " ").capitalize()) for k in kinds]
