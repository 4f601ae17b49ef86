"""The demo's reviews tell the story the docs promise."""

from django.db.models import Count

from reviews import demo
from reviews.models import CaseStatus, Review, ReviewCase
from reviews.services import overdue_cases
from stores import demo as stores_demo
from stores.models import ListingVersion


def test_demo_reviews_cases_and_listing_fix(db):
    ctx = stores_demo.seed(days=45)
    demo.seed(ctx)
    first = ctx.stores[0]
    for store in ctx.stores:
        reviews = Review.objects.filter(store=store)
        bad = reviews.filter(case__isnull=False).count()
        assert reviews.count() > 150
        assert 0.04 < bad / reviews.count() < 0.16
        assert overdue_cases(store).count() == 1
        statuses = set(ReviewCase.objects.filter(store=store).values_list("status", flat=True))
        assert {CaseStatus.NEW, CaseStatus.CONTACTED, CaseStatus.RESOLVED, CaseStatus.CLOSED} <= statuses
    assert ReviewCase.objects.filter(store=first, listing_version__isnull=False).count() == 1
    fix = ReviewCase.objects.get(store=first, listing_version__isnull=False).listing_version
    baseline, = ListingVersion.objects.filter(product__store=first).exclude(pk=fix.pk)  # the listing before it
    assert baseline.product == fix.product and baseline.started_at < fix.started_at
    assert fix.product.title == fix.title
    text = " ".join(t + " " + b for t, b in Review.objects.values_list("title", "body")).lower()
    assert "茶" in text and "hike" in text and "muito bom" in text  # Chinese, English, Portuguese
    assert Review.objects.values("case__status").annotate(n=Count("id")).count() >= 5
