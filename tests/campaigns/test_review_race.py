"""Two "Save review" POSTs for an activity not yet reviewed land together: one review, no server error."""

import threading
from datetime import date

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from campaigns.activity_forms import ReviewForm
from campaigns.models import Activity, ActivityReview

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_first_reviews_store_one_and_answer_both(store_a, operator_a, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (SQLite serialises writers, so there is no race to lose)")
    activity = Activity.objects.create(store=store_a, name="Weekend", kind="store_promotion", status="done",
                                       start_date=date(2026, 11, 20), end_date=date(2026, 11, 22),
                                       details={"mechanism": "discount", "discount_percent": "10"})
    barrier = threading.Barrier(2, timeout=10)
    real = ReviewForm.is_valid

    def is_valid(form):  # both requests have read "no review yet" before either writes
        barrier.wait()
        return real(form)

    monkeypatch.setattr(ReviewForm, "is_valid", is_valid)
    statuses = []

    def press_save(summary):
        try:
            client = Client(raise_request_exception=False)
            client.force_login(operator_a)
            statuses.append(client.post(reverse("campaigns:activity_review", args=[activity.pk]),
                                        {"summary": summary, "root_cause": ""}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_save, args=(s,)) for s in ("Sold out.", "Sold out.")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [302, 302]
    assert ActivityReview.objects.filter(activity=activity).count() == 1
