"""Benchmark: the store's reviews page ("N bad reviews have no case") and the report on a store with many reviews,
with the bad-review verdict stored on each review (`Review.bad`, counted in SQL) against the rule it replaced in the
same run: every view loaded the store's 3★ reviews, matched their words in Python and sent the bad ones' ids back
as a `pk IN (…)` list, once per count.

    DATABASE_URL=... .venv/bin/python bench/review_counts.py [--reviews 200000] [--runs 3]

The reviews take their ratings in Olist's proportions and their titles and texts from the real Olist file
(../shared/data, OPSDESK_SHARED_DATA), drawn at random; none has a case (a history imported with --no-cases, so
the store page counts them all). Also timed: judging the store's reviews again after its words change
(`refresh_verdicts`, what a save on the rules page now pays once). Everything happens in one transaction that is
rolled back, so the database is left as it was. Both rules must give the same figures, or it exits 1.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from reviews import reports, services  # noqa: E402
from reviews.models import Review, ReviewPolicy  # noqa: E402
from stores.models import Role, Store, StoreMembership  # noqa: E402

DATA = Path(os.environ.get("OPSDESK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


# --- the rule as it was: 3★ texts matched in Python on every view ------------------------------------------------
def _complaints_at_3(reviews, policy):
    candidates = reviews.filter(rating=3).only("pk", "store_id", "rating", "title", "body", "created_at")
    return [r for r in candidates if services.case_reason(r, policy)]


def _old_bad_filter(store, reviews):
    policy = ReviewPolicy.for_store(store)
    complaints = _complaints_at_3(reviews.filter(case__isnull=True), policy)
    return Q(rating__lte=2) | Q(case__isnull=False) | Q(pk__in=[r.pk for r in complaints])


class _Loaded(list):
    def count(self) -> int:  # the page took len() of the loaded list
        return len(self)


def _old_bad_without_case(store, since=None):
    reviews = Review.objects.filter(store=store, case__isnull=True, rating__lte=3)
    policy = ReviewPolicy.for_store(store)
    low = list(reviews.filter(rating__lte=2).only("pk", "store_id", "rating", "created_at"))
    return _Loaded(sorted(low + _complaints_at_3(reviews, policy), key=lambda r: (r.created_at, r.pk)))


class OldRule:
    """Puts the old rule where the store page and the report page call it, for the `with` block."""

    def __enter__(self):
        self.saved = services.bad_without_case, reports.build_report
        services.bad_without_case = _old_bad_without_case
        reports.build_report = _with_old_filter(reports.build_report)
        return self

    def __exit__(self, *exc):
        services.bad_without_case, reports.build_report = self.saved


def _with_old_filter(build):
    """`build_report` counting by the old filter, built once per report over its window as the old one was."""
    def build_report(store, start, end, now=None):
        reviews = Review.objects.filter(store=store, created_at__gte=start, created_at__lt=end)
        is_bad = _old_bad_filter(store, reviews)
        saved, reports.bad_filter = reports.bad_filter, lambda: is_bad
        try:
            return build(store, start, end, now)
        finally:
            reports.bad_filter = saved
    return build_report


# --- the store ------------------------------------------------------------------------------------------------------
def olist_texts() -> dict[int, list[tuple[str, str]]]:
    path = DATA / "olist-sample" / "olist_order_reviews_dataset.csv"
    if not path.exists():
        sys.exit(f"the Olist reviews are not at {path} (set OPSDESK_SHARED_DATA)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts: dict[int, list[tuple[str, str]]] = {}
    for rating, title, body in zip(frame.review_score.astype(int), frame.review_comment_title,
                                   frame.review_comment_message, strict=True):
        texts.setdefault(rating, []).append((title.strip()[:255], body.strip()))
    return texts


def fill(store: Store, n: int, seed: int = 7) -> dict[int, int]:
    rng = random.Random(seed)
    texts = olist_texts()
    ratings = [r for r, pool in texts.items() for _ in pool]  # Olist's own proportions
    policy = ReviewPolicy.for_store(store)
    now, by_rating, batch = timezone.now(), {}, []
    for i in range(n):
        rating = rng.choice(ratings)
        title, body = rng.choice(texts[rating])
        review = Review(store=store, external_id=f"bench-{i}", rating=rating, title=title, body=body,
                        created_at=now - timedelta(minutes=5 * (n - i)))
        review.bad = services.case_reason(review, policy) is not None  # as the importer does
        batch.append(review)
        by_rating[rating] = by_rating.get(rating, 0) + 1
        if len(batch) == 5000:
            Review.objects.bulk_create(batch)
            batch = []
    Review.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reviews_review")
    return by_rating


def time_page(client: Client, url: str, runs: int):
    """(median ms of `runs` after a warm-up, queries, longest SQL statement in characters, response)."""
    response = client.get(url)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
    assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(ctx), max(len(q["sql"]) for q in ctx.captured_queries), response


def figures(page: str, response) -> str:
    if page == "store page":
        found = re.search(r"(\d+) bad reviews? ha(?:s|ve) no case", response.content.decode())
        return f"{found.group(1) if found else 0} bad reviews have no case"
    html = response.content.decode()
    bad, at_3 = (re.search(rf'id="{name}">([^<]*)<', html) for name in ("bad-reviews", "complaints-at-3"))
    return f"bad {bad.group(1) if bad else '?'}, of which 3★ {at_3.group(1) if at_3 else '?'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="timed requests per page after a warm-up (median)")
    args = parser.parse_args()
    settings.DEBUG = False
    lines, ok = [], True
    with transaction.atomic():
        store = Store.objects.create(name="bench", slug="bench-review-counts", country="BR",
                                     timezone="America/Sao_Paulo", currency="BRL")
        user = get_user_model().objects.create_user("bench-review-counts")
        StoreMembership.objects.create(user=user, store=store, role=Role.MANAGER)
        t = time.perf_counter()
        by_rating = fill(store, args.reviews)
        fill_s = time.perf_counter() - t
        client = Client()
        client.force_login(user)
        start = timezone.localtime(timezone.now() - timedelta(days=5 * args.reviews / 288 + 2), store.zone).date()
        urls = {"store page": reverse("reviews:store", args=[store.slug]),
                "report (all its reviews)": reverse("reviews:report", args=[store.slug])
                + f"?start={start}&end={store.today()}"}
        rows = []
        for page, url in urls.items():
            with OldRule():
                old = time_page(client, url, args.runs)
            new = time_page(client, url, args.runs)
            before, after = figures(page, old[3]), figures(page, new[3])
            ok &= before == after
            rows.append((page, old, new, after if before == after else f"{after} ≠ before: {before}"))
        t = time.perf_counter()
        services.refresh_verdicts(store, ReviewPolicy(store=store, negative_words="produto\nentrega*"))
        refresh_s = time.perf_counter() - t
        transaction.set_rollback(True)

    threes = by_rating.get(3, 0)
    lines += [
        f"## review_counts ({connection.vendor}, {args.reviews:,} reviews, median of {args.runs} warm requests)",
        "",
        f"`.venv/bin/python bench/review_counts.py --reviews {args.reviews} --runs {args.runs}`",
        "",
        f"{args.reviews:,} reviews of one store, none with a case, ratings and texts drawn from the Olist file "
        f"({threes:,} rated 3); written in {fill_s:.0f} s.",
        "",
        "| page | before: 3★ matched per view (ms) | queries | longest SQL (chars) | after: stored verdict (ms) "
        "| queries | longest SQL (chars) | before / after | figures (same both ways) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for page, old, new, said in rows:
        lines.append(f"| {page} | {old[0]:,.0f} | {old[1]} | {old[2]:,} | {new[0]:,.0f} | {new[1]} | {new[2]:,} "
                     f"| {old[0] / new[0]:.1f}× | {said} |")
    lines += ["", f"Judging the store's {threes:,} 3★ reviews again after its words change (`refresh_verdicts`, "
                  f"once per save of the rules): {refresh_s:.1f} s."]
    if not ok:
        lines += ["", "FAILED: the two rules gave different figures."]
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "results" / "review_counts.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
