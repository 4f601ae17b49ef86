"""Recurring activities: a repeat rule on creation makes ordinary activities linked to a series."""

import html
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.activity_series import create_series
from campaigns.models import Activity, ActivityChange, ActivitySeries, ActivityTemplate
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

NOON_SHANGHAI = datetime(2026, 11, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _new(client, store, kind="store_promotion", **extra):
    data = {"store": store.pk, "name": "Member day", "start_date": "2026-11-18", "end_date": "2026-11-18",
            "budget": "0", "d-mechanism": "discount", "d-discount_percent": "10"}
    data.update(extra)
    return client.post(reverse("campaigns:activity_new") + f"?kind={kind}", data)


@time_machine.travel(NOON_SHANGHAI)
def test_member_day_every_wednesday_until_a_day_makes_one_activity_a_week(client_a, store_a):
    response = _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-16"})

    days = list(Activity.objects.order_by("start_date").values_list("start_date", flat=True))
    assert days == [date(2026, 11, 18), date(2026, 11, 25), date(2026, 12, 2), date(2026, 12, 9), date(2026, 12, 16)]
    series = ActivitySeries.objects.get()
    assert set(Activity.objects.values_list("series", flat=True)) == {series.pk}
    assert series.describe() == "every Wednesday until 2026-12-16"
    assert response.url == Activity.objects.get(start_date=date(2026, 11, 18)).get_absolute_url()


@time_machine.travel(NOON_SHANGHAI)
def test_monthly_on_the_18th_copies_the_templates_checklist_to_each(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Full-reduction weekend")
    client_a.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store_a.pk, "name": "Monthly sale", "start_date": "2026-11-18", "end_date": "2026-11-19",
        "budget": "0", "d-mechanism": "threshold", "d-threshold": "199", "d-reduction": "30",
        "r-repeat": "monthly", "r-until": "2027-02-28"})

    sales = list(Activity.objects.order_by("start_date"))
    assert [(a.start_date, a.end_date) for a in sales] == [
        (date(2026, 11, 18), date(2026, 11, 19)), (date(2026, 12, 18), date(2026, 12, 19)),
        (date(2027, 1, 18), date(2027, 1, 19)), (date(2027, 2, 18), date(2027, 2, 19))]
    assert all(a.checklist.count() == template.steps.count() for a in sales)


@time_machine.travel(NOON_SHANGHAI)
def test_a_series_is_all_or_nothing_and_names_the_first_day_that_cannot_be(client_a, store_a):
    response = _new(client_a, store_a, kind="store_promotion", **{
        "r-repeat": "weekly", "r-until": "2030-12-31"})

    assert response.status_code == 200 and not Activity.objects.exists() and not ActivitySeries.objects.exists()
    assert "A series has at most 52 activities" in response.content.decode()

    response = _new(client_a, store_a, start_date="2036-09-01", end_date="2036-09-01",
                    **{"r-repeat": "monthly", "r-until": "2037-01-31"})

    assert response.status_code == 200 and not Activity.objects.exists() and not ActivitySeries.objects.exists()
    assert ("The occurrence on Mon 1 Dec 2036 cannot be: 2036-12-01 is more than 10 years from today"
            in response.content.decode())


