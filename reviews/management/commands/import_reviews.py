"""manage.py import_reviews PATH --store SLUG [--format olist|csv|json]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.importers import FORMATS, ReviewImportError, import_reviews
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Import buyer reviews into a store from Olist's review CSV, opsdesk's review CSV "
        "(external_id,rating,title,body,created_at,order_id,sku) or Shopify-style JSON (Judge.me-like). "
        "All-or-nothing: a bad row is named and nothing is written. Re-running skips reviews already imported. "
        "Bad reviews open cases unless --no-cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV or JSON file.")
        parser.add_argument("--store", required=True, help="Slug of the store the reviews belong to.")
        parser.add_argument("--format", choices=FORMATS, help="Default: guessed from the file name and header.")
        parser.add_argument("--no-cases", action="store_true",
                            help="Do not open cases for bad reviews (e.g. loading old history).")

    def handle(self, *args, path, store, format, no_cases, **options):
        shop = Store.objects.filter(slug=store).first()
        if shop is None:
            raise CommandError(f"No store with slug {store!r}.")
        try:
            result = import_reviews(shop, Path(path), format, open_cases=not no_cases)
        except ReviewImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported.") from exc
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.summary())
        for label, rows in (("unmatched order", result.unmatched_orders),
                            ("unmatched product", result.unmatched_products),
                            ("repeated review id (first row kept)", result.duplicates_in_file)):
            for row, key in rows[:50]:
                self.stdout.write(f"  row {row}: {label} {key}")
            if len(rows) > 50:
                self.stdout.write(f"  … and {len(rows) - 50} more {label} rows")
