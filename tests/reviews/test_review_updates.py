"""A review imported again after the customer changed it on the platform: updated, its case told, the report counts
it as turned around; every importer (opsdesk CSV, Olist, the API) alike, all-or-nothing and idempotent."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from reviews.importers import ReviewImportError, import_reviews
from reviews.models import Review
from reviews.reports import build_report
from stores.models import ApiKey

WRITTEN = "2026-01-05T10:00:00+08:00"
CHANGED_AT = datetime(2026, 1, 20, 3, 0, tzinfo=UTC)


def csv_file(*rows: tuple[str, int, str]) -> bytes:
    lines = ["external_id,rating,body,created_at"] + [f"{rid},{rating},{body},{WRITTEN}" for rid, rating, body in rows]
    return ("\n".join(lines) + "\n").encode()


def olist_file(score: int, message: str) -> bytes:
    return ("review_id,order_id,review_score,review_comment_title,review_comment_message,review_creation_date,"
            f"review_answer_timestamp\nrv1,o1,{score},,{message},2026-01-05 10:00:00,2026-01-06 10:00:00\n").encode()


def test_a_changed_rating_updates_the_review_and_the_case_says_so(client_a, store_a):
    with time_machine.travel(CHANGED_AT - timedelta(days=1), tick=False):
        import_reviews(store_a, csv_file(("R1", 1, "arrived broken")), "csv")
    case = Review.objects.get(external_id="R1").case
    with time_machine.travel(CHANGED_AT, tick=False):
        result = import_reviews(store_a, csv_file(("R1", 4, "seller sent a new one")), "csv")
    assert (result.already_imported, result.updated, result.turned_around, result.cases_opened) == (1, 1, 1, 0)
    assert "1 already imported (1 of them changed on the platform and updated, 1 no longer bad)" in result.summary()
    review = Review.objects.get(external_id="R1")
    assert (review.rating, review.body, review.bad) == (4, "seller sent a new one", False)
    case.refresh_from_db()
    assert (case.customer_updated_review, case.updated_rating) == (True, 4)
    event = case.events.last()
    assert (event.at, event.note) == (CHANGED_AT, "Customer changed the review 1★ → 4★. It is no longer a bad review.")
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert "Customer changed the review 1★ → 4★. It is no longer a bad review." in page
    assert "no longer a bad review</span>" in page


def test_the_same_file_twice_changes_nothing_the_second_time(store_a):
    import_reviews(store_a, csv_file(("R1", 1, "broken")), "csv")
    changed = csv_file(("R1", 2, "still broken but they answered"))
    import_reviews(store_a, changed, "csv")
    case = Review.objects.get(external_id="R1").case
    events = case.events.count()
    again = import_reviews(store_a, changed, "csv")
    assert (again.updated, again.turned_around) == (0, 0)
    assert case.events.count() == events
    assert case.events.last().note == "Customer changed the review 1★ → 2★."  # still bad: nothing more said


def test_a_bad_row_leaves_the_changed_review_as_it_was(store_a):
    import_reviews(store_a, csv_file(("R1", 1, "broken")), "csv")
    with pytest.raises(ReviewImportError):
        import_reviews(store_a, csv_file(("R1", 5, "great now"), ("R2", 9, "?")), "csv")
    review = Review.objects.get(external_id="R1")
    assert (review.rating, review.body) == (1, "broken")
    assert review.case.events.count() == 1 and not review.case.customer_updated_review


def test_a_review_changed_to_bad_opens_its_case(store_a):
    import_reviews(store_a, csv_file(("R1", 5, "lovely")), "csv")
    result = import_reviews(store_a, csv_file(("R1", 1, "it broke after a week")), "csv")
    assert (result.updated, result.cases_opened) == (1, 1)
    assert Review.objects.get(external_id="R1").case.reason == "rating 1"


def test_the_report_counts_a_turned_around_review_and_no_longer_as_bad(store_a):
    import_reviews(store_a, csv_file(("R1", 1, "broken"), ("R2", 1, "late")), "csv")
    lo, hi = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert build_report(store_a, lo, hi).totals["turned_around"] == 0
    import_reviews(store_a, csv_file(("R1", 5, "replaced thanks"), ("R2", 1, "late")), "csv")
    totals = build_report(store_a, lo, hi).totals
    assert (totals["turned_around"], totals["bad"]) == (1, 1)
    assert (totals["rated_2_or_less"], totals["complaints_at_3"]) == (1, 0)


def test_olists_export_with_a_changed_score_updates_the_review(store_a):
    import_reviews(store_a, olist_file(1, "não recebi"), "olist")
    result = import_reviews(store_a, olist_file(5, "chegou obrigado"), "olist")
    assert (result.updated, result.turned_around) == (1, 1)
    note = Review.objects.get(external_id="rv1").case.events.last().note
    assert note.startswith("Customer changed the review 1★ → 5★")


def test_the_api_answers_how_many_reviews_it_updated(client, store_a):
    _, raw = ApiKey.issue(store_a)
    url, auth = reverse("api-v1:post_reviews"), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    item = {"id": "j1", "rating": 1, "body": "broken", "created_at": "2026-01-05T10:00:00Z"}
    client.post(url, data=json.dumps([item]), content_type="application/json", **auth)
    answer = client.post(url, data=json.dumps([{**item, "rating": 4}]), content_type="application/json", **auth).json()
    assert (answer["already_imported"], answer["updated"]) == (1, 1)
    assert Review.objects.get(external_id="j1").rating == 4


def test_an_unchanged_review_in_a_later_file_is_only_already_imported(store_a):
    import_reviews(store_a, csv_file(("R1", 1, "broken")), "csv")
    later = import_reviews(store_a, csv_file(("R1", 1, "broken"), ("R2", 5, "fine")), "csv")
    assert (later.created, later.already_imported, later.updated) == (1, 1, 0)
    assert Review.objects.get(external_id="R1").case.events.count() == 1
