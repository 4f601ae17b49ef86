"""Activity rules: status moves, per-kind details, sign-up deadlines, dates."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from campaigns.activity_kinds import validate_details
from campaigns.models import Activity, ActivityStatus


def test_status_walks_idea_to_reviewed(make_activity):
    a = make_activity()
    for status in ["planned", "running", "done", "reviewed"]:
        a.move_to(status)
    a.refresh_from_db()
    assert a.status == ActivityStatus.REVIEWED


@pytest.mark.parametrize("start, target", [("idea", "running"), ("idea", "done"), ("planned", "done"),
                                           ("running", "planned"), ("done", "running"), ("reviewed", "done"),
                                           ("idea", "nonsense")])
def test_status_refuses_moves_not_in_the_flow(make_activity, start, target):
    a = make_activity(status=start)
    with pytest.raises(ValidationError, match="cannot go from"):
        a.move_to(target)
    a.refresh_from_db()
    assert a.status == start


def test_a_plan_may_fall_back_to_an_idea(make_activity):
    a = make_activity(status="planned")
    a.move_to("idea")
    assert Activity.objects.get(pk=a.pk).status == "idea"


def test_saving_a_skipped_status_is_refused(make_activity):
    a = make_activity()
    a.status = ActivityStatus.DONE
    with pytest.raises(ValidationError, match="from Idea to Done"):
        a.save()
    assert Activity.objects.get(pk=a.pk).status == "idea"


def test_move_checks_the_row_not_a_stale_copy(make_activity):
    a = make_activity()
    stale = Activity.objects.get(pk=a.pk)
    a.move_to("planned")
    a.move_to("running")
    with pytest.raises(ValidationError, match="from Running to Planned"):
        stale.move_to("planned")  # the stale copy still thinks it is an idea


def test_promotion_details_need_the_numbers_of_their_mechanism():
    with pytest.raises(ValidationError, match="threshold: Required"):
        validate_details("store_promotion", {"mechanism": "threshold", "reduction": "20"})
    with pytest.raises(ValidationError, match="reduction: The reduction must be less"):
        validate_details("store_promotion", {"mechanism": "threshold", "threshold": "100", "reduction": "100"})
    assert validate_details("store_promotion", {"mechanism": "threshold", "threshold": "199", "reduction": "30"}) \
        == {"mechanism": "threshold", "threshold": "199", "reduction": "30"}


def test_each_kind_checks_its_own_details():
    with pytest.raises(ValidationError, match="event_name: Name the event"):
        validate_details("platform_event", {"event": "other", "signup_status": "not_started"})
    with pytest.raises(ValidationError, match="prize_count"):
        validate_details("gift", {"gift_type": "lottery", "gift_item": "Tea set"})
    with pytest.raises(ValidationError, match="mode"):
        validate_details("related_sales", {})
    content = validate_details("content", {"channel": "weibo", "publish_at": "2026-11-20T20:00"})
    assert content == {"channel": "weibo", "publish_at": "2026-11-20T20:00"}
    with pytest.raises(ValidationError, match="Unknown activity kind"):
        validate_details("flash_mob", {})


def test_full_clean_rejects_bad_details(store_a):
    a = Activity(store=store_a, name="x", kind="store_promotion", start_date=date(2026, 1, 1),
                 end_date=date(2026, 1, 2), details={"mechanism": "discount", "discount_percent": "120"})
    with pytest.raises(ValidationError, match="discount_percent"):
        a.full_clean()


def test_only_platform_events_have_a_signup_deadline(make_activity, store_a):
    with pytest.raises(ValidationError, match="Only official platform events"):
        make_activity(signup_deadline=date(2026, 11, 1))
    with pytest.raises(IntegrityError):  # and the database says so too
        Activity.objects.create(store=store_a, name="x", kind="content", start_date=date(2026, 1, 1),
                                end_date=date(2026, 1, 1), signup_deadline=date(2025, 12, 20))


def test_signup_deadline_not_after_the_first_day(make_activity):
    with pytest.raises(ValidationError, match="on or before the first day"):
        make_activity(kind="platform_event", details={"event": "618", "signup_status": "not_started"},
                      signup_deadline=date(2026, 11, 21))


def test_last_day_cannot_precede_first(make_activity):
    with pytest.raises(ValidationError, match="before the first day"):
        make_activity(end_date=date(2026, 11, 19))


def test_a_content_post_is_published_on_one_of_its_days(make_activity):
    with pytest.raises(ValidationError, match="publish time must fall on one of the activity's days"):
        make_activity(kind="content", details={"channel": "weibo", "publish_at": "2026-11-23T20:00"})
    post = make_activity(kind="content", details={"channel": "weibo", "publish_at": "2026-11-22T20:00"})
    assert post.details["publish_at"] == "2026-11-22T20:00"