@time_machine.travel(NOON_SHANGHAI)
def test_editing_one_occurrence_changes_only_that_one(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-02"})
    second = Activity.objects.get(start_date=date(2026, 11, 25))

    client_a.post(reverse("campaigns:activity_edit", args=[second.pk]), {
        "name": "Member day: double points", "start_date": "2026-11-25", "end_date": "2026-11-25", "budget": "0",
        "d-mechanism": "discount", "d-discount_percent": "10"})

    assert sorted(Activity.objects.values_list("name", flat=True)) == [
        "Member day", "Member day", "Member day: double points"]


@time_machine.travel(NOON_SHANGHAI)
def test_future_occurrences_are_deleted_from_any_of_them_and_those_under_way_stay(client_a, store_a):
    _new(client_a, store_a, start_date="2026-11-04", end_date="2026-11-04",
         **{"r-repeat": "weekly", "r-until": "2026-12-09"})  # 4 Nov (last week) .. 9 Dec
    Activity.objects.filter(start_date=date(2026, 11, 25)).update(status="planned")
    Activity.objects.filter(start_date=date(2026, 12, 2)).update(status="running")  # a slip, but under way
    last = Activity.objects.get(start_date=date(2026, 12, 9))

    response = client_a.post(reverse("campaigns:series_delete_future", args=[last.pk]), follow=True)

    assert sorted(Activity.objects.values_list("start_date", flat=True)) == [date(2026, 11, 4), date(2026, 12, 2)]
    assert "Deleted 4 future activities of the series; 1 already under way stay." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("campaigns:activities")


def test_another_stores_series_cannot_be_deleted(client_a, store_b, make_activity):
    series = ActivitySeries.objects.create(store=store_b, repeat="weekly", first_day=date(2030, 1, 2),
                                           until=date(2030, 1, 9))
    theirs = make_activity(store=store_b, start_date=date(2030, 1, 2), end_date=date(2030, 1, 2), series=series)

    assert client_a.post(reverse("campaigns:series_delete_future", args=[theirs.pk])).status_code == 404
    assert Activity.objects.filter(pk=theirs.pk).exists()


# --- Changing a series' rule for its occurrences still to come -------------------------------------------------

def _starts():
    return sorted(Activity.objects.values_list("start_date", flat=True))


def _preview(client, activity, repeat="weekly", until="2026-12-25", first_day=""):
    return client.post(reverse("campaigns:series_change", args=[activity.pk]),
                       {"repeat": repeat, "until": until, "first_day": first_day})


def _change(client, activity, repeat="weekly", until="2026-12-25", first_day="", **kw):
    """Preview the change, then confirm what the preview showed (a refused one answers with the preview)."""
    preview = _preview(client, activity, repeat, until, first_day)
    plan = re.search(r'name="plan" value="([^"]*)"', preview.content.decode())
    if plan is None:
        return preview
    return client.post(reverse("campaigns:series_change", args=[activity.pk]),
                       {"repeat": repeat, "until": until, "first_day": first_day, "confirm": "1",
                        "plan": html.unescape(plan.group(1))}, **kw)


@time_machine.travel(NOON_SHANGHAI)
def test_the_series_page_shows_the_rule_in_force_from_any_occurrence(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-16"})
    third = Activity.objects.get(start_date=date(2026, 12, 2))

    detail = client_a.get(third.get_absolute_url()).content.decode()
    page = client_a.get(reverse("campaigns:series_change", args=[third.pk])).content.decode()

    assert reverse("campaigns:series_change", args=[third.pk]) in detail
    assert "every Wednesday until 2026-12-16" in page
    assert 'value="2026-12-16"' in page and '<option value="weekly" selected>' in page


@time_machine.travel(NOON_SHANGHAI)
def test_stopping_a_weekly_series_after_christmas_deletes_only_the_later_occurrences(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2027-01-13"})  # 18 Nov .. 13 Jan
    before = dict(Activity.objects.values_list("start_date", "pk"))

    response = _change(client_a, Activity.objects.get(start_date=date(2026, 11, 18)), until="2026-12-25",
                       follow=True)

    assert _starts() == [date(2026, 11, 18), date(2026, 11, 25), date(2026, 12, 2), date(2026, 12, 9),
                         date(2026, 12, 16), date(2026, 12, 23)]
    assert all(before[a.start_date] == a.pk for a in Activity.objects.all())
    assert ActivitySeries.objects.get().describe() == "every Wednesday until 2026-12-25"
    assert ("The series is now every Wednesday until 2026-12-25: created 0, deleted 3 future activities."
            in response.content.decode())


@time_machine.travel(NOON_SHANGHAI)
def test_extending_a_series_makes_the_new_occurrences_with_its_products_and_checklist(
        client_a, store_a, default_templates):
    product = ProductFactory(store=store_a)
    template = ActivityTemplate.objects.get(name="Full-reduction weekend")
    client_a.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store_a.pk, "name": "Weekend sale", "start_date": "2026-11-21", "end_date": "2026-11-22",
        "budget": "0", "d-mechanism": "threshold", "d-threshold": "199", "d-reduction": "30",
        "products": product.sku, "r-repeat": "weekly", "r-until": "2026-11-28"})

    _change(client_a, Activity.objects.get(start_date=date(2026, 11, 28)), until="2026-12-12")

    sales = list(Activity.objects.order_by("start_date"))
    assert [(a.start_date, a.end_date) for a in sales] == [
        (date(2026, 11, 21), date(2026, 11, 22)), (date(2026, 11, 28), date(2026, 11, 29)),
        (date(2026, 12, 5), date(2026, 12, 6)), (date(2026, 12, 12), date(2026, 12, 13))]
    assert all(list(a.products.all()) == [product] for a in sales)
    assert all(a.checklist.count() == template.steps.count() for a in sales)
    assert {a.series_id for a in sales} == {ActivitySeries.objects.get().pk}
    assert {a.status for a in sales[2:]} == {"idea"}


@time_machine.travel(NOON_SHANGHAI)
def test_weekly_switched_to_monthly_keeps_the_shared_day_and_makes_the_monthly_ones(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-16"})  # 18, 25 Nov, 2, 9, 16 Dec
    first = Activity.objects.get(start_date=date(2026, 11, 18))

    _change(client_a, Activity.objects.get(start_date=date(2026, 12, 9)), repeat="monthly", until="2027-02-28")

    assert _starts() == [date(2026, 11, 18), date(2026, 12, 18), date(2027, 1, 18), date(2027, 2, 18)]
    assert Activity.objects.get(start_date=date(2026, 11, 18)).pk == first.pk
    assert ActivitySeries.objects.get().describe() == "monthly on day 18 until 2027-02-28"


@time_machine.travel(NOON_SHANGHAI)
def test_occurrences_under_way_or_over_stay_when_the_rule_no_longer_makes_them(client_a, store_a):
    _new(client_a, store_a, start_date="2026-11-04", end_date="2026-11-04",
         **{"r-repeat": "weekly", "r-until": "2026-12-09"})  # 4 Nov (last week) .. 9 Dec
    Activity.objects.filter(start_date=date(2026, 11, 4)).update(status="done")
    Activity.objects.filter(start_date=date(2026, 12, 2)).update(status="running")  # a slip, but under way

    response = _change(client_a, Activity.objects.get(start_date=date(2026, 11, 11)), repeat="monthly",
                       until="2026-12-31", follow=True)

    # The monthly rule makes 4 Nov (over, stays) and 4 Dec (new); 2 Dec is running and stays.
    assert _starts() == [date(2026, 11, 4), date(2026, 12, 2), date(2026, 12, 4)]
    assert "created 1, deleted 4 future activities; 1 already under way stay." in response.content.decode()


@time_machine.travel(NOON_SHANGHAI)
def test_a_day_both_rules_make_keeps_its_activity_and_its_edits(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Full-reduction weekend")
    client_a.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store_a.pk, "name": "Weekend sale", "start_date": "2026-11-21", "end_date": "2026-11-22",
        "budget": "0", "d-mechanism": "threshold", "d-threshold": "199", "d-reduction": "30",
        "r-repeat": "weekly", "r-until": "2026-12-05"})
    second = Activity.objects.get(start_date=date(2026, 11, 28))
    Activity.objects.filter(pk=second.pk).update(name="Weekend sale: free shipping")
    step = second.checklist.first()
    client_a.post(reverse("campaigns:checklist_toggle", args=[second.pk, step.pk]), {"done": "1"})

    _change(client_a, second, until="2026-12-19")

    kept = Activity.objects.get(start_date=date(2026, 11, 28))
    assert kept.pk == second.pk and kept.name == "Weekend sale: free shipping"
    assert kept.checklist.get(pk=step.pk).done_at is not None
    assert _starts() == [date(2026, 11, 21), date(2026, 11, 28), date(2026, 12, 5), date(2026, 12, 12),
                         date(2026, 12, 19)]


@time_machine.travel(NOON_SHANGHAI)
def test_an_occurrence_deleted_by_hand_is_not_made_again_when_the_series_is_extended(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-09"})
    Activity.objects.filter(start_date=date(2026, 11, 25)).delete()  # no member day that week

    _change(client_a, Activity.objects.get(start_date=date(2026, 11, 18)), until="2026-12-23")

    assert _starts() == [date(2026, 11, 18), date(2026, 12, 2), date(2026, 12, 9), date(2026, 12, 16),
                         date(2026, 12, 23)]


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_change_names_the_reason_and_changes_nothing(client_a, store_a):
    _new(client_a, store_a, **{"r-repeat": "weekly", "r-until": "2026-12-16"})
    before = sorted(Activity.objects.values_list("pk", "start_date"))
    occurrence = Activity.objects.get(start_date=date(2026, 12, 2))

    too_many = _change(client_a, occurrence, until="2030-12-31").content.decode()
    too_early = _change(client_a, occurrence, until="2026-11-01").content.decode()

    assert "A series has at most 52 activities" in too_many
    assert "The series ends (2026-11-01) before its first day (2026-11-18)." in too_early
    assert sorted(Activity.objects.values_list("pk", "start_date")) == before
    assert ActivitySeries.objects.get().describe() == "every Wednesday until 2026-12-16"


@time_machine.travel(NOON_SHANGHAI)
def test_a_change_is_all_or_nothing_and_names_the_first_day_that_cannot_be(client_a, store_a):
    _new(client_a, store_a, start_date="2036-09-01", end_date="2036-09-01",
         **{"r-repeat": "monthly", "r-until": "2036-10-31"})  # 1 Sep, 1 Oct 2036
    before = sorted(Activity.objects.values_list("pk", "start_date"))

    response = _change(client_a, Activity.objects.get(start_date=date(2036, 9, 1)), repeat="monthly",
                       until="2037-01-31")

    assert ("The occurrence on Mon 1 Dec 2036 cannot be: 2036-12-01 is more than 10 years from today"
            in response.content.decode())
    assert "Nothing was changed." in response.content.decode()
    assert sorted(Activity.objects.values_list("pk", "start_date")) == before
    assert ActivitySeries.objects.get().until == date(2036, 10, 31)


@time_machine.travel(NOON_SHANGHAI)
def test_a_manager_of_the_store_may_change_the_series_too(client, manager_a, store_a, make_activity):
    series = ActivitySeries.objects.create(store=store_a, repeat="weekly", first_day=date(2026, 11, 18),
                                           until=date(2026, 11, 25))
    for day in (date(2026, 11, 18), date(2026, 11, 25)):
        make_activity(start_date=day, end_date=day, series=series)
    client.force_login(manager_a)

    _change(client, Activity.objects.get(start_date=date(2026, 11, 18)), until="2026-11-18")

    assert _starts() == [date(2026, 11, 18)]


def test_another_stores_series_cannot_be_seen_or_changed(client_a, store_b, make_activity):
    series = ActivitySeries.objects.create(store=store_b, repeat="weekly", first_day=date(2030, 1, 2),
                                           until=date(2030, 1, 9))
    theirs = make_activity(store=store_b, start_date=date(2030, 1, 2), end_date=date(2030, 1, 2), series=series)
    url = reverse("campaigns:series_change", args=[theirs.pk])

    assert client_a.get(url).status_code == 404
    assert client_a.post(url, {"repeat": "weekly", "until": "2030-01-02"}).status_code == 404
    assert ActivitySeries.objects.get().until == date(2030, 1, 9)


def test_an_activity_outside_any_series_has_no_series_page(client_a, make_activity):
    assert client_a.get(reverse("campaigns:series_change", args=[make_activity().pk])).status_code == 404


# --- Moving a series' first day (its weekday or day of the month) -----------------------------------------------

def _weekend_sale(client, store, start, end, repeat, until):
    template = ActivityTemplate.objects.get(name="Full-reduction weekend")
    client.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store.pk, "name": "Member sale", "start_date": start, "end_date": end, "budget": "0",
        "d-mechanism": "threshold", "d-threshold": "199", "d-reduction": "30", "r-repeat": repeat, "r-until": until})


