"""All of a store's reviews, a page at a time, reachable from the store page's latest reviews."""

from django.urls import reverse
from django.utils import timezone

from reviews import views
from reviews.models import Review
from tests.reviews.conftest import make_review


def test_the_store_page_says_how_many_reviews_it_leaves_out_and_links_to_them_all(client_a, store_a):
    for _ in range(31):
        make_review(store_a, rating=5)
    page = client_a.get(reverse("reviews:store", args=[store_a.slug])).content.decode()
    assert "Latest 30 of 31 reviews" in page
    assert f'href="{reverse("reviews:review_list", args=[store_a.slug])}"' in page


def test_every_review_is_reachable_a_page_at_a_time(client_a, store_a, monkeypatch):
    monkeypatch.setattr(views, "REVIEWS_PER_PAGE", 20)
    reviews = [make_review(store_a, rating=5) for _ in range(25)]
    url = reverse("reviews:review_list", args=[store_a.slug])
    first = client_a.get(url)
    assert "25 reviews · page 1 of 2" in first.content.decode()
    second = client_a.get(url + "?page=2")
    shown = list(first.context["reviews"]) + list(second.context["reviews"])
    assert sorted(r.pk for r in shown) == sorted(r.pk for r in reviews)


def test_the_review_counts_and_page_numbers_are_written_with_thousands_separated(client_a, store_a, monkeypatch):
    monkeypatch.setattr(views, "REVIEWS_PER_PAGE", 1)
    Review.objects.bulk_create(Review(store=store_a, external_id=f"BULK{n}", rating=5, created_at=timezone.now())
                               for n in range(1001))
    listed = client_a.get(reverse("reviews:review_list", args=[store_a.slug]), {"page": 1001}).content.decode()
    assert "1,001 reviews · page 1,001 of 1,001" in listed
    assert "Latest 30 of 1,001 reviews" in client_a.get(reverse("reviews:store", args=[store_a.slug])).content.decode()


def test_another_stores_review_list_is_404(client_a, store_b):
    assert client_a.get(reverse("reviews:review_list", args=[store_b.slug])).status_code == 404
