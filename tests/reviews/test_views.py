"""The review pages: tenancy, the case page's actions, phone display, upload, report and CSV export."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from reviews import services
from reviews.models import CaseStatus, ProductTask, Review, ReviewPolicy
from stores.models import ImportJob, ListingVersion
from stores.tasks import run_import
from tests.factories import OrderFactory, ProductFactory
from tests.reviews.conftest import make_case, make_review


@pytest.fixture
def case_b(store_b):
    return make_case(store_b, rating=1, body="broken", product=ProductFactory(store=store_b))


@pytest.mark.parametrize("name", ["case", "review", "product"])
def test_another_stores_objects_are_404(client_a, store_a, case_b, name):
    obj = {"case": case_b, "review": case_b.review, "product": case_b.review.product}[name]
    # Both through the other store's slug and by smuggling the pk under one's own store.
    assert client_a.get(reverse(f"reviews:{name}", args=[case_b.store.slug, obj.pk])).status_code == 404
    assert client_a.get(reverse(f"reviews:{name}", args=[store_a.slug, obj.pk])).status_code == 404


@pytest.mark.parametrize("name", ["store", "report", "cases_csv", "import"])
def test_another_stores_lists_report_and_export_are_404(client_a, store_b, name):
    assert client_a.get(reverse(f"reviews:{name}", args=[store_b.slug])).status_code == 404


def test_posting_to_another_stores_case_changes_nothing(client_a, case_b):
    url = reverse("reviews:case", args=[case_b.store.slug, case_b.pk])
    assert client_a.post(url, {"action": "contact", "outcome": "reached"}).status_code == 404
    assert not case_b.contacts.exists()


def test_index_lists_only_my_stores_cases(client_a, store_a, case_b):
    mine = make_case(store_a, rating=2, body="péssimo")
    page = client_a.get(reverse("reviews:index")).content.decode()
    assert f"#{mine.pk}<" in page and f"#{case_b.pk}<" not in page


@pytest.mark.parametrize("page", ["index", "store"])
def test_cases_overdue_for_a_first_call_come_before_cases_already_called(client_a, operator_a, store_a, page):
    now = timezone.now()
    called = make_case(store_a, now=now - timedelta(days=10))  # its call was due 9 days ago, and was made
    services.log_contact(called, operator_a, "no_answer", now=now - timedelta(days=9, hours=20))
    overdue = make_case(store_a, now=now - timedelta(days=2))
    waiting = make_case(store_a, now=now)
    url = reverse("reviews:index") if page == "index" else reverse("reviews:store", args=[store_a.slug])
    assert list(client_a.get(url).context["cases"]) == [overdue, waiting, called]


def test_operator_calls_through_tel_link_but_sees_a_masked_number(client_a, store_a):
    order = OrderFactory(store=store_a, buyer_phone="+8613800138000")
    case = make_case(store_a, order=order)
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert 'href="tel:+8613800138000"' in page
    assert "Call +86*******8000" in page


def test_manager_sees_the_whole_number(client, manager_a, store_a):
    client.force_login(manager_a)
    case = make_case(store_a, order=OrderFactory(store=store_a, buyer_phone="+8613800138000"))
    assert "Call +8613800138000" in client.get(case.get_absolute_url()).content.decode()


def test_case_walkthrough_in_the_browser_forms(client_a, operator_a, store_a):
    product = ProductFactory(store=store_a, title="Celadon gaiwan set")
    case = make_case(store_a, product=product, body="arrived broken")
    url = case.get_absolute_url()
    client_a.post(url, {"action": "contact", "outcome": "reached", "notes": "Lid cracked in transit"})
    client_a.post(url, {"action": "transition", "to_status": "contacted"})
    client_a.post(
        url,
        {
            "action": "findings",
            "situation": "Lid cracked",
            "root_cause": "logistics",
            "check_finding": "",
            "resolution": "replacement",
            "customer_updated_review": "on",
            "updated_rating": "4",
        },
    )
    client_a.post(url, {"action": "transition", "to_status": "product_check", "note": "check packaging"})
    client_a.post(
        url,
        {
            "action": "findings",
            "root_cause": "logistics",
            "check_finding": "confirmed",
            "check_notes": "Foam too thin",
            "resolution": "replacement",
            "customer_updated_review": "on",
            "updated_rating": "4",
        },
    )
    client_a.post(url, {"action": "transition", "to_status": "resolved"})
    client_a.post(
        url,
        {
            "action": "task",
            "text": "Ask supplier for thicker foam",
            "owner": operator_a.pk,
            "due": (store_a.today() + timedelta(days=5)).isoformat(),
        },
    )
    client_a.post(url, {"action": "transition", "to_status": "closed"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert (case.root_cause, case.check_finding, case.resolution, case.updated_rating) == (
        "logistics",
        "confirmed",
        "replacement",
        4,
    )
    assert [e.to_status for e in case.events.all()] == [
        "new",
        "contacting",
        "contacted",
        "product_check",
        "resolved",
        "closed",
    ]
    assert all(e.by == operator_a for e in case.events.all()[1:])
    task = ProductTask.objects.get()
    assert (task.product, task.case, task.owner) == (product, case, operator_a)


def test_illegal_move_shows_a_clear_message(client_a, store_a):
    case = make_case(store_a)
    response = client_a.post(case.get_absolute_url(), {"action": "transition", "to_status": "closed"}, follow=True)
    assert "A case cannot go from New to Closed" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_move_without_prerequisite_explains_what_is_missing(client_a, operator_a, store_a):
    case = make_case(store_a)
    client_a.post(case.get_absolute_url(), {"action": "contact", "outcome": "no_answer"})
    response = client_a.post(case.get_absolute_url(), {"action": "transition", "to_status": "contacted"}, follow=True)
    assert "needs a call that reached the customer" in response.content.decode()


def test_listing_fix_creates_a_listing_version_and_product_page_compares_before_and_after(client_a, store_a):
    product = ProductFactory(store=store_a, title="Glass kettle 1L")
    change = timezone.now() - timedelta(days=10)
    for days, rating in [(30, 1), (25, 2), (20, 4), (15, 5)]:
        make_review(store_a, rating=rating, product=product, created_at=change - timedelta(days=days - 10))
    case = make_case(store_a, product=product, created_at=change - timedelta(days=1), body="not as pictured")
    response = client_a.post(
        case.get_absolute_url(),
        {"action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)", "note": "Capacity clarified"},
    )
    assert response.status_code == 302
    version = ListingVersion.objects.filter(product=product).latest("started_at")  # after the baseline
    case.refresh_from_db()
    assert case.listing_version == version and version.title == "Glass kettle 1L (0.8L usable)"
    make_review(store_a, rating=5, product=product, created_at=version.started_at + timedelta(hours=1))
    make_review(store_a, rating=4, product=product, created_at=version.started_at + timedelta(hours=2))
    page = client_a.get(reverse("reviews:product", args=[store_a.slug, product.pk])).content.decode()
    before, after = page.split("Capacity clarified")
    # Before: 1,2,4,5 + the case review (1) -> avg 2.6, 3 bad of 5; after: 5,4 -> avg 4.5, no bad.
    assert "2.6" in before and "60.0 %" in before
    assert "4.5" in after.split("</tr>")[0] and "0.0 %" in after.split("</tr>")[0]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload_file(client, store, data: bytes, **fields):
    return client.post(reverse("reviews:import", args=[store.slug]),
                       {"file": SimpleUploadedFile("r.csv", data), "format": "", **fields})


def imported(client, store, data: bytes, **fields) -> str:
    """Upload on the page, have the job run (the worker's task, in this process: tests/reviews/test_import_job.py
    runs it on a real worker) and return its status page."""
    response = upload_file(client, store, data, **fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(store=store, pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert job.kind == "reviews"
    run_import(job.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def test_upload_page_imports_and_reports_unmatched(client_a, store_a, media):
    data = b"external_id,rating,title,body,created_at,order_id,sku\nU1,1,,quebrado,2026-01-01 10:00,ZZZ,\n"
    page = imported(client_a, store_a, data, open_cases="on")
    assert "Imported reviews (csv): 1 rows: 1 reviews created, 0 already imported" in page
    assert "1 cases opened" in page and "Rows to look at: row 2: no order ZZZ." in page
    assert Review.objects.get(store=store_a).case.status == CaseStatus.NEW
    listed = client_a.get(reverse("reviews:import", args=[store_a.slug])).content.decode()
    assert "r.csv</a>" in listed and "Imported" in listed


def test_the_review_import_pages_button_is_the_primary_one_as_on_the_other_upload_forms(client_a, store_a):
    page = client_a.get(reverse("reviews:import", args=[store_a.slug])).content.decode()
    form = page[page.index('enctype="multipart/form-data"'):]
    assert re.findall(r"<button[^>]*>[^<]*</button>", form[:form.index("</form>")]) == [
        '<button class="primary" type="submit">Import</button>']


@pytest.mark.parametrize(
    ("second_row", "error"),
    [
        (b"U2,9,2026-01-01", '<td class="num">3</td><td>rating'),
        (b"U2,inf,2026-01-01",
         '<td class="num">3</td><td>rating: must be a whole number from 1 to 5, got &#x27;inf&#x27;'),
        (b"U2,1e400,2026-01-01", '<td class="num">3</td><td>rating: must be a whole number from 1 to 5'),  # float: inf
        (b"U2,NaN,2026-01-01", '<td class="num">3</td><td>rating: must be a whole number from 1 to 5'),
        (b"U2,5,2999-03-01T09:00:00Z", '<td class="num">3</td><td>created_at: is in the future'),  # not written yet
    ],
)
def test_upload_page_shows_row_errors_and_writes_nothing(client_a, store_a, media, second_row, error):
    page = imported(client_a, store_a, b"external_id,rating,created_at\nU1,5,2026-01-01\n" + second_row + b"\n",
                    format="csv")
    assert "Nothing was imported: 1 problem" in page and error in page
    assert not Review.objects.exists()


def test_upload_page_shows_only_the_first_errors_and_says_how_many_there_were(client_a, store_a, settings, media):
    settings.IMPORT_ERRORS_SHOWN = 3
    data = b"external_id,rating,created_at\n" + b"".join(b"U%d,9,2026-01-01\n" % n for n in range(5))
    page = imported(client_a, store_a, data, format="csv")
    assert "Nothing was imported: 5 problems" in page and "Showing the first 3 of 5 errors." in page
    assert all(f'<td class="num">{n}</td><td>rating' in page for n in (2, 3, 4))
    assert '<td class="num">5</td>' not in page and '<td class="num">6</td>' not in page
    assert not Review.objects.exists()


def test_upload_page_with_fewer_errors_than_the_cap_lists_them_all_without_a_count_line(client_a, store_a, settings,
                                                                                      media):
    settings.IMPORT_ERRORS_SHOWN = 3
    page = imported(client_a, store_a, b"external_id,rating,created_at\nU1,9,2026-01-01\nU2,9,2026-01-01\n",
                    format="csv")
    assert '<td class="num">2</td><td>rating' in page and '<td class="num">3</td><td>rating' in page
    assert "Showing the first" not in page


def test_report_and_csv_export_cover_only_my_store(client_a, store_a, case_b, operator_a):
    from reviews.services import log_contact

    case = make_case(store_a, body="ruim", rating=2, product=ProductFactory(store=store_a))
    make_review(store_a, rating=5)
    log_contact(case, operator_a, "reached", "Wants a replacement.", now=case.opened_at + timedelta(hours=3))
    report = client_a.get(reverse("reviews:report", args=[store_a.slug]))
    assert report.status_code == 200
    page = report.content.decode()
    assert "vendor/plotly/plotly.min.js" in page and 'id="chart-weekly"' in page
    assert '<div class="value" id="ttfc-median">3.0 h</div>' in page
    export = client_a.get(reverse("reviews:cases_csv", args=[store_a.slug]))
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [r["case_id"] for r in rows] == [str(case.pk)]
    assert rows[0]["hours_to_first_contact"] == "3.00" and "+86" not in export.content.decode()


@time_machine.travel(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), tick=False)
def test_report_counts_the_cases_not_called_yet_beside_the_first_call_times(client_a, store_a, operator_a):
    # One case called after 2 h, one never called and two days overdue, one opened an hour ago (due tomorrow):
    # the median alone read as a fast first call.
    now = timezone.now()
    three_days_ago = now - timedelta(days=3)
    called = make_case(store_a, rating=1, now=three_days_ago, created_at=three_days_ago)
    make_case(store_a, rating=1, now=three_days_ago, created_at=three_days_ago)
    services.log_contact(called, operator_a, "no_answer", now=called.opened_at + timedelta(hours=2))
    make_case(store_a, rating=2, now=now - timedelta(hours=1))
    page = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()
    assert '<div class="value" id="ttfc-median">2.0 h</div>' in page
    assert '<div class="value" id="not-called">2 <span class="badge danger">1 overdue</span></div>' in page


@pytest.mark.parametrize("query", ["end=0001-01-01", "start=0001-01-01&end=0001-01-02", "end=9999-12-31",
                                   "start=9999-12-31", "start=yesterday"])
def test_a_window_off_the_calendar_shows_the_last_12_weeks_not_a_server_error(client_a, store_a, query):
    # Store A is UTC+8: midnight of 0001-01-01 there is still year 0 in UTC; 9999-12-31 has no next midnight.
    case = make_case(store_a, rating=1)
    today = store_a.today()
    report = client_a.get(reverse("reviews:report", args=[store_a.slug]) + "?" + query)
    assert report.status_code == 200
    assert f'name="start" value="{today - timedelta(weeks=12):%Y-%m-%d}"' in report.content.decode()
    export = client_a.get(reverse("reviews:cases_csv", args=[store_a.slug]) + "?" + query)
    assert export.status_code == 200
    assert [r["case_id"] for r in csv.DictReader(io.StringIO(export.content.decode()))] == [str(case.pk)]


def test_manager_edits_the_rules_and_new_cases_follow_them(client, manager_a, store_a):
    client.force_login(manager_a)
    url = reverse("reviews:policy", args=[store_a.slug])
    assert "não recebi" in client.get(url).content.decode()
    assert client.post(url, {"first_contact_hours": "6", "negative_words": "meh\n一般"}).status_code == 302
    case = make_case(store_a, rating=3, body="一般般")
    assert case.first_contact_due_at - case.opened_at == timedelta(hours=6)
    assert make_case(store_a, rating=3, body="ruim") is None


def test_saving_the_rules_with_the_default_words_shown_keeps_following_the_default(
        client, manager_a, store_a, settings):
    from reviews.models import ReviewPolicy

    client.force_login(manager_a)
    url = reverse("reviews:policy", args=[store_a.slug])
    page = client.get(url)
    assert "This store uses the default list" in page.content.decode()
    shown = page.context["form"]["negative_words"].value()
    assert client.post(url, {"first_contact_hours": "6", "negative_words": shown.replace("\n", "\r\n")}
                       ).status_code == 302
    assert ReviewPolicy.objects.get(store=store_a).negative_words == ""
    settings.REVIEWS_NEGATIVE_WORDS = ["scratched"]  # the project's default list changes later
    assert make_case(store_a, rating=3, body="arrived scratched") is not None
    assert "This store uses the default list" in client.get(url).content.decode()


def test_a_store_with_its_own_words_is_told_how_to_go_back_to_the_default(client, manager_a, store_a):
    client.force_login(manager_a)
    url = reverse("reviews:policy", args=[store_a.slug])
    client.post(url, {"first_contact_hours": "24", "negative_words": "meh"})
    assert "This store uses its own list" in client.get(url).content.decode()


def test_a_rule_of_only_a_star_is_refused_with_a_hint(client, manager_a, store_a):
    client.force_login(manager_a)
    url = reverse("reviews:policy", args=[store_a.slug])
    response = client.post(url, {"first_contact_hours": "24", "negative_words": "meh\n*"})
    assert response.status_code == 200
    assert "A line with only * would match every review" in response.content.decode()
    assert client.post(url, {"first_contact_hours": "24", "negative_words": "mauvais*"}).status_code == 302
    assert make_case(store_a, rating=3, body="Taille mauvaise") is not None


def test_a_first_call_sla_beyond_a_year_is_refused_and_imports_keep_working(client, manager_a, store_a, media):
    # 100 000 000 hours is 11 000 years: saved, it made every later case's due time overflow (imports: 500).
    client.force_login(manager_a)
    url = reverse("reviews:policy", args=[store_a.slug])
    response = client.post(url, {"first_contact_hours": "100000000", "negative_words": ""})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 8760." in response.content.decode()
    data = b"external_id,rating,created_at\nU1,1,2026-01-01\n"
    assert "1 cases opened" in imported(client, store_a, data, format="csv", open_cases="on")
    case = Review.objects.get(store=store_a).case
    assert case.first_contact_due_at - case.opened_at == timedelta(hours=24)


def test_an_operator_reads_the_rules_but_cannot_change_them(client_a, store_a, store_b):
    url = reverse("reviews:policy", args=[store_a.slug])
    page = client_a.get(url).content.decode()
    assert "First call due" in page and "24 hours after a case opens" in page
    assert "<li>terrible</li>" in page  # the default words the operator's calls go by
    assert "<form method=\"post\">" not in page and "you are an operator here" in page
    assert client_a.post(url, {"first_contact_hours": "2", "negative_words": "meh"}).status_code == 403
    assert ReviewPolicy.for_store(store_a).first_contact_hours == 24
    assert client_a.get(reverse("reviews:policy", args=[store_b.slug])).status_code == 404


def test_store_product_page_links_to_its_review_history(client_a, store_a):
    product = ProductFactory(store=store_a)
    page = client_a.get(product.get_absolute_url()).content.decode()
    assert reverse("reviews:product", args=[store_a.slug, product.pk]) in page


def test_resolved_case_cannot_lose_its_resolution(client_a, operator_a, store_a):
    from tests.reviews.test_cases import walk_to

    case = walk_to(make_case(store_a), CaseStatus.RESOLVED, operator_a)
    response = client_a.post(
        case.get_absolute_url(), {"action": "findings", "root_cause": "logistics", "resolution": ""}
    )
    assert response.status_code == 400
    assert "keeps its root cause and resolution" in response.content.decode()
    case.refresh_from_db()
    assert case.resolution == "replacement"


def test_a_case_in_product_check_cannot_lose_its_root_cause(client_a, operator_a, store_a):
    from tests.reviews.test_cases import walk_to

    case = walk_to(make_case(store_a), CaseStatus.PRODUCT_CHECK, operator_a)
    response = client_a.post(case.get_absolute_url(), {"action": "findings", "root_cause": "",
                                                       "check_finding": "confirmed"})
    assert response.status_code == 400
    assert "A case in product check keeps its root cause." in response.content.decode()
    case.refresh_from_db()
    assert (case.root_cause, case.check_finding) == ("logistics", "")


def test_a_case_resolved_after_its_product_check_cannot_lose_the_finding(client_a, operator_a, store_a):
    from tests.reviews.test_cases import walk_to

    case = walk_to(make_case(store_a), CaseStatus.RESOLVED, operator_a)  # through product check
    response = client_a.post(case.get_absolute_url(), {"action": "findings", "root_cause": "logistics",
                                                       "resolution": "replacement", "check_finding": ""})
    assert response.status_code == 400
    assert "A case resolved after a product check keeps the check&#x27;s finding." in response.content.decode()
    case.refresh_from_db()
    assert case.check_finding == "confirmed"


def test_report_says_its_bad_reviews_include_3_star_complaints_and_splits_them_from_the_daily_count(client_a, store_a):
    make_case(store_a, rating=1, body="broken")
    make_case(store_a, rating=3, body="ruim")  # a complaint word opens a case at 3★
    make_review(store_a, rating=5)
    page = client_a.get(reverse("reviews:report", args=[store_a.slug])).content.decode()
    assert "Bad reviews (≤ 2★, or 3★ with a complaint word)" in page
    assert '<div class="value" id="bad-reviews">2</div>' in page
    assert '<div class="value" id="rated-2-or-less">1</div>' in page  # what the daily page counts
    assert '<div class="value" id="complaints-at-3">1</div>' in page
    assert 'class="label">Bad reviews<' not in page and 'class="label">Bad-review rate<' not in page


def test_logging_a_reached_call_without_notes_shows_a_plain_error_and_logs_nothing(client_a, store_a):
    case = make_case(store_a, body="arrived broken")
    response = client_a.post(case.get_absolute_url(), {"action": "contact", "outcome": "reached", "notes": ""})
    assert response.status_code == 400
    assert "A reached call needs notes: what the customer said and what was agreed." in response.content.decode()
    assert not case.contacts.exists()


@pytest.mark.parametrize(
    "data, reason",
    [
        (
            {"action": "bogus"},
            "Refused: “bogus” is not something the case page does (it does: transition, contact, text, "
            "answer, findings, listing_fix, task, assign). Nothing was changed.",
        ),
        (
            {},
            "Refused: The form said nothing to do (action: one of transition, contact, text, answer, findings, "
            "listing_fix, task, assign). Nothing was changed.",
        ),
        (
            {"action": "transition", "to_status": "closed"},
            "Refused: A case cannot go from New to Closed; from here it can go to: Contacting. Nothing was changed.",
        ),
    ],
)
def test_a_refused_request_on_the_case_page_says_it_was_refused(client_a, store_a, data, reason):
    case = make_case(store_a)
    response = client_a.post(case.get_absolute_url(), data)
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [reason]
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


# 01:00 on 26 Nov in Shanghai (store A), still 25 Nov in UTC.
@time_machine.travel(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), tick=False)
@pytest.mark.parametrize("due", ["2020-01-01", "2026-11-25"])
def test_a_task_due_before_the_stores_today_is_refused(client_a, store_a, due):
    case = make_case(store_a, product=ProductFactory(store=store_a))
    response = client_a.post(case.get_absolute_url(), {"action": "task", "text": "Thicker foam", "due": due})
    assert response.status_code == 400
    assert f"{due} is in the past; give today (2026-11-26) or a later day." in response.content.decode()
    assert not ProductTask.objects.exists()


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_task_due_dates_read_like_every_other_date(client_a, store_a):
    product = ProductFactory(store=store_a)
    case = make_case(store_a, product=product)
    ProductTask.objects.create(
        store=store_a, product=product, case=case, text="Thicker foam", due=datetime(2026, 12, 1).date()
    )
    for url in (case.get_absolute_url(), reverse("reviews:product", args=[store_a.slug, product.pk])):
        page = client_a.get(url).content.decode()
        assert "due Tue 1 Dec" in page and "Dec. 1, 2026" not in page


@pytest.mark.parametrize(
    "main_image",
    ["javascript://%0aalert(document.cookie)", "data:text/html,<script>alert(1)</script>", "listings/{b}/{p}/a.png",
     "kettle.example.com/a.png"],
)
def test_a_listing_fix_takes_only_a_web_address_for_its_main_picture(client_a, store_a, store_b, settings, tmp_path,
                                                                      main_image):
    # A media path would make this store's picture page serve that file (another store's upload), and a
    # javascript: link would run in the product page's "link" to the picture.
    settings.MEDIA_ROOT = tmp_path
    theirs = ProductFactory(store=store_b)
    (tmp_path / f"listings/{store_b.pk}/{theirs.pk}").mkdir(parents=True)
    (tmp_path / f"listings/{store_b.pk}/{theirs.pk}/a.png").write_bytes(b"store B's picture")
    product = ProductFactory(store=store_a, title="Glass kettle 1L")
    case = make_case(store_a, product=product)
    response = client_a.post(case.get_absolute_url(), {
        "action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)",
        "main_image": main_image.format(b=store_b.pk, p=theirs.pk)})
    assert response.status_code == 400
    assert ("The main picture must be a web address starting with http:// or https:// (or empty, to keep the "
            "current picture).") in response.content.decode()
    assert not ListingVersion.objects.exists()


def test_a_listing_fix_keeps_a_web_address_for_its_main_picture(client_a, store_a):
    product = ProductFactory(store=store_a, title="Glass kettle 1L")
    case = make_case(store_a, product=product)
    response = client_a.post(case.get_absolute_url(), {
        "action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)", "main_image": "https://cdn.example.com/k.png"})
    assert response.status_code == 302
    assert ListingVersion.objects.filter(product=product).latest("started_at").main_image == (
        "https://cdn.example.com/k.png")


def test_upload_page_refuses_a_file_over_the_limits_before_any_row_is_checked(client_a, store_a, settings, media):
    settings.REVIEW_IMPORT_MAX_ROWS = 2
    data = b"external_id,rating,created_at\n" + b"".join(b"U%d,9,2026-01-01\n" % n for n in range(3))
    page = imported(client_a, store_a, data, format="csv")
    assert "Nothing was imported: 1 problem" in page
    assert "The file has 3 reviews; import at most 2 at a time: split it into smaller files." in page
    assert "rating" not in page.split("Nothing was imported")[1]  # no row was checked
    settings.REVIEW_IMPORT_MAX_BYTES = 50
    response = upload_file(client_a, store_a, data, format="csv")
    assert response.status_code == 400  # refused before it is stored
    assert "The file is 78 bytes; import at most 50 bytes at a time" in response.content.decode()
    assert not Review.objects.exists() and ImportJob.objects.count() == 1


def _a_colleague_moves_it_meanwhile(monkeypatch, to: str, user):
    """The page's request has read the case when a colleague's move to `to` commits."""
    from reviews import views
    from reviews.models import ReviewCase

    read = views.get_object_or_404

    def read_then_a_colleague_moves_it(*args, **kwargs):
        found = read(*args, **kwargs)
        ReviewCase.objects.get(pk=found.pk).transition(to, user)
        return found

    monkeypatch.setattr(views, "get_object_or_404", read_then_a_colleague_moves_it)


def test_findings_saved_while_a_colleague_resolves_the_case_cannot_drop_its_resolution(
        client_a, operator_a, store_a, monkeypatch):
    from tests.reviews.test_cases import prepare, walk_to

    case = walk_to(make_case(store_a), CaseStatus.CONTACTED, operator_a)
    prepare(case, CaseStatus.RESOLVED, operator_a)  # root cause and resolution filled in: ready to resolve
    _a_colleague_moves_it_meanwhile(monkeypatch, CaseStatus.RESOLVED, operator_a)
    response = client_a.post(case.get_absolute_url(), {"action": "findings", "root_cause": "logistics",
                                                       "resolution": ""})
    assert response.status_code == 400
    assert "A resolved case keeps its root cause and resolution." in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.resolution) == (CaseStatus.RESOLVED, "replacement")


def test_findings_of_a_case_closed_meanwhile_are_refused(client_a, operator_a, store_a, monkeypatch):
    from tests.reviews.test_cases import walk_to

    case = walk_to(make_case(store_a), CaseStatus.RESOLVED, operator_a)
    _a_colleague_moves_it_meanwhile(monkeypatch, CaseStatus.CLOSED, operator_a)
    response = client_a.post(case.get_absolute_url(), {"action": "findings", "root_cause": "service",
                                                       "resolution": "refund"})
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "Refused: The case is closed; its findings can no longer change. Nothing was changed."]
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.resolution) == (CaseStatus.CLOSED, "logistics", "replacement")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)"},
         "Refused: The case is closed; a listing fix is made from an open or resolved case. Nothing was changed."),
        ({"action": "task", "text": "Thicker foam"},
         "Refused: The case is closed; a product task is made from an open or resolved case. Nothing was changed."),
    ],
)
def test_a_closed_case_takes_no_listing_fix_or_product_task(client_a, operator_a, store_a, data, reason):
    from tests.reviews.test_cases import walk_to

    product = ProductFactory(store=store_a, title="Glass kettle 1L")
    case = walk_to(make_case(store_a, product=product), CaseStatus.CLOSED, operator_a)
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert "Create listing version" not in page and "Create task" not in page
    response = client_a.post(case.get_absolute_url(), data)
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [reason]
    assert not ListingVersion.objects.exists() and not ProductTask.objects.exists()
    product.refresh_from_db()
    assert product.title == "Glass kettle 1L"


def test_a_listing_fix_is_a_listing_change_like_the_product_pages(client_a, store_a):
    # The stores app's listing change: the listing so far is kept as the baseline the fix is compared with,
    # and the product takes the new title (lists, emails and the next fix's form show it).
    product = ProductFactory(store=store_a, title="Glass kettle 1L", detail_url="https://shop.example/kettle",
                             main_image_url="https://cdn.example.com/old.png")
    case = make_case(store_a, product=product)
    response = client_a.post(case.get_absolute_url(), {
        "action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)", "note": "Capacity clarified"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.title == "Glass kettle 1L (0.8L usable)"
    baseline, fix = product.listing_versions.order_by("started_at")
    assert (baseline.title, baseline.main_image, baseline.detail_page) == (
        "Glass kettle 1L", "https://cdn.example.com/old.png", "https://shop.example/kettle")
    assert (fix.title, fix.main_image, fix.detail_page, fix.note) == (
        "Glass kettle 1L (0.8L usable)", "https://cdn.example.com/old.png", "https://shop.example/kettle",
        "Capacity clarified")
    case.refresh_from_db()
    assert case.listing_version == fix
    again = client_a.post(case.get_absolute_url(), {"action": "listing_fix", "title": "Glass kettle 1L (0.8L usable)"})
    assert again.status_code == 400  # the same listing again starts no zero-length version
    assert "Nothing changed: this title, detail page and main picture are already the live listing" in (
        again.content.decode())
    assert product.listing_versions.count() == 2


def test_csv_export_writes_imported_text_so_a_spreadsheet_cannot_run_it(client_a, store_a):
    product = ProductFactory(store=store_a, sku="@SUM(1+1)", title='=HYPERLINK("http://evil.example","Refund")')
    case = make_case(store_a, rating=1, product=product)
    Review.objects.filter(pk=case.review_id).update(external_id="+cmd|' /C calc'!A0")
    export = client_a.get(reverse("reviews:cases_csv", args=[store_a.slug]))
    row = next(csv.DictReader(io.StringIO(export.content.decode())))
    assert row["review_id"] == "'+cmd|' /C calc'!A0"
    assert row["product_sku"] == "'@SUM(1+1)"
    assert row["product"] == '\'=HYPERLINK("http://evil.example","Refund")'
    assert row["rating"] == "1" and row["case_id"] == str(case.pk)


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_index_names_the_zone_of_each_stores_due_times(client_a, operator_a, store_a, store_b):
    from tests.factories import MembershipFactory

    MembershipFactory(store=store_b, user=operator_a, role="operator")
    opened = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    make_case(store_a, now=opened)
    make_case(store_b, now=opened)
    page = client_a.get(reverse("reviews:index")).content.decode()
    # The same due instant reads 18:00 in Shanghai and 02:00 in Los Angeles: the page says which is which.
    assert "Thu 26 Nov 18:00" in page and "Thu 26 Nov 02:00" in page
    assert "Times are each store's local time: Store A Asia/Shanghai, Store B America/Los_Angeles" in page


def test_a_deactivated_member_is_not_offered_as_product_task_owner(client_a, store_a, manager_a):
    case = make_case(store_a, rating=1, body="broken", product=ProductFactory(store=store_a))
    manager_a.is_active = False
    manager_a.save()
    url = reverse("reviews:case", args=[store_a.slug, case.pk])
    task_form = client_a.get(url).context["task_form"]
    assert list(task_form.fields["owner"].queryset.values_list("username", flat=True)) == ["op-a"]
    client_a.post(url, {"action": "task", "text": "Ask supplier for thicker foam", "owner": manager_a.pk})
    assert not ProductTask.objects.exists()


def test_report_chart_keeps_one_bar_per_product_when_titles_repeat(store_a):
    import json

    from reviews.reports import build_report, report_figures

    mug = ProductFactory(store=store_a, sku="MUG-RED", title="Tea mug")
    other_mug = ProductFactory(store=store_a, sku="MUG-BLUE", title="Tea mug")
    tin = ProductFactory(store=store_a, sku="2024", title="2024")  # a number-like title is still a category
    make_review(store_a, rating=1, product=mug)
    make_review(store_a, rating=5, product=mug)
    make_review(store_a, rating=5, product=other_mug)
    make_review(store_a, rating=2, product=tin)
    now = timezone.now()
    report = build_report(store_a, now - timedelta(days=1), now)
    chart = json.loads(report_figures(report)["products"])
    bars = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    assert bars == {"Tea mug (MUG-RED)": 50.0, "Tea mug (MUG-BLUE)": 0.0, "2024": 100.0}
    assert chart["layout"]["yaxis"]["type"] == "category"
    assert {p["product"] for p in report.by_product} == set(bars)


def test_report_chart_shortens_long_product_titles_but_keeps_two_that_would_shorten_alike_apart(store_a):
    import json

    from reviews.reports import build_report, report_figures

    for sku in ("TRAY-S", "TRAY-L"):
        tray = ProductFactory(store=store_a, sku=sku, title="Bamboo tea tray, gift-wrapped")
        make_review(store_a, rating=1, product=tray)
    make_review(store_a, rating=1, product=ProductFactory(store=store_a, title="Celadon gaiwan set with six cups"))
    now = timezone.now()
    chart = json.loads(report_figures(build_report(store_a, now - timedelta(days=1), now))["products"])
    assert sorted(chart["data"][0]["y"]) == [
        "Bamboo tea tray, gift-wrapped (TRAY-L)", "Bamboo tea tray, gift-wrapped (TRAY-S)", "Celadon gaiwan set with…"]


def test_a_bad_review_imported_without_cases_is_not_called_good_on_its_page(client_a, store_a):
    import_data = b"external_id,rating,created_at,body\nOLD-1,1,2026-01-01,arrived broken\n"
    from reviews.importers import import_reviews

    import_reviews(store_a, import_data, "csv", open_cases=False)
    review = Review.objects.get(external_id="OLD-1")
    page = client_a.get(review.get_absolute_url()).content.decode()
    assert "not bad by the store's rules" not in page
    assert "No case was opened for this bad review (rating 1)" in page


def test_a_review_that_is_not_bad_says_so_on_its_page(client_a, store_a):
    review = make_review(store_a, rating=3, body="ok, nothing special")
    page = client_a.get(review.get_absolute_url()).content.decode()
    assert "No case: this review is not bad by the store's rules." in page


def test_report_weeks_start_on_the_stores_monday_and_count_bad_reviews(store_a):
    from zoneinfo import ZoneInfo

    from reviews.reports import build_report

    sh = ZoneInfo("Asia/Shanghai")
    make_case(store_a, rating=1, body="broken", created_at=datetime(2026, 11, 8, 23, 30, tzinfo=sh))  # a Sunday
    make_review(store_a, rating=5, created_at=datetime(2026, 11, 9, 0, 30, tzinfo=sh))  # Monday, Sunday in UTC
    make_review(store_a, rating=2, created_at=datetime(2026, 11, 10, 12, tzinfo=sh))
    make_case(store_a, rating=3, body="ruim", created_at=datetime(2026, 11, 11, 12, tzinfo=sh))

    report = build_report(store_a, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))

    assert [(str(w["week"]), w["reviews"], w["bad"], w["bad_rate"]) for w in report.by_week] == [
        ("2026-11-02", 1, 1, 100.0), ("2026-11-09", 3, 2, 66.7)]


def test_a_closed_cases_findings_are_shown_read_only_not_as_fields_with_no_save_button(client_a, operator_a, store_a):
    from tests.reviews.test_cases import walk_to

    case = walk_to(make_case(store_a), CaseStatus.CLOSED, operator_a)
    form = client_a.get(case.get_absolute_url()).context["findings_form"]
    assert all(field.field.disabled for field in form)
    page = client_a.get(case.get_absolute_url()).content.decode()
    assert "Save findings" not in page
    assert re.search(r'<textarea name="situation"[^>]*disabled', page)


@pytest.mark.parametrize("page", ["index", "store"])
def test_case_lists_say_the_rating_once_and_the_words_that_opened_a_case(client_a, store_a, page):
    make_case(store_a, rating=1, body="broken")
    make_case(store_a, rating=3, body="chegou ruim")
    url = reverse("reviews:index") if page == "index" else reverse("reviews:store", args=[store_a.slug])
    cases = client_a.get(url).content.decode().split("<h2>Latest reviews</h2>")[0]

    assert "rating 1" not in cases and "1★" in cases  # the Rating column says it; the review text no more
    assert "rating 3" not in cases and "with “ruim”" in cases


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_a_stores_case_list_names_the_zone_of_its_due_times(client_a, store_a):
    make_case(store_a, now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    page = client_a.get(reverse("reviews:store", args=[store_a.slug])).content.decode()
    # As the all-stores list does: 18:00 is Shanghai's, not the reader's own clock.
    assert "Thu 26 Nov 18:00" in page and "Times are Asia/Shanghai time" in page