def _dues(activity):
    return dict(activity.checklist.values_list("pk", "due_date"))


@time_machine.travel(NOON_SHANGHAI)
def test_a_weekly_series_moved_from_monday_to_wednesday_moves_its_occurrences_and_their_checklists(
        client_a, store_a, default_templates):
    _weekend_sale(client_a, store_a, "2026-11-16", "2026-11-16", "weekly", "2026-12-07")  # Mon 16 Nov .. 7 Dec
    before = {a.start_date: a for a in Activity.objects.all()}
    second = before[date(2026, 11, 23)]
    done = second.checklist.order_by("position").first()
    client_a.post(reverse("campaigns:checklist_toggle", args=[second.pk, done.pk]), {"done": "1"})
    dues = _dues(second)

    preview = _preview(client_a, second, first_day="2026-11-18", until="2026-12-09").content.decode()

    assert "Mon 16 Nov → Wed 18 Nov" in preview and "Mon 7 Dec → Wed 9 Dec" in preview
    assert _starts() == sorted(before)  # a preview saves nothing

    response = _change(client_a, second, first_day="2026-11-18", until="2026-12-09", follow=True)

    assert _starts() == [date(2026, 11, 18), date(2026, 11, 25), date(2026, 12, 2), date(2026, 12, 9)]
    assert {a.start_date: a.pk for a in Activity.objects.all()} == {
        day + (date(2026, 11, 18) - date(2026, 11, 16)): a.pk for day, a in before.items()}  # moved, not copied
    assert ActivitySeries.objects.get().describe() == "every Wednesday until 2026-12-09"
    moved = Activity.objects.get(pk=second.pk)
    assert moved.end_date == date(2026, 11, 25)
    assert _dues(moved) == {pk: due if pk == done.pk else due + (date(2026, 11, 18) - date(2026, 11, 16))
                            for pk, due in dues.items()}  # open steps keep their lead time; the done one its day
    assert ("The series is now every Wednesday until 2026-12-09: moved 4, created 0, deleted 0 future activities."
            in response.content.decode())


