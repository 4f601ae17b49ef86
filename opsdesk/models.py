"""Desk-wide records: the background-job heartbeat that shows the worker and beat are alive, and who downloaded
customer data."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from .privacy import mask_typed_phone
from .tenancy import scope, stores_for


class Heartbeat(models.Model):
    """Last time a Celery worker ran the beat-scheduled heartbeat task."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%H:%M:%S}"

    @classmethod
    def beat(cls, name: str = "worker") -> Heartbeat:
        obj, _ = cls.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})
        return obj

# Filters a person types a name or a phone number into (the member list's search box).
SEARCH_FILTERS = {"q"}


class DataExportQuerySet(models.QuerySet):
    def seen_by(self, user, role: str | None = None) -> DataExportQuerySet:
        """The downloads that covered a store `user` may see (with `role`: acts in with that role), each with only
        the user's stores prefetched, so another store's name stays hidden. Superusers see every download."""
        # Ids first: the join through the stores would repeat a download that covered two of the user's stores.
        covering = scope(self.all(), user, via="stores", role=role).values("pk")
        return self.filter(pk__in=covering).prefetch_related(
            Prefetch("stores", queryset=stores_for(user).order_by("name")))


class DataExport(models.Model):
    """One download of a file of customer data (names, phones, orders, review cases): who, when, which file, of
    which stores, with which filters, how many rows, and whether phones in it were whole. Written by `record`
    when the file starts, so a download cut short is still on the record; never changed afterwards."""

    class Kind(models.TextChoices):
        MEMBERS = "members", "members list"
        REDEEMING_ORDERS = "redeeming_orders", "campaign's redeeming orders"
        REVIEW_CASES = "review_cases", "review cases"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="As it was at the download (kept if the user goes).")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    stores = models.ManyToManyField("stores.Store", related_name="data_exports",
                                    help_text="The stores whose rows the file could hold.")
    filters = models.JSONField(default=dict, blank=True,
                               help_text="As the user chose them; a phone number searched for is masked.")
    rows = models.PositiveIntegerField(help_text="Data rows in the file (the header not counted).")
    whole_phones = models.BooleanField(help_text="The file gave whole phone numbers (a manager's members list).")

    objects = DataExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.username} @ {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    @transaction.atomic
    def record(cls, user, kind: str, stores: Iterable, filters: dict, rows: int,
               whole_phones: bool) -> DataExport:
        """The one way an export is recorded: call it before the file is sent. Empty filters are left out and a
        phone number typed into a search is masked (the record is read by more people than the file)."""
        kept = {name: mask_typed_phone(value) if name in SEARCH_FILTERS else value
                for name, value in filters.items() if value not in ("", None)}
        export = cls.objects.create(user=user, username=user.get_username(), kind=kind, filters=kept, rows=rows,
                                    whole_phones=whole_phones)
        cls.stores.through.objects.bulk_create([cls.stores.through(dataexport=export, store=store)
                                                for store in stores])
        return export
