"""The reviews app's data migrations, run on the real database with Django's migration executor."""

from datetime import UTC, datetime

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = ("reviews", "0003_first_contact_hours_at_most_a_year")
BACKFILL = ("reviews", "0004_review_bad")
WHEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def at_0003(transactional_db):
    """The schema as it was before reviews stored their verdict; put back to the latest migrations afterwards."""
    apps = migrate_to(BEFORE)
    yield apps
    migrate_to_latest()


def test_existing_reviews_get_the_verdict_of_their_stores_rules(at_0003):
    Store, Review = at_0003.get_model("stores", "Store"), at_0003.get_model("reviews", "Review")
    ReviewPolicy = at_0003.get_model("reviews", "ReviewPolicy")
    stores = [Store.objects.create(name=slug, slug=slug, country="BR", timezone="America/Sao_Paulo", currency="BRL")
              for slug in ("default-words", "own-words")]
    ReviewPolicy.objects.create(store=stores[1], negative_words="meh\n")
    for store in stores:
        for n, (rating, title, body) in enumerate([(1, "", ""), (3, "", "veio quebrada"), (3, "Meh", ""),
                                                   (3, "", "não demorou"), (5, "", "ruim")]):
            Review.objects.create(store=store, external_id=f"R{n}", rating=rating, title=title, body=body,
                                  created_at=WHEN)

    migrate_to(BACKFILL)

    from reviews.models import Review as Now

    verdicts = {(r.store.slug, r.external_id): r.bad for r in Now.objects.select_related("store")}
    assert verdicts == {("default-words", "R0"): True, ("default-words", "R1"): True,
                        ("default-words", "R2"): False, ("default-words", "R3"): False,
                        ("default-words", "R4"): False,
                        ("own-words", "R0"): True, ("own-words", "R1"): False, ("own-words", "R2"): True,
                        ("own-words", "R3"): False, ("own-words", "R4"): False}
