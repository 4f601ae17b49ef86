"""Store members: buyers enrolled from paid orders, with their texting consent."""

from django.db import models

from stores.models import Store


class Member(models.Model):
    """A buyer of a store, keyed by phone in E.164 (+8613800138000)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="members")
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +8613800138000.")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="Blank means the store's zone.")
    sms_consent = models.BooleanField(default=False)
    consent_source = models.CharField(max_length=100, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField()

    class Meta:
        ordering = ["-joined_at"]
        constraints = [models.UniqueConstraint(fields=["store", "phone"], name="member_unique_store_phone")]

    def __str__(self) -> str:
        return self.name or f"member {self.pk}"
