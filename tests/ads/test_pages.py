"""Paid-promotion pages: plans, imports, creatives and launches, each scoped to the user's stores."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import AdCreative, AdPlan, LaunchPlan
from stores.models import ImportJob, ListingVersion, Product
from tests.factories import MembershipFactory, ProductFactory

from .conftest import AdDailyFactory, AdPlanFactory, imported, png_bytes, upload_report

pytestmark = pytest.mark.django_db


def test_list_shows_own_plans_with_derived_metrics(client_a, search_plan, plan_b):
    AdDailyFactory(plan=search_plan, date=search_plan.store.today())
    response = client_a.get(reverse("campaigns:ads"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Longjing search" in body and "B search" not in body
    assert "5.00\u00a0%" in body  # CTR 50 / 1000
    assert "4.00×" in body  # ROAS 400 / 100, written as everywhere else (daily page, email)


def test_list_of_stores_in_different_currencies_names_each_amounts_currency(client_a, search_plan, operator_a,
                                                                             store_b):
    MembershipFactory(store=store_b, user=operator_a)
    us_plan = AdPlanFactory(store=store_b, name="US search", daily_budget=Decimal("80.00"))
    AdDailyFactory(plan=search_plan, date=search_plan.store.today())
    AdDailyFactory(plan=us_plan, date=store_b.today(), spend=Decimal("30.00"), sales=Decimal("90.00"))
    body = client_a.get(reverse("campaigns:ads")).content.decode()
    assert "240.00\u00a0CNY" in body and "100.00\u00a0CNY" in body and "400.00\u00a0CNY" in body
    assert "80.00\u00a0USD" in body and "30.00\u00a0USD" in body and "90.00\u00a0USD" in body
    assert "0.60\u00a0USD" in body  # CPC 30 / 50 clicks


def test_list_of_several_stores_groups_plans_by_store_then_name(client_a, operator_a, store_a, store_b):
    MembershipFactory(store=store_b, user=operator_a)
    for store, name in [(store_a, "Search"), (store_b, "Affiliate"), (store_a, "Display"), (store_b, "Social")]:
        AdPlanFactory(store=store, name=name)
    rows = client_a.get(reverse("campaigns:ads")).context["rows"]
    assert [(r.plan.store.name, r.plan.name) for r in rows] == sorted(
        [(store_a.name, "Display"), (store_a.name, "Search"), (store_b.name, "Affiliate"), (store_b.name, "Social")])


def test_list_of_one_currency_names_it_in_the_headers(client_a, search_plan):
    AdDailyFactory(plan=search_plan, date=search_plan.store.today())
    body = client_a.get(reverse("campaigns:ads")).content.decode()
    assert '<th class="num">Spent today (CNY)</th><th class="num">Spend (CNY)</th>' in body
    assert '<td class="num" data-label="Spend (CNY)">100.00</td>' in body


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_plan_and_launch_dates_read_like_the_rest_of_the_desk(client_a, store_a, search_plan):
    search_plan.start_date = date(2026, 7, 30)
    search_plan.save()
    AdDailyFactory(plan=search_plan, date=store_a.today() - timedelta(days=1))
    launch = LaunchPlan.objects.create(store=store_a, product=ProductFactory(store=store_a), name="Spring tea",
                                       launch_date=date(2026, 11, 17))
    detail = client_a.get(search_plan.get_absolute_url()).content.decode()
    assert "Thu 30 Jul – open" in detail and "<td>Thu 26 Nov</td>" in detail
    assert "Pacing today (Fri 27 Nov)" in detail
    launches = client_a.get(reverse("campaigns:ad_launches")).content.decode()
    assert "<td>Tue 17 Nov</td>" in launches
    assert "Tue 17 Nov" in client_a.get(launch.get_absolute_url()).content.decode()


def test_plan_page_writes_big_counts_with_thousands_separators(client_a, search_plan):
    AdDailyFactory(plan=search_plan, date=search_plan.store.today(), impressions=19672, clicks=1234)
    body = client_a.get(reverse("campaigns:ad_detail", args=[search_plan.pk])).content.decode()
    assert '<td class="num">19,672</td><td class="num">1,234</td>' in body


def test_the_pacing_card_names_the_stores_currency(client_a, search_plan):
    AdDailyFactory(plan=search_plan, date=search_plan.store.today())
    body = client_a.get(reverse("campaigns:ad_detail", args=[search_plan.pk])).content.decode()
    card = body.split('id="pacing"')[1].split("</section>")[0]
    assert "of 240.00\u00a0CNY" in card  # the daily budget
    assert "Projected total <span>" in card and re.search(r"Projected total <span>[\d,.]+\u00a0CNY", card)


@time_machine.travel(datetime(2026, 11, 20, 4, 0, tzinfo=UTC), tick=False)  # the plan's end date still ahead
def test_create_plan_for_own_store(client_a, store_a):
    product = ProductFactory(store=store_a)
    response = client_a.post(reverse("campaigns:ad_new"), {
        "store": store_a.pk, "name": "New search", "channel": "search", "status": "active",
        "products": product.sku, "daily_budget": "300", "total_budget": "9000", "bid_strategy": "target_roas",
        "target_roas": "3.5", "start_date": "2026-11-01", "end_date": "2026-11-30", "hour_from": 8, "hour_to": 23,
    })
    assert response.status_code == 302
    plan = AdPlan.objects.get(name="New search")
    assert (plan.hour_from, plan.hour_to, plan.target_roas) == (8, 23, Decimal("3.50"))
    assert list(plan.products.all()) == [product]


def test_cannot_create_plan_in_another_store_or_with_its_products(client_a, store_a, store_b):
    other = ProductFactory(store=store_b)
    data = {"store": store_b.pk, "name": "X", "channel": "search", "status": "draft", "daily_budget": "1",
            "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 0, "hour_to": 24}
    assert client_a.post(reverse("campaigns:ad_new"), data).status_code == 200
    data.update(store=store_a.pk, products=other.sku)
    assert client_a.post(reverse("campaigns:ad_new"), data).status_code == 200
    assert not AdPlan.objects.exists()


def test_bad_hours_and_dates_are_refused(client_a, store_a):
    data = {"store": store_a.pk, "name": "X", "channel": "search", "status": "draft", "daily_budget": "1",
            "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 20, "hour_to": 8,
            "start_date": "2026-11-10", "end_date": "2026-11-01"}
    response = client_a.post(reverse("campaigns:ad_new"), data)
    assert "from &lt; to" in response.content.decode() or "from < to" in response.content.decode()
    assert "end date is before" in response.content.decode()


PLAN_FORM = {"name": "Longjing search", "channel": "search", "daily_budget": "240", "total_budget": "0",
             "bid_strategy": "manual_cpc", "hour_from": 0, "hour_to": 24}


# 17:00 UTC on 25 Nov is 01:00 on 26 Nov in Shanghai: a plan ending on the 25th is over there, not yet in UTC.
@time_machine.travel(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), tick=False)
def test_a_plan_past_its_end_date_shows_ended_before_the_hourly_task_runs(client_a, search_plan):
    search_plan.end_date = date(2026, 11, 25)
    search_plan.save()
    body = client_a.get(reverse("campaigns:ads")).content.decode()
    assert '<td data-label="Status">Ended</td>' in body
    ended = client_a.get(reverse("campaigns:ads"), {"status": "ended"}).context["rows"]
    active = client_a.get(reverse("campaigns:ads"), {"status": "active"}).context["rows"]
    assert ([r.plan for r in ended], active) == ([search_plan], [])
    assert "· Ended</span></h1>" in client_a.get(search_plan.get_absolute_url()).content.decode()
    edit = client_a.get(reverse("campaigns:ad_edit", args=[search_plan.pk])).content.decode()
    assert '<option value="ended" selected>' in edit


@time_machine.travel(datetime(2026, 11, 25, 17, 0, tzinfo=UTC), tick=False)  # 26 Nov in Shanghai
def test_plan_form_refuses_an_active_plan_whose_end_date_has_passed(client_a, store_a, search_plan):
    data = {**PLAN_FORM, "status": "active", "start_date": "2026-11-01", "end_date": "2026-11-25"}
    response = client_a.post(reverse("campaigns:ad_edit", args=[search_plan.pk]), data)
    assert response.status_code == 200
    assert ("A plan that ended on 2026-11-25 cannot be active (the store&#x27;s today is 2026-11-26)"
            in response.content.decode())
    assert AdPlan.objects.get(pk=search_plan.pk).end_date is None
    new = client_a.post(reverse("campaigns:ad_new"), {**data, "store": store_a.pk, "name": "Old search"})
    assert new.status_code == 200 and not AdPlan.objects.filter(name="Old search").exists()
    # Ended, or active up to the store's today, is fine.
    for status, end in (("ended", "2026-11-25"), ("active", "2026-11-26")):
        response = client_a.post(reverse("campaigns:ad_edit", args=[search_plan.pk]),
                                 {**data, "status": status, "end_date": end})
        assert response.status_code == 302
        assert AdPlan.objects.get(pk=search_plan.pk).status == status


def test_other_stores_objects_are_404(client_a, plan_b, make_creative, store_b):
    creative = make_creative(plan_b, "B creative")
    launch = LaunchPlan.objects.create(store=store_b, product=ProductFactory(store=store_b), name="L",
                                       launch_date=date(2026, 11, 1))
    item = launch.checklist.create(title="t")
    for url in [reverse("campaigns:ad_detail", args=[plan_b.pk]), reverse("campaigns:ad_edit", args=[plan_b.pk]),
                reverse("campaigns:ad_creative_new", args=[plan_b.pk]),
                reverse("campaigns:ad_creative_edit", args=[creative.pk]),
                reverse("campaigns:ad_creative_image", args=[creative.pk]),
                reverse("campaigns:ad_creative_thumbnail", args=[creative.pk]),
                reverse("campaigns:ad_launch_detail", args=[launch.pk]),
                reverse("campaigns:ad_launch_edit", args=[launch.pk])]:
        assert client_a.get(url).status_code == 404, url
    assert client_a.post(reverse("campaigns:ad_launch_check", args=[launch.pk, item.pk])).status_code == 404
    item.refresh_from_db()
    assert not item.done


def test_plan_detail_renders_pacing_charts_and_days(client_a, search_plan):
    today = search_plan.store.today()
    for i in range(3):
        AdDailyFactory(plan=search_plan, date=today - timedelta(days=i + 1))
    response = client_a.get(reverse("campaigns:ad_detail", args=[search_plan.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="chart-spend_sales"' in body and 'id="chart-pacing"' in body and 'id="chart-month"' in body
    assert "vendor/plotly/plotly.min.js" in body


def test_import_page_lists_row_errors_and_saves_nothing(client_a, search_plan, media):
    bad = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,Longjing search,10,1,x,0,0\n"
    page = imported(client_a, search_plan.store, bad)
    assert "Nothing was imported: 1 problem" in page
    assert "<td class=\"num\">2</td><td>spend: &#x27;x&#x27; is not a number</td>" in page
    assert not search_plan.daily.exists()
    page = imported(client_a, search_plan.store, bad.replace(",x,", ",3.5,"), fmt="through-train")
    assert "Imported ad report (through-train): 1 row(s) for 1 plan(s) from 2026-11-01 to 2026-11-01" in page
    assert search_plan.daily.get().spend == Decimal("3.50")


def test_a_report_with_a_runaway_quoted_cell_is_refused_with_its_line_not_a_server_error(client_a, search_plan,
                                                                                          media):
    # An unclosed quote swallows the rest of the file into one cell, beyond what the CSV reader takes.
    text = ("Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,Longjing search,10,1,1,0,0\n"
            '2026-11-02,"Longjing search,10,1,1,0,0\n' + "x" * 200_000 + "\n")
    page = imported(client_a, search_plan.store, text)

    assert "Nothing was imported" in page and "unreadable CSV" in page
    assert not search_plan.daily.exists()


def test_import_page_refuses_another_store(client_a, store_b, media):
    AdPlanFactory(store=store_b, name="B")
    text = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,B,10,1,1,0,0\n"
    response = upload_report(client_a, store_b, text)
    assert response.status_code == 400
    assert not AdPlan.objects.get(name="B").daily.exists() and not ImportJob.objects.exists()


def test_a_report_over_the_size_limit_is_refused_before_it_is_stored(client_a, search_plan, media, settings):
    settings.AD_REPORT_MAX_BYTES = 50
    text = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,Longjing search,10,1,1,0,0\n"
    response = upload_report(client_a, search_plan.store, text)
    assert response.status_code == 400
    assert "The file is 86 bytes; import at most 50 bytes at a time" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_import_page_lists_recent_report_imports_of_my_stores_only(client_a, search_plan, store_b, media):
    ImportJob.objects.create(store=store_b, kind="ad_report", name="theirs.csv", status="done")
    ImportJob.objects.create(store=search_plan.store, kind="orders", name="orders.csv", status="done")
    imported(client_a, search_plan.store, "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
                                          "2026-11-01,Longjing search,10,1,1,0,0\n")
    page = client_a.get(reverse("campaigns:ad_import")).content.decode()
    assert "r.csv" in page and "Imported" in page
    assert "theirs.csv" not in page and "orders.csv" not in page


def test_creative_upload_stores_a_random_name(client_a, search_plan, media):
    upload = SimpleUploadedFile("../../etc/evil name.PNG", png_bytes(), content_type="image/png")
    response = client_a.post(reverse("campaigns:ad_creative_new", args=[search_plan.pk]), {
        "name": "Red", "headline": "Fresh Longjing", "text": "Spring harvest", "image": upload, "is_active": "on"})
    assert response.status_code == 302
    creative = AdCreative.objects.get()
    assert creative.image.name.startswith(f"ads/creatives/{search_plan.store_id}/")
    assert creative.image.name.endswith(".png") and "evil" not in creative.image.name
    assert (creative.width, creative.height) == (120, 80)
    assert (media / creative.image.name).is_file()


def test_launch_gets_checklist_and_ticks(client_a, store_a, search_plan):
    product = ProductFactory(store=store_a)
    response = client_a.post(reverse("campaigns:ad_launch_new"), {
        "store": store_a.pk, "name": "Spring tea", "product": product.sku, "launch_date": "2026-11-01",
        "status": "planning", "ad_plans": [search_plan.pk]})
    assert response.status_code == 302
    launch = LaunchPlan.objects.get()
    assert launch.checklist.count() == 7
    item = launch.checklist.first()
    client_a.post(reverse("campaigns:ad_launch_check", args=[launch.pk, item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.done
    assert client_a.get(reverse("campaigns:ad_launch_detail", args=[launch.pk])).status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_launch_day_no_plan_means_is_refused_beside_the_field(client_a, store_a, day):
    response = client_a.post(reverse("campaigns:ad_launch_new"), {
        "store": store_a.pk, "name": "Spring tea", "product": ProductFactory(store=store_a).sku, "launch_date": day,
        "status": "planning"})
    assert response.status_code == 200
    assert f"{day} is more than 10 years from today" in str(response.context["form"].errors["launch_date"])
    assert not LaunchPlan.objects.exists()


def test_a_launch_step_clicked_done_twice_stays_done(client_a, store_a):
    launch = LaunchPlan.objects.create(store=store_a, product=ProductFactory(store=store_a), name="Spring tea",
                                       launch_date=date(2026, 11, 1))
    item = launch.checklist.create(title="Listing live")
    url = reverse("campaigns:ad_launch_check", args=[launch.pk, item.pk])
    page = client_a.get(reverse("campaigns:ad_launch_detail", args=[launch.pk])).content.decode()
    assert 'name="done" value="1"' in page  # the button says what it does, like an activity's checklist

    client_a.post(url, {"done": "1"})
    client_a.post(url, {"done": "1"})  # a double click, or the form sent again
    item.refresh_from_db()
    assert item.done

    client_a.post(url, {"done": "0"})
    item.refresh_from_db()
    assert not item.done


def test_editing_a_creative_keeps_its_image(client_a, search_plan, make_creative):
    creative = make_creative(search_plan, "Red")
    name = creative.image.name
    response = client_a.post(reverse("campaigns:ad_creative_edit", args=[creative.pk]), {
        "name": "Red", "headline": "New headline", "text": "", "is_active": ""})
    assert response.status_code == 302
    creative.refresh_from_db()
    assert (creative.headline, creative.image.name, creative.is_active) == ("New headline", name, False)


def test_lists_never_show_another_stores_plans_or_launches(client_a, store_b, plan_b):
    LaunchPlan.objects.create(store=store_b, product=ProductFactory(store=store_b), name="B launch",
                              launch_date=date(2026, 11, 1))
    body = client_a.get(reverse("campaigns:ads") + "?store=store-b").content.decode()
    assert "B search" not in body and "chart-" not in body
    assert "B launch" not in client_a.get(reverse("campaigns:ad_launches")).content.decode()


def test_launch_form_refuses_another_stores_plans(client_a, store_a, plan_b):
    response = client_a.post(reverse("campaigns:ad_launch_new"), {
        "store": store_a.pk, "name": "Sneaky", "product": ProductFactory(store=store_a).sku,
        "launch_date": "2026-11-01", "status": "planning", "ad_plans": [plan_b.pk]})
    assert response.status_code == 200
    assert not LaunchPlan.objects.exists()


def test_launch_form_names_each_choices_store_for_a_user_of_two_stores(client_a, operator_a, store_a, store_b):
    MembershipFactory(store=store_b, user=operator_a)
    AdPlanFactory(store=store_a, name="Green tea search")
    AdPlanFactory(store=store_b, name="Green tea search")
    page = client_a.get(reverse("campaigns:ad_launch_new")).content.decode()
    assert ">Store A · Green tea search<" in page and ">Store B · Green tea search<" in page


def test_creative_image_is_served_to_its_store(client_a, search_plan, make_creative):
    creative = make_creative(search_plan, "Red")
    response = client_a.get(reverse("campaigns:ad_creative_image", args=[creative.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    page = client_a.get(reverse("campaigns:ad_detail", args=[search_plan.pk])).content.decode()
    assert reverse("campaigns:ad_creative_image", args=[creative.pk]) in page


def test_import_page_refuses_a_spend_too_large_and_the_ads_page_still_opens(client_a, search_plan, media):
    text = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,Longjing search,10,1,99999999999999999,0,0\n"
    page = imported(client_a, search_plan.store, text)
    assert "<td class=\"num\">2</td><td>spend: " in page and "too large" in page
    assert not search_plan.daily.exists()
    assert client_a.get(reverse("campaigns:ads")).status_code == 200


def test_plan_form_refuses_a_budget_too_large_in_words(client_a, store_a):
    data = {"store": store_a.pk, "name": "X", "channel": "search", "status": "draft",
            "daily_budget": "99999999999999999", "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 0,
            "hour_to": 24}
    response = client_a.post(reverse("campaigns:ad_new"), data)
    assert response.status_code == 200
    assert "no more than 14 digits" in response.content.decode()
    assert not AdPlan.objects.exists()


def test_plan_pages_show_money_with_thousands_separators(client_a, search_plan):
    search_plan.daily_budget = Decimal("12400")
    search_plan.save()
    AdDailyFactory(plan=search_plan, date=search_plan.store.today(), spend=Decimal("3456.70"),
                   sales=Decimal("123456.00"))
    detail = client_a.get(search_plan.get_absolute_url()).content.decode()
    assert "12,400.00 CNY" in detail and "3,456.70" in detail and "123,456.00" in detail
    listing = client_a.get(reverse("campaigns:ads")).content.decode()
    assert "12,400.00" in listing and "123,456.00" in listing


def test_plan_form_suggests_only_products_of_my_stores(client_a, store_a, store_b):
    ProductFactory(store=store_a, sku="LJ-250", title="Longjing 250 g")
    ProductFactory(store=store_b, sku="LJ-999", title="Longjing jacket")
    assert client_a.get(reverse("campaigns:product_search"), {"q": "longjing"}).json() == {
        "products": [{"value": "LJ-250 · Longjing 250 g", "store": "Store A"}]}
    assert client_a.get(reverse("campaigns:product_search"), {"q": "LJ", "store": store_b.pk}).json() == {
        "products": []}
    # a store id only Python calls digits ("²") is no store: all my stores are searched, no 500
    assert len(client_a.get(reverse("campaigns:product_search"), {"q": "LJ", "store": "²"}).json()["products"]) == 1


def test_plan_form_of_a_manager_of_two_stores_finds_products_of_the_plans_store_only(
        client_a, operator_a, store_a, store_b):
    MembershipFactory(user=operator_a, store=store_b)
    ProductFactory(store=store_a, sku="LJ-250", title="Longjing 250 g")
    ProductFactory(store=store_b, sku="TJ-1", title="Trail jacket")
    search = reverse("campaigns:product_search")
    assert [p["store"] for p in client_a.get(search, {"q": "j"}).json()["products"]] == ["Store A", "Store B"]
    assert [p["value"] for p in client_a.get(search, {"q": "j", "store": store_a.pk}).json()["products"]] == [
        "LJ-250 · Longjing 250 g"]
    # a product of store B is refused on a plan of store A, in words, and what was typed stays
    data = {"store": store_a.pk, "name": "X", "channel": "search", "status": "draft", "daily_budget": "1",
            "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 0, "hour_to": 24,
            "products": "LJ-250\nTrail jacket"}
    response = client_a.post(reverse("campaigns:ad_new"), data)
    assert response.status_code == 200 and not AdPlan.objects.exists()
    assert response.context["form"].errors["products"] == [
        f"No product of {store_a.name} has the SKU or title “Trail jacket”."]
    assert "\nLJ-250\nTrail jacket</textarea>" in response.content.decode()


def test_editing_a_plan_cannot_link_another_stores_product(client_a, operator_a, search_plan, store_b):
    MembershipFactory(user=operator_a, store=store_b)
    theirs = ProductFactory(store=store_b, title="Trail jacket")
    data = {"name": search_plan.name, "channel": "search", "status": "active", "daily_budget": "1",
            "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 0, "hour_to": 24, "products": theirs.sku}
    response = client_a.post(reverse("campaigns:ad_edit", args=[search_plan.pk]), data)
    assert response.status_code == 200 and not search_plan.products.exists()
    assert f"No product of {search_plan.store.name} has the SKU or title “{theirs.sku}”." in str(
        response.context["form"].errors["products"])


def test_a_launch_takes_its_product_typed_by_title_and_its_edit_page_shows_sku_and_title(client_a, store_a):
    tea = ProductFactory(store=store_a, sku="ST-100", title="Spring tea 100 g")
    data = {"store": store_a.pk, "name": "Spring tea", "product": "spring TEA 100 g", "launch_date": "2026-11-01",
            "status": "planning"}
    assert client_a.post(reverse("campaigns:ad_launch_new"), data).status_code == 302
    launch = LaunchPlan.objects.get()
    assert launch.product == tea
    edit = reverse("campaigns:ad_launch_edit", args=[launch.pk])
    assert 'value="ST-100 · Spring tea 100 g"' in client_a.get(edit).content.decode()
    # the page's own value sent back keeps the product
    data.update(product="ST-100 · Spring tea 100 g", name="Spring tea launch")
    assert client_a.post(edit, data).status_code == 302
    launch.refresh_from_db()
    assert (launch.name, launch.product) == ("Spring tea launch", tea)


def test_a_launch_product_unknown_or_of_another_store_is_refused_beside_the_field(
        client_a, operator_a, store_a, store_b):
    MembershipFactory(user=operator_a, store=store_b)
    ProductFactory(store=store_b, sku="TJ-1", title="Trail jacket")
    ProductFactory(store=store_a, sku="GT-1", title="Green tea")
    ProductFactory(store=store_a, sku="GT-2", title="Green tea")
    data = {"store": store_a.pk, "name": "Jacket", "launch_date": "2026-11-01", "status": "planning"}
    for typed, why in [("TJ-1", "No product of Store A has the SKU or title “TJ-1”."),
                       ("Green tea", "Several products of Store A are called “Green tea”: type the SKU."),
                       ("", "This field is required.")]:
        response = client_a.post(reverse("campaigns:ad_launch_new"), {**data, "product": typed})
        assert response.context["form"].errors["product"] == [why]
    assert not LaunchPlan.objects.exists()


def test_a_launch_offers_and_takes_only_its_products_listing_versions(client_a, store_a):
    tea, kettle = ProductFactory(store=store_a, sku="ST-100"), ProductFactory(store=store_a, sku="K-1")
    mine = ListingVersion.objects.create(product=tea, title="Spring tea, new picture")
    other = ListingVersion.objects.create(product=kettle, title="Kettle, new title")
    new = client_a.get(reverse("campaigns:ad_launch_new")).content.decode()
    assert str(mine) not in new and str(other) not in new
    data = {"store": store_a.pk, "name": "Spring tea", "product": "ST-100", "launch_date": "2026-11-01",
            "status": "planning", "listing_versions": [other.pk]}
    refused = client_a.post(reverse("campaigns:ad_launch_new"), data)
    assert refused.context["form"].errors["listing_versions"] == ["Pick only listing versions of the launch's product."]
    assert str(mine) in refused.content.decode() and str(other) not in refused.content.decode()
    assert client_a.post(reverse("campaigns:ad_launch_new"), {**data, "listing_versions": [mine.pk]}).status_code == 302
    launch = LaunchPlan.objects.get()
    assert list(launch.listing_versions.all()) == [mine]
    edit = client_a.get(reverse("campaigns:ad_launch_edit", args=[launch.pk])).content.decode()
    assert str(mine) in edit and str(other) not in edit


@pytest.mark.parametrize("url", ["campaigns:activity_new", "campaigns:ad_new", "campaigns:ad_launch_new"])
def test_a_form_of_a_store_with_a_thousand_products_lists_none_of_them(client_a, store_a, url):
    Product.objects.bulk_create([Product(store=store_a, sku=f"GT-{n}", title=f"Green tea no. {n}", price=10)
                                 for n in range(1000)])
    page = client_a.get(reverse(url), {"kind": "store_promotion"}).content.decode()
    assert "Green tea no." not in page and "data-product-search" in page


def test_a_report_of_many_bad_rows_lists_the_first_ones_and_counts_the_rest(client_a, search_plan, media, settings):
    settings.IMPORT_ERRORS_SHOWN = 100
    report = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n" + "2026-11-01,Longjing search,10,1,2,0,0\n" * 1251
    page = imported(client_a, search_plan.store, report)

    assert not search_plan.daily.exists()
    assert "Nothing was imported: 1250 problems" in page and "Showing the first 100 of 1250" in page
    assert page.count("appears twice") == 100


@time_machine.travel(datetime(2026, 11, 20, 2, 0, tzinfo=UTC), tick=False)  # 20 Nov in Shanghai, 19 Nov in LA
def test_list_of_stores_either_side_of_midnight_sums_each_stores_own_last_30_days(client_a, search_plan,
                                                                                   operator_a, store_b):
    MembershipFactory(store=store_b, user=operator_a)
    us_plan = AdPlanFactory(store=store_b, name="US search")
    for plan, first, before in ((search_plan, date(2026, 10, 22), date(2026, 10, 21)),
                                (us_plan, date(2026, 10, 21), date(2026, 10, 20))):
        AdDailyFactory(plan=plan, date=first, spend=Decimal("10.00"))  # the 30th day back, counted
        AdDailyFactory(plan=plan, date=before, spend=Decimal("7.00"))  # the 31st, not
    rows = {r.plan.name: r.totals.spend for r in client_a.get(reverse("campaigns:ads")).context["rows"]}
    assert rows == {"Longjing search": Decimal("10.00"), "US search": Decimal("10.00")}


def _a_twin_is_saved_first(monkeypatch, form_class, make_twin):
    """The same form sent twice at once: the twin passed the same checks and is stored once this one has passed
    them, just before it saves."""
    real = form_class._post_clean
    made = []

    def post_clean(form):
        real(form)
        if not made:
            made.append(make_twin())

    monkeypatch.setattr(form_class, "_post_clean", post_clean)


def test_a_double_clicked_create_plan_makes_one_plan_and_says_why_not_a_server_error(client_a, store_a,
                                                                                      monkeypatch):
    from campaigns.ads_forms import AdPlanForm

    _a_twin_is_saved_first(monkeypatch, AdPlanForm, lambda: AdPlanFactory(store=store_a, name="New search"))
    response = client_a.post(reverse("campaigns:ad_new"), {
        "store": store_a.pk, "name": "New search", "channel": "search", "status": "active", "daily_budget": "300",
        "total_budget": "0", "bid_strategy": "manual_cpc", "hour_from": 0, "hour_to": 24})
    assert response.status_code == 200
    assert "This store already has a plan with that name." in response.context["form"].errors["name"]
    assert AdPlan.objects.filter(name="New search").count() == 1


def test_a_double_clicked_create_launch_makes_one_launch_and_says_why_not_a_server_error(client_a, store_a,
                                                                                          monkeypatch):
    from campaigns.ads_forms import LaunchPlanForm

    product = ProductFactory(store=store_a)
    _a_twin_is_saved_first(monkeypatch, LaunchPlanForm, lambda: LaunchPlan.objects.create(
        store=store_a, product=product, name="Spring tea", launch_date=date(2026, 11, 1)))
    response = client_a.post(reverse("campaigns:ad_launch_new"), {
        "store": store_a.pk, "name": "Spring tea", "product": product.sku, "launch_date": "2026-11-01",
        "status": "planning"})
    assert response.status_code == 200
    assert "This store already has a launch plan with that name." in response.context["form"].errors["name"]
    assert LaunchPlan.objects.count() == 1


def test_list_marks_plans_whose_roas_is_below_their_target(client_a, store_a):
    short = AdPlanFactory(store=store_a, name="Display", target_roas=Decimal("5.00"))
    on_target = AdPlanFactory(store=store_a, name="Search", target_roas=Decimal("3.00"))
    for plan in (short, on_target):
        AdDailyFactory(plan=plan, date=store_a.today())  # ROAS 400 / 100 = 4.00×

    rows = {r.plan.name: r for r in client_a.get(reverse("campaigns:ads")).context["rows"]}
    body = client_a.get(reverse("campaigns:ads")).content.decode()

    assert rows["Display"].below_target and not rows["Search"].below_target
    assert body.count("below target") == 1 and "4.00× <span class=\"badge warning\">below target 5.00×</span>" in body


def spent_today_cell(body: str, plan_name: str) -> str:
    """The text of a plan's "Spent today" cell on the plans list."""
    cell = body.split(f">{plan_name}</a>")[1].split('data-label="Spent today (CNY)">')[1].split("</td>")[0]
    return re.sub(r"<[^>]+>", "", cell)


