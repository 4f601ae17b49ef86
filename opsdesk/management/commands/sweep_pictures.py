"""manage.py sweep_pictures: delete the picture files no row points at (listing pictures, creatives, thumbnails)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from opsdesk.stored_pictures import BATCH_SIZE, ORPHAN_GRACE, sweep_orphan_pictures


class Command(BaseCommand):
    help = (
        "Delete the files under the listing picture and ad creative folders that no listing version (of any "
        "version, history included) or creative points at, neither the file nor, for a thumbnail, its picture: "
        "pictures written by a request whose transaction then failed. Only files last modified more than the "
        "grace period ago are taken (an upload whose transaction is still open is younger), and each batch's "
        "rows are looked up right before it is deleted. Safe to run again. Runs every night after the legacy "
        "clean (manage.py clean_pictures) as the task opsdesk.tasks.upkeep_pictures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="count the orphan files and their bytes; delete nothing")
        parser.add_argument("--grace-hours", type=float, default=ORPHAN_GRACE / timedelta(hours=1),
                            help="leave files younger than this many hours alone (default %(default)g)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"files looked up and deleted at a time (default {BATCH_SIZE})")

    def handle(self, *args, dry_run=False, grace_hours=24.0, batch_size=BATCH_SIZE, **options):
        if grace_hours < 1:
            raise CommandError("--grace-hours must be at least 1: a younger file may be an upload still saving.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        tallies = sweep_orphan_pictures(grace=timedelta(hours=grace_hours), dry_run=dry_run, batch_size=batch_size)
        for tally in tallies:
            self.stdout.write(tally.line(dry_run=dry_run) + ".")
        orphans, size = sum(t.orphans for t in tallies), sum(t.orphan_bytes for t in tallies)
        verb = "to delete" if dry_run else "deleted"
        self.stdout.write(f"In all: {orphans} orphan files {verb}, {size:,} bytes.")
        if dry_run:
            self.stdout.write("Dry run: nothing was deleted.")
