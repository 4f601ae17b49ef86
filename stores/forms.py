from zoneinfo import available_timezones

from django import forms

from .models import StoreMembership


def timezone_choices():
    return [("", "The store's own zone")] + [(zone, zone) for zone in sorted(available_timezones())]


class MembershipSettingsForm(forms.ModelForm):
    email_timezone = forms.TypedChoiceField(choices=timezone_choices, required=False,
                                            label="Morning email time zone",
                                            help_text="The email arrives at 08:00 in this zone.")

    class Meta:
        model = StoreMembership
        fields = ["email_timezone", "morning_email"]
        labels = {"email_timezone": "Morning email time zone", "morning_email": "Send me the morning email"}


class ImportForm(forms.Form):
    """Upload a CSV to import into a store; `kind` chooses the importer."""

    kind = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header row.")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k.replace("_", " ").capitalize()) for k in kinds]
