"""Playbooks: short operating procedures in markdown that templates, anomalies and reviews link to."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from stores.models import Store

__all__ = ["Playbook"]


class Playbook(models.Model):
    """A procedure, addressed by its slug. Playbooks without a store are shared by all stores."""

    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown. Raw HTML is shown as text, not run.")
    anomaly_types = models.CharField(
        max_length=300, blank=True,
        help_text="Comma-separated anomaly types this procedure answers (e.g. gmv_drop, traffic_drop).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaigns:playbook", args=[self.slug])

    @classmethod
    def for_anomaly(cls, anomaly_type: str, store: Store | None = None) -> list[Playbook]:
        """The playbooks that answer `anomaly_type` (shared ones, plus the store's own)."""
        found = cls.objects.filter(models.Q(store=None) | models.Q(store=store), anomaly_types__icontains=anomaly_type)
        return [p for p in found if anomaly_type in p.anomaly_type_list]

    @property
    def anomaly_type_list(self) -> list[str]:
        return [t.strip() for t in self.anomaly_types.split(",") if t.strip()]
