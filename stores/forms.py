from django import forms

from .models import StoreMembership


class MembershipSettingsForm(forms.ModelForm):
    class Meta:
        model = StoreMembership
        fields = ["email_timezone", "morning_email"]
        labels = {"email_timezone": "Morning email time zone", "morning_email": "Send me the morning email"}
