"""CSV order import: both formats, all or nothing with row numbers, nothing twice, local times."""

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from stores.importers import ImportRejected, import_orders, importers
from stores.models import ImportJob, Order, OrderStatus, Product
from stores.tasks import run_import
from stores.webhooks import shopify_signature
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_CSV = FIXTURES / "shopify_orders_export.csv"

OPSDESK_CSV = """\
order_id,placed_at,paid_at,total,traffic_source,buyer_name,buyer_phone,sku,title,quantity,unit_price,payment_type
T-1,2026-11-24 10:00:00,2026-11-24 10:01:30,75.00,paid_search,Wang Fang,13800138000,MUG-1,Mug,1,25.00,alipay
T-1,,,,,,,TEA-9,Tea tin,2,25.00,
T-2,2026-11-24T12:00:00+08:00,2026-11-24T12:05:00+08:00,25.00,direct,,,MUG-1,Mug,1,25.00,wechat
"""


def csv_bytes(text):
    return text.encode()


def test_opsdesk_columns_create_orders_lines_and_payments(store_a):
    mug = ProductFactory(store=store_a, sku="MUG-1")
    result = import_orders(store_a, csv_bytes(OPSDESK_CSV))
    assert (result.format, result.rows, result.created, result.duplicates) == ("opsdesk", 3, 2, 0)
    assert result.details == {"lines": 3, "new products": 1}
    order = Order.objects.get(store=store_a, external_id="T-1")
    assert (order.total, order.traffic_source, order.status) == (Decimal("75.00"), "paid_search", OrderStatus.PAID)
    assert [(line.sku, line.quantity, line.amount) for line in order.lines.all()] == [
        ("MUG-1", 1, Decimal("25.00")), ("TEA-9", 2, Decimal("50.00"))]
    assert order.lines.get(line_no=1).product == mug
    assert Product.objects.get(store=store_a, sku="TEA-9").title == "Tea tin"
    assert list(order.payments.values_list("type", "amount")) == [("alipay", Decimal("75.00"))]


def test_importing_the_same_file_again_adds_nothing(store_a):
    import_orders(store_a, csv_bytes(OPSDESK_CSV))
    again = import_orders(store_a, csv_bytes(OPSDESK_CSV))
    assert (again.created, again.duplicates) == (0, 2)
    assert again.details == {"lines": 0, "new products": 0}
    assert Order.objects.count() == 2
    assert sum(o.lines.count() for o in Order.objects.all()) == 3


def test_shopify_export_is_recognised_by_its_header(store_b):
    result = import_orders(store_b, SHOPIFY_CSV)
    assert (result.format, result.rows, result.created) == ("shopify", 3, 2)
    first = Order.objects.get(store=store_b, external_id="5827361900001")
    assert first.total == Decimal("71.60")
    assert first.placed_at == datetime(2026, 11, 23, 17, 15, 38, tzinfo=UTC)
    assert first.paid_at == datetime(2026, 11, 23, 17, 15, 40, tzinfo=UTC)
    assert (first.buyer_name, first.buyer_phone, first.buyer_email) == ("Jon Park", "+12135550187",
                                                                       "jon.park@example.com")
    assert [line.sku for line in first.lines.all()] == ["APRON-LIN-NAT", "WRAP-BW-3"]
    assert list(first.payments.values_list("type", flat=True)) == ["credit_card"]
    refunded = Order.objects.get(store=store_b, external_id="5827361900003")
    assert (refunded.refund_amount, refunded.status) == (Decimal("48.00"), OrderStatus.PAID)
    assert list(refunded.payments.values_list("type", flat=True)) == ["paypal"]
    assert import_orders(store_b, SHOPIFY_CSV).created == 0


