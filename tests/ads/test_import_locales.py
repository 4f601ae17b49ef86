"""Ad reports written in another locale's number or date format are read as meant or refused by line,
never stored as another number or another day."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from campaigns.ads_importers import AdReportError, import_ad_report
from campaigns.models import AdDailyPerformance
from stores.importers import DAY_FIRST, MONTH_FIRST

from .conftest import AdPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 27, 6, 0, tzinfo=UTC), tick=False):
        yield

HEADER = "Day,Campaign,Impressions,Clicks,Cost,Conversions,Conv. value\n"


@pytest.fixture
def plan(store_a):
    return AdPlanFactory(store=store_a, name="Longjing search")


def refusals(store, text: str, **stated) -> list[str]:
    with pytest.raises(AdReportError) as caught:
        import_ad_report(store, text.encode(), **stated)
    assert not AdDailyPerformance.objects.exists()
    return [str(e) for e in caught.value.errors]


def test_a_german_google_report_is_read_with_its_decimal_comma(store_a, plan):
    import_ad_report(store_a, (HEADER + '2026-11-01,Longjing search,"12.400",310,"1.234,50","3,5","1.980,00"\n'
                               '2026-11-02,Longjing search,"1 180",29,"12,50",1,"80,00"\n').encode())
    first = AdDailyPerformance.objects.get(date=date(2026, 11, 1))
    assert (first.impressions, first.spend, first.orders, first.sales) == (
        12400, Decimal("1234.50"), 4, Decimal("1980.00"))
    second = AdDailyPerformance.objects.get(date=date(2026, 11, 2))
    assert (second.impressions, second.spend) == (1180, Decimal("12.50"))  # not 1250


def test_a_report_mixing_decimal_points_and_commas_is_refused_naming_the_line(store_a, plan):
    assert refusals(store_a, HEADER + "2026-11-01,Longjing search,1000,10,250.40,1,80.00\n"
                                      '2026-11-02,Longjing search,1000,10,"12,50",1,80.00\n') == [
        "row 3, spend: 12,50 is written with a decimal comma, but 250.40 (row 2, spend) with a decimal point: "
        "export the file with one number format"]


def test_an_amount_either_mark_reads_differently_is_refused_when_nothing_else_says_which(store_a, plan):
    assert refusals(store_a, HEADER + '2026-11-01,Longjing search,"1,000",10,"1,234",1,0\n') == [
        "row 2, spend: 1,234 could be 1234 or 1.234: is its ',' a thousands separator or a decimal comma? "
        "No other number in the file shows which; write amounts with their cents and no thousands separator "
        "(like 1234.00), or choose the decimal mark on the upload form"]


def test_a_thousands_comma_is_read_as_thousands_once_another_amount_shows_the_decimal_point(store_a, plan):
    import_ad_report(store_a, (HEADER + '2026-11-01,Longjing search,"1,000",10,"1,234",1,80.50\n').encode())
    assert AdDailyPerformance.objects.get().spend == Decimal("1234.00")


def test_a_us_report_is_read_month_first_once_a_date_shows_it(store_a, plan):
    import_ad_report(store_a, (HEADER + "11/03/2026,Longjing search,100,1,5.00,0,0\n"
                               "11/13/2026,Longjing search,100,1,6.00,0,0\n").encode())
    assert dict(AdDailyPerformance.objects.values_list("date", "spend")) == {
        date(2026, 11, 3): Decimal("5.00"), date(2026, 11, 13): Decimal("6.00")}  # not 11 March


def test_a_day_first_report_is_read_day_first_once_a_date_shows_it(store_a, plan):
    import_ad_report(store_a, (HEADER + "03/11/2026,Longjing search,100,1,5.00,0,0\n"
                               "13/11/2026,Longjing search,100,1,6.00,0,0\n").encode())
    assert set(AdDailyPerformance.objects.values_list("date", flat=True)) == {date(2026, 11, 3), date(2026, 11, 13)}


def test_a_report_whose_dates_could_be_read_either_way_is_refused_not_guessed(store_a, plan):
    assert refusals(store_a, HEADER + "11/03/2026,Longjing search,100,1,5.00,0,0\n"
                                      "11/05/2026,Longjing search,100,1,6.00,0,0\n") == [
        "row 2, date: 11/03/2026 could be 11 March 2026 (day first) or 3 November 2026 (month first), and no date "
        "in the file has a day after the 12th to show which: choose how dates are written on the upload form, or "
        "export the report with dates like 2026-11-03",
        "row 3, date: 11/05/2026 could be 11 May 2026 (day first) or 5 November 2026 (month first), and no date "
        "in the file has a day after the 12th to show which: choose how dates are written on the upload form, or "
        "export the report with dates like 2026-11-05"]


def test_a_report_with_dates_both_day_first_and_month_first_is_refused(store_a, plan):
    assert refusals(store_a, HEADER + "13/11/2026,Longjing search,100,1,5.00,0,0\n"
                                      "11/14/2026,Longjing search,100,1,6.00,0,0\n") == [
        "row 3, date: 11/14/2026 is written month first, but 13/11/2026 (row 2) day first: export the report "
        "with dates like 2026-11-14"]


def test_a_report_with_dotted_dates_is_read_day_first_and_a_four_digit_first_part_year_first(store_a, plan):
    import_ad_report(store_a, (HEADER + "03.11.2026,Longjing search,100,1,5.00,0,0\n"
                               "4.11.2026,Longjing search,100,1,6.00,0,0\n"
                               "2026.11.05,Longjing search,100,1,7.00,0,0\n").encode())
    assert dict(AdDailyPerformance.objects.values_list("date", "spend")) == {
        date(2026, 11, 3): Decimal("5.00"), date(2026, 11, 4): Decimal("6.00"), date(2026, 11, 5): Decimal("7.00")}


@pytest.mark.parametrize("written", ["31.11.2026", "03.11.26", "03.11.2026.", "2026.13.01"])
def test_a_dotted_date_that_is_no_day_is_refused_naming_the_line(store_a, plan, written):
    assert refusals(store_a, HEADER + f"{written},Longjing search,100,1,5.00,0,0\n") == [
        f"row 2, date: {written!r} is not a date (YYYY-MM-DD)"]


AMBIGUOUS = (HEADER + '11/03/2026,Longjing search,100,1,"1,250",0,0\n'
                      '11/05/2026,Longjing search,100,1,"2,500",0,0\n')


def test_a_report_that_cannot_tell_its_date_order_or_mark_is_imported_as_the_operator_states(store_a, plan):
    assert len(refusals(store_a, AMBIGUOUS)) == 4  # two dates and two amounts, each either way
    import_ad_report(store_a, AMBIGUOUS.encode(), dates=MONTH_FIRST, mark=",")
    assert dict(AdDailyPerformance.objects.values_list("date", "spend")) == {
        date(2026, 11, 3): Decimal("1.25"), date(2026, 11, 5): Decimal("2.50")}
    AdDailyPerformance.objects.all().delete()
    import_ad_report(store_a, AMBIGUOUS.encode(), dates=DAY_FIRST, mark=".")
    assert dict(AdDailyPerformance.objects.values_list("date", "spend")) == {
        date(2026, 3, 11): Decimal("1250.00"), date(2026, 5, 11): Decimal("2500.00")}


def test_a_stated_date_order_the_report_contradicts_is_refused_naming_the_line(store_a, plan):
    assert refusals(store_a, HEADER + "11/03/2026,Longjing search,100,1,5.00,0,0\n"
                                      "25/03/2026,Longjing search,100,1,6.00,0,0\n", dates=MONTH_FIRST) == [
        "row 3, date: 25/03/2026 is written day first, but the upload says month first: check how dates are "
        "written on the upload form"]


def test_a_stated_mark_the_report_contradicts_is_refused_naming_the_line(store_a, plan):
    assert refusals(store_a, HEADER + '2026-11-01,Longjing search,100,1,"1,250",0,0\n'
                                      '2026-11-02,Longjing search,100,1,"12,5",0,0\n', mark=".") == [
        "row 3, spend: 12,5 is written with a decimal comma, but the upload says a decimal point: check the "
        "decimal mark chosen on the upload form"]


def test_the_command_takes_the_date_order_and_decimal_mark_too(store_a, plan, tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(AMBIGUOUS)
    call_command("import_ad_report", str(path), "--store", store_a.slug, "--dates", "month-first",
                 "--decimal-mark", "comma", stdout=StringIO())
    assert dict(AdDailyPerformance.objects.values_list("date", "spend")) == {
        date(2026, 11, 3): Decimal("1.25"), date(2026, 11, 5): Decimal("2.50")}
