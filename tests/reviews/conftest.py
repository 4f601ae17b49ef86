"""Builders for review tests: a review (and its case when bad) in a store."""

import itertools
from datetime import timedelta

from django.utils import timezone

from reviews.models import Review
from reviews.services import open_case_if_bad

_ids = itertools.count(1)


def make_review(store, rating=1, body="", title="", product=None, order=None, created_at=None, **extra):
    return Review.objects.create(store=store, external_id=f"R{next(_ids)}", rating=rating, body=body, title=title,
                                 product=product, order=order,
                                 created_at=created_at or timezone.now() - timedelta(hours=1), **extra)


def make_case(store, rating=1, now=None, **review_fields):
    review = make_review(store, rating=rating, **review_fields)
    case = open_case_if_bad(review, now=now)
    # Every rule case of the suite also checks the verdict stored on the review: bad exactly when a case opens.
    assert Review.objects.get(pk=review.pk).bad == (case is not None), f"stored verdict differs for {review.text!r}"
    return case
