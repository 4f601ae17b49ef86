"""Plans (levels, parents, progress from real data, tasks) and playbooks (safe markdown, links)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from campaigns.models import Plan, PlanGoal, PlanTask, Playbook
from campaigns.plan_progress import plan_progress
from metrics.models import TrafficEvent
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _plan(store, level, start, parent=None):
    plan = Plan(store=store, level=level, period_start=start, parent=parent)
    plan.full_clean()
    plan.save()
    return plan


@pytest.fixture
def tree(store_a):
    year = _plan(store_a, "year", date(2026, 5, 5))
    month = _plan(store_a, "month", date(2026, 11, 17), year)
    week = _plan(store_a, "week", date(2026, 11, 11), month)
    return year, month, week


def test_periods_snap_to_the_calendar(tree):
    year, month, week = tree
    assert (year.period_start, year.period_end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (month.period_start, month.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (week.period_start, week.period_end) == (date(2026, 11, 9), date(2026, 11, 15))  # Monday–Sunday


def test_levels_need_the_right_parent(store_a, store_b, tree):
    year, month, _ = tree
    with pytest.raises(ValidationError, match="needs a month plan"):
        _plan(store_a, "week", date(2026, 11, 16))
    with pytest.raises(ValidationError, match="must be a month plan"):
        _plan(store_a, "week", date(2026, 11, 16), year)
    with pytest.raises(ValidationError, match="start inside its parent"):
        _plan(store_a, "week", date(2026, 12, 7), month)
    other_year = _plan(store_b, "year", date(2026, 1, 1))
    with pytest.raises(ValidationError, match="same store"):
        _plan(store_a, "month", date(2026, 12, 1), other_year)
    with pytest.raises(ValidationError):  # one plan per store, level and period
        _plan(store_a, "year", date(2026, 8, 1))
    with pytest.raises(IntegrityError):
        Plan.objects.create(store=store_a, level="month", period_start=date(2026, 12, 1),
                            period_end=date(2026, 12, 31))


def test_progress_comes_from_real_orders_and_sessions(store_a, tree):
    _, _, week = tree  # 9–15 Nov
    PlanGoal.objects.create(plan=week, metric="orders", target=10)
    PlanGoal.objects.create(plan=week, metric="gmv", target=Decimal("1000"))
    PlanGoal.objects.create(plan=week, metric="conversion", target=Decimal("5"))
    for day in (9, 10, 11):
        OrderFactory(store=store_a, placed_at=datetime(2026, 11, day, 12, tzinfo=SH), total=Decimal("100"))
    OrderFactory(store=store_a, placed_at=datetime(2026, 11, 12, 12, tzinfo=SH))  # "today": not counted yet
    for n in range(50):
        TrafficEvent.objects.create(store=store_a, event_id=f"s{n}", type="session_start",
                                    ts=datetime(2026, 11, 10, 9, tzinfo=SH))
    progress = {g.metric: g for g in plan_progress(week, today=date(2026, 11, 12))}
    assert progress["orders"].actual == 3 and progress["orders"].percent == 30.0
    assert progress["orders"].elapsed_percent == round(100 * 3 / 7, 1)
    assert progress["orders"].on_track is False  # 30 % done with 42.9 % of the week gone
    assert progress["gmv"].actual == 300 and progress["gmv"].on_track is False
    assert progress["conversion"].actual == 6.0 and progress["conversion"].on_track is True  # 3 / 50 sessions


@time_machine.travel(datetime(2026, 11, 12, 4, 0, tzinfo=SH), tick=False)
def test_the_plan_page_writes_goals_as_money_counts_and_rates(client_a, store_a, tree):
    _, _, week = tree  # 9–15 Nov
    PlanGoal.objects.create(plan=week, metric="gmv", target=Decimal("2400000"))
    PlanGoal.objects.create(plan=week, metric="orders", target=12000)
    PlanGoal.objects.create(plan=week, metric="conversion", target=Decimal("5"))
    OrderFactory(store=store_a, placed_at=datetime(2026, 11, 10, 12, tzinfo=SH), total=Decimal("5737429.03"))
    for n in range(50):
        TrafficEvent.objects.create(store=store_a, event_id=f"s{n}", type="session_start",
                                    ts=datetime(2026, 11, 10, 9, tzinfo=SH))
    page = client_a.get(reverse("campaigns:plan_detail", args=[week.pk])).content.decode()
    assert "5,737,429.03 / 2,400,000.00\u00a0CNY" in page  # not "5737429.03 / 2400000"
    assert "1 / 12,000<" in page
    assert "2.00&nbsp;% / 5.00&nbsp;%" in page


def test_progress_before_the_period_has_no_actuals(tree):
    year, _, _ = tree
    PlanGoal.objects.create(plan=year, metric="orders", target=1000)
    [goal] = plan_progress(year, today=date(2026, 1, 1))
    assert goal.actual is None and goal.on_track is None


def test_week_plan_page_lists_tasks_with_owners(client_a, operator_a, tree):
    _, _, week = tree
    client_a.post(week.get_absolute_url(), {"task-title": "Sign up for Double 12", "task-owner": operator_a.pk,
                                            "task-due": "2026-11-13"})
    client_a.post(week.get_absolute_url(), {"goal-metric": "orders", "goal-target": "120"})
    client_a.post(week.get_absolute_url(), {"goal-metric": "orders", "goal-target": "150"})  # updates it
    task = PlanTask.objects.get()
    assert task.owner == operator_a and task.plan == week
    assert PlanGoal.objects.get(plan=week).target == 150
    page = client_a.get(week.get_absolute_url()).content.decode()
    assert "Sign up for Double 12" in page and "op-a" in page
    client_a.post(reverse("campaigns:plan_task_toggle", args=[week.pk, task.pk]), {"done": "1"})
    task.refresh_from_db()
    assert task.done_at is not None


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_plan_periods_and_task_due_dates_read_like_the_rest_of_the_desk(client_a, tree):
    year, month, week = tree
    PlanTask.objects.create(plan=week, title="Sign up", due=date(2026, 11, 13))
    listing = client_a.get(reverse("campaigns:plans")).content.decode()
    assert "Sun 1 – Mon 30 Nov" in listing and "Thu 1 Jan – Thu 31 Dec" in listing
    page = client_a.get(week.get_absolute_url()).content.decode()
    assert "Mon 9 – Sun 15 Nov" in page and "Fri 13 Nov" in page
    assert "Nov. 13, 2026" not in page and "Nov. 1, 2026" not in listing


def test_a_task_marked_done_again_keeps_its_place_among_the_done_tasks(client_a, tree):
    _, _, week = tree
    first, second = (PlanTask.objects.create(plan=week, title=t) for t in ("Book the banner", "Brief the team"))

    def done(task, hour):
        with time_machine.travel(datetime(2026, 11, 10, hour, tzinfo=SH), tick=False):
            client_a.post(reverse("campaigns:plan_task_toggle", args=[week.pk, task.pk]), {"done": "1"})

    done(first, 9)
    done(second, 10)
    done(first, 11)  # a second click on Done, from a stale tab

    page = client_a.get(week.get_absolute_url()).content.decode()
    assert page.index("Book the banner") < page.index("Brief the team")
    first.refresh_from_db()
    assert first.done_at == datetime(2026, 11, 10, 9, tzinfo=SH)


def test_creating_a_month_plan_under_a_year(client_a, store_a, tree):
    year = tree[0]
    response = client_a.post(reverse("campaigns:plan_new"), {"store": store_a.pk, "level": "month",
                                                             "parent": year.pk, "period_start": "2026-12-09"})
    plan = Plan.objects.get(level="month", period_start=date(2026, 12, 1))
    assert response.url == plan.get_absolute_url() and plan.period_end == date(2026, 12, 31)


def test_a_double_clicked_create_plan_makes_one_plan_and_says_why_not_a_server_error(client_a, store_a, tree,
                                                                                      monkeypatch):
    from campaigns.activity_forms import PlanForm

    real, made = PlanForm._post_clean, []

    def post_clean(form):  # the same form sent twice at once: the twin passed the checks too and is stored first
        real(form)
        if not made:
            made.append(_plan(store_a, "month", date(2026, 12, 1), tree[0]))

    monkeypatch.setattr(PlanForm, "_post_clean", post_clean)
    response = client_a.post(reverse("campaigns:plan_new"), {"store": store_a.pk, "level": "month",
                                                             "parent": tree[0].pk, "period_start": "2026-12-09"})
    assert response.status_code == 200 and response.context["form"].errors
    assert Plan.objects.filter(level="month", period_start=date(2026, 12, 1)).count() == 1


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_plan_day_no_plan_means_is_refused_beside_the_field(client_a, store_a, tree, day):
    # 9999-12-31's week would end in year 10000: the form answered with a 500.
    response = client_a.post(reverse("campaigns:plan_new"), {"store": store_a.pk, "level": "week",
                                                             "parent": tree[1].pk, "period_start": day})
    assert response.status_code == 200
    assert "is more than 10 years from today" in response.content.decode()
    assert Plan.objects.count() == 3


def test_another_stores_plan_is_a_404(client_a, store_b):
    year = _plan(store_b, "year", date(2026, 1, 1))
    task = PlanTask.objects.create(plan=year, title="Secret")
    assert client_a.get(year.get_absolute_url()).status_code == 404
    assert client_a.post(reverse("campaigns:plan_task_toggle", args=[year.pk, task.pk]), {"done": "1"}) \
        .status_code == 404
    assert client_a.get(reverse("campaigns:plan_new"), {"parent": year.pk}).status_code == 404
    assert "Secret" not in client_a.get(reverse("campaigns:plans")).content.decode()


def test_playbook_markdown_is_rendered_and_html_escaped(client_a):
    Playbook.objects.create(slug="t", title="T", body="**Bold** <script>alert(1)</script> [x](javascript:alert(1))")
    page = client_a.get(reverse("campaigns:playbook", args=["t"])).content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "javascript:" not in page


def test_playbooks_link_from_anomaly_types_and_templates(store_a, store_b, default_templates, client_a):
    shared = Playbook.objects.get(slug="traffic-drop")
    theirs = Playbook.objects.create(store=store_b, slug="b-only", title="B", body="x", anomaly_types="traffic_drop")
    assert shared in Playbook.for_anomaly("traffic_drop", store_a)
    assert theirs not in Playbook.for_anomaly("traffic_drop", store_a)
    assert Playbook.for_anomaly("traffic", store_a) == []  # whole types only
    assert client_a.get(reverse("campaigns:playbook", args=["b-only"])).status_code == 404
    page = client_a.get(reverse("campaigns:playbook", args=["platform-event-signup"])).content.decode()
    assert "Double 11 sign-up" in page
