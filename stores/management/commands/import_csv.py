import inspect
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stores.importers import ImportRejected, importers
from stores.models import Store

MARKS = {"comma": ",", "point": "."}


class Command(BaseCommand):
    help = (
        "Import a CSV file into a store, all or nothing: if any row is bad, every bad row is listed "
        "(row 1 is the header) and nothing is stored. Importing the same file again adds nothing. "
        "KIND 'orders' reads opsdesk's order columns or Shopify's order export (see docs/ingest.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What the file holds: " + ", ".join(sorted(importers())) + ".")
        parser.add_argument("path", help="Path of the CSV file (UTF-8).")
        parser.add_argument("--store", required=True, help="Slug of the store to import into.")
        parser.add_argument("--decimal-mark", choices=sorted(MARKS), help=(
            "The file's decimal mark, for a file whose amounts could all be read either way (1,250 or 1.250); "
            "default: told from the file (orders, violations and ad reports)."))

    def handle(self, kind, path, store, decimal_mark=None, **options):
        available = importers()
        if kind not in available:
            raise CommandError(f"Unknown kind {kind!r}; choose one of: {', '.join(sorted(available))}.")
        target = Store.objects.filter(slug=store).first()
        if target is None:
            raise CommandError(f"No store with slug {store!r}.")
        if decimal_mark and "mark" not in inspect.signature(available[kind]).parameters:
            raise CommandError(f"--decimal-mark is not for {kind!r} files; import them without it.")
        try:
            # A Path: the importers read a str as the CSV's text itself.
            result = available[kind](target, Path(path), **({"mark": MARKS[decimal_mark]} if decimal_mark else {}))
        except FileNotFoundError:
            raise CommandError(f"No file at {path}.") from None
        except ImportRejected as exc:
            for row, message in exc.errors:
                self.stderr.write(f"row {row}: {message}")
            raise CommandError(f"{len(exc.errors)} problem(s) in {path}; nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(result.summary()))
