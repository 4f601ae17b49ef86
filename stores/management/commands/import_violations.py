"""manage.py import_violations PATH --store SLUG: load penalty records from a CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stores.models import Store
from stores.violations_import import OPTIONAL, REQUIRED, ViolationImportError, import_violations


class Command(BaseCommand):
    help = (
        "Import platform penalty/violation records from a comma-separated CSV file into one store. "
        f"Columns: {', '.join(REQUIRED)} (required), {', '.join(OPTIONAL)} (optional). occurred_at is ISO 8601 "
        "(no offset = the store's zone). All or nothing: every bad column of every row (too long, too many "
        "digits, negative, not a date) is reported as 'row N, column: reason' and nothing is saved. "
        "Re-importing updates records with the same external_id. Days already rolled up are rolled up again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8).")
        parser.add_argument("--store", required=True, help="Store slug.")

    def handle(self, *args, path, store, **options):
        target = Store.objects.filter(slug=store).first()
        if target is None:
            raise CommandError(f"No store with slug {store!r}.")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = import_violations(target, file.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}") from exc
        except ViolationImportError as exc:
            raise CommandError("Nothing imported:\n" + "\n".join(str(e) for e in exc.errors)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Imported into {target.slug}: {result.created} new, {result.updated} updated violation records."))
        if result.refreshed:
            self.stdout.write("Rolled up again: " + ", ".join(day.isoformat() for day in result.refreshed))
