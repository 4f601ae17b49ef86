"""Importing reviews: the real Olist export, opsdesk CSV, Shopify-style JSON; idempotent, all-or-nothing."""

import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from reviews.importers import ReviewImportError, import_reviews
from reviews.models import Review, ReviewCase
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, StoreFactory


@pytest.fixture
def olist_store(db):
    return StoreFactory(slug="olist", platform="olist", country="BR", timezone="America/Sao_Paulo", currency="BRL")


@pytest.fixture
def olist_reviews(olist_dir):
    path = olist_dir / "olist_order_reviews_dataset.csv"
    return path, pd.read_csv(path, dtype=str, keep_default_na=False)


def test_real_olist_reviews_import_matches_an_independent_pandas_read(olist_store, olist_reviews):
    path, df = olist_reviews
    unique = df.drop_duplicates("review_id")
    linked_ids = list(unique.order_id.iloc[:40])
    product = ProductFactory(store=olist_store, sku="olist-prod")
    for order_id in linked_ids:
        OrderLineFactory(order=OrderFactory(store=olist_store, external_id=order_id), product=product)

    result = import_reviews(olist_store, path, "olist")

    assert result.rows == len(df)
    assert result.created == Review.objects.filter(store=olist_store).count() == unique.review_id.nunique()
    assert len(result.duplicates_in_file) == df.review_id.duplicated().sum() > 0
    reviews_of_linked = unique.order_id.isin(linked_ids).sum()  # an order may have more than one review
    assert result.linked_orders == result.linked_products == reviews_of_linked
    assert len(result.unmatched_orders) == len(unique) - reviews_of_linked
    stored = dict(Review.objects.filter(store=olist_store).values_list("external_id", "rating"))
    assert stored == {r.review_id: int(r.review_score) for r in unique.itertuples()}
    bad = (unique.review_score.astype(int) <= 2).sum()
    assert ReviewCase.objects.filter(store=olist_store, review__rating__lte=2).count() == bad
    assert not ReviewCase.objects.filter(store=olist_store, review__rating__gte=4).exists()


def test_olist_multiline_portuguese_text_and_empty_text_survive(olist_store, olist_reviews):
    path, df = olist_reviews
    import_reviews(olist_store, path, "olist")
    multiline = df[df.review_comment_message.str.contains("\n")].iloc[0]
    assert Review.objects.get(external_id=multiline.review_id).body == multiline.review_comment_message.strip()
    empty = df[(df.review_comment_message == "") & (df.review_comment_title == "")].iloc[0]
    review = Review.objects.get(external_id=empty.review_id)
    assert (review.title, review.body) == ("", "")
    accented = df[df.review_comment_message.str.contains("ã")].iloc[0]
    assert "ã" in Review.objects.get(external_id=accented.review_id).body


def test_olist_local_times_are_read_in_the_stores_zone_across_brazilian_dst(olist_store, olist_reviews):
    path, _ = olist_reviews
    import_reviews(olist_store, path, "olist")
    # 2018-01-18 was in Brazilian summer time (UTC-2); 2018-03-10 was not (UTC-3).
    assert Review.objects.get(external_id="7bc2406110b926393aa56f80a40eba40").created_at == datetime(
        2018, 1, 18, 2, tzinfo=UTC)
    assert Review.objects.get(external_id="80e641a11e56f04c1ad469d5645fdfde").created_at == datetime(
        2018, 3, 10, 3, tzinfo=UTC)


def test_reimporting_olist_adds_nothing(olist_store, olist_reviews):
    path, _ = olist_reviews
    first = import_reviews(olist_store, path, "olist")
    cases = ReviewCase.objects.count()
    again = import_reviews(olist_store, path, "olist")
    assert again.created == 0 and again.cases_opened == 0
    assert again.already_imported == first.created
    assert Review.objects.count() == first.created and ReviewCase.objects.count() == cases


def test_one_bad_olist_row_writes_nothing_and_names_its_row(olist_store, olist_reviews, tmp_path):
    path, df = olist_reviews
    i = 1000
    victim = df.iloc[i]
    raw = path.read_text(encoding="utf-8")
    needle = f'"{victim.review_id}","{victim.order_id}",{victim.review_score},'
    assert raw.count(needle) == 1
    broken = tmp_path / "reviews.csv"
    broken.write_text(raw.replace(needle, needle[: -len(victim.review_score) - 1] + "cinco,"), encoding="utf-8")

    with pytest.raises(ReviewImportError) as caught:
        import_reviews(olist_store, broken, "olist")

    assert [(e.row, e.column) for e in caught.value.errors] == [(i + 2, "review_score")]
    assert "cinco" in str(caught.value)
    assert not Review.objects.exists() and not ReviewCase.objects.exists()


