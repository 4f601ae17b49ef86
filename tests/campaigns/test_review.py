"""Post-activity review: actual vs goal vs baseline, uplift interval by hand; running_activities; measures."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from scipy import stats

from campaigns.activity_forms import ReviewForm
from campaigns.activity_review import baseline_period, daily_pairs, review, running_activities, uplift_interval
from campaigns.measures import daily_measures
from campaigns.models import Activity, ActivityReview, Playbook
from members.models import Member
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
LA = ZoneInfo("America/Los_Angeles")


def _orders(store, day: date, n: int, zone=SH):
    for k in range(n):
        OrderFactory(store=store, placed_at=datetime(day.year, day.month, day.day, 10, k, tzinfo=zone),
                     total=Decimal("50.00"))


def test_baseline_is_the_same_weekdays_before():
    assert baseline_period(date(2026, 11, 20), date(2026, 11, 22)) == (date(2026, 11, 13), date(2026, 11, 15))
    assert baseline_period(date(2026, 11, 1), date(2026, 11, 7)) == (date(2026, 10, 25), date(2026, 10, 31))
    # ten days: moved back two whole weeks so it neither overlaps nor changes weekdays
    assert baseline_period(date(2026, 11, 11), date(2026, 11, 20)) == (date(2026, 10, 28), date(2026, 11, 6))


def test_uplift_interval_by_hand():
    total, low, high = uplift_interval([2.0, 4.0, 6.0])
    half = 4.302652729911275 * (2 / 3 ** 0.5) * 3  # t(0.975, 2) · sd/√n, scaled to the 3-day total
    assert total == 12.0
    assert low == pytest.approx(12 - half) and high == pytest.approx(12 + half)
    assert stats.t.ppf(0.975, 2) == pytest.approx(4.302652729911275)
    assert uplift_interval([5.0]) == (5.0, None, None)


def test_review_compares_actual_goal_and_baseline(store_a, make_activity):
    activity = make_activity(start_date=date(2026, 11, 20), end_date=date(2026, 11, 22), goal_orders=40,
                             goal_gmv=Decimal("1500"), goal_new_members=5)
    for day, n in [(date(2026, 11, 13), 8), (date(2026, 11, 14), 8), (date(2026, 11, 15), 8),
                   (date(2026, 11, 20), 10), (date(2026, 11, 21), 12), (date(2026, 11, 22), 14),
                   (date(2026, 11, 17), 30)]:  # the 17th is in neither period
        _orders(store_a, day, n)
    Member.objects.create(store=store_a, phone="+8613800138000", joined_at=datetime(2026, 11, 21, 9, tzinfo=SH))
    figures = {f.key: f for f in review(activity)}
    orders = figures["orders"]
    assert (orders.actual, orders.baseline, orders.goal, orders.uplift) == (36, 24, 40, 12)
    assert orders.goal_reached is False and orders.uplift_percent == 50.0
    half = 4.302652729911275 * (2 / 3 ** 0.5) * 3
    assert orders.uplift_low == pytest.approx(12 - half) and orders.uplift_high == pytest.approx(12 + half)
    assert not orders.significant  # three days of 2, 4, 6 more orders: the interval still holds zero
    gmv = figures["gmv"]
    assert (gmv.actual, gmv.baseline, gmv.uplift) == (1800, 1200, 600) and gmv.goal_reached is True
    assert gmv.uplift_low == pytest.approx(50 * (12 - half))
    assert (figures["new_members"].actual, figures["new_members"].baseline) == (1, 0)
    pairs = daily_pairs(activity, "orders")
    assert [(p["day"].day, p["baseline_day"].day, p["actual"], p["baseline"]) for p in pairs] == [
        (20, 13, 10, 8), (21, 14, 12, 8), (22, 15, 14, 8)]


def test_review_page_draws_a_bar_per_day_and_period(client_a, make_activity):
    activity = make_activity(status="running")
    page = client_a.get(reverse("campaigns:activity_review", args=[activity.pk]), {"measure": "orders"})
    assert page.content.decode().count("<rect ") == 2 * activity.days


def test_writing_the_review_marks_the_activity_reviewed(client_a, make_activity):
    activity = make_activity(status="running")
    activity.move_to("done")
    book = Playbook.objects.create(slug="stock-out", title="Stock-outs", body="Reorder earlier.")
    response = client_a.post(reverse("campaigns:activity_review", args=[activity.pk]),
                             {"summary": "Sold out on day 2.", "root_cause": "Stock too low", "playbook": book.pk})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == "reviewed"
    saved = ActivityReview.objects.get()
    assert saved.playbook == book and set(saved.figures) == {"gmv", "orders", "new_members"}
    assert "Stock-outs" in client_a.get(activity.get_absolute_url()).content.decode()


def test_an_unfinished_activity_cannot_be_reviewed(client_a, make_activity):
    activity = make_activity(status="planned")
    response = client_a.post(reverse("campaigns:activity_review", args=[activity.pk]), {"summary": "Too early"},
                             follow=True)
    assert "Only a finished (done) activity can be reviewed." in response.content.decode()
    assert not ActivityReview.objects.exists()


def test_running_activities_are_those_that_went_ahead_on_that_day(store_a, store_b, make_activity):
    on = make_activity(name="On", status="running", start_date=date(2026, 11, 20), end_date=date(2026, 11, 22))
    done = make_activity(name="Done", status="planned", start_date=date(2026, 11, 22), end_date=date(2026, 11, 22))
    done.move_to("running")
    done.move_to("done")
    make_activity(name="Idea", start_date=date(2026, 11, 20), end_date=date(2026, 11, 22))
    make_activity(name="Earlier", status="running", start_date=date(2026, 11, 1), end_date=date(2026, 11, 3))
    make_activity(store=store_b, name="Other store", status="running", start_date=date(2026, 11, 22),
                  end_date=date(2026, 11, 22))
    assert running_activities(store_a, date(2026, 11, 22)) == [on, done]
    assert running_activities(store_a, date(2026, 11, 23)) == []


def test_measures_count_by_the_stores_local_day_on_a_dst_change(store_b):
    # 1 Nov 2026 in Los Angeles lasts 25 hours; 23:30 that evening is 07:30 UTC on 2 Nov.
    OrderFactory(store=store_b, placed_at=datetime(2026, 11, 1, 23, 30, tzinfo=LA), total=Decimal("10"))
    OrderFactory(store=store_b, placed_at=datetime(2026, 11, 2, 0, 30, tzinfo=LA), total=Decimal("20"))
    frame = daily_measures(store_b, date(2026, 10, 31), date(2026, 11, 2))
    assert list(frame["orders"]) == [0, 1, 1]
    assert list(frame["gmv"]) == [0.0, 10.0, 20.0]


def _a_colleague_saves_a_review_first(monkeypatch, activity, colleague, summary):
    """The colleague's review lands after this request read the page's (empty) review, before it writes."""
    real = ReviewForm.is_valid

    def is_valid(form):
        if not ActivityReview.objects.filter(activity=activity).exists():
            ActivityReview.objects.create(activity=activity, summary=summary, created_by=colleague)
            Activity.objects.filter(pk=activity.pk).update(status="reviewed")
        return real(form)

    monkeypatch.setattr(ReviewForm, "is_valid", is_valid)


def test_a_review_saved_meanwhile_is_shown_and_kept_and_the_typed_one_is_not_lost(
        client_a, make_activity, manager_a, monkeypatch):
    activity = make_activity(status="running")
    activity.move_to("done")
    _a_colleague_saves_a_review_first(monkeypatch, activity, manager_a, "Sold out on day 2.")
    page = client_a.post(reverse("campaigns:activity_review", args=[activity.pk]),
                         {"summary": "Traffic dipped on Sunday.", "root_cause": ""})
    body = page.content.decode()
    assert page.status_code == 200
    assert "mgr-a saved a review of this activity meanwhile: “Sold out on day 2.”" in body
    assert "Traffic dipped on Sunday." in body and "Update review" in body
    assert list(ActivityReview.objects.values_list("summary", flat=True)) == ["Sold out on day 2."]


def test_the_same_review_sent_twice_is_saved_once(client_a, make_activity, operator_a, monkeypatch):
    activity = make_activity(status="running")
    activity.move_to("done")
    _a_colleague_saves_a_review_first(monkeypatch, activity, operator_a, "Sold out on day 2.")
    response = client_a.post(reverse("campaigns:activity_review", args=[activity.pk]),
                             {"summary": "Sold out on day 2.", "root_cause": ""})
    assert response.status_code == 302
    assert ActivityReview.objects.count() == 1
    activity.refresh_from_db()
    assert activity.status == "reviewed"


def test_measures_count_sessions_of_rolled_up_stale_and_open_days_as_the_events_do(store_b):
    from metrics.models import StaleDay, TrafficEvent
    from metrics.rollup import rollup_days

    def sessions(day, n):
        for _ in range(n):
            TrafficEvent.objects.create(store=store_b, event_id=f"s{TrafficEvent.objects.count()}",
                                        type="session_start", ts=datetime(2026, 11, day, 12, tzinfo=LA))

    sessions(1, 3), sessions(2, 2), sessions(3, 4)
    rollup_days([(store_b, date(2026, 11, 1)), (store_b, date(2026, 11, 2))])
    sessions(2, 5)  # late: the 2nd's rollup no longer holds
    StaleDay.mark(store_b.pk, [date(2026, 11, 2)])

    frame = daily_measures(store_b, date(2026, 10, 31), date(2026, 11, 3))

    assert list(frame["sessions"]) == [0, 3, 7, 4]


def test_review_page_writes_uplifts_as_the_daily_pages_do(client_a, make_activity):
    """The uplift's share of the baseline in whole percents with its sign ('+50 %', not '(50.0 %)'), a fall
    with a real minus, and the GMV's currency: the page reads like every other page of figures."""
    activity = make_activity(start_date=date(2026, 11, 20), end_date=date(2026, 11, 22), status="running")
    for day, n in [(date(2026, 11, 13), 8), (date(2026, 11, 14), 8), (date(2026, 11, 15), 8),
                   (date(2026, 11, 20), 10), (date(2026, 11, 21), 12), (date(2026, 11, 22), 14)]:
        _orders(store=activity.store, day=day, n=n)
    Member.objects.create(store=activity.store, phone="+8613800138000",
                          joined_at=datetime(2026, 11, 14, 9, tzinfo=SH))
    body = client_a.get(reverse("campaigns:activity_review", args=[activity.pk])).content.decode()
    row = {key: body.split(f'data-measure="{key}"')[1].split("</tr>")[0] for key in ("gmv", "orders", "new_members")}
    assert "+12 (+50\u00a0%)" in row["orders"] and "50.0 %" not in body
    assert "+600.00 (+50\u00a0%)" in row["gmv"] and "GMV (CNY)" in row["gmv"]
    assert "\u22121 (\u2212100\u00a0%)" in row["new_members"]  # one member joined in the baseline days only
    assert "\u22122.90 … +26.90" in row["orders"]  # the interval of 2, 4 and 6 more orders a day holds zero
