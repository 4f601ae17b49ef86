"""The case lists on a busy day: after a big import every open case can be reached from the list, and the
list says how many there are (the desk counts them all)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews import views
from reviews.models import CaseEvent, CaseStatus, Review, ReviewCase


def _open_cases(store, n):
    """`n` new cases of 1★ reviews, the first due soonest (bulk: an Olist import opens hundreds at once)."""
    now = timezone.now()
    reviews = Review.objects.bulk_create(
        Review(store=store, external_id=f"BULK{i}", rating=1, body="não recebi", created_at=now - timedelta(days=1))
        for i in range(n))
    cases = ReviewCase.objects.bulk_create(
        ReviewCase(store=store, review=r, reason="rating 1", opened_at=now,
                   first_contact_due_at=now + timedelta(hours=1, minutes=i)) for i, r in enumerate(reviews))
    CaseEvent.objects.bulk_create(CaseEvent(case=c, to_status=CaseStatus.NEW, at=now) for c in cases)
    return cases


@pytest.mark.parametrize("page", ["index", "store"])
def test_every_open_case_of_a_big_import_is_reachable_from_the_list(client_a, store_a, page):
    cases = _open_cases(store_a, 350)
    url = reverse("reviews:index") if page == "index" else reverse("reviews:store", args=[store_a.slug])
    first = client_a.get(url)
    assert "350 open cases" in first.content.decode()
    seen, response = [], first
    while True:
        seen += [c.pk for c in response.context["cases"]]
        if not response.context["page"].has_next():
            break
        response = client_a.get(url, {"page": response.context["page"].next_page_number()})
    assert seen == [c.pk for c in cases]  # each once, most urgent first, the last one too
    assert 'rel="next"' in first.content.decode()


def test_the_store_lists_filter_is_kept_on_the_next_page(client_a, store_a):
    _open_cases(store_a, 120)
    page = client_a.get(reverse("reviews:store", args=[store_a.slug]), {"status": "new"}).content.decode()
    assert "120 new cases" in page and "status=new&amp;page=2" in page


@pytest.mark.parametrize("page", ["index", "store"])
def test_the_case_lists_count_and_number_their_pages_with_thousands_separated(client_a, store_a, page,
                                                                              monkeypatch):
    # As every figure is written ('1,001', not '1001'); a page a case makes the page numbers that long too.
    monkeypatch.setattr(views, "CASES_PER_PAGE", 1)
    _open_cases(store_a, 1001)
    url = reverse("reviews:index") if page == "index" else reverse("reviews:store", args=[store_a.slug])
    assert "1,001 open cases · page 1,001 of 1,001" in client_a.get(url, {"page": 1001}).content.decode()


def test_the_store_pages_overdue_and_without_a_case_counts_are_written_with_thousands_separated(client_a, store_a):
    cases = _open_cases(store_a, 1001)
    ReviewCase.objects.filter(pk__in=[c.pk for c in cases]).update(first_contact_due_at=timezone.now()
                                                                   - timedelta(hours=1))
    Review.objects.bulk_create(Review(store=store_a, external_id=f"NOCASE{i}", rating=1, bad=True,
                                      created_at=timezone.now()) for i in range(1002))
    page = client_a.get(reverse("reviews:store", args=[store_a.slug])).content.decode()
    assert "1,001 overdue for a first call" in page and "1,002 bad reviews have no case" in page


@pytest.mark.parametrize("page", ["index", "store"])
def test_a_case_of_a_review_without_a_title_says_so_as_the_reviews_list_does(client_a, store_a, page):
    _open_cases(store_a, 1)
    url = reverse("reviews:index") if page == "index" else reverse("reviews:store", args=[store_a.slug])
    html = client_a.get(url).content.decode()
    assert '<td data-label="Review" class="why">(no title)<div class="muted">não recebi</div>' in html
    case = ReviewCase.objects.get()
    assert "1★ (no title)" in client_a.get(case.get_absolute_url()).content.decode()
