"""The daily page's and the morning email's charts tick money and counts at round numbers (1, 2, 5 × 10^n)."""

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from metrics.charts import anomaly_figure, email_figure
from metrics.models import Anomaly
from metrics.rollup import rollup_day
from metrics.views.daily import gmv_chart
from tests.factories import OrderFactory
from tests.metrics.test_anomaly_chart import DAY, _gmv_days

pytestmark = pytest.mark.django_db


def _days(store, orders_a_day, total="97.30"):
    """`orders_a_day[i]` paid orders of `total` each on the i-th of the days ending on DAY, rolled up."""
    first = DAY - timedelta(days=len(orders_a_day) - 1)
    for n, count in enumerate(orders_a_day):
        ts = datetime.combine(first + timedelta(days=n), datetime.min.time().replace(hour=12), tzinfo=store.zone)
        for _ in range(count):
            OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store, ts.date())


def _round(step) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1, 2, 5))


def _ticks(axis, top):
    """The labels an axis of `tickmode: linear` draws up to `top`."""
    assert axis["tickmode"] == "linear" and axis["tick0"] == 0
    return [k * axis["dtick"] for k in range(int(top / axis["dtick"]) + 1)]


def test_the_daily_chart_ticks_orders_at_round_numbers_not_at_gmv_gridlines(store_a):
    # Plotly ticks an axis overlaying another at that one's gridlines unless told otherwise: beside GMV's 0, 500,
    # …, 2,500 the orders' axis read 0, 5, 10, 15, 21, 26 (ticks 5.13 apart, rounded by ",d"; Chromium, plotly.js 4).
    _days(store_a, [8, 14, 26, 18, 10, 22, 24])
    layout = gmv_chart(store_a, DAY, days=7)["layout"]
    orders, gmv = layout["yaxis2"], layout["yaxis"]
    assert _ticks(orders, 26) == [0, 5, 10, 15, 20, 25]
    assert _ticks(gmv, 26 * 97.30) == [0, 500, 1000, 1500, 2000, 2500]
    assert orders["rangemode"] == gmv["rangemode"] == "tozero"  # plotly fits the axis to the data: none cut off


def test_a_day_or_two_of_single_orders_is_ticked_in_whole_orders(store_a):
    _days(store_a, [1, 0, 1])
    orders = gmv_chart(store_a, DAY, days=3)["layout"]["yaxis2"]
    assert orders["dtick"] == 1  # not 0.2 apart, which ",d" drew as 0, 0, 0, 1, 1


def test_the_anomaly_chart_ticks_its_band_at_round_numbers(store_a):
    _gmv_days(store_a, [1000, 1040, 980, 1010, 990, 1030, 1000] * 8 + [300])
    fell = Anomaly.objects.create(store=store_a, day=DAY, metric="gmv", value=300, baseline=1000, band_low=900,
                                  band_high=1100, change=-0.7, score=-8, direction="down")
    fig = anomaly_figure(fell)
    band_top = max(v for v in fig.data[0].y if v == v)
    assert fig.layout.yaxis.range is None and fig.layout.yaxis.rangemode == "tozero"  # the whole band in view
    assert _round(fig.layout.yaxis.dtick) and 2 <= band_top / fig.layout.yaxis.dtick <= 6


def test_the_email_chart_of_paid_orders_ticks_whole_round_numbers(store_a):
    _days(store_a, [2, 3, 2, 3, 2, 3, 3] * 4 + [0])
    fell = Anomaly.objects.create(store=store_a, day=DAY, metric="orders", value=0, baseline=3, band_low=1,
                                  band_high=4, change=-1, score=-6, direction="down")
    yaxis = email_figure(fell, days=28).layout.yaxis
    assert yaxis.tickmode == "linear" and yaxis.tick0 == 0
    assert yaxis.dtick == 1  # 0, 1, 2, 3 orders: whole steps, however few the orders


def test_the_email_chart_keeps_round_ticks_when_the_band_runs_off_the_top(store_a):
    # A noisy series' band far above its numbers: the axis ends a little above them (anomaly_figure), ticked
    # at round steps all the same.
    rng = random.Random(7)
    totals = [round(30 * 100 ** rng.random()) for _ in range(56)]
    _gmv_days(store_a, totals + [0])
    fell = Anomaly.objects.create(store=store_a, day=DAY, metric="gmv", value=0, baseline=1138, band_low=0,
                                  band_high=3414, change=-1, score=-8, direction="down")
    yaxis = email_figure(fell, days=28).layout.yaxis
    low, high = yaxis.range
    assert low == 0 and high >= max(totals[-28:])  # no day cut off
    assert _round(yaxis.dtick) and 2 <= high / yaxis.dtick <= 4

