"""manage.py open_review_cases --store SLUG [--since YYYY-MM-DD]"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reviews.services import open_missing_cases, opened_sentence
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Open a case for every bad review of a store that has none: reviews imported with --no-cases (importing "
        "the file again opens nothing, they are already imported) or before the store's rules named their word. "
        "Safe to run twice: a review gets one case. Each case's first call is due after the store's SLA from now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="Slug of the store.")
        parser.add_argument("--since", help="Only reviews written from this store-local day on (YYYY-MM-DD).")

    def handle(self, *args, store, since, **options):
        shop = Store.objects.filter(slug=store).first()
        if shop is None:
            raise CommandError(f"No store with slug {store!r}.")
        try:
            day = date.fromisoformat(since) if since else None
            opened = open_missing_cases(shop, day)
        except (ValueError, OverflowError) as exc:
            raise CommandError(f"--since {since!r} is not a day (YYYY-MM-DD); no case was opened.") from exc
        self.stdout.write(opened_sentence(opened, day))