@time_machine.travel(NOON_SHANGHAI)
def test_a_monthly_series_moved_from_the_15th_to_the_1st(client_a, store_a, default_templates):
    _weekend_sale(client_a, store_a, "2026-11-15", "2026-11-16", "monthly", "2027-01-15")  # 15 Nov, 15 Dec, 15 Jan
    product = ProductFactory(store=store_a)
    for sale in Activity.objects.all():
        sale.products.set([product])
    before = {a.start_date: a.pk for a in Activity.objects.all()}

    _change(client_a, Activity.objects.get(start_date=date(2026, 11, 15)), repeat="monthly", first_day="2026-12-01",
            until="2027-02-01")

    sales = list(Activity.objects.order_by("start_date"))
    assert [(a.start_date, a.end_date) for a in sales] == [
        (date(2026, 12, 1), date(2026, 12, 2)), (date(2027, 1, 1), date(2027, 1, 2)),
        (date(2027, 2, 1), date(2027, 2, 2))]
    # Each to the next 1st, none deleted and copied instead: 15 Dec is nearer to 1 Dec than 15 Nov is, but pairing
    # it there would leave 15 Nov without a day (deleted, its work lost) and make 1 Feb a copy.
    assert [a.pk for a in sales] == [before[date(2026, 11, 15)], before[date(2026, 12, 15)], before[date(2027, 1, 15)]]
    assert all(list(sale.products.all()) == [product] for sale in sales)
    assert ActivitySeries.objects.get().describe() == "monthly on day 1 until 2027-02-01"


