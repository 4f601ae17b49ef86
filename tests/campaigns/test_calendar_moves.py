"""Dragging an activity on the calendar: the move endpoint moves all its days, or refuses with the reason."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Activity
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON_SHANGHAI = datetime(2026, 11, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _drag(client, activity, dragged_from, dropped_on, start=None):
    return client.post(reverse("campaigns:activity_move", args=[activity.pk]), {
        "from": dragged_from, "to": dropped_on, "start": start or activity.start_date.isoformat()})


@time_machine.travel(NOON_SHANGHAI)
def test_a_drag_moves_first_and_last_day_by_the_days_between(client_a, make_activity):
    weekend = make_activity()  # 20–22 Nov

    response = _drag(client_a, weekend, "2026-11-21", "2026-11-28")  # grabbed on its second day

    assert response.status_code == 200
    assert response.json() == {"start_date": "2026-11-27", "end_date": "2026-11-29",
                               "message": "Moved “Weekend 10% off” to Fri 27 Nov to Sun 29 Nov."}
    weekend.refresh_from_db()
    assert (weekend.start_date, weekend.end_date) == (date(2026, 11, 27), date(2026, 11, 29))


@time_machine.travel(NOON_SHANGHAI)
def test_a_move_the_edit_form_would_refuse_is_refused_with_its_message(client_a, make_activity):
    event = make_activity(kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                          signup_deadline=date(2026, 11, 15))

    response = _drag(client_a, event, "2026-11-20", "2026-11-13")

    assert response.status_code == 400
    assert response.json() == {"error": "The sign-up deadline must be on or before the first day."}
    event.refresh_from_db()
    assert event.start_date == date(2026, 11, 20)


@time_machine.travel(NOON_SHANGHAI)
def test_a_finished_activity_keeps_its_days(client_a, make_activity):
    done = make_activity(status="done")

    response = _drag(client_a, done, "2026-11-20", "2026-11-21")

    assert response.status_code == 400
    assert response.json()["error"] == "A finished (done) activity keeps its days: 2026-11-20 to 2026-11-22."
    done.refresh_from_db()
    assert done.start_date == date(2026, 11, 20)


@time_machine.travel(NOON_SHANGHAI)
def test_a_day_no_plan_means_is_refused(client_a, make_activity):
    weekend = make_activity()

    response = _drag(client_a, weekend, "2026-11-20", "9999-12-31")

    assert response.status_code == 400
    assert "is more than 10 years from today" in response.json()["error"]


@time_machine.travel(NOON_SHANGHAI)
def test_a_drag_from_a_page_older_than_a_colleagues_move_is_refused(client_a, make_activity):
    weekend = make_activity()
    Activity.objects.filter(pk=weekend.pk).update(start_date=date(2026, 11, 21), end_date=date(2026, 11, 23))

    response = _drag(client_a, weekend, "2026-11-20", "2026-11-27", start="2026-11-20")

    assert response.status_code == 400
    assert "was moved meanwhile; it now starts on 2026-11-21" in response.json()["error"]
    weekend.refresh_from_db()
    assert weekend.start_date == date(2026, 11, 21)


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=ZoneInfo("America/Los_Angeles")))
def test_a_post_moved_onto_the_clock_change_day_keeps_its_local_time(client, store_b, make_activity):
    client.force_login(MembershipFactory(store=store_b, user=UserFactory(username="op-b")).user)
    post = make_activity(store=store_b, kind="content", start_date=date(2026, 3, 7), end_date=date(2026, 3, 7),
                         details={"channel": "blog", "publish_at": "2026-03-07T20:00"})

    response = _drag(client, post, "2026-03-07", "2026-03-08")  # Los Angeles springs forward that night

    assert response.status_code == 200
    post.refresh_from_db()
    assert (post.start_date, post.end_date) == (date(2026, 3, 8), date(2026, 3, 8))
    assert post.details["publish_at"] == "2026-03-08T20:00"  # 20:00 there still, not 21:00


def test_another_stores_activity_is_not_found(client_a, store_b, make_activity):
    theirs = make_activity(store=store_b)

    response = _drag(client_a, theirs, "2026-11-20", "2026-11-21")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.start_date == date(2026, 11, 20)


@time_machine.travel(NOON_SHANGHAI)
def test_whoever_may_edit_an_activity_may_move_it_and_no_one_else(client, store_a, operator_a, make_activity):
    weekend = make_activity()
    assert _drag(client, weekend, "2026-11-20", "2026-11-21").status_code == 302  # to the login page
    client.force_login(UserFactory(username="nobody"))  # no store
    assert _drag(client, weekend, "2026-11-20", "2026-11-21").status_code == 404
    client.force_login(operator_a)  # the lowest role edits activities, so it moves them
    assert _drag(client, weekend, "2026-11-20", "2026-11-21").status_code == 200
    assert client.get(reverse("campaigns:activity_move", args=[weekend.pk])).status_code == 405


@time_machine.travel(NOON_SHANGHAI)
def test_calendar_entries_say_where_a_drag_posts_and_deadlines_do_not_move(client_a, make_activity):
    event = make_activity(kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                          signup_deadline=date(2026, 11, 15))

    page = client_a.get(reverse("campaigns:calendar"), {"date": "2026-11-20"}).content.decode()

    move_url = reverse("campaigns:activity_move", args=[event.pk])
    assert page.count(f'data-move="{move_url}" data-start="2026-11-20"') == 3  # each of its days
    assert page.count("data-move=") == 3  # not the sign-up deadline: the platform's day
    assert 'id="cal-drag-hint" hidden' in page  # told only where the script runs
