"""The anomaly page's chart: the day's numbers stay readable against the usual band."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from metrics.charts import anomaly_figure
from metrics.models import Anomaly
from metrics.rollup import rollup_day
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 5, 4)


def _gmv_days(store, totals):
    """One order a day ending on DAY, of each total in turn, rolled up."""
    first = DAY - timedelta(days=len(totals) - 1)
    for n, total in enumerate(totals):
        ts = datetime.combine(first + timedelta(days=n), datetime.min.time().replace(hour=12), tzinfo=store.zone)
        if total:
            OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store, ts.date())


def _flagged(store, value, baseline):
    return Anomaly.objects.create(store=store, day=DAY, metric="gmv", value=value, baseline=baseline,
                                  band_low=0, band_high=baseline * 3, change=-1, score=-8, direction="down")


def test_a_noisy_series_band_does_not_flatten_the_days_line(store_a):
    # A small store's GMV swinging between 30 and 3,000: its usual band reaches tens of thousands (a spread of log
    # changes), and an axis scaled to it drew every real day as a flat line along the bottom.
    rng = random.Random(7)
    _gmv_days(store_a, [round(30 * 100 ** rng.random()) for _ in range(56)] + [0])  # 30 to 3,000, no weekly rhythm
    fig = anomaly_figure(_flagged(store_a, 0, 1138))
    shown = [float(v) for trace in fig.data if trace.name in ("actual", "usual (weekday pattern × recent level)")
             for v in trace.y if v == v]
    band = [v for v in fig.data[0].y if v == v]
    assert max(band) > 2 * max(shown)  # the data is as described: a band far above the numbers
    low, high = fig.layout.yaxis.range
    assert low == 0 and max(shown) <= high <= 1.3 * max(shown)


def test_a_steady_series_keeps_its_whole_band_in_view(store_a):
    _gmv_days(store_a, [1000, 1040, 980, 1010, 990, 1030, 1000] * 8 + [300])
    fig = anomaly_figure(_flagged(store_a, 300, 1000))
    assert fig.layout.yaxis.range is None  # plotly fits the band and the numbers, from 0
    assert fig.layout.yaxis.rangemode == "tozero"
