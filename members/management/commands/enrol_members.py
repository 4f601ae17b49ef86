from django.core.management.base import BaseCommand, CommandError

from members.services import enrol_orders, refresh_segments
from stores.models import Order, Store


class Command(BaseCommand):
    help = (
        "Enrol the buyers of every paid order as store members (phone normalised to E.164, consent from "
        "the order), then recount tiers and RFM segments. Safe to run again: orders already enrolled are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (slug); default every store.")

    def handle(self, *args, store=None, **options):
        stores = Store.objects.all()
        if store:
            stores = stores.filter(slug=store)
            if not stores.exists():
                raise CommandError(f"No store with slug {store!r}.")
        for s in stores:
            result = enrol_orders(Order.objects.filter(store=s))
            segments = refresh_segments(s)
            self.stdout.write(
                f"{s.slug}: {result.members_created} new members, {result.orders_linked} orders linked, "
                f"{result.invalid_phones} orders without a valid phone; segments "
                + (", ".join(f"{k} {v}" for k, v in sorted(segments.items())) or "none"))
