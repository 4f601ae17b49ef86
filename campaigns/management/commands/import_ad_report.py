"""manage.py import_ad_report PATH --store SLUG [--format google|through-train] [--dates day-first|month-first]
[--decimal-mark comma|point]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.ads_importers import FORMATS, AdReportError, import_ad_report
from stores.management.commands.import_csv import MARKS
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Import a daily ad performance report (CSV) into a store's ad plans, all or nothing. "
        "Google Ads campaign reports (title lines and Total rows are skipped) and through-train "
        "(Alibaba / Tmall) reports with Chinese or English headers are understood. Plans are matched "
        "by name within the store; re-importing a day replaces its values."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="CSV file as exported by the ad platform.")
        parser.add_argument("--store", required=True, help="Slug of the store the plans belong to.")
        parser.add_argument("--format", choices=FORMATS, help="Report format (default: detected from the header).")
        parser.add_argument("--dates", choices=["day-first", "month-first"], help=(
            "How the report writes slashed dates, for one whose dates could all be read either way (default: "
            "told from the report)."))
        parser.add_argument("--decimal-mark", choices=sorted(MARKS), help=(
            "The report's decimal mark, for one whose numbers could all be read either way (default: told from "
            "the report)."))

    def handle(self, path: Path, store: str, format: str | None, dates: str | None = None,
               decimal_mark: str | None = None, **options):
        shop = Store.objects.filter(slug=store).first()
        if shop is None:
            raise CommandError(f"No store with slug {store!r}.")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = import_ad_report(shop, path.read_bytes(), format, dates and dates.replace("-", " "),
                                      MARKS.get(decimal_mark))
        except AdReportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} problem(s); nothing was imported.") from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {result}"))
