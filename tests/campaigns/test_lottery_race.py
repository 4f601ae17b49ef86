"""Two operators press "Draw" at the same moment: the database lets exactly one draw through."""

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from campaigns import activity_lottery
from campaigns.models import Activity, LotteryDraw
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_draws_store_one_and_refuse_the_other(store_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (SQLite serialises writers, so there is no race to lose)")
    lottery = Activity.objects.create(store=store_a, name="Race", kind="gift", start_date=date(2026, 11, 1),
                                      end_date=date(2026, 11, 7),
                                      details={"gift_type": "lottery", "gift_item": "Mug", "prize_count": 1})
    for n in range(20):
        OrderFactory(store=store_a, buyer_ref=f"b{n}", placed_at=datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("UTC")))
    barrier = threading.Barrier(2)
    outcomes = []

    def press_draw():
        try:
            activity = Activity.objects.get(pk=lottery.pk)
            barrier.wait()
            activity_lottery.draw(activity, "orders", date(2026, 11, 1), date(2026, 11, 7), 1)
            outcomes.append("drawn")
        except activity_lottery.AlreadyDrawn:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_draw) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["drawn", "refused"]
    assert LotteryDraw.objects.filter(activity=lottery).count() == 1
