"""An operator imports an order CSV in the browser: the upload answers with its job's page, which a real worker
brings to "Nothing was imported" with the bad rows named, or to "Imported" with the summary."""

import pytest

from stores.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GOOD = (b"order_id,placed_at,paid_at,total,traffic_source,sku,title,quantity,unit_price,payment_type\n"
        b"W-1,2026-11-24 10:00:00,2026-11-24 10:01:00,50.00,paid_search,MUG-1,Mug,2,25.00,alipay\n")
BAD = GOOD + b"W-2,yesterday,,10.00,billboard,MUG-1,Mug,1,10.00,\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # before the worker starts: it reads the uploads there


def test_operator_imports_orders_through_the_upload_page(media, celery_worker, page, live_server, login, screenshot,
                                                         operator_a, store_a):
    login("op-a")
    page.goto(f"{live_server.url}/stores/{store_a.slug}/")
    page.click("text=Import CSV")
    page.set_input_files("#id_file", files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": BAD}])
    page.click("button:has-text('Import')")
    alert = page.locator("[data-status=failed]")  # the page reloads itself until the worker is done
    alert.wait_for(timeout=60_000)
    assert "Nothing was imported: 2 problems" in alert.inner_text()
    assert "placed_at: 'yesterday'" in alert.inner_text()
    assert "traffic_source: 'billboard'" in alert.inner_text()
    screenshot("rejected")
    assert Order.objects.count() == 0

    page.click("text=Import another file")
    page.set_input_files("#id_file", files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": GOOD}])
    page.click("button:has-text('Import')")
    done = page.locator("[data-status=done]")
    done.wait_for(timeout=60_000)
    assert "1 created" in done.inner_text()
    screenshot("imported")
    page.goto(f"{live_server.url}/stores/{store_a.slug}/")
    assert page.locator("text=#W-1").is_visible()


def test_on_a_phone_the_recent_imports_show_each_jobs_status(page, live_server, login, operator_a, store_a):
    from stores.models import ImportJob

    for status in ("done", "failed"):
        ImportJob.objects.create(store=store_a, created_by=operator_a, kind="orders", status=status,
                                 name="orders-november-shopify-export.csv")
    login("op-a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/stores/{store_a.slug}/import/")
    cells = page.locator("td", has_text="Imported").or_(page.locator("td", has_text="Nothing was imported"))
    assert cells.count() == 2
    off_screen = page.evaluate("""[...document.querySelectorAll('.table-wrap td')]
        .filter(td => td.getBoundingClientRect().right > window.innerWidth + 1).map(td => td.textContent.trim())""")
    assert off_screen == []
