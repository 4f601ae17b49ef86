"""A store's own templates: Save as template from an activity, edit its steps, delete it; managers only."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from campaigns.activity_templates import copy_checklist
from campaigns.models import Activity, ActivityTemplate, TemplateStep
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

OCTOBER = datetime(2026, 10, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # before every day the tests plan


@pytest.fixture
def manager_client(client, manager_a):
    client.force_login(manager_a)
    return client


@pytest.fixture
def weekend_sale(make_activity, default_templates):
    """A 3-day discount from 20 November with the Full-reduction weekend's steps (5, 2, 1, 0 days before) and a
    step added by hand 3 days after its start."""
    with time_machine.travel(OCTOBER, tick=False):
        template = ActivityTemplate.objects.get(name="Full-reduction weekend")
        activity = make_activity(template=template, notes="Keep the banner from last time.")
        copy_checklist(activity, template)
        activity.checklist.create(position=9, title="Count the returns", due_date=date(2026, 11, 23))
    return activity


def _steps(template):
    return list(template.steps.values_list("position", "title", "days_before_start"))


def _store_template(store, name="Our weekend sale", steps=("Book the banner", "Check stock")):
    template = ActivityTemplate.objects.create(store=store, name=name, kind="store_promotion", duration_days=2)
    TemplateStep.objects.bulk_create(TemplateStep(template=template, position=i, title=t, days_before_start=3 - i)
                                     for i, t in enumerate(steps, start=1))
    return template


def _edit_data(template, rows, **fields):
    """The edit page's POST: the template's fields and one row per step (title, days before, order, remove)."""
    data = {"name": template.name, "description": template.description, "duration_days": template.duration_days,
            "s-TOTAL_FORMS": len(rows), "s-INITIAL_FORMS": template.steps.count(), "s-MIN_NUM_FORMS": 0,
            "s-MAX_NUM_FORMS": 1000, **fields}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"s-{i}-{key}"] = value
    return data


@time_machine.travel(OCTOBER, tick=False)
def test_an_activity_saved_as_template_gives_the_next_one_the_same_steps_at_the_same_lead_times(
        manager_client, store_a, weekend_sale):
    response = manager_client.post(reverse("campaigns:activity_save_template", args=[weekend_sale.pk]),
                                   {"name": "Our weekend sale"})
    saved = ActivityTemplate.objects.get(store=store_a, name="Our weekend sale")
    assert response.status_code == 302
    assert (saved.kind, saved.duration_days, saved.playbook.slug) == ("store_promotion", 3, "full-reduction")
    assert saved.default_details == {"mechanism": "discount", "discount_percent": "10"}
    assert saved.description == "Keep the banner from last time."
    assert "Our weekend sale" in manager_client.get(reverse("campaigns:activity_templates")).content.decode()

    manager_client.post(reverse("campaigns:activity_new") + f"?template={saved.pk}", {
        "store": store_a.pk, "name": "December weekend", "start_date": "2026-12-11", "end_date": "2026-12-13",
        "budget": "0", "d-mechanism": "discount", "d-discount_percent": "10"})
    december = Activity.objects.get(name="December weekend")
    old = [(i.title, weekend_sale.start_date - i.due_date) for i in weekend_sale.checklist.all()]
    new = [(i.title, december.start_date - i.due_date) for i in december.checklist.all()]
    assert new == old
    assert new[-1] == ("Count the returns", timedelta(days=-3))


def test_an_operator_sees_no_save_as_template_and_is_refused(client_a, weekend_sale):
    assert "Save as template" not in client_a.get(weekend_sale.get_absolute_url()).content.decode()
    response = client_a.post(reverse("campaigns:activity_save_template", args=[weekend_sale.pk]), {"name": "Mine"})
    assert response.status_code == 403
    assert not ActivityTemplate.objects.filter(name="Mine").exists()


def test_a_manager_sees_save_as_template_on_the_activity(manager_client, weekend_sale):
    assert "Save as template" in manager_client.get(weekend_sale.get_absolute_url()).content.decode()


def test_a_name_the_store_already_uses_is_refused_and_the_typed_name_stays(manager_client, store_a, weekend_sale):
    _store_template(store_a, name="Our weekend sale")
    response = manager_client.post(reverse("campaigns:activity_save_template", args=[weekend_sale.pk]),
                                   {"name": "our WEEKEND sale"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Store A already has a template called “our WEEKEND sale”; pick another name." in page
    assert 'value="our WEEKEND sale"' in page
    assert ActivityTemplate.objects.filter(store=store_a).count() == 1


def test_a_shared_templates_name_is_refused_too(manager_client, weekend_sale):
    response = manager_client.post(reverse("campaigns:activity_save_template", args=[weekend_sale.pk]),
                                   {"name": "Full-reduction weekend"})
    assert response.status_code == 400
    assert ActivityTemplate.objects.filter(name="Full-reduction weekend").count() == 1


def test_a_manager_edits_reorders_removes_and_adds_steps(manager_client, store_a):
    template = _store_template(store_a, steps=("Book the banner", "Check stock", "Announce it"))
    response = manager_client.post(reverse("campaigns:activity_template_edit", args=[template.pk]), _edit_data(
        template, [{"title": "Book the banner early", "days_before_start": 7, "ORDER": 2},
                   {"title": "Check stock", "days_before_start": 1, "ORDER": 2, "DELETE": "on"},
                   {"title": "Announce it", "days_before_start": 0, "ORDER": 1},
                   {"title": "Write the review", "days_before_start": -4, "ORDER": 3}],
        name="Weekend sale, v2", duration_days=3))
    template.refresh_from_db()
    assert response.status_code == 302
    assert (template.name, template.duration_days) == ("Weekend sale, v2", 3)
    assert _steps(template) == [(1, "Announce it", 0), (2, "Book the banner early", 7), (3, "Write the review", -4)]
    page = manager_client.get(reverse("campaigns:activity_templates")).content.decode()
    assert "4 days after start" in page and "Weekend sale, v2" in page


def test_a_bad_step_is_named_and_every_typed_row_comes_back_with_nothing_saved(manager_client, store_a):
    template = _store_template(store_a)
    response = manager_client.post(reverse("campaigns:activity_template_edit", args=[template.pk]), _edit_data(
        template, [{"title": "Book the banner", "days_before_start": "soon", "ORDER": 1},
                   {"title": "Check stock twice", "days_before_start": 1, "ORDER": 2},
                   {"title": "", "link": "/metrics/live/", "days_before_start": 0, "ORDER": 3}],
        name="Renamed"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter a whole number." in page and "This field is required." in page
    assert 'value="Check stock twice"' in page and 'value="/metrics/live/"' in page and 'value="Renamed"' in page
    template.refresh_from_db()
    assert template.name == "Our weekend sale"
    assert _steps(template) == [(1, "Book the banner", 2), (2, "Check stock", 1)]


def test_a_lead_time_or_duration_beyond_a_year_is_refused(manager_client, store_a):
    template = _store_template(store_a)
    response = manager_client.post(reverse("campaigns:activity_template_edit", args=[template.pk]), _edit_data(
        template, [{"title": "Book the banner", "days_before_start": 100000, "ORDER": 1}], duration_days=4000))
    page = response.content.decode()
    assert response.status_code == 400
    assert "less than or equal to 366" in page and 'value="100000"' in page
    assert _steps(template) == [(1, "Book the banner", 2), (2, "Check stock", 1)]


def test_renaming_to_a_name_the_store_uses_is_refused(manager_client, store_a):
    _store_template(store_a, name="Flash sale")
    template = _store_template(store_a)
    response = manager_client.post(reverse("campaigns:activity_template_edit", args=[template.pk]), _edit_data(
        template, [{"title": "Book the banner", "days_before_start": 2, "ORDER": 1}], name="flash sale"))
    assert response.status_code == 400
    assert "Store A already has a template called “flash sale”." in response.content.decode()
    template.refresh_from_db()
    assert template.name == "Our weekend sale" and template.steps.count() == 2


def test_a_manager_deletes_a_template_and_its_activities_keep_their_checklists(manager_client, store_a,
                                                                                make_activity):
    template = _store_template(store_a)
    activity = make_activity(template=template)
    with time_machine.travel(OCTOBER, tick=False):
        copy_checklist(activity, template)
    response = manager_client.post(reverse("campaigns:activity_template_delete", args=[template.pk]))
    assert response.status_code == 302
    assert not ActivityTemplate.objects.filter(pk=template.pk).exists()
    assert activity.checklist.count() == 2


def test_the_templates_page_offers_edit_to_the_stores_managers_only(client, store_a, manager_a, operator_a,
                                                                     default_templates):
    template = _store_template(store_a)
    edit = reverse("campaigns:activity_template_edit", args=[template.pk])
    client.force_login(manager_a)
    page = client.get(reverse("campaigns:activity_templates")).content.decode()
    assert page.count(f'href="{edit}"') == 1  # the shared templates have none
    assert "Store A" in page
    client.force_login(operator_a)
    assert edit not in client.get(reverse("campaigns:activity_templates")).content.decode()


def test_an_operator_cannot_edit_or_delete_a_template(client_a, store_a):
    template = _store_template(store_a)
    assert client_a.get(reverse("campaigns:activity_template_edit", args=[template.pk])).status_code == 403
    assert client_a.post(reverse("campaigns:activity_template_delete", args=[template.pk])).status_code == 403
    assert ActivityTemplate.objects.filter(pk=template.pk).exists()


def test_another_stores_template_and_a_shared_one_are_404(manager_client, store_b, default_templates):
    theirs = _store_template(store_b)
    shared = ActivityTemplate.objects.get(name="Content post")
    for template in (theirs, shared):
        assert manager_client.get(reverse("campaigns:activity_template_edit", args=[template.pk])).status_code == 404
        assert manager_client.post(
            reverse("campaigns:activity_template_delete", args=[template.pk])).status_code == 404
    assert "Our weekend sale" not in manager_client.get(reverse("campaigns:activity_templates")).content.decode()
    assert ActivityTemplate.objects.filter(pk__in=[theirs.pk, shared.pk]).count() == 2


def test_a_manager_of_another_store_cannot_save_our_activity_as_template(client, store_b, weekend_sale):
    other = UserFactory(username="mgr-b")
    MembershipFactory(user=other, store=store_b, role="manager")
    client.force_login(other)
    assert client.post(reverse("campaigns:activity_save_template", args=[weekend_sale.pk]),
                       {"name": "Copied"}).status_code == 404


def test_each_step_input_sits_under_its_own_heading_and_is_named_by_it(manager_client, store_a):
    # The headings read "Order, Step, …" over inputs whose first was the step's title and whose order came last;
    # no input had a label a screen reader could read.
    import re

    template = _store_template(store_a, steps=("Book the banner", "Check stock"))
    page = manager_client.get(reverse("campaigns:activity_template_edit", args=[template.pk])).content.decode()
    table = page[page.index('<table id="steps">'):page.index("</table>")]
    headings = re.findall(r"<th>([^<]+)</th>", table)
    first_row = table.split("</tr>")[1]
    named = re.findall(r'aria-label="([^"]+), row 1"', first_row)
    assert headings[:2] == ["Step", "Link"] and headings[-2:] == ["Order", "Remove"]
    assert named == headings
    assert 'value="Book the banner"' in first_row