def test_an_order_already_received_by_webhook_is_a_duplicate_in_the_export(client, store_b):
    store_b.webhook_secret = "shpss_b"
    store_b.save()
    payload = json.loads((FIXTURES / "shopify_order_create.json").read_text())
    payload["id"] = 5827361900001
    body = json.dumps(payload).encode()
    client.post(f"/webhooks/shopify/{store_b.slug}/orders", body, content_type="application/json",
                HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, "shpss_b"))
    result = import_orders(store_b, SHOPIFY_CSV)
    assert (result.created, result.duplicates) == (1, 1)
    assert Order.objects.count() == 2


def test_bad_rows_are_all_named_and_nothing_is_written(store_a):
    text = OPSDESK_CSV + (
        "T-3,yesterday,,10.00,,,,MUG-1,Mug,1,10.00,\n"        # row 5: bad placed_at
        "T-4,2026-11-24 10:00:00,,-5,,,,MUG-1,Mug,0,abc,\n"   # row 6: negative total, quantity 0, bad price
        "T-5,2026-11-24 10:00:00,,10.00,billboard,,,,,1,10.00,\n"  # row 7: unknown source, no sku/title
    )
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    errors = caught.value.errors
    assert (5, "placed_at: 'yesterday' is not a date and time like 2026-11-24 18:42:07 or "
               "2026-11-24T18:42:07+08:00") in errors
    assert {row for row, _ in errors} == {5, 6, 7}
    messages = " | ".join(m for _, m in errors)
    for expected in ("total: -5 is negative", "quantity: '0' is not a positive whole number",
                     "unit_price: 'abc' is not an amount", "traffic_source: 'billboard' is not one of",
                     "sku: give the line's sku or title"):
        assert expected in messages
    assert Order.objects.count() == 0
    assert Product.objects.count() == 0


def test_a_nul_character_is_refused_with_its_row_not_a_server_error(store_a):
    text = OPSDESK_CSV + "T-3,2026-11-24 10:00:00,,10.00,,,,MUG\x00-1,Mug,1,10.00,\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors == [(5, "contains a NUL character")]
    assert Order.objects.count() == 0


def test_an_unclosed_quote_running_past_the_cell_limit_is_refused_with_its_line(store_a):
    text = OPSDESK_CSV + 'T-3,2026-11-24 10:00:00,,10.00,,,,"MUG-1,Mug,1,10.00,\n' + "x" * 140_000
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    ((line, message),) = caught.value.errors
    assert line == 5 and message.startswith("unreadable CSV: field larger than field limit")
    assert Order.objects.count() == 0


def test_conflicting_order_values_on_two_rows_are_an_error(store_a):
    text = ("order_id,placed_at,total,sku,unit_price\n"
            "T-1,2026-11-24 10:00:00,50.00,MUG-1,25.00\n"
            "T-1,2026-11-24 10:00:00,60.00,MUG-1,25.00\n")
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors == [(3, "total: '60.00' differs from '50.00' on row 2 for the same order")]


def test_conflicting_buyer_phones_are_named_masked_not_whole(client_a, store_a):
    text = ("order_id,placed_at,total,buyer_phone,sku,unit_price\n"
            "T-1,2026-11-24 10:00:00,50.00,+14155550123,MUG-1,25.00\n"
            "T-1,2026-11-24 10:00:00,50.00,+14155550188,MUG-1,25.00\n")
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors == [(3, "buyer_phone: '+14*****0188' differs from '+14*****0123' on row 2 "
                                       "for the same order")]
    page = imported(client_a, store_a, text).content.decode()
    assert "+14*****0188" in page and "5550123" not in page and "5550188" not in page


def test_unknown_header_and_missing_columns_are_row_1_errors(store_a):
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes("when,what\n2026-01-01,x\n"))
    assert caught.value.errors[0][0] == 1 and "unknown order file" in caught.value.errors[0][1]
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes("order_id,unit_price\nT-1,2\n"))
    assert caught.value.errors == [(1, "missing column(s): placed_at, total")]
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, b"\xff\xfeo\x00r\x00")
    assert "not UTF-8" in caught.value.errors[0][1]


def test_other_currency_is_refused(store_a):
    text = "order_id,placed_at,total,currency,sku,unit_price\nT-1,2026-11-24 10:00:00,5.00,USD,MUG-1,5.00\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors == [(2, "currency: USD is not the store's currency CNY")]


