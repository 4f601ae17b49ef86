"""Bad reviews loaded without cases (`--no-cases`, an unticked upload box): what they count as, and how the
operator opens their cases later."""

from datetime import date, timedelta

from django.core.management import call_command
from django.urls import reverse

from reviews.importers import import_reviews
from reviews.models import ReviewCase
from tests.factories import ProductFactory
from tests.reviews.conftest import make_case, make_review

HISTORY = (b"external_id,rating,created_at,title,body\n"
           b"H-1,1,2026-01-05T10:00:00+08:00,,arrived broken\n"
           b"H-2,3,2026-03-02T10:00:00+08:00,,ruim\n"
           b"H-3,3,2026-03-03T10:00:00+08:00,,ok\n"
           b"H-4,5,2026-03-04T10:00:00+08:00,,great\n")


def _open_missing(client, store, **data):
    return client.post(reverse("reviews:open_missing_cases", args=[store.slug]), data, follow=True)


def test_bad_reviews_imported_without_cases_get_them_from_the_store_page(client_a, store_a):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    # Importing the file again opens nothing: its reviews count as already imported.
    assert import_reviews(store_a, HISTORY, "csv").cases_opened == 0
    page = client_a.get(reverse("reviews:store", args=[store_a.slug])).content.decode()
    assert "2 bad reviews have no case" in page

    page = _open_missing(client_a, store_a).content.decode()

    assert "Opened 2 cases for bad reviews that had none." in page
    assert sorted(ReviewCase.objects.values_list("review__external_id", "reason")) == [
        ("H-1", "rating 1"), ("H-2", "rating 3 with “ruim”")]
    assert "bad reviews have no case" not in page


def test_opening_missing_cases_twice_opens_each_once(client_a, store_a):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    _open_missing(client_a, store_a)
    page = _open_missing(client_a, store_a).content.decode()
    assert "Every bad review already has a case; none was opened." in page
    assert ReviewCase.objects.count() == 2
    assert all(case.events.count() == 1 for case in ReviewCase.objects.all())


def test_missing_cases_can_be_opened_only_for_reviews_written_since_a_day(client_a, store_a):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    page = _open_missing(client_a, store_a, since="2026-03-01").content.decode()
    assert "Opened 1 case for bad reviews written since 2026-03-01 that had none." in page
    assert list(ReviewCase.objects.values_list("review__external_id", flat=True)) == ["H-2"]


def test_a_since_that_is_no_date_is_refused_and_opens_nothing(client_a, store_a):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    response = _open_missing(client_a, store_a, since="2026-13-01")
    assert "“2026-13-01” is not a day (YYYY-MM-DD); no case was opened." in response.content.decode()
    assert not ReviewCase.objects.exists()


def test_opening_missing_cases_stays_in_my_store(client_a, store_a, store_b):
    theirs = make_review(store_b, rating=1, body="broken")
    assert client_a.post(reverse("reviews:open_missing_cases", args=[store_b.slug])).status_code == 404
    _open_missing(client_a, store_a)
    assert not ReviewCase.objects.filter(review=theirs).exists()


def test_the_command_opens_missing_cases_for_a_store(store_a, capsys):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    call_command("open_review_cases", "--store", store_a.slug, "--since", "2026-01-01")
    call_command("open_review_cases", "--store", store_a.slug)
    out = capsys.readouterr().out
    assert "Opened 2 cases" in out and "none was opened" in out
    assert ReviewCase.objects.count() == 2


def test_a_3_star_complaint_without_a_case_is_bad_on_its_page_in_the_report_and_on_the_product_page(
        client_a, store_a):
    product = ProductFactory(store=store_a)
    review = make_review(store_a, rating=3, body="veio quebrada", product=product)  # no case opened
    make_case(store_a, rating=1, body="broken", product=product)
    make_review(store_a, rating=3, body="ok", product=product)
    make_review(store_a, rating=5, product=product)

    assert "No case was opened for this bad review (rating 3 with “quebrad*”)" in client_a.get(
        review.get_absolute_url()).content.decode()
    report = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()
    assert '<div class="value" id="bad-reviews">2</div>' in report
    assert '<div class="value" id="complaints-at-3">1</div>' in report
    summary = client_a.get(reverse("reviews:product", args=[store_a.slug, product.pk])).context["summary"]
    assert summary["bad_rate"] == 50.0


def test_a_case_opened_under_earlier_rules_keeps_its_review_bad(client_a, store_a, manager_a):
    from reviews.models import ReviewPolicy

    make_case(store_a, rating=3, body="ruim")
    ReviewPolicy.objects.create(store=store_a, negative_words="horrible")
    report = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()
    assert '<div class="value" id="bad-reviews">1</div>' in report


def test_since_is_the_stores_own_day(store_a):
    from reviews.services import open_missing_cases

    start = store_a.day_bounds(date(2026, 3, 1))[0]  # midnight in Shanghai, 16:00 UTC the day before
    before = make_review(store_a, rating=1, created_at=start - timedelta(minutes=30))
    after = make_review(store_a, rating=1, created_at=start + timedelta(minutes=30))
    assert open_missing_cases(store_a, since=date(2026, 3, 1)) == 1
    assert ReviewCase.objects.get().review == after and not ReviewCase.objects.filter(review=before).exists()
