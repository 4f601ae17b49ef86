"""A corrected ad report or API push for a day the nightly job already rolled up counts in daily tracking:
the day is rolled up again in the import's transaction and the operator is told which days."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from campaigns.ads_importers import import_ad_report
from metrics.models import DailyMetric
from metrics.rollup import roll_and_judge
from stores.models import ApiKey

from .conftest import AdDailyFactory, imported

pytestmark = pytest.mark.django_db

ROLLED = date(2026, 11, 24)  # rolled up by the night's job
NOT_ROLLED = date(2026, 11, 25)
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 on 26 November in Shanghai
HEADER = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n"
CORRECTED = HEADER + "2026-11-24,Longjing search,1000,50,250.00,5,400\n2026-11-25,Longjing search,1000,50,80.00,5,400\n"


def ad_spend(store, day):
    return DailyMetric.objects.get(store=store, day=day, metric="ad_spend", dimension="").value


@pytest.fixture
def rolled_up_day(store_a, search_plan):
    AdDailyFactory(plan=search_plan, date=ROLLED, spend=Decimal("100.00"))
    roll_and_judge([(store_a, ROLLED)])
    assert ad_spend(store_a, ROLLED) == Decimal("100.00")


@time_machine.travel(NOW, tick=False)
def test_a_corrected_report_for_a_rolled_up_day_replaces_its_ad_spend_in_daily_tracking(store_a, rolled_up_day):
    result = import_ad_report(store_a, CORRECTED.encode())

    assert result.refreshed == [ROLLED]
    assert ad_spend(store_a, ROLLED) == Decimal("250.00")
    assert not DailyMetric.objects.filter(store=store_a, day=NOT_ROLLED).exists()  # left to the nightly job


@time_machine.travel(NOW, tick=False)
def test_the_import_page_says_which_days_were_refreshed(client_a, store_a, rolled_up_day, media):
    page = imported(client_a, store_a, CORRECTED)

    assert "1 new day(s), 1 replaced. Daily numbers of 24 Nov 2026 updated." in page


@time_machine.travel(NOW, tick=False)
@pytest.mark.urls("tests.ads.api_urls")
def test_an_api_push_for_a_rolled_up_day_replaces_its_ad_spend_and_names_the_day(client, store_a, rolled_up_day):
    body = {"rows": [{"date": "2026-11-24", "plan": "Longjing search", "impressions": 900, "clicks": 30,
                      "spend": "21.50", "orders": 2, "sales": "300"}]}
    response = client.post("/api/v1/ads/performance", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(store_a)[1]}")

    assert response.status_code == 200
    assert response.json()["refreshed"] == ["2026-11-24"]
    assert ad_spend(store_a, ROLLED) == Decimal("21.50")
