from django.core.management.base import BaseCommand, CommandError

from stores.models import ApiKey, Store


class Command(BaseCommand):
    help = (
        "Issue a new ingest-API key for a store and print it once. Only its hash is stored: "
        "keep the printed key, it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("store_slug", help="Slug of the store the key sends events for.")
        parser.add_argument("--name", default="default", help="A label to recognise the key by.")

    def handle(self, store_slug, name, **options):
        store = Store.objects.filter(slug=store_slug).first()
        if store is None:
            raise CommandError(f"No store with slug {store_slug!r}.")
        key, raw = ApiKey.issue(store, name=name)
        self.stdout.write(raw)
        self.stderr.write(f"Issued key {key.key_prefix}… for {store.name}. It is shown only this once.")
