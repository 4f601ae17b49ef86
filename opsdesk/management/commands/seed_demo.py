from django.core.management.base import BaseCommand

from opsdesk.desk import duty_modules
from opsdesk.schedules import setup_schedules
from stores import demo


class Command(BaseCommand):
    help = (
        "Load the demo: two stores (Asia/Shanghai, America/Los_Angeles) with 120 days of history, "
        "a promotion spike and an anomaly yesterday, plus a demo operator and manager. "
        "Does nothing if the demo is already there, unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo stores and load them again.")
        parser.add_argument("--days", type=int, default=120, help="Days of history (default 120).")

    def handle(self, *args, reset, days, **options):
        if demo.demo_exists():
            if not reset:
                self.stdout.write("Demo data already loaded (use --reset to load it again).")
                self._print_logins()
                return
            demo.remove_demo()
        ctx = demo.seed(days=days)
        # Each duty app may add its own demo data on top (members, reviews, campaigns, events ...),
        # and may finish with work that needs everyone's data (the daily rollup, for one).
        modules = list(duty_modules("demo", skip=("stores",)))  # stores' seeded the stores above
        for module in modules:
            module.seed(ctx)
            self.stdout.write(f"seeded {module.__name__.split('.')[0]}")
        for module in modules:
            if hasattr(module, "finish"):
                module.finish(ctx)
        setup_schedules()
        for store in ctx.stores:
            self.stdout.write(f"{store.name}: {store.orders.count()} orders, {store.products.count()} products")
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(self.style.SUCCESS(
            f"Log in as operator 'olivia' or manager 'marco', password '{demo.DEMO_PASSWORD}'."))
