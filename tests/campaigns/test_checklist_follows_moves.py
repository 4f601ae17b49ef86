"""An activity's checklist follows it to other days: on a calendar drag and on the Edit form alike."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Activity, ChecklistItem

pytestmark = pytest.mark.django_db

NOON_SHANGHAI = datetime(2026, 11, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _drag(client, activity, dragged_from, dropped_on, start=None):
    return client.post(reverse("campaigns:activity_move", args=[activity.pk]), {
        "from": dragged_from, "to": dropped_on, "start": start or activity.start_date.isoformat()})


def _steps(activity, *steps):
    """(title, due day or None[, done]) → the activity's checklist, in that order."""
    for position, (title, due, *done) in enumerate(steps, start=1):
        ChecklistItem.objects.create(activity=activity, position=position, title=title, due_date=due,
                                     due_on_signup_deadline=title == "Submit the sign-up",
                                     done_at=NOON_SHANGHAI if done else None)


def _due(activity):
    return dict(activity.checklist.values_list("title", "due_date"))


def _promotion_with_checklist(make_activity):
    weekend = make_activity()  # 20–22 Nov
    _steps(weekend, ("Book the banner", date(2026, 11, 15)), ("Set the discount", date(2026, 11, 18)),
           ("Brief the service desk", date(2026, 11, 19), "done"), ("Gather ideas", None),
           ("Write the review", date(2026, 11, 26)))
    return weekend


def _edit_promotion(client, activity, start, end):
    return client.post(reverse("campaigns:activity_edit", args=[activity.pk]), {
        "name": activity.name, "start_date": start, "end_date": end, "budget": "0",
        "d-mechanism": "discount", "d-discount_percent": "10"}, follow=True)


@time_machine.travel(NOON_SHANGHAI)
def test_a_drag_moves_the_steps_not_done_by_the_same_days(client_a, make_activity):
    weekend = _promotion_with_checklist(make_activity)

    response = _drag(client_a, weekend, "2026-11-21", "2026-11-28")

    assert response.json()["message"] == ("Moved “Weekend 10% off” to Fri 27 Nov to Sun 29 Nov. "
                                          "3 checklist steps moved with it.")
    assert _due(weekend) == {"Book the banner": date(2026, 11, 22), "Set the discount": date(2026, 11, 25),
                             "Write the review": date(2026, 12, 3),
                             "Brief the service desk": date(2026, 11, 19),  # done: the day it was done against
                             "Gather ideas": None}


@time_machine.travel(NOON_SHANGHAI)
def test_the_edit_form_moving_the_first_day_moves_the_steps_too(client_a, make_activity):
    weekend = _promotion_with_checklist(make_activity)

    page = _edit_promotion(client_a, weekend, "2026-11-17", "2026-11-19").content.decode()

    assert "Saved. 3 checklist steps moved with it." in page
    assert _due(weekend) == {"Book the banner": date(2026, 11, 12), "Set the discount": date(2026, 11, 15),
                             "Write the review": date(2026, 11, 23), "Brief the service desk": date(2026, 11, 19),
                             "Gather ideas": None}


@time_machine.travel(NOON_SHANGHAI)
def test_the_edit_form_measures_the_move_from_the_stored_days_not_the_loaded_ones(client_a, make_activity):
    weekend = _promotion_with_checklist(make_activity)
    _drag(client_a, weekend, "2026-11-20", "2026-11-23")  # a colleague's drag: 23–25 Nov, steps 3 days later

    _edit_promotion(client_a, weekend, "2026-11-27", "2026-11-29")  # from 23 Nov: 4 days more

    assert _due(weekend)["Book the banner"] == date(2026, 11, 22)  # still 5 days before the first day