def test_command_imports_and_reports_unmatched_keys(olist_store, tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("external_id,rating,title,body,created_at,order_id,sku\n"
                    'A1,5,Great,"Loved it,\nreally",2024-03-01 10:00,NOPE-1,\n'
                    "A2,2,,arrived broken,2024-03-02T10:00:00+08:00,,SKU-MISSING\n", encoding="utf-8")
    call_command("import_reviews", str(path), "--store", "olist")
    out = capsys.readouterr().out
    assert "2 reviews created" in out and "1 cases opened" in out
    assert "row 2: unmatched order NOPE-1" in out and "row 3: unmatched product SKU-MISSING" in out
    assert Review.objects.get(external_id="A1").body == "Loved it,\nreally"
    assert Review.objects.get(external_id="A2").created_at == datetime(2024, 3, 2, 2, tzinfo=UTC)


def test_command_refuses_a_file_with_bad_rows_and_names_them(olist_store, tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("external_id,rating,created_at\nA1,5,2024-03-01\n,7,yesterday\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_reviews", str(path), "--store", "olist")
    err = capsys.readouterr().err
    assert "row 3, external_id: is empty" in err and "row 3, rating" in err and "row 3, created_at" in err
    assert not Review.objects.exists()


def test_csv_missing_required_column_is_a_file_error(olist_store):
    with pytest.raises(ReviewImportError, match="missing column"):
        import_reviews(olist_store, b"id,stars\n1,5\n", "csv")


def test_shopify_style_json_links_product_order_and_member(store_a):
    from members.models import Member

    product = ProductFactory(store=store_a, sku="TEA-1")
    order = OrderFactory(store=store_a, external_id="5001", buyer_phone="+8613800138000")
    member = Member.objects.create(store=store_a, phone="+8613800138000", joined_at=order.placed_at)
    email_member = Member.objects.create(store=store_a, phone="+8613900139000", email="li@example.com",
                                         joined_at=order.placed_at)
    payload = {"reviews": [
        {"id": 9001, "rating": 1, "title": "差", "body": "茶叶包装破损", "created_at": "2024-05-01T09:00:00+08:00",
         "product_external_id": "TEA-1", "order_id": "5001"},
        {"id": 9002, "rating": 5, "title": "", "body": "", "created_at": "2024-05-02T09:00:00Z",
         "sku": "TEA-1", "reviewer": {"email": "LI@example.com"}},
    ]}
    result = import_reviews(store_a, json.dumps(payload).encode(), "json")
    first, second = Review.objects.get(external_id="9001"), Review.objects.get(external_id="9002")
    assert (first.product, first.order, first.member) == (product, order, member)
    assert (second.product, second.member) == (product, email_member)
    assert result.cases_opened == 1 and first.case.reason == "rating 1"


def test_a_reviewer_email_finds_the_member_whatever_the_case_the_member_was_stored_with(store_a):
    from members.models import Member

    # Enrolment keeps the buyer's email as the order gave it (Shopify: as the buyer typed it).
    member = Member.objects.create(store=store_a, phone="+8613900139000", email="Li.Wei@Example.com",
                                   joined_at=datetime(2024, 4, 1, tzinfo=UTC))
    payload = [{"id": "r1", "rating": 1, "created_at": "2024-05-02T09:00:00Z",
                "reviewer": {"email": "li.wei@example.com"}}]
    result = import_reviews(store_a, json.dumps(payload).encode(), "json")
    assert Review.objects.get(external_id="r1").member == member
    assert result.linked_members == 1


def test_json_list_from_an_api_is_all_or_nothing_with_item_numbers(store_a):
    items = [{"id": "a", "rating": 4, "created_at": "2024-05-01T09:00:00Z"},
             {"id": "b", "rating": 0, "created_at": "2024-05-01T09:00:00Z"}]
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(store_a, items)
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "rating")]
    assert not Review.objects.exists()


def test_same_external_id_in_two_stores_is_two_reviews(store_a, store_b):
    items = [{"id": "same", "rating": 4, "created_at": "2024-05-01T09:00:00Z"}]
    import_reviews(store_a, items)
    import_reviews(store_b, items)
    assert Review.objects.filter(external_id="same").count() == 2


