"""manage.py recompute_bad_reviews [--store SLUG]"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reviews.services import refresh_verdicts
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Judge the reviews of one store (or every store) again under its rules today and store the verdicts that "
        "the store page and the report count. Changing a store's words does it by itself; run this after the "
        "project's settings.REVIEWS_NEGATIVE_WORDS or REVIEWS_HARMLESS_PHRASES change. Safe to run any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Slug of the store (default: every store).")

    def handle(self, *args, store, **options):
        stores = Store.objects.order_by("pk")
        if store:
            stores = stores.filter(slug=store)
            if not stores.exists():
                raise CommandError(f"No store with slug {store!r}.")
        for shop in stores:
            with transaction.atomic():
                # The lock an import and a change of rules take: no verdict is written meanwhile.
                shop = Store.objects.select_for_update().get(pk=shop.pk)
                now_bad, no_longer = refresh_verdicts(shop)
            changed = now_bad + no_longer
            self.stdout.write(f"{shop.name}: {changed} verdict{'s' if changed != 1 else ''} changed "
                              f"({now_bad} now bad, {no_longer} no longer bad).")
