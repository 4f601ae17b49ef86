"""Daily tracking for a user of many stores: one row a store on /metrics/daily/, read in a constant number of
queries, with the same figures as the store's own page /metrics/daily/<slug>/ (its full panel)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics.daily_list import LISTED
from metrics.models import Anomaly, AnomalyStatus, DailyMetric
from tests.factories import MembershipFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney", "Europe/London")
# 09:00 on Tuesday 12 May in Shanghai: yesterday is the 11th there, in Sydney and London; in Los Angeles it is
# still 18:00 on the 11th, so its yesterday is the 10th.
NOW = datetime(2026, 5, 12, 1, tzinfo=UTC)


def own_days(store, last: date, days: int = 15, scale: int = 1):
    """Headline figures for `days` days up to `last`, different each day and each store."""
    cells = []
    for n in range(days):
        day = last - timedelta(days=n)
        orders, visitors = 20 + (n * 7 + scale) % 13, 400 + (n * 31 * scale) % 97
        gmv = Decimal(orders * (50 + scale)) + Decimal(n) / 4
        for metric, value in (("orders", orders), ("visitors", visitors), ("gmv", gmv),
                              ("aov", (gmv / orders).quantize(Decimal("0.000001"))),
                              ("conversion", Decimal(orders / visitors).quantize(Decimal("0.000001"))),
                              ("new_violations", n % 3), ("sessions", visitors + 9)):
            cells.append(DailyMetric(store=store, day=day, metric=metric, value=Decimal(value)))
    DailyMetric.objects.bulk_create(cells)


def to_12_digits(cell: dict) -> dict:
    """A row's figures to 12 digits, far finer than any page shows: SQLite keeps decimals as binary floats, so its
    ratios can differ from the same figure read another way in the 17th digit."""
    return {k: float(f"{v:.12g}") if isinstance(v, float) else v for k, v in cell.items()}


def chain(user, size: int) -> list:
    stores = []
    for n in range(size):
        store = StoreFactory(name=f"Chain {n:02d}", timezone=ZONES[n % len(ZONES)])
        MembershipFactory(store=store, user=user)
        stores.append(store)
        if n % 5 == 4:
            continue  # never rolled up: a new store
        last = store.today(NOW) - timedelta(days=1)
        # Every third store's yesterday is not rolled up yet: its row falls back to the day before.
        own_days(store, last - timedelta(days=1) if n % 3 == 2 else last, scale=n + 1)
        if n % 4 == 1:  # no traffic tracked: visitors and conversion unknown, not 0
            DailyMetric.objects.filter(store=store, metric__in=["visitors", "conversion"]).delete()
        if n % 4 == 3:  # rolled up without a GMV row the day before: that day had 0
            DailyMetric.objects.filter(store=store, metric="gmv", day=last - timedelta(days=1)).delete()
    return stores


def get(client, url):
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response


class TestStorePage:
    def test_a_stores_own_page_shows_its_full_panel_and_no_other_store(self, client, store_a, store_b):
        user = UserFactory()
        for store in (store_a, store_b):
            MembershipFactory(store=store, user=user)
            own_days(store, store.today(NOW) - timedelta(days=1))
        client.force_login(user)
        response = get(client, reverse("metrics:store_daily", args=[store_b.slug]))
        [panel] = response.context["panels"]
        assert panel["store"] == store_b and panel["day"] == date(2026, 5, 10)  # Los Angeles' yesterday
        page = response.content.decode()
        assert f'id="store-{store_b.slug}"' in page and f'id="store-{store_a.slug}"' not in page
        assert "Every other metric" in page  # the full panel, not a row

    def test_a_stores_own_page_shows_the_day_asked_for(self, client_a, store_a):
        own_days(store_a, date(2026, 5, 11))
        response = get(client_a, reverse("metrics:store_daily", args=[store_a.slug]) + "?day=2026-05-04")
        assert response.context["panels"][0]["day"] == date(2026, 5, 4)
        assert "Mon 4 May" in response.content.decode()

    def test_another_stores_page_is_not_found(self, client_a, store_b):
        with time_machine.travel(NOW, tick=False):
            assert client_a.get(reverse("metrics:store_daily", args=[store_b.slug])).status_code == 404
            assert client_a.get(reverse("metrics:store_daily", args=["no-such-store"])).status_code == 404

    def test_the_anomaly_list_is_still_the_anomaly_list(self, client_a):
        # daily/<slug>/ comes after daily/anomalies/: the list is not read as a store called "anomalies".
        with time_machine.travel(NOW, tick=False):
            response = client_a.get(reverse("metrics:anomalies"))
        assert response.status_code == 200 and "anomalies" in response.context


class TestListOfStores:
    def queries_of_the_list(self, client, size: int) -> int:
        user = UserFactory()
        chain(user, size)
        client.force_login(user)
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("metrics:daily"))
        assert len(response.context["rows"]) == size
        return len(queries)

    def test_the_list_runs_as_many_queries_for_12_stores_as_for_2(self, client):
        # A full panel a store was ~10 queries and a chart each: hundreds for a chain.
        assert self.queries_of_the_list(client, 12) == self.queries_of_the_list(client, 2)

    @pytest.mark.parametrize("asked", ["", "?day=2026-05-09"])
    def test_each_rows_figures_are_those_of_the_stores_own_panel(self, client, asked):
        user = UserFactory()
        stores = chain(user, 10)
        client.force_login(user)
        rows = get(client, reverse("metrics:daily") + asked).context["rows"]
        assert [r.store for r in rows] == stores
        for row in rows:
            [panel] = get(client, reverse("metrics:store_daily", args=[row.store.slug]) + asked).context["panels"]
            assert (row.day, row.pending) == (panel["day"], panel["pending"]), row.store.timezone
            # The panel's rows carry its peers' notes and what the changes are measured against: not listed.
            assert [to_12_digits(cell) for cell in row.cells] == [
                to_12_digits({k: v for k, v in r.items() if k not in ("peers", "vs")})
                for r in panel["rows"] if r["metric"] in LISTED]
        fell_back = [r for r in rows if r.pending]
        if asked:
            assert not fell_back and {r.day for r in rows} == {date(2026, 5, 9)}
        else:
            assert fell_back and all(r.day == r.pending - timedelta(days=1) for r in fell_back)
        assert [r for r in rows if not r.rolled_up]  # a store never rolled up is listed, with no figures

    def test_each_row_links_to_the_stores_own_page_of_the_day_listed(self, client, store_a, store_b):
        user = UserFactory()
        for store in (store_a, store_b):
            MembershipFactory(store=store, user=user)
        client.force_login(user)
        page = get(client, reverse("metrics:daily") + "?day=2026-05-09").content.decode()
        assert f'href="{reverse("metrics:store_daily", args=[store_b.slug])}?day=2026-05-09"' in page
        page = get(client, reverse("metrics:daily")).content.decode()
        assert f'href="{reverse("metrics:store_daily", args=[store_a.slug])}"' in page
        assert "Every other metric" not in page and "plotly" not in page  # no panel, no chart

    def test_a_row_counts_its_open_anomalies_and_those_of_its_day(self, client, store_a, store_b):
        user = UserFactory()
        for store in (store_a, store_b):
            MembershipFactory(store=store, user=user)
            own_days(store, store.today(NOW) - timedelta(days=1))
        day = store_a.today(NOW) - timedelta(days=1)
        for metric, on, status in (("gmv", day, AnomalyStatus.NEW), ("orders", day, AnomalyStatus.RESOLVED),
                                   ("visitors", day - timedelta(days=3), AnomalyStatus.PLAN)):
            Anomaly.objects.create(store=store_a, day=on, metric=metric, value=1, baseline=2, band_low=1,
                                   band_high=3, score=-5, direction="down", status=status, plan="Call them")
        # The visitors drop goes on the next day: one incident over two days, counted once.
        earlier = Anomaly.objects.get(store=store_a, metric="visitors")
        Anomaly.objects.create(store=store_a, day=earlier.day + timedelta(days=1), metric="visitors", value=1,
                               baseline=2, band_low=1, band_high=3, score=-5, direction="down",
                               status=AnomalyStatus.PLAN, continues=earlier)
        client.force_login(user)
        rows = {r.store: r for r in get(client, reverse("metrics:daily")).context["rows"]}
        assert (rows[store_a].new_anomalies, rows[store_a].open_anomalies) == (2, 2)
        assert (rows[store_b].new_anomalies, rows[store_b].open_anomalies) == (0, 0)
        assert rows[store_a].new_violations == 0 and rows[store_b].new_violations == 0  # n % 3 on the last day

    def test_a_user_of_one_store_still_gets_its_full_panel(self, client_a, store_a):
        own_days(store_a, date(2026, 5, 11))
        response = get(client_a, reverse("metrics:daily"))
        assert [p["store"] for p in response.context["panels"]] == [store_a]
        assert "metrics/daily_list.html" not in [t.name for t in response.templates]


@pytest.mark.parametrize("page", ["desk", "metrics:live", "metrics:store_live"])
def test_the_desk_and_the_live_pages_link_to_each_stores_own_daily_page(client, store_a, store_b, page):
    user = UserFactory()
    for store in (store_a, store_b):
        MembershipFactory(store=store, user=user)
    client.force_login(user)
    html = get(client, reverse(page, args=[store_b.slug] if page == "metrics:store_live" else [])).content.decode()
    assert f'href="{reverse("metrics:store_daily", args=[store_b.slug])}"' in html