@time_machine.travel(NOON_SHANGHAI)
def test_a_moved_first_day_leaves_past_and_running_occurrences_where_they_are(client_a, store_a):
    _new(client_a, store_a, start_date="2026-11-02", end_date="2026-11-02",
         **{"r-repeat": "weekly", "r-until": "2026-11-30"})  # Mondays 2, 9 (gone by), 16, 23, 30 Nov
    Activity.objects.filter(start_date=date(2026, 11, 2)).update(status="done")
    Activity.objects.filter(start_date=date(2026, 11, 23)).update(status="running")  # a slip, but under way

    response = _change(client_a, Activity.objects.get(start_date=date(2026, 11, 16)), first_day="2026-11-18",
                       until="2026-12-02", follow=True)

    # 16 → 18 Nov and 30 Nov → 2 Dec; the running 23 Nov stays (no 25 Nov beside it); 2 and 9 Nov are past.
    assert _starts() == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 18), date(2026, 11, 23),
                         date(2026, 12, 2)]
    assert Activity.objects.get(start_date=date(2026, 11, 2)).status == "done"
    assert "moved 2, created 0, deleted 0 future activities; 1 already under way stay." in response.content.decode()


@time_machine.travel(NOON_SHANGHAI)
def test_an_occurrence_moved_by_hand_keeps_its_own_day_when_the_first_day_moves(client_a, store_a):
    _new(client_a, store_a, start_date="2026-11-16", end_date="2026-11-16",
         **{"r-repeat": "weekly", "r-until": "2026-12-07"})  # Mondays 16 Nov .. 7 Dec
    Activity.objects.filter(start_date=date(2026, 11, 30)).update(start_date=date(2026, 12, 1),
                                                                   end_date=date(2026, 12, 1))  # by hand: Tuesday
    occurrence = Activity.objects.get(start_date=date(2026, 11, 16))

    preview = _preview(client_a, occurrence, first_day="2026-11-18", until="2026-12-09").content.decode()
    response = _change(client_a, occurrence, first_day="2026-11-18", until="2026-12-09", follow=True)

    assert "Moved by hand, keep their own days (1)" in preview and "Member day: Tue 1 Dec" in preview
    assert _starts() == [date(2026, 11, 18), date(2026, 11, 25), date(2026, 12, 1), date(2026, 12, 9)]
    assert "; 1 moved by hand keeps its own day." in response.content.decode()


