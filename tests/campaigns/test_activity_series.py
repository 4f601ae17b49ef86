"""Recurring activities: a repeat rule on creation makes ordinary activities linked to a series."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Activity, ActivitySeries, ActivityTemplate

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
