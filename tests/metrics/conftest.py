from datetime import date, datetime
from decimal import Decimal

import pytest


@pytest.fixture
def emails_to_outbox(settings):
    """The morning email's tests: mail kept in django.core.mail.outbox, links on the site's public address."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://desk.example.com"


@pytest.fixture
def teas(store_a):
    """Three products of store A, for the product breakdown (see test_anomaly.seed_breakdowns)."""
    from tests.factories import ProductFactory

    return [ProductFactory(store=store_a, title=t) for t in ("Jasmine tea 250 g", "Green tea 100 g", "Oolong 50 g")]


def holiday_and_sale_before_friday_8_may(store):
    """GMV on Fri 8 May, the day before (a sale ran) and Fri 1 May (Labor Day in China, store A's country)."""
    from campaigns.models import Activity
    from metrics.rollup import rollup_day
    from tests.factories import OrderFactory

    for day, total in [(8, "60.00"), (7, "100.00"), (1, "100.00")]:
        ts = datetime(2026, 5, day, 12, tzinfo=store.zone)
        OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store, ts.date())
    Activity.objects.create(store=store, name="Spring sale", kind="store_promotion", status="done",
                            start_date=date(2026, 5, 6), end_date=date(2026, 5, 7))
    # On the day reported too: like against like, nothing to say.
    Activity.objects.create(store=store, name="Member week", kind="store_promotion", status="running",
                            start_date=date(2026, 5, 1), end_date=date(2026, 5, 8))