@time_machine.travel(NOON_SHANGHAI)
def test_a_refused_first_day_changes_nothing_and_names_the_day_that_cannot_be(client_a, store_a):
    _new(client_a, store_a, start_date="2036-09-01", end_date="2036-09-01",
         **{"r-repeat": "monthly", "r-until": "2036-10-31"})  # 1 Sep, 1 Oct 2036
    before = sorted(Activity.objects.values_list("pk", "start_date", "end_date"))
    occurrence = Activity.objects.get(start_date=date(2036, 9, 1))

    out_of_reach = _change(client_a, occurrence, repeat="monthly", first_day="2036-09-15", until="2036-11-30")
    today = _change(client_a, occurrence, repeat="monthly", first_day="2026-11-10", until="2036-11-30")

    assert ("The occurrence on Sat 15 Nov 2036 cannot be: 2036-11-15 is more than 10 years from today"
            in out_of_reach.content.decode())
    assert "The new first day (2026-11-10) must be after today (2026-11-10" in today.content.decode()
    assert sorted(Activity.objects.values_list("pk", "start_date", "end_date")) == before
    assert ActivitySeries.objects.get().describe() == "monthly on day 1 until 2036-10-31"
    assert not ActivityChange.objects.filter(summary__contains="Series rule").exists()


@time_machine.travel(NOON_SHANGHAI)
def test_a_confirmation_that_no_longer_matches_its_preview_changes_nothing_and_shows_the_new_one(client_a, store_a):
    _new(client_a, store_a, start_date="2026-11-16", end_date="2026-11-16",
         **{"r-repeat": "weekly", "r-until": "2026-12-07"})
    occurrence = Activity.objects.get(start_date=date(2026, 11, 16))
    preview = _preview(client_a, occurrence, first_day="2026-11-18", until="2026-12-09").content.decode()
    plan = html.unescape(re.search(r'name="plan" value="([^"]*)"', preview).group(1))
    Activity.objects.filter(start_date=date(2026, 11, 23)).update(status="running")  # a colleague, meanwhile

    response = client_a.post(reverse("campaigns:series_change", args=[occurrence.pk]), {
        "repeat": "weekly", "until": "2026-12-09", "first_day": "2026-11-18", "confirm": "1", "plan": plan})

    assert "changed since the preview" in response.content.decode()
    assert "Stay as they are, already running or over (1)" in response.content.decode()
    assert _starts() == [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]


