"""The campaigns demo seed builds on the stores demo: activities, a deadline in 5 days, a drawn lottery, plans."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from campaigns import demo
from campaigns.activity_kinds import event_day, next_event_day
from campaigns.activity_lottery import verify_draw
from campaigns.desk import open_items
from campaigns.models import Activity, ActivityTemplate, LotteryDraw, Plan, PlanTask
from stores import demo as stores_demo
from tests.demo_once import seeded_once

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


@time_machine.travel(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
def test_demo_platform_events_are_weeks_ahead_not_a_year():
    ctx = stores_demo.seed(days=45)
    demo.seed(ctx)
    days = {}
    for store in ctx.stores:
        event = Activity.objects.get(store=store, kind="platform_event")
        assert event.signup_deadline == store.today() + timedelta(days=5) < event.start_date
        days[event.name] = event.start_date
    # Still 25 Nov in Los Angeles: Black Friday (27 Nov) and Cyber Monday (30 Nov) are too close to sign up
    # for, the next ones a year away, so the US store plans the platform's year-end sale in three weeks.
    assert days == {"Double 12 sign-up": date(2026, 12, 12), "Year-end sale sign-up": date(2026, 12, 16)}
    year_end = Activity.objects.get(name="Year-end sale sign-up")
    assert year_end.details["event"] == "other" and year_end.details["event_name"] == "Year-end sale"


@pytest.mark.parametrize("store_fixture", ["store_a", "store_b"])  # China and the US: different named events
def test_the_demo_event_is_realistic_whatever_day_the_demo_runs(request, store_fixture, default_templates):
    store = request.getfixturevalue(store_fixture)
    template = ActivityTemplate.objects.get(name="Double 11 sign-up")
    for offset in range(0, 366, 3):
        run = datetime(2026, 11, 26, 4, 0, tzinfo=UTC) + timedelta(days=offset)
        with time_machine.travel(run, tick=False):
            today = store.today()
            event = demo.seed_platform_event(store, None, template, [], today)
            named_day = event_day(event.details["event"], event.start_date.year)
            assert named_day in (None, event.start_date), f"{today}: {event.name} off its real day"
            assert today + timedelta(days=8) <= event.start_date <= today + timedelta(days=90), today
            assert today < event.signup_deadline < event.start_date, today
            assert any("sign-up deadlines" in i.label for i in open_items(store, None)), today
            steps = {i.title: i.due_date for i in event.checklist.all()}
            assert steps["Submit the sign-up"] == event.signup_deadline, today
            assert steps["Read the event's entry rules"] <= event.signup_deadline, today
            assert min(steps.values()) >= today, f"{today}: a step is overdue the day it is planned"
        event.delete()


def test_named_events_fall_on_their_real_days():
    assert event_day("black_friday", 2026) == date(2026, 11, 27)  # the 4th Thursday is 26 November
    assert event_day("black_friday", 2025) == date(2025, 11, 28)
    assert event_day("cyber_monday", 2026) == date(2026, 11, 30)
    assert event_day("double_11", 2026) == date(2026, 11, 11)
    assert event_day("618", 2027) == date(2027, 6, 18)
    assert next_event_day("double_11", date(2026, 11, 26)) == date(2027, 11, 11)
    assert next_event_day("double_11", date(2026, 11, 10)) == date(2026, 11, 11)
    assert next_event_day("prime_day", date(2026, 11, 10)) is None


NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai, 23:30 (24 Nov) in Los Angeles


@pytest.fixture(scope="class")
def demo_at_now(django_db_setup, django_db_blocker):
    with seeded_once(django_db_blocker):
        with time_machine.travel(NOW, tick=False):
            ctx = stores_demo.seed(days=45)
            demo.seed(ctx)
        yield ctx


class TestTheDemoSeededAtNow:
    """One demo (45 days, campaigns) seeded at NOW for these tests, each reading it at NOW."""

    @time_machine.travel(NOW, tick=False)
    def test_a_newcomer_sees_who_moved_and_who_edited_an_activity_in_its_history(self, demo_at_now, client):
        ctx = demo_at_now
        jade = ctx.stores[0]  # Wed 25 Nov in Shanghai
        post = Activity.objects.get(store=jade, kind="content")
        assert post.start_date == date(2026, 11, 28)
        # The checklist kept its lead times: written two days before, published on the day, compared the day after.
        assert sorted(post.checklist.values_list("due_date", flat=True)) == [
            date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)]
        client.force_login(ctx.operator)
        page = client.get(reverse("campaigns:activity_detail", args=[post.pk])).content.decode()
        history = page[page.index('id="history"'):]
        assert "Sun 22 Nov 10:" in history and "<strong>Olivia</strong>" in history
        assert "Moved from Thu 26 Nov to Sat 28 Nov; 4 checklist steps moved with it;" in history
        assert history.index("Moved from") < history.index("Created as")  # newest first: created before the move
        event = Activity.objects.get(store=jade, kind="platform_event")
        client.force_login(ctx.manager)
        page = client.get(reverse("campaigns:activity_detail", args=[event.pk])).content.decode()
        history = page[page.index('id="history"'):]
        assert "Tue 24 Nov 16:" in history and "<strong>Marco</strong>" in history
        assert "Budget: 2,000.00 CNY → 2,500.00 CNY." in history

    @time_machine.travel(NOW, tick=False)
    def test_a_newcomer_reads_a_finished_activitys_history_over_its_weeks_not_in_the_minute_of_seeding(
            self, demo_at_now, client):
        # Every entry of the October promotion read "Sun 29 Nov 23:14 · opsdesk": created, planned, running and
        # done in the minute the demo was seeded, by nobody.
        ctx = demo_at_now
        jade = ctx.stores[0]
        promo = Activity.objects.get(store=jade, kind="store_promotion")
        entries = list(promo.history.order_by("at"))
        assert [e.summary.split(",")[0].split(" →")[-1] for e in entries] == [
            "Created as idea", " Planned.", " Running.", " Done."]
        days = [e.at.astimezone(jade.zone).date() for e in entries]
        assert days == [promo.start_date - timedelta(days=21), promo.start_date - timedelta(days=20),
                        promo.start_date, promo.end_date + timedelta(days=1)]
        assert {e.by for e in entries} == {ctx.operator}
        client.force_login(ctx.operator)
        page = client.get(reverse("campaigns:activity_detail", args=[promo.pk])).content.decode()
        assert "<strong>Olivia</strong>" in page[page.index('id="history"'):]
