"""The campaigns demo seed builds on the stores demo: activities, a deadline in 5 days, a drawn lottery, plans."""

from datetime import timedelta

import pytest

from campaigns import demo
from campaigns.activity_lottery import verify_draw
from campaigns.desk import open_items
from campaigns.models import Activity, LotteryDraw, Plan, PlanTask
from stores import demo as stores_demo

pytestmark = pytest.mark.django_db


def test_demo_seed_builds_activities_and_plans():
    ctx = stores_demo.seed(days=45)
    demo.seed(ctx)
    for store in ctx.stores:
        today = store.today()
        promo = Activity.objects.get(store=store, kind="store_promotion")
        assert (promo.start_date, promo.end_date) == ctx.promo[store.slug]
        event = Activity.objects.get(store=store, kind="platform_event")
        assert event.signup_deadline == today + timedelta(days=5) and event.progress > 0
        assert any("sign-up deadlines (first in 5 days)" in i.label for i in open_items(store, ctx.operator))
        draw = LotteryDraw.objects.get(activity__store=store)
        assert draw.entrant_count > 0 and verify_draw(draw)["same_winners"]
        week = Plan.objects.get(store=store, level="week")
        assert week.parent.level == "month" and week.parent.parent.level == "year"
        assert PlanTask.objects.filter(plan=week, owner__isnull=False).count() >= 3
    assert Activity.objects.filter(status="reviewed").count() == 1
