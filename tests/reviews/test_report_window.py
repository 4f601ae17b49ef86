"""The report's window after a store's history is imported: it says what it holds and leads to the rest."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

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
