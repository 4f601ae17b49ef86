from django.core.management.base import BaseCommand

from opsdesk.schedules import setup_schedules


class Command(BaseCommand):
    help = "Create or update the periodic tasks (django-celery-beat). Safe to run any number of times."

    def handle(self, *args, **options):
        for name, created in setup_schedules():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
