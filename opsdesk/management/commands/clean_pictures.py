"""manage.py clean_pictures: re-encode the pictures stored before uploads were (listing pictures, creatives)."""

from django.core.management.base import BaseCommand

from opsdesk.picture_upkeep import clean_legacy_pictures
from opsdesk.stored_pictures import BATCH_SIZE


class Command(BaseCommand):
    help = (
        "Re-encode every stored listing picture (every version, history included) and ad creative picture that "
        "has no thumbnail beside it, i.e. was stored before uploads were re-encoded: its EXIF (GPS, camera "
        "serial), comments and trailing bytes go, it is turned upright, and a 480 px thumbnail is written. "
        "The clean copy is written first, the rows are pointed at it, and the old file is deleted only after "
        "that is saved. A picture that cannot be read (or is outside the upload limits) is listed and left "
        "as it is. Safe to run again: a clean picture has its thumbnail and is skipped. Runs every night with the "
        "orphan sweep (manage.py sweep_pictures) as the task opsdesk.tasks.upkeep_pictures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="re-encode in memory and report what would change; write and delete nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"rows read at a time (default {BATCH_SIZE})")

    def handle(self, *args, dry_run=False, batch_size=BATCH_SIZE, **options):
        verb = "would clean" if dry_run else "cleaned"
        tallies = clean_legacy_pictures(dry_run=dry_run, batch_size=batch_size)
        for kind, t in tallies:
            line = f"{kind}: {t.cleaned} {verb}, {t.already_clean} already clean, {len(t.unreadable)} unreadable"
            if t.moved_on:
                line += f", {t.moved_on} replaced meanwhile (left to the new picture)"
            self.stdout.write(line + ".")
        unreadable = [entry for _, t in tallies for entry in t.unreadable]
        if unreadable:
            self.stdout.write("Unreadable, left as they are:")
            for entry in unreadable:
                self.stdout.write(f"  {entry}")
        cleaned = sum(t.cleaned for _, t in tallies)
        if not cleaned:
            self.stdout.write("Nothing to clean: nothing was changed.")
            return
        before = sum(t.bytes_before for _, t in tallies)
        after = sum(t.bytes_after for _, t in tallies)
        thumbnails = sum(t.thumbnail_bytes for _, t in tallies)
        which = "to clean" if dry_run else "cleaned"
        self.stdout.write(f"Bytes of the pictures {which}: {before:,} before, {after:,} after "
                          f"(+ {thumbnails:,} in thumbnails).")
        if dry_run:
            self.stdout.write("Dry run: nothing was written or deleted.")
