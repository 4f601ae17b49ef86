"""In the browser: an operator imports a through-train report, fixes a bad row, and reads the plan's charts."""

import pytest

from tests.e2e.conftest import browser_type_launch_args, login, screenshot  # noqa: F401  (shared fixtures)

from .conftest import AdPlanFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BAD = "日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n2026-11-01,Longjing search,9000,300,abc,9,1350\n"


def test_operator_imports_a_report_and_sees_the_plan(page, live_server, login, screenshot, operator_a, store_a,  # noqa: F811
                                                      tmp_path):
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
    errors = page.locator("#import-errors")
    assert "Nothing was imported" in errors.inner_text()
    assert "花费" not in errors.inner_text() and "spend" in errors.inner_text()
    screenshot("import-error")
    good = tmp_path / "good.csv"
    good.write_text(BAD.replace("abc", "210.00"), encoding="utf-8")
    page.select_option("#id_store", str(store_a.pk))
    page.set_input_files("#id_file", str(good))
    page.click("button[type=submit].primary")
    assert "1 row(s) for 1 plan(s)" in page.locator(".messages").inner_text()
    page.goto(f"{live_server.url}/campaigns/ads/{plan.pk}/")
    page.wait_for_selector("#chart-spend_sales .js-plotly-plot")  # plotly.js from static drew the chart
    assert "210.00" in page.locator("table").last.inner_text()
    screenshot("plan")
