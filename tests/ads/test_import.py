"""Ad reports in: Google Ads and through-train formats, all-or-nothing with row numbers, idempotent."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from campaigns.ads_importers import AdReportError, import_ad_report
from campaigns.models import AdCreativePerformance, AdDailyPerformance

from .conftest import AdPlanFactory

pytestmark = pytest.mark.django_db

GOOGLE = """Campaign performance report
"November 1, 2026 - November 3, 2026"
Day,Campaign,Campaign state,Currency code,Impressions,Clicks,CTR,Avg. CPC,Cost,Conversions,Conv. value
2026-11-01,Longjing search,Enabled,CNY,"12,400",310,2.50%,0.81,250.40,12.00,"1,980.00"
2026-11-02,Longjing search,Enabled,CNY,11800,290,2.46%,0.84,243.10,10.50,1720.50
2026-11-01,Gift boxes,Enabled,CNY,5000,40,0.80%,1.10,44.00,0.00,0.00
Total: Account,,,,"29,200",640,,,537.50,22.50,"3,700.50"
Total: Campaigns,,,,"29,200",640,,,537.50,22.50,"3,700.50"
"""

THROUGH_TRAIN_ZH = """日期,计划名称,展现量,点击量,点击率,花费,平均点击花费,成交笔数,成交金额,投入产出比
2026-11-01,Longjing search,9000,300,3.33%,￥210.00,0.70,9,1350.00,6.43
2026/11/02,Longjing search,8500,280,3.29%,190.50,0.68,8,1200.00,6.30
合计,,17500,580,,400.50,,17,2550.00,
"""


@pytest.fixture
def plans(store_a):
    return [AdPlanFactory(store=store_a, name="Longjing search"), AdPlanFactory(store=store_a, name="Gift boxes")]


def test_google_report_skips_title_lines_and_total_rows(store_a, plans):
    result = import_ad_report(store_a, GOOGLE.encode())
    assert (result.created, result.updated) == (3, 0)
    row = AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 1))
    assert (row.impressions, row.clicks, row.spend, row.orders, row.sales) == (
        12400, 310, Decimal("250.40"), 12, Decimal("1980.00"))
    # 10.50 conversions round half up to 11 orders
    assert AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 2)).orders == 11


def test_through_train_chinese_headers_gbk(store_a, plans):
    result = import_ad_report(store_a, THROUGH_TRAIN_ZH.encode("gbk"), "through-train")
    assert result.rows == 2
    row = AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 2))
    assert (row.clicks, row.spend, row.orders, row.sales) == (280, Decimal("190.50"), 8, Decimal("1200.00"))


def test_through_train_english_headers_detected(store_a, plans):
    text = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-05,Gift boxes,100,10,5.5,1,60\n"
    import_ad_report(store_a, text.encode())
    assert AdDailyPerformance.objects.get(plan=plans[1]).spend == Decimal("5.50")


def test_reimport_replaces_values_not_duplicates(store_a, plans):
    import_ad_report(store_a, GOOGLE.encode())
    again = import_ad_report(store_a, GOOGLE.encode())
    assert (again.created, again.updated) == (0, 3)
    assert AdDailyPerformance.objects.count() == 3
    corrected = GOOGLE.replace("250.40", "260.00")
    import_ad_report(store_a, corrected.encode())
    assert AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 1)).spend == Decimal("260.00")
    assert AdDailyPerformance.objects.count() == 3


def test_bad_rows_are_all_named_and_nothing_is_written(store_a, plans):
    bad = GOOGLE.replace("2026-11-02,Longjing search", "2026-13-02,Longjing search").replace(
        "5000,40", "5000,-40").replace("Gift boxes", "Unknown plan")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, bad.encode())
    found = {(e.row, e.column) for e in caught.value.errors}
    assert found == {(5, "date"), (6, "plan"), (6, "clicks")}
    assert "row 5, date" in str(caught.value)
    assert AdDailyPerformance.objects.count() == 0


def test_a_google_account_billed_in_another_currency_is_refused_not_summed_as_the_stores(store_a, plans):
    # store_a keeps CNY: 250.40 USD stored as 250.40 CNY would understate spend and inflate ROAS 7-fold.
    in_usd = GOOGLE.replace(",CNY,", ",USD,", 1)
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, in_usd.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(4, "currency")]
    assert "amounts in USD, but store-a keeps its money in CNY" in str(caught.value)
    assert not AdDailyPerformance.objects.exists()


def test_a_dollar_amount_in_a_yuan_store_is_refused_by_line_not_read_as_yuan(store_a, plans):
    in_dollars = GOOGLE.replace("11800,290,2.46%,0.84,243.10", "11800,290,2.46%,0.84,$243.10")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, in_dollars.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(5, "spend")]
    assert "$243.10 is marked $, but store-a keeps its money in CNY" in str(caught.value)
    assert not AdDailyPerformance.objects.exists()


def test_the_stores_own_currency_sign_is_accepted_and_another_refused(store_a, store_b, plans):
    import_ad_report(store_a, "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
                              "2026-11-05,Gift boxes,100,10,¥5.50,1,￥60\n".encode())
    assert AdDailyPerformance.objects.get(plan=plans[1]).sales == Decimal("60.00")
    dollar_plan = AdPlanFactory(store=store_b, name="US search")  # store_b keeps USD
    head = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
    import_ad_report(store_b, (head + "2026-11-05,US search,100,10,$5.50,1,US$60\n").encode())
    assert AdDailyPerformance.objects.get(plan=dollar_plan).spend == Decimal("5.50")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_b, (head + "2026-11-05,US search,100,10,€5.50,1,¥60\n").encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "spend"), (2, "sales")]
    assert AdDailyPerformance.objects.get(plan=dollar_plan).spend == Decimal("5.50")


def test_an_hourly_spend_in_another_currencys_sign_is_refused(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, "日期,计划名称,小时,花费\n2026-11-25,Longjing search,08,$20.50\n".encode())
    assert [str(e) for e in caught.value.errors] == [
        "row 2, spend: $20.50 is marked $, but store-a keeps its money in CNY: convert it first"]
    assert not AdSpendSnapshot.objects.exists()


def test_an_hourly_report_in_another_currency_is_refused(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, "日期,计划名称,小时,花费,币种\n2026-11-25,Longjing search,08,20.50,USD\n".encode())
    assert {e.column for e in caught.value.errors} == {"currency"}
    assert not AdSpendSnapshot.objects.exists()


def test_same_plan_and_day_twice_in_one_file_is_an_error(store_a, plans):
    text = ("日期,计划名称,展现量,点击量,花费,成交笔数,成交金额\n"
            "2026-11-01,Gift boxes,1,1,1,0,0\n2026-11-01,Gift boxes,2,2,2,0,0\n")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "date")]
    assert not AdDailyPerformance.objects.exists()


def test_plan_of_another_store_is_not_matched(store_a, store_b, plans):
    AdPlanFactory(store=store_b, name="Only in B")
    text = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-05,Only in B,100,10,5,1,60\n"
    with pytest.raises(AdReportError, match="no ad plan named 'Only in B' in store-a"):
        import_ad_report(store_a, text.encode())


def test_missing_column_is_reported_against_the_header(store_a, plans):
    text = "Day,Campaign,Impressions,Clicks,Conversions,Conv. value\n2026-11-01,Gift boxes,1,1,0,0\n"
    with pytest.raises(AdReportError, match=r"row 1, header: missing column\(s\): spend"):
        import_ad_report(store_a, text.encode())


def test_creative_rows_sum_to_the_plan_day(store_a, plans, make_creative):
    a = make_creative(plans[0], "Red box")
    b = make_creative(plans[0], "Blue box")
    text = ("Date,Plan,Creative,Impressions,Clicks,Spend,Orders,Sales\n"
            "2026-11-01,Longjing search,Red box,100,10,5,1,60\n2026-11-01,Longjing search,Blue box,200,5,3,0,0\n")
    import_ad_report(store_a, text.encode())
    day = AdDailyPerformance.objects.get(plan=plans[0])
    assert (day.impressions, day.clicks, day.spend, day.orders, day.sales) == (300, 15, Decimal("8.00"), 1,
                                                                              Decimal("60.00"))
    assert AdCreativePerformance.objects.get(creative=a).clicks == 10
    assert AdCreativePerformance.objects.get(creative=b).impressions == 200


def test_a_reimported_day_without_a_creative_drops_its_old_row_so_creatives_add_up_to_the_day(
        store_a, plans, make_creative):
    from campaigns.ads_creatives import compare_creatives

    make_creative(plans[0], "Red box")
    make_creative(plans[0], "Blue box")
    head = "Date,Plan,Creative,Impressions,Clicks,Spend,Orders,Sales\n"
    import_ad_report(store_a, (head + "2026-11-01,Longjing search,Red box,100,10,5,1,60\n"
                                      "2026-11-01,Longjing search,Blue box,200,5,3,0,0\n"
                                      "2026-11-02,Longjing search,Blue box,50,2,1,0,0\n").encode())
    corrected = (head + "2026-11-01,Longjing search,Red box,120,12,6,1,60\n").encode()
    for _ in range(2):  # safe to run twice
        import_ad_report(store_a, corrected)
        shown = {c.creative.name: c.spend for c in compare_creatives(plans[0], date(2026, 11, 1), date(2026, 11, 1))}
        assert shown == {"Red box": Decimal("6.00"), "Blue box": Decimal("0.00")}
        assert AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 1)).spend == Decimal("6.00")
    # A day the report does not cover keeps its creative rows.
    assert AdCreativePerformance.objects.get(date=date(2026, 11, 2)).spend == Decimal("1.00")
    # A plan total for the day replaces its breakdown: no creative row is left to contradict it.
    plan_total = b"Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-01,Longjing search,9,1,2,0,0\n"
    import_ad_report(store_a, plan_total)
    assert not AdCreativePerformance.objects.filter(date=date(2026, 11, 1)).exists()


def test_command_imports_and_fails_loudly(store_a, plans, tmp_path, capsys):
    good = tmp_path / "google.csv"
    good.write_text(GOOGLE)
    call_command("import_ad_report", str(good), "--store", "store-a", "--format", "google")
    assert "3 row(s) for 2 plan(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOGLE.replace("310", "x310"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_ad_report", str(bad), "--store", "store-a")
    assert "row 4, clicks" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No store"):
        call_command("import_ad_report", str(good), "--store", "nope")


def test_google_excel_export_utf16_tab_separated_with_total_in_second_column(store_a, plans):
    text = ("Campaign report\nAll time\nCampaign status\tDay\tCampaign\tImpr.\tClicks\tCost\tConversions\t"
            "Conv. value\nEnabled\tNov 3, 2026\tGift boxes\t1,000\t20\t12.30\t1.00\t88.00\n"
            "\t\tTotal: Campaigns\t1,000\t20\t12.30\t1.00\t88.00\n")
    result = import_ad_report(store_a, text.encode("utf-16"))
    assert result.rows == 1
    row = AdDailyPerformance.objects.get(plan=plans[1])
    assert (row.date, row.impressions, row.spend) == (date(2026, 11, 3), 1000, Decimal("12.30"))


def test_not_a_report_is_refused(store_a, plans):
    with pytest.raises(AdReportError, match="no date column"):
        import_ad_report(store_a, b"\x89PNG\r\n\x1a\n garbage")


HOURLY = """日期,计划名称,小时,花费
2026-11-25,Longjing search,08,20.50
2026-11-25,Longjing search,09,30.00
2026-11-25,Longjing search,10:00-11:00,9.50
"""


def test_hourly_report_feeds_cumulative_snapshots(store_a, plans):
    from datetime import UTC, datetime

    from campaigns.ads_pacing import plan_pacing
    from campaigns.models import AdSpendSnapshot

    result = import_ad_report(store_a, HOURLY.encode())
    assert (result.created, result.unit) == (3, "hourly snapshot")
    assert not AdDailyPerformance.objects.exists()
    values = list(AdSpendSnapshot.objects.filter(plan=plans[0]).order_by("ts").values_list("spend_today", flat=True))
    assert values == [Decimal("20.50"), Decimal("50.50"), Decimal("60.00")]
    assert AdSpendSnapshot.objects.order_by("ts").first().ts == datetime(2026, 11, 25, 0, 59, 59, tzinfo=UTC)
    again = import_ad_report(store_a, HOURLY.encode())
    assert (again.created, again.updated) == (0, 3)
    pacing = plan_pacing(plans[0], datetime(2026, 11, 25, 4, 0, tzinfo=UTC))  # 12:00 in Shanghai
    assert pacing.spend_today == Decimal("60.00")


def test_hourly_report_bad_hour_writes_nothing(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, HOURLY.replace("09,", "24,").encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "hour")]
    assert not AdSpendSnapshot.objects.exists()


def test_an_hour_of_today_that_has_not_begun_is_refused(store_a, plans):
    from datetime import UTC, datetime

    import time_machine

    # 02:30 UTC on 25 Nov is 10:30 in Shanghai: hour 10 is under way (a partial figure), hour 11 has not begun.
    with time_machine.travel(datetime(2026, 11, 25, 2, 30, tzinfo=UTC), tick=False):
        import_ad_report(store_a, HOURLY.encode())
        with pytest.raises(AdReportError) as caught:
            import_ad_report(store_a, (HOURLY + "2026-11-25,Longjing search,11,1.00\n").encode())
    assert [(e.row, e.column, e.reason) for e in caught.value.errors] == [
        (5, "hour", "hour 11 of today has not begun (it is 10:30 in the store)")]


@time_machine.travel(datetime(2026, 11, 26, 15, 8, tzinfo=UTC), tick=False)  # 07:08 in Los Angeles
def test_the_hour_under_way_counts_in_spend_so_far_and_is_no_stopped_alarm(store_b, plan_b):
    from campaigns.ads_pacing import pacing_alerts, plan_pacing

    report = ("Date,Plan,Hour,Spend\n2026-11-26,B search,0,5\n2026-11-26,B search,1,12\n"
              "2026-11-26,B search,2,11\n2026-11-26,B search,7,30\n")
    assert import_ad_report(store_b, report.encode()).created == 4

    pacing = plan_pacing(plan_b)
    assert pacing.spend_today == Decimal("58.00")
    assert pacing.last_increase == datetime(2026, 11, 26, 15, 8, tzinfo=UTC)  # as of the import, not 07:59:59
    assert not pacing.stopped
    assert pacing_alerts(store_b) == []


@time_machine.travel(datetime(2026, 11, 26, 15, 8, tzinfo=UTC), tick=False)  # 07:08 in Los Angeles
def test_a_report_of_the_later_hours_only_adds_to_the_spend_already_reported(store_b, plan_b):
    from campaigns.ads_pacing import plan_pacing

    import_ad_report(store_b, b"Date,Plan,Hour,Spend\n2026-11-26,B search,0,5\n2026-11-26,B search,1,12\n")
    import_ad_report(store_b, b"Date,Plan,Hour,Spend\n2026-11-26,B search,2,11\n2026-11-26,B search,7,30\n")

    assert plan_pacing(plan_b).spend_today == Decimal("58.00")  # 5 + 12 + 11 + 30, not 11 + 30


GOOGLE_BY_HOUR = """Campaign performance report
Day,Hour of day,Campaign,Impressions,Clicks,Cost,Conversions,Conv. value
2026-11-24,9,Longjing search,1200,40,30.00,2.00,310.00
2026-11-24,10,Longjing search,900,20,9.50,0.00,0.00
"""


def test_an_hourly_google_report_with_conversions_is_refused_not_cut_to_spend(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, GOOGLE_BY_HOUR.encode())

    [error] = caught.value.errors
    assert (error.row, error.column) == (2, "header")
    assert "Impressions, Clicks, Conversions, Conv. value would be lost" in error.reason
    assert "without the hour column" in error.reason
    assert not AdSpendSnapshot.objects.exists() and not AdDailyPerformance.objects.exists()


def test_an_hourly_google_report_of_cost_only_feeds_pacing(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    spend_only = ("Day,Hour of day,Campaign,Cost\n"
                  "2026-11-24,9,Longjing search,30.00\n2026-11-24,10,Longjing search,9.50\n")
    assert import_ad_report(store_a, spend_only.encode()).created == 2
    assert AdSpendSnapshot.objects.order_by("-ts").first().spend_today == Decimal("39.50")


def test_numbers_too_large_to_store_are_refused_row_by_row(store_a, plans):
    text = ("Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
            "2026-11-01,Gift boxes,100,10,99999999999999999,1,60\n"
            "2026-11-02,Gift boxes,3000000000,10,5,1,1e30\n"
            "2026-11-03,Gift boxes,100,10,5,2147483648,60\n"
            "2026-11-04,Gift boxes,100,10,999999999999.99,1,60\n")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    found = {(e.row, e.column): e.reason for e in caught.value.errors}
    assert set(found) == {(2, "spend"), (3, "impressions"), (3, "sales"), (4, "orders")}
    assert found[(2, "spend")] == "99999999999999999 is too large (at most 999,999,999,999.99)"
    assert found[(3, "impressions")] == "3000000000 is too large (at most 2,147,483,647)"
    assert not AdDailyPerformance.objects.exists()


def test_creative_rows_whose_sum_is_too_large_for_the_plan_day_are_refused(store_a, plans, make_creative):
    make_creative(plans[0], "Red box")
    make_creative(plans[0], "Blue box")
    text = ("Date,Plan,Creative,Impressions,Clicks,Spend,Orders,Sales\n"
            "2026-11-01,Longjing search,Red box,100,10,600000000000,1,60\n"
            "2026-11-01,Longjing search,Blue box,200,5,600000000000,0,0\n")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "spend")]
    assert "plan's day" in caught.value.errors[0].reason
    assert not AdDailyPerformance.objects.exists() and not AdCreativePerformance.objects.exists()


def test_hourly_spend_whose_running_total_is_too_large_is_refused(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    # 999,999,999,999.00 fits alone, but the snapshots hold the running total: 20.50 before it, 9.50 after
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, HOURLY.replace("30.00", "999999999999.00").encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "spend"), (4, "spend")]
    assert not AdSpendSnapshot.objects.exists()


@time_machine.travel(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))  # noon on 26 November in Shanghai
def test_a_row_for_a_day_that_has_not_happened_is_refused(store_a, plans):
    text = ("Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
            "2026-11-26,Gift boxes,100,10,5,1,60\n"
            "2027-03-01,Gift boxes,100,10,5,1,60\n")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [str(e) for e in caught.value.errors] == [
        "row 3, date: 2027-03-01 is in the future (the store's today is 2026-11-26)"]
    assert not AdDailyPerformance.objects.exists()


@time_machine.travel(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))  # already 27 November in Shanghai
def test_the_stores_local_today_decides_what_is_in_the_future(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    import_ad_report(store_a, b"Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-27,Gift boxes,1,1,5,1,60\n")
    assert AdDailyPerformance.objects.get(plan=plans[1]).date == date(2026, 11, 27)
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, HOURLY.replace("2026-11-25", "2026-11-28").encode())
    assert {(e.column, e.reason) for e in caught.value.errors} == {
        ("date", "2026-11-28 is in the future (the store's today is 2026-11-27)")}
    assert not AdSpendSnapshot.objects.exists()


GOOGLE_BY_DEVICE = """Campaign performance report
"November 1, 2026 - November 2, 2026"
Day,Campaign,Device,Currency code,Impressions,Clicks,Cost,Conversions,Conv. value
2026-11-01,Longjing search,Mobile phones,CNY,"8,000",200,160.00,8.00,"1,300.00"
2026-11-01,Longjing search,Computers,CNY,4000,100,85.40,3.50,600.00
2026-11-01,Longjing search,Tablets,CNY,400,10,5.00,0.50,80.00
2026-11-02,Longjing search,Mobile phones,CNY,7000,190,150.00,7.00,1000.00
2026-11-01,Gift boxes,Computers,CNY,5000,40,44.00,0.00,0.00
Total: Account,,,,"24,400",540,444.40,19.00,"2,980.00"
"""


def test_a_google_report_split_by_device_sums_each_campaign_day_and_says_so(store_a, plans):
    result = import_ad_report(store_a, GOOGLE_BY_DEVICE.encode())
    day = AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 1))
    assert (day.impressions, day.clicks, day.spend, day.orders, day.sales) == (
        12400, 310, Decimal("250.40"), 12, Decimal("1980.00"))  # conversions summed before rounding
    assert AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 2)).spend == Decimal("150.00")
    assert AdDailyPerformance.objects.get(plan=plans[1]).clicks == 40
    assert (result.rows, result.created) == (5, 3)
    assert "3 rows split by device summed into 1 plan day" in str(result)
    again = import_ad_report(store_a, GOOGLE_BY_DEVICE.encode())  # the sum replaces, it is not added again
    assert (again.created, again.updated) == (0, 3)
    assert AdDailyPerformance.objects.get(plan=plans[0], date=date(2026, 11, 1)).spend == Decimal("250.40")


def test_a_google_report_split_by_network_sums_each_campaign_day(store_a, plans):
    text = ("Day,Campaign,Network (with search partners),Impressions,Clicks,Cost,Conversions,Conv. value\n"
            "2026-11-01,Gift boxes,Google search,900,30,20.00,1,90.00\n"
            "2026-11-01,Gift boxes,Search partners,100,2,1.50,0,0\n")
    import_ad_report(store_a, text.encode())
    day = AdDailyPerformance.objects.get(plan=plans[1])
    assert (day.impressions, day.clicks, day.spend, day.orders) == (1000, 32, Decimal("21.50"), 1)


def test_the_same_device_twice_for_a_campaign_day_is_refused_naming_both_rows(store_a, plans):
    text = GOOGLE_BY_DEVICE.replace("2026-11-01,Longjing search,Tablets", "2026-11-01,Longjing search,Computers")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [str(e) for e in caught.value.errors] == [
        "row 6, date: Longjing search on 2026-11-01 appears twice for device Computers (first at row 5)"]
    assert not AdDailyPerformance.objects.exists()


def test_a_row_without_its_device_in_a_report_split_by_device_is_refused_not_counted_twice(store_a, plans):
    text = GOOGLE_BY_DEVICE.replace("2026-11-01,Longjing search,Tablets", "2026-11-01,Longjing search,")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(6, "device")]
    assert not AdDailyPerformance.objects.exists()


def test_devices_whose_sum_is_too_large_for_the_plan_day_are_refused(store_a, plans):
    text = ("Day,Campaign,Device,Impressions,Clicks,Cost,Conversions,Conv. value\n"
            "2026-11-01,Gift boxes,Computers,2000000000,1,1,0,0\n"
            "2026-11-01,Gift boxes,Mobile phones,2000000000,1,1,0,0\n")
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store_a, text.encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "impressions")]


def test_an_hourly_cost_report_split_by_device_sums_each_hour(store_a, plans):
    from campaigns.models import AdSpendSnapshot

    text = ("Day,Campaign,Hour of day,Device,Cost\n"
            "2026-11-25,Gift boxes,8,Mobile phones,20.00\n2026-11-25,Gift boxes,8,Computers,5.50\n"
            "2026-11-25,Gift boxes,9,Mobile phones,10.00\n")
    result = import_ad_report(store_a, text.encode())
    values = list(AdSpendSnapshot.objects.filter(plan=plans[1]).order_by("ts").values_list("spend_today", flat=True))
    assert values == [Decimal("25.50"), Decimal("35.50")]
    assert "2 rows split by device summed into 1 hour" in str(result)
    with pytest.raises(AdReportError, match="hour 8 appears twice for device Computers"):
        import_ad_report(store_a, (text + "2026-11-25,Gift boxes,8,Computers,1.00\n").encode())
