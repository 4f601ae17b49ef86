"""The report's window after a store's history is imported: it says what it holds and leads to the rest."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review, ReviewCase
from reviews.reports import build_report
from tests.reviews.conftest import make_case, make_review


@time_machine.travel("2026-06-15 12:00Z", tick=False)
def test_a_report_whose_window_misses_the_imported_history_says_so_and_leads_to_it(client_a, store_a):
    two_years_ago = timezone.now() - timedelta(days=730)
    for day in range(3):
        make_case(store_a, rating=1, body="broken", created_at=two_years_ago + timedelta(days=day))
    make_review(store_a, rating=5, created_at=two_years_ago + timedelta(days=10))

    page = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()

    assert "0 of the store’s 4 reviews were written in this window" in page
    assert "its reviews were written from Sat 15 Jun 2024 to Tue 25 Jun 2024" in page
    all_reviews = reverse("reviews:report", args=[store_a.slug]) + "?start=2024-06-15&amp;end=2024-06-25"
    assert f'<a href="{all_reviews}">Show all of them</a>' in page
    assert "3 open cases, 3 of them for reviews written outside this window" in page
    assert f'href="{reverse("reviews:store", args=[store_a.slug])}"' in page


@time_machine.travel("2026-06-15 12:00Z", tick=False)
def test_the_all_reviews_window_counts_the_history(client_a, store_a):
    two_years_ago = timezone.now() - timedelta(days=730)
    for day in range(3):
        make_case(store_a, rating=1, body="broken", created_at=two_years_ago + timedelta(days=day))
    url = reverse("reviews:report", args=[store_a.slug]) + "?start=2024-06-15&end=2024-06-25"
    page = client_a.get(url).content.decode()
    assert '<div class="value" id="bad-reviews">3</div>' in page
    assert "3 of the store’s 3 reviews were written in this window" not in page  # nothing to point at
    assert "of them for reviews written outside this window" not in page


@time_machine.travel("2026-06-15 12:00Z", tick=False)
def test_the_report_counts_the_stores_reviews_and_open_cases_beyond_its_window(store_a):
    now = timezone.now()
    make_case(store_a, rating=1, created_at=now - timedelta(days=400))
    make_case(store_a, rating=1, created_at=now - timedelta(days=2))
    report = build_report(store_a, now - timedelta(days=84), now)
    assert report.store_wide["reviews"] == 2
    assert report.store_wide["open_cases"] == 2
    assert report.store_wide["open_cases_outside"] == 1


@time_machine.travel("2026-06-15 12:00Z", tick=False)
def test_the_reports_figures_and_window_sentence_are_written_with_thousands_separated(client_a, store_a):
    now = timezone.now()
    _open_cases(store_a, 1001, created_at=now - timedelta(days=2), prefix="IN")
    _open_cases(store_a, 1002, created_at=now - timedelta(days=730), prefix="OLD")
    page = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()
    assert "1,001 of the store’s 2,003 reviews were written in this window" in page
    assert "2,003 open cases, 1,002 of them for reviews written outside this window" in page
    assert '<div class="value" id="bad-reviews">1,001</div>' in page
    assert '<div class="value" id="not-called">1,001 <span class="badge danger">1,001 overdue</span>' in page


def _open_cases(store, n, *, created_at, prefix):
    """`n` open cases of 1★ reviews written at `created_at`, overdue for their first call (bulk: an import)."""
    reviews = Review.objects.bulk_create(Review(store=store, external_id=f"{prefix}{i}", rating=1, bad=True,
                                                created_at=created_at) for i in range(n))
    ReviewCase.objects.bulk_create(ReviewCase(store=store, review=r, reason="rating 1", opened_at=timezone.now(),
                                              first_contact_due_at=timezone.now() - timedelta(hours=1))
                                   for r in reviews)
