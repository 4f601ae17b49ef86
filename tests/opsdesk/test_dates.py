"""Dates an operator reads: 'Fri 18 Dec', 'Fri 18 Dec 14:05', the year only outside this one, in the store's zone.
Form values, query strings, CSV and JSON keep ISO days."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from metrics.models import Anomaly
from opsdesk.templatetags.desk import day, day_with_year, moment, through
from tests.factories import OrderFactory, ViolationFactory

THIS_YEAR = datetime(2026, 12, 18, 4, tzinfo=UTC)  # Friday 18 December 2026, 12:00 in Shanghai
in_2026 = time_machine.travel(THIS_YEAR, tick=False)


@in_2026
def test_a_day_this_year_has_no_year_and_one_in_another_year_has_it():
    assert day(date(2026, 12, 18)) == "Fri 18 Dec"
    assert day(date(2025, 12, 18)) == "Thu 18 Dec 2025"
    assert day(date(2027, 1, 1)) == "Fri 1 Jan 2027"
    assert day(None) == "" and day("") == ""


@in_2026
def test_a_day_read_later_has_its_year_even_this_year():
    assert day_with_year(date(2026, 12, 18)) == "Fri 18 Dec 2026"  # an email's heading, read maybe next year
    assert day_with_year(date(2025, 12, 18)) == "Thu 18 Dec 2025"
    assert day_with_year(datetime(2026, 12, 17, 20, 5, tzinfo=UTC), "Asia/Shanghai") == "Fri 18 Dec 2026"
    assert day_with_year(None) == ""


@in_2026
def test_a_time_is_written_in_the_stores_zone_with_its_day():
    at = datetime(2026, 12, 17, 20, 5, tzinfo=UTC)
    assert moment(at, "Asia/Shanghai") == "Fri 18 Dec 04:05"  # already the next day in Shanghai
    assert moment(at, "America/Los_Angeles") == "Thu 17 Dec 12:05"
    assert moment(datetime(2025, 3, 2, 6, 30, tzinfo=UTC), "Asia/Shanghai") == "Sun 2 Mar 2025 14:30"
    assert day(at, "Asia/Shanghai") == "Fri 18 Dec"
    assert moment(None) == "" and moment(date(2026, 12, 18)) == ""


@time_machine.travel(datetime(2026, 12, 31, 20, tzinfo=UTC), tick=False)  # 1 Jan 2027 04:00 in Shanghai
def test_this_year_is_the_year_in_the_zone_the_time_is_written_in():
    at = datetime(2026, 12, 31, 18, tzinfo=UTC)  # 02:00 on 1 January in Shanghai, 10:00 on 31 December in LA
    assert moment(at, "Asia/Shanghai") == "Fri 1 Jan 02:00"
    assert moment(at, "America/Los_Angeles") == "Thu 31 Dec 10:00"


def test_a_time_follows_the_zone_the_template_has_active():
    page = Template("{% load tz desk %}{% timezone 'Asia/Shanghai' %}{{ at|moment }}{% endtimezone %} "
                    "{% timezone 'America/Los_Angeles' %}{{ at|moment }}{% endtimezone %}")
    with time_machine.travel(THIS_YEAR, tick=False):
        text = page.render(Context({"at": datetime(2026, 12, 17, 20, 5, tzinfo=UTC)}))
    assert text == "Fri 18 Dec 04:05 Thu 17 Dec 12:05"


@in_2026
def test_a_range_names_its_month_once_and_its_year_only_outside_this_one():
    assert through(date(2026, 12, 18), date(2026, 12, 20)) == "Fri 18 – Sun 20 Dec"
    assert through(date(2026, 11, 30), date(2026, 12, 2)) == "Mon 30 Nov – Wed 2 Dec"
    assert through(date(2026, 12, 28), date(2027, 1, 3)) == "Mon 28 Dec – Sun 3 Jan 2027"
    assert through(date(2025, 6, 1), date(2025, 6, 7)) == "Sun 1 – Sat 7 Jun 2025"
    assert through(date(2026, 12, 18), date(2026, 12, 18)) == "Fri 18 Dec"
    assert through(date(2026, 7, 30), None) == "Thu 30 Jul – open"


# --- pages ------------------------------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@in_2026
def test_a_list_writes_times_in_house_style_with_the_year_only_for_last_year(client, operator_a, store_a):
    client.force_login(operator_a)  # inside the frozen clock: a login weeks earlier would have expired
    ViolationFactory(store=store_a, occurred_at=datetime(2026, 12, 17, 6, 5, tzinfo=UTC))
    ViolationFactory(store=store_a, occurred_at=datetime(2025, 12, 17, 6, 5, tzinfo=UTC))
    page = client.get(reverse("stores:violations", args=[store_a.slug])).content.decode()
    assert ">Thu 17 Dec 14:05</td>" in page and ">Wed 17 Dec 2025 14:05</td>" in page
    assert "2026-12-17" not in page and "2025-12-17" not in page


@in_2026
def test_a_detail_page_writes_its_times_in_house_style_in_the_stores_zone(client, operator_a, store_a):
    client.force_login(operator_a)  # inside the frozen clock: a login weeks earlier would have expired
    at = datetime(2025, 12, 17, 20, 5, tzinfo=UTC)  # 04:05 on Thursday 18 December 2025 in Shanghai
    order = OrderFactory(store=store_a, placed_at=at, paid_at=at)
    page = client.get(reverse("stores:order", args=[store_a.slug, order.pk])).content.decode()
    assert "Placed Thu 18 Dec 2025 04:05 · paid Thu 18 Dec 2025 04:05" in page


@in_2026
def test_an_anomaly_page_links_its_daily_page_by_iso_day(client, operator_a, store_a):
    client.force_login(operator_a)  # inside the frozen clock: a login weeks earlier would have expired
    anomaly = Anomaly.objects.create(store=store_a, day=date(2026, 12, 17), metric="gmv", value=1, baseline=2,
                                     band_low=1, band_high=3, change=-0.5, score=-5, direction="down")
    page = client.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert f'/metrics/daily/{store_a.slug}/?day=2026-12-17"' in page  # a link's query string stays ISO


@in_2026
def test_a_filter_form_keeps_its_iso_value_while_the_list_reads_house_style(client, operator_a, store_a):
    client.force_login(operator_a)  # inside the frozen clock: a login weeks earlier would have expired
    Anomaly.objects.create(store=store_a, day=date(2026, 12, 17), metric="gmv", value=1, baseline=2, band_low=1,
                           band_high=3, change=-0.5, score=-5, direction="down")
    page = client.get(reverse("metrics:anomalies") + "?day=2026-12-17").content.decode()
    assert 'value="2026-12-17"' in page
    assert 'data-label="Day">Thu 17 Dec</td>' in page
