"""Whether a review is bad is stored on it (`Review.bad`) when it is written, imported or edited, and again when
the store's rules change, so the store page and the report count bad reviews in SQL instead of matching every 3★
text in Python on each view. The stored verdict is always what `case_reason` says under the store's rules."""

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews.importers import import_reviews
from reviews.models import Review, ReviewPolicy
from reviews.services import case_reason
from tests.reviews.conftest import make_case, make_review

HISTORY = (b"external_id,rating,created_at,title,body\n"
           b"H-1,1,2026-01-05T10:00:00+08:00,,arrived broken\n"
           b"H-2,3,2026-03-02T10:00:00+08:00,,ruim\n"
           b"H-3,3,2026-03-03T10:00:00+08:00,,meh\n"
           b"H-4,5,2026-03-04T10:00:00+08:00,,broken but replaced\n"
           b"H-5,3,2026-03-05T10:00:00+08:00,P\xc3\x89SSIMA,\n")


def _verdicts(store):
    return dict(Review.objects.filter(store=store).values_list("external_id", "bad"))


def _agrees_with_the_rule(store):
    """Every review of `store`: its stored verdict is what `case_reason` says under the store's rules today."""
    policy = ReviewPolicy.objects.filter(store=store).first() or ReviewPolicy(store=store)
    wrong = [(r.external_id, r.rating, r.text[:60], r.bad) for r in Review.objects.filter(store=store)
             if r.bad != (case_reason(r, policy) is not None)]
    assert not wrong, f"{len(wrong)} stored verdicts differ from the rule, e.g. {wrong[:5]}"


def _store_page(client, store):
    return client.get(reverse("reviews:store", args=[store.slug])).content.decode()


def _report(client, store):
    return client.get(reverse("reviews:report", args=[store.slug]), {"start": "2026-01-01", "end": "2026-12-31"}
                      ).content.decode()


def test_an_imported_review_is_stored_bad_or_not(store_a):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    assert _verdicts(store_a) == {"H-1": True, "H-2": True, "H-3": False, "H-4": False, "H-5": True}


def test_a_written_or_edited_review_is_judged_again(store_a):
    review = make_review(store_a, rating=3, body="ok")
    assert not review.bad
    review.body = "chegou quebrado"
    review.save()
    assert Review.objects.get(pk=review.pk).bad
    review.rating = 4
    review.save(update_fields=["rating"])
    assert not Review.objects.get(pk=review.pk).bad
    assert make_review(store_a, rating=2).bad


def test_changing_the_stores_words_judges_its_3_star_reviews_again(client_a, manager_a, store_a, store_b):
    import_reviews(store_a, HISTORY, "csv", open_cases=False)
    import_reviews(store_b, HISTORY, "csv", open_cases=False)
    assert "3 bad reviews have no case" in _store_page(client_a, store_a)
    assert '<div class="value" id="bad-reviews">3</div>' in _report(client_a, store_a)

    client_a.force_login(manager_a)
    rules = reverse("reviews:policy", args=[store_a.slug])
    client_a.post(rules, {"first_contact_hours": "24", "negative_words": "meh"})

    assert _verdicts(store_a) == {"H-1": True, "H-2": False, "H-3": True, "H-4": False, "H-5": False}
    assert "2 bad reviews have no case" in _store_page(client_a, store_a)
    report = _report(client_a, store_a)
    assert '<div class="value" id="bad-reviews">2</div>' in report
    assert '<div class="value" id="complaints-at-3">1</div>' in report
    assert _verdicts(store_b)["H-2"] and not _verdicts(store_b)["H-3"]  # another store keeps its own rules

    ReviewPolicy.objects.get(store=store_a).delete()  # back to the default list
    assert _verdicts(store_a) == _verdicts(store_b)


def test_a_new_policy_row_and_a_policy_saved_in_the_admin_way_judge_again(store_a):
    review = make_review(store_a, rating=3, body="so-so")
    policy = ReviewPolicy.objects.create(store=store_a, negative_words="so-so")
    assert Review.objects.get(pk=review.pk).bad
    policy.negative_words = "meh"
    policy.save()
    assert not Review.objects.get(pk=review.pk).bad
    Review.objects.filter(pk=review.pk).update(bad=True)  # written around save(): only a change of words rejudges
    policy.first_contact_hours = 6
    policy.save()
    assert Review.objects.get(pk=review.pk).bad


def test_the_command_judges_again_after_the_projects_default_list_changes(store_a, store_b, settings, capsys):
    ours = make_review(store_a, rating=3, body="arrived scratched")
    theirs = make_review(store_b, rating=3, body="arrived scratched")
    settings.REVIEWS_NEGATIVE_WORDS = ["scratched"]
    call_command("recompute_bad_reviews", "--store", store_a.slug)
    assert Review.objects.get(pk=ours.pk).bad and not Review.objects.get(pk=theirs.pk).bad
    call_command("recompute_bad_reviews")
    assert Review.objects.get(pk=theirs.pk).bad
    out = capsys.readouterr().out
    assert "Store A: 1 verdict changed (1 now bad, 0 no longer bad)." in out


def test_a_case_opened_under_earlier_rules_still_counts_after_they_change(client_a, store_a):
    make_case(store_a, rating=3, body="ruim")
    ReviewPolicy.objects.create(store=store_a, negative_words="horrible")
    assert not Review.objects.get().bad
    assert '<div class="value" id="bad-reviews">1</div>' in _report(client_a, store_a)


def test_the_stored_verdicts_are_the_rule_on_the_real_olist_reviews(store_a, olist_dir):
    import_reviews(store_a, olist_dir / "olist_order_reviews_dataset.csv", "olist", open_cases=False)
    assert Review.objects.filter(store=store_a, rating=3, bad=True).count() > 50
    _agrees_with_the_rule(store_a)
    ReviewPolicy.objects.create(store=store_a, negative_words="produto\nentrega*\nnão")
    _agrees_with_the_rule(store_a)
    assert Review.objects.filter(store=store_a, rating=3, bad=True).count() > 100


def test_many_reviews_cost_no_more_queries_and_no_list_of_ids(client_a, store_a, django_assert_max_num_queries):
    rows = [b"external_id,rating,created_at,title,body"] + [
        b"M-%d,3,2026-03-02T10:00:00+08:00,,%s" % (i, b"ruim" if i % 2 else b"ok") for i in range(3000)]
    import_reviews(store_a, b"\n".join(rows), "csv", open_cases=False)
    for page, limit in ((_store_page, 11), (_report, 15)):
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as ran:
            html = page(client_a, store_a)
        assert max(len(q["sql"]) for q in ran.captured_queries) < 3000  # the old rule sent 1,500 ids, per count
    assert "1,500 bad reviews have no case" in _store_page(client_a, store_a)
    assert '<div class="value" id="bad-reviews">1,500</div>' in html