@time_machine.travel(NOON_SHANGHAI)
def test_each_moved_occurrence_records_its_move_and_the_new_rule_in_its_history(
        client_a, operator_a, store_a, default_templates):
    _weekend_sale(client_a, store_a, "2026-11-16", "2026-11-16", "weekly", "2026-11-23")
    occurrence = Activity.objects.get(start_date=date(2026, 11, 23))
    open_steps = occurrence.checklist.filter(done_at__isnull=True, due_date__isnull=False).count()

    _change(client_a, occurrence, first_day="2026-11-18", until="2026-11-25")

    entry = ActivityChange.objects.filter(activity=occurrence).latest("pk")
    assert entry.by == operator_a
    assert entry.summary == (f"Moved from Mon 23 Nov to Wed 25 Nov; {open_steps} checklist steps moved with it; "
                             "Series rule changed from every Monday until 2026-11-23 to every Wednesday until "
                             "2026-11-25.")


# --- A sign-up deadline each occurrence can still meet ----------------------------------------------------------

NOV_1_SHANGHAI = datetime(2026, 11, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _platform_event_series(client, store, repeat, until):
    """Created on 1 Nov: a platform event on Sat 21 Nov whose sign-up closes 20 days before, on 1 Nov."""
    with time_machine.travel(NOV_1_SHANGHAI, tick=False):
        response = _new(client, store, kind="platform_event", name="Flash sale", start_date="2026-11-21",
                        end_date="2026-11-21", signup_deadline="2026-11-01",
                        **{"d-event": "other", "d-event_name": "Flash sale", "d-signup_status": "not_started",
                           "r-repeat": repeat, "r-until": until})
    assert response.status_code == 302, response.content.decode()


def test_a_series_whose_first_sign_up_deadline_has_passed_is_not_created(store_a):
    event = Activity(store=store_a, name="Flash sale", kind="platform_event", start_date=date(2026, 11, 18),
                     end_date=date(2026, 11, 18), signup_deadline=date(2026, 11, 8),
                     details={"event": "other", "event_name": "Flash sale", "signup_status": "not_started"})
    event.full_clean()  # a valid activity in itself: only its deadline's day is gone

    # The New activity form refuses a passed deadline first; the series checks it for any other caller.
    with time_machine.travel(NOON_SHANGHAI, tick=False), pytest.raises(ValidationError) as refused:
        create_series(event, "weekly", date(2026, 12, 2))

    assert refused.value.messages == [
        "The occurrence on Wed 18 Nov 2026 cannot be: Its sign-up deadline 2026-11-08 would have passed (today is "
        "2026-11-10). Nothing was created."]
    assert not Activity.objects.exists() and not ActivitySeries.objects.exists()


@time_machine.travel(NOON_SHANGHAI, tick=False)
def test_a_rule_change_is_refused_when_a_new_occurrences_sign_up_deadline_would_have_passed(client_a, store_a):
    _platform_event_series(client_a, store_a, "monthly", "2027-01-21")  # 21 Nov, 21 Dec, 21 Jan
    before = sorted(Activity.objects.values_list("pk", "start_date", "signup_deadline"))
    first = Activity.objects.get(start_date=date(2026, 11, 21))

    # Weekly from 21 Nov: the new one on 28 Nov would close its sign-up on 8 Nov, two days ago.
    weekly = _change(client_a, first, repeat="weekly", until="2026-12-19").content.decode()

    assert ("The occurrence on Sat 28 Nov 2026 cannot be: Its sign-up deadline 2026-11-08 would have passed "
            "(today is 2026-11-10). Nothing was changed.") in weekly
    assert sorted(Activity.objects.values_list("pk", "start_date", "signup_deadline")) == before
    assert ActivitySeries.objects.get().describe() == "monthly on day 21 until 2027-01-21"

    # The other side: one more month leaves its sign-up open till 1 Feb.
    _change(client_a, first, repeat="monthly", until="2027-02-21")
    assert Activity.objects.get(start_date=date(2027, 2, 21)).signup_deadline == date(2027, 2, 1)


@time_machine.travel(NOON_SHANGHAI, tick=False)
def test_moving_the_first_day_is_refused_when_a_moved_occurrences_sign_up_deadline_would_have_passed(
        client_a, store_a):
    _platform_event_series(client_a, store_a, "weekly", "2026-12-19")  # Saturdays 21 Nov to 19 Dec
    before = sorted(Activity.objects.values_list("pk", "start_date", "signup_deadline"))
    first = Activity.objects.get(start_date=date(2026, 11, 21))

    # Saturdays to Fridays: 21 Nov moves to 13 Nov, its deadline from 1 Nov to 24 Oct.
    response = _change(client_a, first, repeat="weekly", until="2026-12-19", first_day="2026-11-13")

    assert ("The occurrence on Fri 13 Nov 2026 cannot be: Its sign-up deadline 2026-10-24 would have passed "
            "(today is 2026-11-10). Nothing was changed.") in response.content.decode()
    assert sorted(Activity.objects.values_list("pk", "start_date", "signup_deadline")) == before
    assert ActivitySeries.objects.get().describe() == "every Saturday until 2026-12-19"


def _moved_in_preview(page: str) -> list[str]:
    """The preview's "Moved" list, as its lines read: ["Member sale: Mon 23 Nov → Tue 24 Nov", …]."""
    section = re.search(r"<h3>Moved \(\d+\)[^<]*</h3>\s*<ul>(.*?)</ul>", page, re.S)
    return sorted(html.unescape(line) for line in re.findall(r"<li>(.*?)</li>", section.group(1))) if section else []


@time_machine.travel(NOON_SHANGHAI)
def test_a_weekly_series_moved_by_one_day_keeps_each_occurrence_within_a_day_as_its_preview_said(
        client_a, store_a, default_templates):
    _weekend_sale(client_a, store_a, "2026-11-16", "2026-11-16", "weekly", "2026-12-14")  # Mondays 16 Nov .. 14 Dec
    before = {a.pk: a.start_date for a in Activity.objects.all()}
    dues = {a.pk: _dues(a) for a in Activity.objects.all()}
    occurrence = Activity.objects.get(start_date=date(2026, 11, 23))

    # From the 23 Nov occurrence the operator picks its Tuesday: the rule now starts a week after 17 Nov.
    preview = _preview(client_a, occurrence, first_day="2026-11-24", until="2026-12-15").content.decode()
    response = _change(client_a, occurrence, first_day="2026-11-24", until="2026-12-15", follow=True)

    after = {a.pk: a.start_date for a in Activity.objects.all()}
    assert sorted(after.values()) == [date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15)]
    assert all((after[pk] - before[pk]).days == 1 for pk in after)  # each by a day, none by a week and a day
    assert before.keys() - after.keys() == {pk for pk, day in before.items() if day == date(2026, 11, 16)}
    assert _moved_in_preview(preview) == sorted(
        f"Member sale: {before[pk]:%a %-d %b} → {after[pk]:%a %-d %b}" for pk in after)  # what the confirm did
    assert "Deleted (1)" in preview and "Member sale: Mon 16 Nov" in preview
    for pk in after:  # each checklist followed its own occurrence, by its one day
        assert _dues(Activity.objects.get(pk=pk)) == {step: due + (after[pk] - before[pk]) for step, due in
                                                      dues[pk].items()}
    assert "moved 4, created 0, deleted 1 future activity." in response.content.decode()


@time_machine.travel(NOON_SHANGHAI)
def test_a_copy_made_by_a_moved_first_day_takes_the_products_of_a_first_occurrence_it_deleted(
        client_a, store_a, default_templates):
    _weekend_sale(client_a, store_a, "2026-11-16", "2026-11-16", "weekly", "2026-12-14")  # Mondays 16 Nov .. 14 Dec
    product = ProductFactory(store=store_a)
    for sale in Activity.objects.all():
        sale.products.set([product])
    first = Activity.objects.get(start_date=date(2026, 11, 16))

    # Tuesdays from the 24th, a week after the 17th, one more week: 16 Nov has no day left, 22 Dec is a copy.
    _change(client_a, first, first_day="2026-11-24", until="2026-12-22")

    assert not Activity.objects.filter(pk=first.pk).exists()
    copy = Activity.objects.get(start_date=date(2026, 12, 22))
    assert list(copy.products.all()) == [product]