def test_a_review_dated_in_the_future_is_refused_with_its_row_and_nothing_is_written(store_a):
    now = datetime(2026, 10, 31, 12, 47, tzinfo=UTC)
    data = (b"external_id,rating,title,body,created_at\n"
            b"F1,5,,,2026-10-31T12:00:00Z\n"
            b"F2,5,Great,,2027-03-01T09:00:00Z\n")
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(store_a, data, "csv", now=now)
    assert [str(e) for e in caught.value.errors] == ["row 3, created_at: is in the future, got '2027-03-01T09:00:00Z'"]
    assert not Review.objects.exists()


def test_a_review_a_few_minutes_ahead_of_our_clock_is_accepted(store_a):
    now = datetime(2026, 10, 31, 12, 47, tzinfo=UTC)
    items = [{"id": "skew", "rating": 4, "created_at": "2026-10-31T13:30:00Z"}]
    assert import_reviews(store_a, items, now=now).created == 1


def test_an_unknown_sku_is_listed_as_unmatched_and_the_review_kept_without_a_product(store_a):
    items = [{"id": "n1", "rating": 4, "created_at": "2024-05-01T09:00:00Z", "sku": "NO-SUCH-SKU"}]
    result = import_reviews(store_a, items)
    assert result.unmatched_products == [(1, "NO-SUCH-SKU")]
    assert Review.objects.get(external_id="n1").product is None


# --- clock changes: opsdesk's CSV and the JSON refuse a local time that is skipped or shown twice ---------------

LA_NOW = datetime(2026, 12, 1, tzinfo=UTC)  # store B is in America/Los_Angeles


def refused(store, source, fmt) -> list[str]:
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(store, source, fmt, now=LA_NOW)
    return [str(e) for e in caught.value.errors]


def test_a_csv_review_time_the_clocks_skip_is_a_row_error_and_nothing_is_stored(store_b):
    text = b"external_id,rating,created_at\nR-1,5,2026-03-07 10:00\nR-2,1,2026-03-08 02:30\n"
    (error,) = refused(store_b, text, "csv")
    assert error.startswith("row 3, created_at: '2026-03-08 02:30' does not exist in America/Los_Angeles")
    assert Review.objects.count() == 0


def test_a_json_review_time_the_clocks_show_twice_is_an_error_naming_both_offsets(store_b):
    items = [{"id": "J-1", "rating": 2, "created_at": "2026-11-01T01:30:00"}]
    (error,) = refused(store_b, items, "json")
    assert error.startswith("row 1, created_at: '2026-11-01T01:30:00' happens twice in America/Los_Angeles")
    assert "-07:00 for the first or -08:00 for the second" in error
    assert Review.objects.count() == 0


def test_a_repeated_local_time_with_its_offset_is_taken(store_b):
    items = [{"id": "J-1", "rating": 5, "created_at": "2026-11-01T01:30:00-08:00"}]
    import_reviews(store_b, items, "json", now=LA_NOW)
    assert Review.objects.get().created_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_a_time_that_is_no_date_still_says_iso_8601(store_b):
    text = b"external_id,rating,created_at\nR-1,5,07/03/2026\n"
    assert refused(store_b, text, "csv") == ["row 2, created_at: is not a date-time (ISO 8601), got '07/03/2026'"]


def test_olists_export_keeps_reading_a_repeated_local_time_as_it_did(db):
    store = StoreFactory(slug="olist-dst", platform="olist", country="BR", timezone="America/Sao_Paulo")
    # Brazil last changed its clocks in February 2019: 23:30 on 16 Feb 2019 happened twice in São Paulo.
    text = (b"review_id,order_id,review_score,review_comment_title,review_comment_message,review_creation_date,"
            b"review_answer_timestamp\nr1,o1,5,,,2019-02-16 23:30:00,\n")
    assert import_reviews(store, text, "olist", now=LA_NOW).created == 1
    assert Review.objects.get().created_at == datetime(2019, 2, 17, 1, 30, tzinfo=UTC)  # the first, at -02:00


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "0001-01-01 01:00:00+03:00"])
def test_an_olist_time_that_falls_off_the_calendar_is_a_row_error_and_nothing_is_stored(olist_store, when):
    # Stored, it was a timestamp before year 1 that no page could read back: the store's review pages were 500s.
    text = (b"review_id,order_id,review_score,review_comment_title,review_comment_message,review_creation_date,"
            b"review_answer_timestamp\nr1,o1,1,,," + when.encode() + b",\n")
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(olist_store, text, "olist", now=LA_NOW)
    assert [str(e) for e in caught.value.errors] == [f"row 2, review_creation_date: {when!r} is out of range"]
    assert not Review.objects.exists()