def test_an_amount_marked_with_another_currencys_sign_is_refused_not_read_as_the_stores(store_a):
    # store_a keeps CNY: "$5.00" is five dollars, not five yuan.
    text = "order_id,placed_at,total,sku,unit_price\nT-1,2026-11-24 10:00:00,$5.00,MUG-1,¥5.00\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors == [
        (2, "total: $5.00 is marked $, but the store keeps its money in CNY: convert it first")]
    import_orders(store_a, csv_bytes(text.replace("$5.00", "￥5.00")))  # the store's own sign, full width too
    assert Order.objects.get(store=store_a, external_id="T-1").total == Decimal("5.00")


def test_times_without_offset_are_the_stores_local_time_stored_as_utc(store_a, store_b):
    text = ("order_id,placed_at,paid_at,total,sku,unit_price\n"
            "T-1,2026-03-07 10:00:00,2026-03-07 10:00:00,5.00,MUG-1,5.00\n"
            "T-2,2026-03-08 10:00:00,2026-03-08 10:00:00,5.00,MUG-1,5.00\n")
    import_orders(store_a, csv_bytes(text))  # Asia/Shanghai, UTC+8 all year
    import_orders(store_b, csv_bytes(text))  # America/Los_Angeles: PST, then PDT from 2026-03-08 02:00
    shanghai = {o.external_id: o.placed_at for o in Order.objects.filter(store=store_a)}
    los_angeles = {o.external_id: o.placed_at for o in Order.objects.filter(store=store_b)}
    assert shanghai == {"T-1": datetime(2026, 3, 7, 2, 0, tzinfo=UTC), "T-2": datetime(2026, 3, 8, 2, 0, tzinfo=UTC)}
    assert los_angeles == {"T-1": datetime(2026, 3, 7, 18, 0, tzinfo=UTC),
                           "T-2": datetime(2026, 3, 8, 17, 0, tzinfo=UTC)}
    assert all(t.utcoffset().total_seconds() == 0 for t in [*shanghai.values(), *los_angeles.values()])


