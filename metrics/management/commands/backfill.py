"""manage.py backfill --from DATE --to DATE [--store SLUG]: rebuild the daily tables for a range."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from metrics.rollup import backfill
from stores.models import Store


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (use YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Rebuild the daily tables (rollups) for every store-local day from --from to --to inclusive, "
        "then detect anomalies on them. Re-running a day replaces it exactly. "
        "Example: manage.py backfill --from 2026-01-01 --to 2026-03-31 --store jade-tea"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD (store-local).")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD (inclusive).")
        parser.add_argument("--store", help="Only this store (slug); default every store.")
        parser.add_argument("--no-detect", action="store_true", help="Only roll up; skip anomaly detection.")

    def handle(self, *args, start, end, store, no_detect, **options):
        first, last = _day(start), _day(end)
        if last < first:
            raise CommandError(f"--to {last} is before --from {first}.")
        stores = Store.objects.all()
        if store:
            stores = stores.filter(slug=store)
            if not stores.exists():
                raise CommandError(f"No store with slug {store!r}.")
        try:
            n = backfill(first, last, stores=list(stores), detect=not no_detect,
                         progress=lambda s, count: self.stdout.write(f"{s.slug}: done"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Rolled up {n} store-days from {first} to {last}."))