# 12:00 in Shanghai on 25 Nov, 20:00 on 24 Nov in Los Angeles: half of a flat day has gone by in Store A.
@time_machine.travel(datetime(2026, 11, 25, 4, 0, tzinfo=UTC), tick=False)
def test_list_shows_each_plans_spend_today_against_its_daily_budget_and_the_share_due_by_now(
        client_a, store_a, search_plan):
    from .conftest import SnapshotFactory

    SnapshotFactory(plan=search_plan, ts=datetime(2026, 11, 25, 3, 0, tzinfo=UTC), spend_today=Decimal("180.00"))
    yesterday_only = AdPlanFactory(store=store_a, name="Gift boxes")
    # 23:30 on 24 Nov in Shanghai: yesterday's spend, not today's.
    SnapshotFactory(plan=yesterday_only, ts=datetime(2026, 11, 24, 15, 30, tzinfo=UTC), spend_today=Decimal("99.00"))
    AdPlanFactory(store=store_a, name="Display", daily_budget=Decimal("0"))

    body = client_a.get(reverse("campaigns:ads")).content.decode()

    assert '<th class="num">Spent today (CNY)</th>' in body
    cells = {name: spent_today_cell(body, name) for name in ("Longjing search", "Gift boxes", "Display")}
    # as of: the store-local time of the latest figure, naming the store's zone
    assert cells["Longjing search"] == ("180.00 of 240.00 75.00\u00a0% used 50.00\u00a0% expected by now "
                                        "as of 11:00 Asia/Shanghai time")
    assert cells["Gift boxes"] == "no data today · budget 240.00"  # yesterday's 99.00 is not today's
    assert cells["Display"] == "no data today · no cap"  # no daily cap to spend


@time_machine.travel(datetime(2026, 11, 25, 4, 0, tzinfo=UTC), tick=False)
def test_list_expects_nothing_by_now_of_a_paused_plan_and_dates_a_reported_figure_by_its_import(
        client_a, store_a, search_plan):
    from campaigns.models import AdPlanStatus

    paused = AdPlanFactory(store=store_a, name="Gift boxes", status=AdPlanStatus.PAUSED)
    AdDailyFactory(plan=paused, date=date(2026, 11, 25), spend=Decimal("60.00"))  # imported at 12:00 local
    body = client_a.get(reverse("campaigns:ads")).content.decode()
    assert spent_today_cell(body, "Gift boxes") == "60.00 of 240.00 25.00\u00a0% used as of 12:00 Asia/Shanghai time"


def test_plan_form_spells_roas_and_says_budgets_are_in_the_stores_currency(client_a):
    body = client_a.get(reverse("campaigns:ad_new")).content.decode()
    assert '<label for="id_target_roas">Target ROAS:</label>' in body and "Target roas" not in body
    assert "In the store's currency; 0 means no total cap." in body