def test_command_imports_and_prints_counts(store_a, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(OPSDESK_CSV)
    out = io.StringIO()
    call_command("import_csv", "orders", str(path), store=store_a.slug, stdout=out)
    assert "3 rows, 2 created, 0 already there" in out.getvalue()
    out = io.StringIO()
    call_command("import_csv", "orders", str(path), store=store_a.slug, stdout=out)
    assert "0 created, 2 already there" in out.getvalue()


def test_command_prints_every_bad_row_and_fails(store_a, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,placed_at,total,sku,unit_price\nT-1,soon,5.00,MUG-1,5.00\nT-2,,5.00,MUG-1,x\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("import_csv", "orders", str(path), store=store_a.slug, stderr=err)
    assert "row 2: placed_at: 'soon'" in err.getvalue()
    assert "row 3: placed_at: is required" in err.getvalue()
    assert "row 3: unit_price: 'x' is not an amount" in err.getvalue()
    assert Order.objects.count() == 0


def test_command_refuses_unknown_kind_and_store(store_a, tmp_path):
    with pytest.raises(CommandError, match="Unknown kind"):
        call_command("import_csv", "spaceships", str(tmp_path / "x.csv"), store=store_a.slug)
    with pytest.raises(CommandError, match="No store"):
        call_command("import_csv", "orders", str(tmp_path / "x.csv"), store="nope")
    with pytest.raises(CommandError, match="No file"):
        call_command("import_csv", "orders", str(tmp_path / "x.csv"), store=store_a.slug)


def test_orders_importer_is_registered():
    assert importers()["orders"] is import_orders


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, store, text, kind="orders"):
    return client.post(reverse("stores:import", args=[store.slug]),
                       {"kind": kind, "file": SimpleUploadedFile("orders.csv", text.encode(), "text/csv")})


def imported(client, store, text, kind="orders"):
    """Upload on the page, have the job run (the worker's task, in this process: the tests below are about
    the pages; tests/stores/test_import_jobs.py runs it on a real worker) and open its status page."""
    response = upload(client, store, text, kind)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(store=store, pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    run_import(job.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page


def test_operator_uploads_orders_on_the_import_page(client_a, store_a, operator_a):
    page = client_a.get(reverse("stores:import", args=[store_a.slug]))
    assert page.status_code == 200 and b'type="file"' in page.content
    response = upload(client_a, store_a, OPSDESK_CSV)
    assert response.status_code == 302
    job = ImportJob.objects.get(store=store_a)
    assert response["Location"] == f"/stores/{store_a.slug}/import/{job.pk}/"
    assert (job.status, job.kind, job.name, job.created_by) == ("queued", "orders", "orders.csv", operator_a)
    assert Order.objects.count() == 0  # nothing is imported inside the request
    waiting = client_a.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in waiting and 'http-equiv="refresh"' in waiting
    run_import(job.pk)
    page = client_a.get(response["Location"]).content.decode()
    assert "Imported orders (opsdesk): 3 rows, 2 created, 0 already there, 3 lines" in page
    assert 'http-equiv="refresh"' not in page
    assert Order.objects.filter(store=store_a).count() == 2
    listed = client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()
    assert f'href="/stores/{store_a.slug}/import/{job.pk}/">orders.csv</a>' in listed and "Imported" in listed


def test_upload_page_lists_bad_rows_and_imports_nothing(client_a, store_a):
    page = imported(client_a, store_a, OPSDESK_CSV + "T-3,yesterday,,10.00,,,,MUG-1,Mug,1,10.00,\n").content.decode()
    assert "Nothing was imported: 1 problem" in page
    assert "<td class=\"num\">5</td>" in page and "placed_at: &#x27;yesterday&#x27;" in page
    assert Order.objects.count() == 0


@pytest.mark.parametrize("amount", ["nan", "NaN", "-nan"])
def test_an_amount_of_nan_is_a_row_error_not_a_server_error(client_a, store_a, amount):
    page = imported(client_a, store_a, OPSDESK_CSV + f"T-3,2026-11-24 10:00:00,,{amount},,,,MUG-1,Mug,1,10.00,\n")
    assert f"total: &#x27;{amount}&#x27; is not an amount" in page.content.decode()
    assert Order.objects.count() == 0


def test_upload_page_of_another_store_is_a_404(client_a, store_b):
    assert client_a.get(reverse("stores:import", args=[store_b.slug])).status_code == 404
    assert upload(client_a, store_b, OPSDESK_CSV).status_code == 404
    assert Order.objects.count() == 0 and not ImportJob.objects.exists()


def test_another_stores_import_job_is_a_404_even_under_ones_own_store(client_a, store_a, store_b):
    theirs = ImportJob.objects.create(store=store_b, kind="orders", name="theirs.csv", status="failed",
                                      errors=[[2, "buyer_phone: '+14*****0188' differs"]], error_count=1)
    assert client_a.get(reverse("stores:import_job", args=[store_b.slug, theirs.pk])).status_code == 404
    assert client_a.get(reverse("stores:import_job", args=[store_a.slug, theirs.pk])).status_code == 404
    assert "theirs.csv" not in client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()


def test_a_refused_json_file_names_its_items_not_rows_under_a_header(client_a, store_a):
    # A JSON review file's problems are numbered by item: "row 1 is the header" sent the operator to the wrong one.
    page = {}
    for name in ("reviews.json", "reviews.csv"):
        job = ImportJob.objects.create(store=store_a, kind="reviews", name=name, status="failed",
                                       errors=[[2, "rating: 7 is not 1 to 5"]], error_count=1)
        page[name] = client_a.get(job.get_absolute_url()).content.decode()
    assert "item 1 is the file's first" in page["reviews.json"] and "row 1 is the header" not in page["reviews.json"]
    assert '<th class="num">Item</th>' in page["reviews.json"]
    assert "row 1 is the header" in page["reviews.csv"] and '<th class="num">Row</th>' in page["reviews.csv"]


def test_upload_page_needs_a_login(client, store_a):
    response = client.get(reverse("stores:import", args=[store_a.slug]))
    assert response.status_code == 302 and "login" in response["Location"]


VIOLATIONS_CSV = ("external_id,kind,occurred_at,points,amount\n"
                  "V-1,Late shipment,2026-05-04 10:00,2,50\n"
                  "V-2,Fake tracking number,2026-05-04 11:30,6,300.5\n")


def test_violations_are_an_import_kind_like_orders(store_a, tmp_path):
    path = tmp_path / "penalties.csv"
    path.write_text(VIOLATIONS_CSV)
    out = io.StringIO()
    call_command("import_csv", "violations", str(path), store=store_a.slug, stdout=out)
    assert "violations (opsdesk): 2 rows, 2 created, 0 already there" in out.getvalue()
    call_command("import_csv", "violations", str(path), store=store_a.slug, stdout=out)
    assert "2 rows, 0 created, 2 already there" in out.getvalue()
    assert store_a.violations.count() == 2
    path.write_text(VIOLATIONS_CSV + "V-3,,someday,-1,1000000000000000\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 problem"):
        call_command("import_csv", "violations", str(path), store=store_a.slug, stderr=err)
    assert "row 4: kind: is empty" in err.getvalue() and "row 4: amount:" in err.getvalue()
    assert store_a.violations.count() == 2


def test_violations_upload_on_the_import_page_with_every_bad_row(client_a, store_a):
    assert "violations (opsdesk): 2 rows, 2 created" in imported(client_a, store_a, VIOLATIONS_CSV,
                                                                 kind="violations").content.decode()
    assert store_a.violations.count() == 2
    page = imported(client_a, store_a, "external_id;kind;occurred_at;points;amount\n", kind="violations")
    assert "must be comma-separated" in page.content.decode()


@pytest.mark.parametrize("kind, text", [
    ("orders", "order_id,placed_at,total,unit_price,title\n1,2026-01-01 10:00,1,1," + "x" * 200_000 + "\n"),
    ("violations", "external_id,kind,occurred_at,points,amount\nV1," + "x" * 200_000 + ",2026-01-01 10:00,1,1\n"),
])
def test_a_value_longer_than_csv_reads_is_refused_on_the_page_not_a_server_error(client_a, store_a, kind, text):
    response = imported(client_a, store_a, text, kind=kind)
    row = '<td class="num">2</td><td>unreadable CSV: field larger than field limit (131072)</td>'
    assert row in response.content.decode()
    assert not store_a.orders.exists() and not store_a.violations.exists()


# --- times and amounts an order cannot have -------------------------------------------------------

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADER = "order_id,placed_at,paid_at,refunded_at,refund_amount,total,sku,unit_price\n"


def refusals(store, rows):
    with pytest.raises(ImportRejected) as caught:
        import_orders(store, csv_bytes(HEADER + rows))
    assert Order.objects.count() == 0
    return caught.value.errors


@time_machine.travel(NOW, tick=False)
def test_an_order_placed_or_paid_in_the_future_is_refused(store_a):
    errors = refusals(store_a, "F-1,2030-01-01 10:00,2030-01-01 10:00,,,5.00,MUG-1,5.00\n")
    assert errors == [
        (2, "placed_at: '2030-01-01 10:00' is in the future; give the time it happened"),
        (2, "paid_at: '2030-01-01 10:00' is in the future; give the time it happened"),
    ]


@time_machine.travel(NOW, tick=False)
def test_a_time_a_little_ahead_of_our_clock_is_taken_as_clock_skew(store_a):
    import_orders(store_a, csv_bytes(HEADER + "S-1,2026-11-26T12:50:00+00:00,,,,5.00,MUG-1,5.00\n"))
    assert Order.objects.get().placed_at == datetime(2026, 11, 26, 12, 50, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_an_order_paid_before_it_was_placed_or_refunded_before_it_was_paid_is_refused(store_a):
    errors = refusals(store_a, "P-1,2026-11-25 10:05,2026-11-25 09:00,,,5.00,MUG-1,5.00\n"
                               "P-2,2026-11-25 10:05,2026-11-25 10:06,2026-11-25 10:00,5.00,5.00,MUG-1,5.00\n")
    assert errors == [
        (2, "paid_at: '2026-11-25 09:00' is before placed_at '2026-11-25 10:05'; an order is paid after it is placed"),
        (3, "refunded_at: '2026-11-25 10:00' is before paid_at '2026-11-25 10:06'; a refund comes after the payment"),
    ]


@time_machine.travel(NOW, tick=False)
def test_a_shopify_order_created_in_the_future_is_refused(store_b):
    text = ("Name,Created at,Paid at,Financial Status,Total,Lineitem quantity,Lineitem price\n"
            "#1,2030-01-01 10:00:00 -0800,,pending,5.00,1,5.00\n")
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_b, csv_bytes(text))
    assert caught.value.errors == [
        (2, "Created at: '2030-01-01 10:00:00 -0800' is in the future; give the time it happened")]


@time_machine.travel(NOW, tick=False)
def test_a_local_time_the_clocks_skip_is_refused(store_b):
    errors = refusals(store_b, "D-1,2026-03-08 02:30,,,,5.00,MUG-1,5.00\n")  # Los Angeles springs 02:00 → 03:00
    assert errors == [(2, "placed_at: '2026-03-08 02:30' does not exist in America/Los_Angeles: the clocks jump "
                          "forward over it that night; check the time, or give it with its offset")]


@time_machine.travel(NOW, tick=False)
def test_a_local_time_that_happens_twice_is_refused_until_its_offset_says_which(store_b):
    errors = refusals(store_b, "D-2,2026-11-01 01:30,,,,5.00,MUG-1,5.00\n")  # 01:00–02:00 twice: PDT, then PST
    assert errors == [(2, "placed_at: '2026-11-01 01:30' happens twice in America/Los_Angeles (the clocks go back "
                          "that night): give its offset, -07:00 for the first or -08:00 for the second, like "
                          "2026-11-01T01:30:00-07:00")]
    import_orders(store_b, csv_bytes(HEADER + "D-2,2026-11-01T01:30:00-08:00,,,,5.00,MUG-1,5.00\n"))
    assert Order.objects.get().placed_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_a_total_no_column_holds_is_named_with_every_other_bad_row(store_a):
    rows = "".join(f"B-{n},yesterday,,,,5.00,MUG-1,5.00\n" for n in range(7))  # rows 2–8: 7 problems
    rows += "B-7,2026-11-25 10:05,,,,99999999999999999,MUG-1,5.00\n"          # row 9
    errors = refusals(store_a, rows)
    assert len(errors) == 8
    assert errors[-1] == (9, "total: 99999999999999999 is too large (at most 999,999,999,999.99)")


@time_machine.travel(NOW, tick=False)
def test_a_line_amount_too_large_for_its_column_is_named_with_every_other_bad_row(store_a):
    text = ("order_id,placed_at,total,sku,quantity,unit_price\n"
            "B-1,yesterday,5.00,MUG-1,1,5.00\n"
            "B-2,2026-11-25 10:05,5.00,MUG-1,2,999999999999.00\n")  # each price fits, the line's amount does not
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, csv_bytes(text))
    assert caught.value.errors[1] == (3, "line 1 amount 1999999999998.00 is too large (at most 999,999,999,999.99)")


class Unread(io.BytesIO):
    """An upload that knows its size; reading it fails the test (a big file is refused by its size alone)."""

    size = 100 * 2**20

    def read(self, *args):
        raise AssertionError("the file was read")


def test_an_order_file_over_the_byte_limit_is_refused_before_it_is_read(store_a, client_a, settings, tmp_path):
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, Unread())
    assert caught.value.errors == [(1, "The file is 100.0 MB; import at most 64 MB at a time: split it into smaller "
                                       "files.")]
    settings.ORDER_IMPORT_MAX_BYTES = 100
    response = upload(client_a, store_a, OPSDESK_CSV + "T-3,yesterday,,10.00,,,,MUG-1,Mug,1,10.00,\n")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 1 problem" in page
    assert "The file is 395 bytes; import at most 100 bytes at a time: split it into smaller files." in page
    assert "yesterday" not in page  # no row was checked
    path = tmp_path / "orders.csv"
    path.write_text(OPSDESK_CSV, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_csv", "orders", str(path), store=store_a.slug, stderr=err)
    assert "split it into smaller files." in err.getvalue()
    assert Order.objects.count() == 0


def test_an_order_file_over_the_row_limit_is_refused_before_any_row_is_checked(client_a, store_a, settings):
    settings.ORDER_IMPORT_MAX_ROWS = 3
    page = imported(client_a, store_a, OPSDESK_CSV + "T-3,yesterday,,10.00,,,,MUG-1,Mug,1,10.00,\n").content.decode()
    assert ("The file has 4 rows; import at most 3 at a time: split it into smaller files (an order&#x27;s lines "
            "in the same file).") in page
    assert "yesterday" not in page
    assert "2 created" in imported(client_a, store_a, OPSDESK_CSV).content.decode()  # 3 rows: at the limit


def big_order_file(orders: int, paid: bool = True) -> str:
    rows = [f"B-{n},2026-11-20 10:00:00,{'2026-11-20 10:05:00' if paid else ''},30.00,+86138{n:08d},SKU-{n % 50},"
            f"Thing {n % 50},1,20.00\nB-{n},,,,,SKU-X,Extra,1,10.00\n" for n in range(orders)]
    return "order_id,placed_at,paid_at,total,buyer_phone,sku,title,quantity,unit_price\n" + "".join(rows)


def test_a_large_file_is_written_in_batches_not_a_few_queries_per_order(store_a, django_assert_max_num_queries):
    # 600 orders, 1,200 lines, 51 new products, 600 members: one by one this took about 17,000 queries.
    with django_assert_max_num_queries(120):
        result = import_orders(store_a, csv_bytes(big_order_file(600)))
    assert (result.created, result.details) == (600, {"lines": 1200, "new products": 51})
    assert store_a.orders.get(external_id="B-7").lines.count() == 2
    assert store_a.members.count() == 600 and store_a.members.filter(orders_count=1).count() == 600
    with django_assert_max_num_queries(20):  # the same file again: every order already there, nothing to move
        again = import_orders(store_a, csv_bytes(big_order_file(600)))
    assert (again.created, again.duplicates) == (0, 600)
    later = import_orders(store_a, csv_bytes(big_order_file(600, paid=False).replace("B-", "U-")))
    paid_now = import_orders(store_a, csv_bytes(big_order_file(600).replace("B-", "U-")))  # paid since: moves on
    assert (later.created, paid_now.created, paid_now.duplicates) == (600, 0, 600)
    assert not store_a.orders.filter(paid_at__isnull=True).exists()
    assert store_a.members.get(phone="+8613800000007").orders_count == 2


def test_an_imports_summary_writes_its_counts_as_the_pages_do():
    from stores.importers import ImportResult

    result = ImportResult(kind="orders", format="opsdesk", rows=20_000, created=19_500, duplicates=500,
                          details={"lines": 24_000, "new products": 1})
    # Thousands separated as the progress line beside it ("20,000 of 20,000 rows"); one product is no "products".
    assert result.summary() == ("orders (opsdesk): 20,000 rows, 19,500 created, 500 already there, 24,000 lines, "
                                "1 new product.")


def test_the_days_an_import_updated_are_said_as_runs_not_one_by_one():
    from datetime import date, timedelta

    from metrics.rollup import refreshed_note

    november = [date(2026, 11, 1) + timedelta(days=n) for n in range(20)]
    assert refreshed_note(november) == " Daily numbers of 1–20 Nov 2026 updated."
    assert refreshed_note([date(2026, 11, 25)]) == " Daily numbers of 25 Nov 2026 updated."
    assert refreshed_note([date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 6)]) == (
        " Daily numbers of 3 Nov 2026, 5–6 Nov 2026 updated.")
    assert refreshed_note([date(2026, 11, 30), date(2026, 12, 1)]) == " Daily numbers of 30 Nov – 1 Dec 2026 updated."
    assert refreshed_note([date(2026, 12, 31), date(2027, 1, 1)]) == (
        " Daily numbers of 31 Dec 2026 – 1 Jan 2027 updated.")


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_an_import_jobs_page_says_when_it_was_uploaded_in_the_stores_time(client_a, store_a, operator_a):
    with time_machine.travel(datetime(2026, 11, 27, 17, 55, tzinfo=UTC), tick=False):
        job = ImportJob.objects.create(store=store_a, created_by=operator_a, kind="orders", name="orders.csv",
                                       status="done", summary="orders (opsdesk): 3 rows, 2 created, 0 already there.")
        jobs = client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()
    page = client_a.get(job.get_absolute_url()).content.decode()
    # 17:55 UTC is 01:55 the next morning in Shanghai, the store's time every other page of the store shows.
    assert "uploaded Sat 28 Nov 01:55 (Asia/Shanghai time) by op-a" in page
    assert "<th>Uploaded (Asia/Shanghai time)</th>" in jobs and "Sat 28 Nov 01:55" in jobs


def test_the_import_page_and_a_jobs_page_link_back_to_the_store(client_a, store_a, operator_a):
    job = ImportJob.objects.create(store=store_a, created_by=operator_a, kind="orders", name="orders.csv",
                                   status="done", summary="orders (opsdesk): 3 rows, 2 created, 0 already there.")
    back = f'<a href="{store_a.get_absolute_url()}">← Store A</a>'
    assert back in client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()
    assert back in client_a.get(job.get_absolute_url()).content.decode()


def test_the_import_pages_button_is_the_primary_one_as_on_the_other_upload_forms(client_a, store_a):
    page = client_a.get(reverse("stores:import", args=[store_a.slug])).content.decode()
    form = page[page.index('enctype="multipart/form-data"'):]
    assert re.findall(r"<button[^>]*>[^<]*</button>", form[:form.index("</form>")]) == [
        '<button class="primary" type="submit">Import</button>']


def test_text_that_names_an_existing_file_is_read_as_csv_never_opened(store_a, tmp_path):
    # A str is always the CSV itself: a one-line paste (or a first line) that happens to be a path on the server's
    # disk is refused as an unknown file, not imported from that file.
    path = tmp_path / "orders.csv"
    path.write_text(OPSDESK_CSV, encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, str(path))
    assert caught.value.errors[0][0] == 1 and "unknown order file" in caught.value.errors[0][1]
    assert Order.objects.count() == 0
    assert import_orders(store_a, path).created == 2  # a Path is a file


def test_a_header_alone_given_as_one_line_of_text_imports_no_rows(store_a):
    result = import_orders(store_a, "order_id,placed_at,total,sku,unit_price")
    assert (result.rows, result.created) == (0, 0)



def test_a_file_read_line_by_line_still_says_not_utf8_first_with_the_bytes_place_in_the_whole_file(store_a):
    # Row 2 has a value too many, row 3 a byte no UTF-8 text has: the file's encoding is what is named, at its
    # offset in the file (after the BOM), though the rows before it were read first.
    text = b"\xef\xbb\xbforder_id,placed_at,total,sku,unit_price\nT-1,2026-11-24 10:00,5.00,MUG-1,5.00,9\nT-\xff\n"
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, io.BytesIO(text))
    assert caught.value.errors == [(1, "the file is not UTF-8 text (invalid start byte at byte 81)")]
    with pytest.raises(ImportRejected) as caught:
        import_orders(store_a, text.replace(b"\xff", b"\x00"))
    assert caught.value.errors == [(3, "contains a NUL character")]