@time_machine.travel(NOON_SHANGHAI)
def test_editing_other_fields_leaves_the_steps_where_they_are(client_a, make_activity):
    weekend = _promotion_with_checklist(make_activity)

    page = _edit_promotion(client_a, weekend, "2026-11-20", "2026-11-23").content.decode()  # one more last day

    assert "Saved." in page and "moved with it" not in page
    assert _due(weekend)["Book the banner"] == date(2026, 11, 15)


def _event_with_checklist(make_activity):
    event = make_activity(kind="platform_event", details={"event": "other", "event_name": "Winter sale",
                                                          "signup_status": "not_started"},
                          start_date=date(2026, 12, 1), end_date=date(2026, 12, 3), signup_deadline=date(2026, 11, 15))
    _steps(event, ("Read the entry rules", date(2026, 11, 11)), ("Submit the sign-up", date(2026, 11, 15)),
           ("Prepare banners", date(2026, 11, 24)))
    return event


@time_machine.travel(NOON_SHANGHAI)
def test_the_signup_step_stays_on_the_signup_deadline_when_the_event_is_dragged(client_a, make_activity):
    event = _event_with_checklist(make_activity)

    response = _drag(client_a, event, "2026-12-01", "2026-12-04")

    assert response.json()["message"].endswith(" 2 checklist steps moved with it.")
    assert _due(event) == {"Read the entry rules": date(2026, 11, 14), "Submit the sign-up": date(2026, 11, 15),
                           "Prepare banners": date(2026, 11, 27)}


@time_machine.travel(NOON_SHANGHAI)
def test_steps_before_the_signup_stay_due_no_later_than_the_deadline(client_a, make_activity):
    event = _event_with_checklist(make_activity)

    _drag(client_a, event, "2026-12-01", "2026-12-08")

    assert _due(event) == {"Read the entry rules": date(2026, 11, 15), "Submit the sign-up": date(2026, 11, 15),
                           "Prepare banners": date(2026, 12, 1)}


@time_machine.travel(NOON_SHANGHAI)
def test_the_edit_form_moves_the_signup_step_with_the_deadline_and_the_others_with_the_first_day(
        client_a, make_activity):
    event = _event_with_checklist(make_activity)

    response = client_a.post(reverse("campaigns:activity_edit", args=[event.pk]), {
        "name": event.name, "start_date": "2026-12-03", "end_date": "2026-12-05", "signup_deadline": "2026-11-20",
        "budget": "0", "d-event": "other", "d-event_name": "Winter sale", "d-signup_status": "not_started"})

    assert response.status_code == 302
    assert _due(event) == {"Read the entry rules": date(2026, 11, 13), "Submit the sign-up": date(2026, 11, 20),
                           "Prepare banners": date(2026, 11, 26)}


@time_machine.travel(NOON_SHANGHAI)
def test_a_stale_drag_moves_no_step_and_the_retry_moves_them_once(client_a, make_activity):
    weekend = _promotion_with_checklist(make_activity)
    _drag(client_a, weekend, "2026-11-20", "2026-11-21")  # a colleague: 21–23 Nov, steps one day later

    refused = _drag(client_a, weekend, "2026-11-20", "2026-11-27", start="2026-11-20")  # from the older page
    assert refused.status_code == 400
    assert _due(weekend)["Book the banner"] == date(2026, 11, 16)

    _drag(client_a, weekend, "2026-11-21", "2026-11-27", start="2026-11-21")  # after a reload
    assert _due(weekend)["Book the banner"] == date(2026, 11, 22)


@time_machine.travel(NOON_SHANGHAI)
def test_a_finished_activity_refused_a_move_keeps_its_steps(client_a, make_activity):
    done = _promotion_with_checklist(make_activity)
    Activity.objects.filter(pk=done.pk).update(status="done")
    before = _due(done)

    assert _drag(client_a, done, "2026-11-20", "2026-11-27").status_code == 400
    assert "keeps its days" in _edit_promotion(client_a, done, "2026-11-27", "2026-11-29").content.decode()

    assert _due(done) == before
