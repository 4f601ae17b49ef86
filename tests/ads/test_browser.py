"""In the browser: an operator imports a through-train report, fixes a bad row, and reads the plan's charts;
finds products for a new plan by typing part of their titles."""

import pytest

from campaigns.models import AdPlan
from tests.e2e.conftest import browser_type_launch_args, login, screenshot  # noqa: F401  (shared fixtures)
from tests.factories import ProductFactory

from .conftest import AdPlanFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # before the worker starts: it reads the uploads there

BAD = "日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n2026-11-01,Longjing search,9000,300,abc,9,1350\n"


@pytest.mark.worker
def test_operator_imports_a_report_and_sees_the_plan(media, celery_worker, page, live_server, login, screenshot,  # noqa: F811
                                                      operator_a, store_a, tmp_path):
    plan = AdPlanFactory(store=store_a, name="Longjing search")
    page.set_default_timeout(90_000)  # the shared 2-core machine can be slow to serve the first page
    page.set_default_navigation_timeout(90_000)
    login("op-a")
    page.click("nav.duties >> text=Paid promotion")
    page.click("text=Import a report")
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    page.select_option("#id_store", str(store_a.pk))
    page.set_input_files("#id_file", str(bad))
    page.click("button[type=submit].primary")
    errors = page.locator("[data-status=failed]")  # the job's page reloads itself until the worker is done
    errors.wait_for()
    assert "Nothing was imported" in errors.inner_text()
    assert "花费" not in errors.inner_text() and "spend" in errors.inner_text()
    screenshot("import-error")
    good = tmp_path / "good.csv"
    good.write_text(BAD.replace("abc", "210.00"), encoding="utf-8")
    page.click("text=Import another file")
    page.select_option("#id_store", str(store_a.pk))
    page.set_input_files("#id_file", str(good))
    page.click("button[type=submit].primary")
    done = page.locator("[data-status=done]")
    done.wait_for()
    assert "1 row(s) for 1 plan(s)" in done.inner_text()
    page.goto(f"{live_server.url}/campaigns/ads/{plan.pk}/")
    page.wait_for_selector("#chart-spend_sales .js-plotly-plot")  # plotly.js from static drew the chart
    assert "210.00" in page.locator("table").last.inner_text()
    screenshot("plan")


def test_operator_finds_products_by_typing_and_saves_the_plan_with_them(page, live_server, login, operator_a,  # noqa: F811
                                                                         store_a):
    kettle = ProductFactory(store=store_a, sku="K-1", title="Glass kettle")
    cups = ProductFactory(store=store_a, sku="C-6", title="Six glass cups")
    page.set_default_timeout(90_000)
    page.set_default_navigation_timeout(90_000)
    login("op-a")
    page.goto(f"{live_server.url}/campaigns/ads/new/")
    search = page.get_by_label("Search products to add")
    for typed, picked in (("kett", "K-1 · Glass kettle"), ("cups", "C-6 · Six glass cups")):
        search.fill(typed)
        page.wait_for_function("v => [...document.querySelectorAll('#id_products-suggestions option')]"
                               ".map(o => o.value).join('|') === v", arg=picked)
        search.fill(picked)  # what choosing the suggestion does
    assert page.input_value("#id_products") == "K-1 · Glass kettle\nC-6 · Six glass cups"
    page.fill("#id_name", "Glass search")
    page.select_option("#id_channel", "search")
    page.fill("#id_daily_budget", "100")
    page.click("button[type=submit].primary")
    page.wait_for_selector("text=Created ad plan Glass search")
    assert set(AdPlan.objects.get(name="Glass search").products.all()) == {kettle, cups}


def test_the_plans_list_of_two_stores_shows_roas_and_acos_on_a_laptop(page, live_server, login, operator_a,  # noqa: F811
                                                                     store_a):
    # The demo's figures: two stores' plans, six-digit spends with their currencies, long names, ROAS below
    # target. ROAS and ACoS, what an operator scans the list for, ran off a 1366 px screen.
    from datetime import timedelta

    from django.utils import timezone

    from stores.models import Store
    from tests.factories import MembershipFactory

    from .conftest import AdDailyFactory

    usd = Store.objects.create(name="Pacific Outfitters", slug="pacific", timezone="America/Los_Angeles",
                               currency="USD")
    MembershipFactory(store=usd, user=operator_a)
    yesterday = timezone.now().date() - timedelta(days=1)
    for store in (store_a, usd):
        for name in ("Through train · core keywords", "Launch · Glass kettle 1L", "Display · retargeting"):
            plan = AdPlanFactory(store=store, name=name, daily_budget="5350.00", target_roas="4.50")
            AdDailyFactory(plan=plan, date=yesterday, spend="121072.98", sales="492628.67", clicks=140370,
                           impressions=4_140_370)
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/campaigns/ads/")
    shown = page.locator(".table-wrap").first.bounding_box()  # a wider table scrolls inside it
    for label in ("ROAS", "ACoS"):
        cells = page.locator(f"table.stack td[data-label='{label}']")
        assert cells.count() == 6
        right = max(box["x"] + box["width"] for box in (cells.nth(i).bounding_box() for i in range(6)))
        assert right <= shown["x"] + shown["width"] + 1, f"{label} ends at {right:.0f} px, scrolled out of sight"