class Unread(io.BytesIO):
    """An upload that knows its size; reading it fails the test (a big file is refused by its size alone)."""

    size = 50 * 2**20
    name = "reviews.csv"

    def read(self, *args):
        raise AssertionError("the file was read")


def test_a_review_file_over_the_byte_limit_is_refused_before_it_is_read(olist_store, tmp_path, settings, capsys):
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(olist_store, Unread(), "csv")
    assert [str(e) for e in caught.value.errors] == [
        "file: The file is 50.0 MB; import at most 32 MB of reviews at a time: split it into smaller files."]
    settings.REVIEW_IMPORT_MAX_BYTES = 40
    path = tmp_path / "r.csv"
    path.write_text("external_id,rating,created_at\nA1,5,2024-03-01\nA2,9,2024-03-01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_reviews", str(path), "--store", "olist")
    err = capsys.readouterr().err
    assert "The file is 62 bytes; import at most 40 bytes of reviews at a time" in err and "rating" not in err
    assert not Review.objects.exists()


def test_a_review_file_over_the_row_limit_is_refused_before_any_row_is_checked(olist_store, settings):
    settings.REVIEW_IMPORT_MAX_ROWS = settings.REVIEW_BATCH_MAX_ROWS = 2  # a file's limit, an API batch's
    bad = [{"id": f"J{n}", "rating": 9, "created_at": "2024-03-01"} for n in range(3)]  # 9: a row error if checked
    sources = [
        (b"external_id,rating,created_at\n" + b"".join(b"A%d,9,2024-03-01\n" % n for n in range(3)), "csv", "file"),
        (b"review_id,order_id,review_score,review_creation_date\n"
         + b"".join(b"A%d,O%d,9,2024-03-01\n" % (n, n) for n in range(3)), "olist", "file"),
        (json.dumps(bad).encode(), "json", "file"),
        (bad, None, "batch"),  # the API's
    ]
    for source, fmt, what in sources:
        plural = "batches" if what == "batch" else "files"
        with pytest.raises(ReviewImportError) as caught:
            import_reviews(olist_store, source, fmt)
        assert [str(e) for e in caught.value.errors] == [
            f"file: The {what} has 3 reviews; import at most 2 at a time: split it into smaller {plural}."]
    good = [dict(item, rating=5) for item in bad[:2]]
    assert import_reviews(olist_store, good).created == 2  # at the limit: imported


def test_an_unreadable_csv_row_is_numbered_as_a_record_after_multi_line_texts(store_a):
    huge = "x" * 200_000  # over the csv module's field limit: the row cannot be read
    text = ('external_id,rating,created_at,body\n'
            'R-1,3,2026-01-01,"line one\nline two\nline three"\n'
            'R-2,4,2026-01-02,"ok\nfine"\n'
            f'R-3,1,2026-01-03,"{huge}"\n').encode()
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(store_a, text, "csv")
    (error,) = caught.value.errors
    assert str(error).startswith("row 4: unreadable CSV")  # header 1, R-1 2, R-2 3 (not physical line 7)
    assert Review.objects.count() == 0


def test_a_blank_line_counts_as_a_row_like_in_a_spreadsheet_and_the_order_import(store_a):
    text = b"external_id,rating,created_at\nR-1,5,2026-01-01\n\nR-2,9,2026-01-02\n"
    with pytest.raises(ReviewImportError) as caught:
        import_reviews(store_a, text, "csv")
    assert [str(e) for e in caught.value.errors] == ["row 4, rating: must be a whole number from 1 to 5, got '9'"]


def test_text_that_names_an_existing_review_file_is_read_as_csv_never_opened(store_a, tmp_path):
    # A str is the file's text, whatever it looks like; a pathlib.Path is a file to read.
    path = tmp_path / "reviews.csv"
    path.write_text("external_id,rating,created_at\nR-1,1,2026-01-01T10:00:00+08:00\n", encoding="utf-8")
    with pytest.raises(ReviewImportError):
        import_reviews(store_a, str(path), "csv")
    assert not Review.objects.exists()
    assert import_reviews(store_a, path, "csv").created == 1
