"""Review files uploaded on the review import page are imported by a real worker, as order files are: the status
page shows the summary with the rows to look at, or every bad row; the same file again adds nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reviews.models import Review, ReviewCase
from stores.models import ImportJob
from tests.worker import wait_for

pytestmark = pytest.mark.worker

# Shopify-style JSON: the stored upload is named *.csv, so the format is told by the content (or the form).
REVIEWS = json.dumps([
    {"id": "J1", "rating": 1, "title": "Broken", "body": "Arrived cracked", "created_at": "2026-11-20T10:00:00Z",
     "order_id": "NO-SUCH-ORDER"},
    {"id": "J2", "rating": 5, "body": "Lovely tea", "created_at": "2026-11-21T10:00:00Z"},
]).encode()


@pytest.fixture
def media(settings, tmp_path):
    """Uploads in the test's folder; requested before `celery_worker`, which hands MEDIA_ROOT to the worker."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, store, data: bytes, **fields) -> tuple[ImportJob, str]:
    response = client.post(reverse("reviews:import", args=[store.slug]),
                           {"file": SimpleUploadedFile("reviews.json", data), "format": "", **fields})
    assert response.status_code == 302
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1])), response["Location"]


def finished(job):
    job.refresh_from_db()
    return job.finished


def test_the_worker_imports_an_uploaded_review_file_and_the_same_file_again_adds_nothing(media, celery_worker,
                                                                                        client_a, store_a):
    job, page = upload(client_a, store_a, REVIEWS, open_cases="on")
    assert job.options == {"format": None, "open_cases": True}
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "done" and (job.rows, job.created, job.duplicates) == (2, 2, 0)
    assert "Imported reviews (json): 2 rows: 2 reviews created, 0 already imported" in html
    assert "1 cases opened" in html and "Rows to look at: row 1: no order NO-SUCH-ORDER." in html
    assert f'href="/reviews/{store_a.slug}/import/">Import another file</a>' in html
    assert ReviewCase.objects.filter(review__external_id="J1").exists()

    again, page = upload(client_a, store_a, REVIEWS)  # unticked: no cases; and nothing new anyway
    wait_for(lambda: finished(again))
    assert "2 rows: 0 reviews created, 2 already imported" in client_a.get(page).content.decode()
    assert Review.objects.filter(store=store_a).count() == 2 and ReviewCase.objects.count() == 1


def test_bad_reviews_are_named_on_the_status_page_and_nothing_is_imported(media, celery_worker, client_a, store_a):
    bad = b"external_id,rating,created_at\nU1,5,2026-11-20 10:00\nU2,9,2026-11-20 11:00\nU3,4,someday\n"
    job, page = upload(client_a, store_a, bad, format="csv")
    wait_for(lambda: finished(job))
    html = client_a.get(page).content.decode()
    assert job.status == "failed" and "Nothing was imported: 2 problems" in html
    assert '<td class="num">3</td><td>rating: must be a whole number from 1 to 5, got &#x27;9&#x27;' in html
    assert '<td class="num">4</td><td>created_at: ' in html
    assert not Review.objects.exists()
