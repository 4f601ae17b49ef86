"""Re-check a stored lottery draw against today's data."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.activity_lottery import verify_draw
from campaigns.models import LotteryDraw


class Command(BaseCommand):
    help = (
        "Audit a lottery: rebuild the entrant list of the activity's stored window, compare its SHA-256 with "
        "the stored one, and redraw with the stored seed to check the winners. Exits with an error on a mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("activity_id", type=int, help="The id of the lottery activity (from its page URL).")

    def handle(self, *args, activity_id, **options):
        draw = LotteryDraw.objects.select_related("activity__store").filter(activity_id=activity_id).first()
        if draw is None:
            raise CommandError(f"Activity {activity_id} has no lottery draw.")
        result = verify_draw(draw)
        self.stdout.write(f"{draw.activity} ({draw.activity.store}): drawn {draw.drawn_at:%Y-%m-%d %H:%M} UTC, "
                          f"seed {draw.seed}, {draw.entrant_count} entrants then, {result['entrant_count']} now.")
        if not result["same_entrants"]:
            raise CommandError("The entrant list changed since the draw (orders or members were edited).")
        if not result["same_winners"]:
            raise CommandError("Redrawing with the stored seed gives different winners.")
        self.stdout.write(self.style.SUCCESS("Entrant list and winners match the stored draw."))
