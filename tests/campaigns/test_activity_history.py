"""An activity's history: every change (drag, Edit form, status, series rule) is one entry, who and when,
in words; a save that changes nothing and a refused change record nothing; the page shows it in the
store's time."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns import activity_history, activity_series
from campaigns.models import Activity, ActivityChange, ActivitySeries, ChecklistItem, SeriesChange
from tests.factories import MembershipFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON_SHANGHAI = datetime(2026, 11, 10, 12, 0, tzinfo=SHANGHAI)


def _drag(client, activity, dragged_from, dropped_on):
    return client.post(reverse("campaigns:activity_move", args=[activity.pk]), {
        "from": dragged_from, "to": dropped_on, "start": activity.start_date.isoformat()})


def _edit(client, activity, **changes):
    data = {"name": activity.name, "start_date": activity.start_date.isoformat(),
            "end_date": activity.end_date.isoformat(), "budget": str(activity.budget),
            "d-mechanism": "discount", "d-discount_percent": "10", **changes}
    return client.post(reverse("campaigns:activity_edit", args=[activity.pk]), data, follow=True)


def _summaries(activity):
    return list(ActivityChange.objects.filter(activity=activity).values_list("summary", flat=True))


@time_machine.travel(NOON_SHANGHAI)
def test_a_drag_is_recorded_with_its_old_and_new_days_and_the_steps_moved(client_a, operator_a, make_activity):
    event = make_activity(start_date=date(2026, 11, 11), end_date=date(2026, 11, 13))
    for position in range(1, 5):
        ChecklistItem.objects.create(activity=event, position=position, title=f"Step {position}",
                                     due_date=date(2026, 11, 10 + position))

    assert _drag(client_a, event, "2026-11-11", "2026-11-18").status_code == 200

    entry = ActivityChange.objects.get(activity=event)
    assert entry.summary == ("Moved from Wed 11 Nov–Fri 13 Nov to Wed 18 Nov–Fri 20 Nov; "
                             "4 checklist steps moved with it.")
    assert entry.by == operator_a
    assert entry.changes[0]["old"] == "Wed 11 Nov–Fri 13 Nov" and entry.changes[0]["new"] == "Wed 18 Nov–Fri 20 Nov"


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_drag_records_nothing(client_a, make_activity):
    event = make_activity(kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                          signup_deadline=date(2026, 11, 15))

    assert _drag(client_a, event, "2026-11-20", "2026-11-13").status_code == 400  # before its sign-up deadline

    assert _summaries(event) == []


@time_machine.travel(NOON_SHANGHAI)
def test_the_edit_form_records_the_new_title_and_budget(client_a, operator_a, make_activity):
    weekend = make_activity()

    _edit(client_a, weekend, name="Weekend 15% off", budget="250")

    entry = ActivityChange.objects.get(activity=weekend)
    assert entry.summary == "Title: “Weekend 10% off” → “Weekend 15% off”; Budget: 0.00 CNY → 250.00 CNY."
    assert [(c["field"], c["old"], c["new"]) for c in entry.changes] == [
        ("name", "“Weekend 10% off”", "“Weekend 15% off”"), ("budget", "0.00 CNY", "250.00 CNY")]
    assert entry.by == operator_a


@time_machine.travel(NOON_SHANGHAI)
def test_an_edit_that_changes_nothing_records_nothing(client_a, make_activity):
    weekend = make_activity()

    assert _edit(client_a, weekend).status_code == 200

    assert _summaries(weekend) == []


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_edit_records_nothing(client_a, make_activity):
    weekend = make_activity()

    response = _edit(client_a, weekend, name="Renamed", end_date="2026-11-19")  # ends before it starts

    assert "The last day cannot be before the first day." in response.content.decode()
    assert _summaries(weekend) == []


@time_machine.travel(NOON_SHANGHAI)
def test_status_moves_are_recorded_and_a_refused_one_is_not(client_a, make_activity):
    weekend = make_activity()

    client_a.post(reverse("campaigns:activity_status", args=[weekend.pk]), {"status": "planned"})
    client_a.post(reverse("campaigns:activity_status", args=[weekend.pk]), {"status": "reviewed"})  # refused

    assert _summaries(weekend) == ["Status: Idea → Planned."]


@time_machine.travel(NOON_SHANGHAI)
def test_creating_an_activity_is_its_first_entry(client_a, store_a):
    response = client_a.post(reverse("campaigns:activity_new") + "?kind=store_promotion", {
        "store": store_a.pk, "name": "Member day",
        "start_date": "2026-11-18", "end_date": "2026-11-18", "budget": "0",
        "d-mechanism": "discount", "d-discount_percent": "10"})

    assert response.status_code == 302
    assert ActivityChange.objects.get().summary == "Created as idea, Wed 18 Nov."


@time_machine.travel(NOON_SHANGHAI)
def test_a_new_series_rule_is_recorded_on_its_occurrences(operator_a, store_a):
    first = Activity(store=store_a, name="Member day", kind="store_promotion", start_date=date(2026, 11, 18),
                     end_date=date(2026, 11, 18), details={"mechanism": "discount", "discount_percent": "10"})
    occurrences = activity_series.create_series(first, "weekly", date(2026, 12, 2), user=operator_a)

    activity_series.change_rule(occurrences[0], "weekly", date(2026, 11, 25), user=operator_a)

    assert _summaries(occurrences[0]) == [
        "Series rule changed from every Wednesday until 2026-12-02 to every Wednesday until 2026-11-25.",
        "Created as idea, Wed 18 Nov (repeating every Wednesday until 2026-12-02)."]


def _member_days(store, user, until=date(2026, 12, 2)):
    """Member day every Wednesday from Wed 18 Nov, made by `user`."""
    first = Activity(store=store, name="Member day", kind="store_promotion", start_date=date(2026, 11, 18),
                     end_date=date(2026, 11, 18), details={"mechanism": "discount", "discount_percent": "10"})
    return activity_series.create_series(first, "weekly", until, user=user)


@time_machine.travel(NOON_SHANGHAI)
def test_the_series_records_its_rule_change_once_by_whom_and_shows_it_on_its_page(client_a, operator_a, store_a):
    occurrences = _member_days(store_a, operator_a)  # Wed 18 Nov, 25 Nov, 2 Dec
    operator_a.first_name, operator_a.last_name = "Olivia", "Chen"
    operator_a.save()
    page = reverse("campaigns:series_change", args=[occurrences[2].pk])
    plan = activity_series.preview_rule(occurrences[2], "weekly", date(2026, 12, 3), date(2026, 11, 19)).key()

    response = client_a.post(page, {"repeat": "weekly", "until": "2026-12-03", "first_day": "2026-11-19",
                                    "confirm": "1", "plan": plan})

    assert response.status_code == 302
    entry = SeriesChange.objects.exclude(summary__startswith="Series created").get()
    assert (entry.series, entry.by) == (ActivitySeries.objects.get(), operator_a)
    assert entry.summary == ("Rule changed from every Wednesday until 2026-12-02 to every Thursday until 2026-12-03; "
                             "first day moved from Wed 18 Nov to Thu 19 Nov; moved 3, created 0, deleted 0 future "
                             "activities.")
    shown = client_a.get(page).content.decode()  # from any occurrence: the series' page
    assert entry.summary in shown and "Olivia Chen" in shown and "Tue 10 Nov 12:00" in shown
    assert _summaries(occurrences[0])[0].startswith("Moved from Wed 18 Nov to Thu 19 Nov")  # its own move


@time_machine.travel(NOON_SHANGHAI, tick=False)
def test_a_new_series_records_its_creation_by_whom_with_its_rule_and_occurrences(client_a, operator_a, store_a):
    occurrences = _member_days(store_a, operator_a)  # Wed 18 Nov, 25 Nov, 2 Dec

    entry = SeriesChange.objects.get()
    assert (entry.series, entry.by, entry.at) == (occurrences[0].series, operator_a, NOON_SHANGHAI)
    assert entry.summary == ("Series created: every Wednesday until 2026-12-02, first day Wed 18 Nov; created 3 "
                             "activities, Wed 18 Nov to Wed 2 Dec.")
    assert entry.changes[0]["new"] == {"rule": "every Wednesday until 2026-12-02", "first_day": "2026-11-18",
                                       "occurrences": ["2026-11-18", "2026-11-25", "2026-12-02"]}
    shown = client_a.get(reverse("campaigns:series_change", args=[occurrences[1].pk])).content.decode()
    history = shown.split('id="history"')[1]
    assert entry.summary in history and "op-a" in history and "Tue 10 Nov 12:00" in history
    assert "Series created." not in history and "has not been changed since" not in history  # not said twice


@time_machine.travel(NOON_SHANGHAI)
def test_a_series_made_before_its_creation_was_recorded_keeps_its_creation_line(client_a, operator_a, store_a):
    occurrences = _member_days(store_a, operator_a)
    SeriesChange.objects.all().delete()  # as a series made before this release has no entries
    page = reverse("campaigns:series_change", args=[occurrences[0].pk])

    assert "Series created; its rule has not been changed since." in client_a.get(page).content.decode()
    activity_series.change_rule(occurrences[0], "weekly", date(2026, 11, 25), user=operator_a)
    history = client_a.get(page).content.decode().split('id="history"')[1]
    assert "Rule changed from every Wednesday until 2026-12-02" in history and "Series created." in history


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_series_records_no_history(store_a, operator_a):
    first = Activity(store=store_a, name="Member day", kind="store_promotion", start_date=date(2026, 11, 18),
                     end_date=date(2026, 11, 18), details={"mechanism": "discount", "discount_percent": "10"})

    with pytest.raises(ValidationError):
        activity_series.create_series(first, "weekly", date(2036, 12, 31), user=operator_a)  # over 52

    assert not ActivitySeries.objects.exists() and not SeriesChange.objects.exists()


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_rule_change_records_nothing_on_the_series(operator_a, store_a):
    occurrences = _member_days(store_a, operator_a)

    with pytest.raises(ValidationError):
        activity_series.change_rule(occurrences[0], "weekly", date(2036, 12, 31), first_day=date(2026, 11, 19),
                                    user=operator_a)

    assert [e.summary for e in SeriesChange.objects.all()] == [
        "Series created: every Wednesday until 2026-12-02, first day Wed 18 Nov; created 3 activities, Wed 18 Nov to "
        "Wed 2 Dec."]  # its creation only


@time_machine.travel(NOON_SHANGHAI)
def test_the_page_shows_the_history_newest_first_in_the_stores_time(client_a, operator_a, make_activity):
    weekend = make_activity()
    activity_history.record_created(weekend, user=operator_a)
    operator_a.first_name, operator_a.last_name = "Olivia", "Chen"
    operator_a.save()
    with time_machine.travel(NOON_SHANGHAI + timedelta(hours=13), tick=False):  # 01:00 on the 11th in Shanghai
        _edit(client_a, weekend, budget="100")
    gone = UserFactory(username="gone")
    with time_machine.travel(NOON_SHANGHAI + timedelta(hours=14), tick=False):
        activity_history.record(weekend, {"name": "Old name"}, after={"name": weekend.name}, user=gone)
    gone.delete()

    page = client_a.get(reverse("campaigns:activity_detail", args=[weekend.pk])).content.decode()

    history = page[page.index('id="history"'):]
    assert "Asia/Shanghai time" in history
    newest, middle, oldest = (history.index(s) for s in ("Title: “Old name”", "Budget: 0.00 CNY → 100.00 CNY",
                                                         "Created as idea"))
    assert newest < middle < oldest
    assert "Wed 11 Nov 01:00</span> · <strong>Olivia Chen</strong>" in history
    assert "Tue 10 Nov 12:00</span>" in history  # created at noon, Shanghai time
    assert "<strong>deleted user</strong>" in history


def test_another_stores_activity_history_is_not_shown(client_a, store_b):
    theirs = Activity.objects.create(store=store_b, name="Theirs", kind="content", start_date=date(2026, 11, 20),
                                     end_date=date(2026, 11, 20))
    activity_history.record_created(theirs)

    assert client_a.get(reverse("campaigns:activity_detail", args=[theirs.pk])).status_code == 404


def _tick(client, activity, step, done):
    return client.post(reverse("campaigns:checklist_toggle", args=[activity.pk, step.pk]),
                       {"done": "1" if done else "0"})


@time_machine.travel(NOON_SHANGHAI)
def test_ticking_a_step_done_and_undone_is_recorded_once_each(client_a, operator_a, make_activity):
    weekend = make_activity()
    step = ChecklistItem.objects.create(activity=weekend, position=1, title="Book the banner",
                                        due_date=date(2026, 11, 15))

    _tick(client_a, weekend, step, True)
    _tick(client_a, weekend, step, True)  # a double click: nothing more happened
    _tick(client_a, weekend, step, False)
    _tick(client_a, weekend, step, False)

    assert _summaries(weekend) == ["Checklist step undone: “Book the banner” (due Sun 15 Nov).",
                                   "Checklist step done: “Book the banner” (due Sun 15 Nov)."]
    assert {e.by for e in ActivityChange.objects.filter(activity=weekend)} == {operator_a}


@time_machine.travel(NOON_SHANGHAI)
def test_adding_a_step_is_recorded_and_a_double_clicked_add_is_one_entry(client_a, operator_a, make_activity):
    weekend = make_activity()
    url = reverse("campaigns:checklist_new", args=[weekend.pk])

    for _ in range(2):
        client_a.post(url, {"title": "Brief customer service", "due_date": "2026-11-19"})

    entry = ActivityChange.objects.get(activity=weekend)
    assert entry.summary == "Checklist step added: “Brief customer service” (due Thu 19 Nov)."
    assert entry.by == operator_a


@time_machine.travel(NOON_SHANGHAI)
def test_removing_a_step_not_done_is_recorded_and_a_done_step_stays(client_a, operator_a, make_activity):
    weekend = make_activity()
    spare = ChecklistItem.objects.create(activity=weekend, position=1, title="Order balloons")
    done = ChecklistItem.objects.create(activity=weekend, position=2, title="Book the banner",
                                        done_at=NOON_SHANGHAI, done_by=operator_a)

    client_a.post(reverse("campaigns:checklist_remove", args=[weekend.pk, spare.pk]))
    page = client_a.post(reverse("campaigns:checklist_remove", args=[weekend.pk, done.pk]), follow=True)

    assert list(weekend.checklist.values_list("title", flat=True)) == ["Book the banner"]
    assert "“Book the banner” is done, so it stays on the checklist; undo it first to remove it." \
        in page.content.decode()
    assert _summaries(weekend) == ["Checklist step removed: “Order balloons”."]


def test_another_stores_step_cannot_be_removed(client_a, store_b):
    theirs = Activity.objects.create(store=store_b, name="Theirs", kind="content", start_date=date(2026, 11, 20),
                                     end_date=date(2026, 11, 20))
    step = ChecklistItem.objects.create(activity=theirs, position=1, title="Post it")

    assert client_a.post(reverse("campaigns:checklist_remove", args=[theirs.pk, step.pk])).status_code == 404
    assert ChecklistItem.objects.filter(pk=step.pk).exists() and _summaries(theirs) == []


@time_machine.travel(NOON_SHANGHAI)
def test_the_lottery_draw_is_recorded_with_its_winners_and_window(client_a, operator_a, make_activity, store_a):
    lottery = make_activity(name="Lottery", kind="gift", start_date=date(2026, 11, 1), end_date=date(2026, 11, 7),
                            details={"gift_type": "lottery", "gift_item": "Tea set", "prize_count": 2})
    for n in range(5):
        OrderFactory(store=store_a, buyer_ref=f"b{n}", placed_at=datetime(2026, 11, 2 + n, 10, tzinfo=SHANGHAI))

    client_a.post(reverse("campaigns:lottery_draw", args=[lottery.pk]), {
        "source": "orders", "window_start": "2026-11-01", "window_end": "2026-11-07", "winner_count": "2"})

    entry = ActivityChange.objects.get(activity=lottery)
    assert entry.summary == ("Lottery drawn: 2 winners from 5 entrants "
                             "(buyers with a paid order in the window, Sun 1 Nov–Sat 7 Nov).")
    assert entry.by == operator_a


@time_machine.travel(NOON_SHANGHAI)
def test_writing_the_review_is_one_entry_with_the_status_move_and_an_update_another(client_a, make_activity):
    weekend = make_activity(status="running")
    weekend.move_to("done")
    url = reverse("campaigns:activity_review", args=[weekend.pk])

    client_a.post(url, {"summary": "Sold out on day 2.", "root_cause": "Stock too low"})
    client_a.post(url, {"summary": "Sold out on day 2.", "root_cause": "Stock too low"})  # saved again, unchanged
    client_a.post(url, {"summary": "Sold out on day 2; reorder a week earlier.", "root_cause": "Stock too low"})

    assert _summaries(weekend)[:2] == [
        "Review updated: “Sold out on day 2; reorder a week earlier.”.",
        "Review written: “Sold out on day 2.”; Status: Done → Reviewed."]


@pytest.fixture
def staff_a(store_a):
    staff = UserFactory(username="staff-a", is_staff=True, first_name="Sam", last_name="Staff")
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="campaigns",
                                                          codename__in=["view_activity", "change_activity"]))
    return staff


@time_machine.travel(NOON_SHANGHAI)
def test_the_admin_shows_the_history_read_only_and_records_its_own_edits(client, staff_a, operator_a, make_activity):
    weekend = make_activity()
    activity_history.record_created(weekend, user=operator_a)
    client.force_login(staff_a)
    url = reverse("admin:campaigns_activity_change", args=[weekend.pk])

    page = client.get(url).content.decode()

    assert "Created as idea, Fri 20 Nov–Sun 22 Nov." in page and "op-a" in page
    assert 'name="history-0-summary"' not in page and "Add another history entry" not in page
    assert 'name="history-0-DELETE"' not in page
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("products", "details")}
    data.update(details='{"mechanism": "discount", "discount_percent": "10"}', budget="300", store=weekend.store_id,
                **{"history-TOTAL_FORMS": 1, "history-INITIAL_FORMS": 1})
    assert client.post(url, data).status_code == 302
    assert _summaries(weekend)[0] == "Budget: 0.00 CNY → 300.00 CNY (in the admin)."


def test_the_admin_does_not_open_another_stores_activity_or_its_history(client, staff_a, store_b):
    theirs = Activity.objects.create(store=store_b, name="Theirs", kind="content", start_date=date(2026, 11, 20),
                                     end_date=date(2026, 11, 20))
    activity_history.record_created(theirs)
    client.force_login(staff_a)

    page = client.get(reverse("admin:campaigns_activity_change", args=[theirs.pk]), follow=True).content.decode()

    assert "doesn’t exist" in page and "Created as idea" not in page


@time_machine.travel(NOON_SHANGHAI)
def test_a_moved_posts_publish_time_reads_as_a_day_and_time_not_iso(client_a, make_activity):
    post = make_activity(kind="content", start_date=date(2026, 11, 16), end_date=date(2026, 11, 16),
                         details={"channel": "instagram", "publish_at": "2026-11-16T20:00", "topic": "Camp mug"})

    assert _drag(client_a, post, "2026-11-16", "2026-11-18").status_code == 200

    assert _summaries(post) == ["Moved from Mon 16 Nov to Wed 18 Nov; "
                                "Publish time: Mon 16 Nov 20:00 → Wed 18 Nov 20:00."]
    page = client_a.get(reverse("campaigns:activity_detail", args=[post.pk])).content.decode()
    assert "Wed 18 Nov 20:00" in page and "2026-11-18T20:00" not in page


@time_machine.travel(NOON_SHANGHAI)
def test_the_admin_shows_a_series_history_read_only_and_not_another_stores(client, staff_a, operator_a, store_a,
                                                                          store_b):
    ours = _member_days(store_a, operator_a)
    activity_series.change_rule(ours[0], "weekly", date(2026, 11, 25), user=operator_a)
    theirs = _member_days(store_b, None)
    activity_series.change_rule(theirs[0], "weekly", date(2026, 11, 25))
    staff_a.user_permissions.add(Permission.objects.get(codename="view_activityseries"))
    client.force_login(staff_a)

    page = client.get(reverse("admin:campaigns_activityseries_change", args=[ours[0].series_id])).content.decode()
    other = client.get(reverse("admin:campaigns_activityseries_change", args=[theirs[0].series_id]), follow=True)

    assert "Rule changed from every Wednesday until 2026-12-02 to every Wednesday until 2026-11-25" in page
    assert "op-a" in page
    assert 'name="history-0-summary"' not in page and 'name="history-0-DELETE"' not in page
    assert 'name="_save"' not in page  # the series itself is read only too: its rule changes on its page
    assert "doesn’t exist" in other.content.decode() and "Rule changed" not in other.content.decode()
