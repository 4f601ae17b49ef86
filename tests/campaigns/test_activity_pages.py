"""Activity pages: create from a template (checklist copied), progress, calendar, desk, and tenancy."""

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict
from django.urls import reverse

from campaigns.desk import open_items
from campaigns.models import Activity, ActivityTemplate, ChecklistItem, Plan
from tests.factories import MembershipFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON_SHANGHAI = datetime(2026, 11, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BEFORE_DOUBLE_11_SIGNUP = datetime(2026, 10, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _post_from_template(client, template, store, **extra):
    data = {"store": store.pk, "name": "Double 11 at Store A", "start_date": "2026-11-11", "end_date": "2026-11-13",
            "signup_deadline": "2026-11-01", "budget": "500", "goal_gmv": "20000", "goal_orders": "300",
            "d-event": "double_11", "d-signup_status": "not_started", "d-requirements": "15% off, 500 units"}
    data.update(extra)
    return client.post(reverse("campaigns:activity_new") + f"?template={template.pk}", data)


@time_machine.travel(BEFORE_DOUBLE_11_SIGNUP)
def test_creating_from_a_template_copies_its_steps_into_the_checklist(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Double 11 sign-up")
    response = _post_from_template(client_a, template, store_a)
    activity = Activity.objects.get(name="Double 11 at Store A")
    assert response.status_code == 302 and response.url == activity.get_absolute_url()
    steps = list(template.steps.values_list("title", "link", "resource", "data_to_watch"))
    assert list(activity.checklist.values_list("title", "link", "resource", "data_to_watch")) == steps
    banners = activity.checklist.get(title="Prepare banners and the landing page")
    assert banners.due_date == date(2026, 11, 4)  # 7 days before 11 November
    assert activity.details == {"event": "double_11", "signup_status": "not_started",
                                "requirements": "15% off, 500 units"}
    assert activity.template == template and activity.owner.username == "op-a"
    assert activity.progress == 0


@time_machine.travel(BEFORE_DOUBLE_11_SIGNUP)
def test_ticking_checklist_items_moves_progress(client_a, store_a, default_templates):
    _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a)
    activity = Activity.objects.get()
    items = list(activity.checklist.all())
    for item in items[:2]:
        client_a.post(reverse("campaigns:checklist_toggle", args=[activity.pk, item.pk]), {"done": "1"})
    assert activity.progress == round(100 * 2 / len(items))
    page = client_a.get(activity.get_absolute_url()).content.decode()
    assert f'data-progress="{activity.progress}"' in page
    client_a.post(reverse("campaigns:checklist_toggle", args=[activity.pk, items[0].pk]), {"done": "0"})
    assert activity.progress == round(100 / len(items))


def test_a_step_marked_done_again_keeps_who_ticked_it_first_and_when(client_a, store_a, make_activity):
    activity = make_activity()
    item = activity.checklist.create(position=1, title="Prepare banners")
    colleague = UserFactory(username="op-a2")
    MembershipFactory(user=colleague, store=store_a)
    url = reverse("campaigns:checklist_toggle", args=[activity.pk, item.pk])
    first = datetime(2026, 11, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    with time_machine.travel(first, tick=False):
        client_a.post(url, {"done": "1"})
    client_a.force_login(colleague)
    with time_machine.travel(datetime(2026, 11, 12, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        client_a.post(url, {"done": "1"})

    item.refresh_from_db()
    assert item.done_at == first and item.done_by.username == "op-a"


def test_bad_details_are_named_and_nothing_is_created(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Full-reduction weekend")
    response = client_a.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store_a.pk, "name": "Weekend", "start_date": "2026-11-14", "end_date": "2026-11-15", "budget": "0",
        "d-mechanism": "threshold", "d-threshold": "199"})
    assert response.status_code == 200
    assert "Required for this kind of promotion." in response.content.decode()
    assert not Activity.objects.exists()


def test_products_of_another_store_are_refused(client_a, store_a, store_b):
    foreign = ProductFactory(store=store_b)
    response = client_a.post(reverse("campaigns:activity_new") + "?kind=content", {
        "store": store_a.pk, "name": "Post", "start_date": "2026-11-14", "end_date": "2026-11-14", "budget": "0",
        "products": foreign.sku, "d-channel": "weibo", "d-publish_at": "2026-11-14T20:00"})
    assert response.status_code == 200 and not Activity.objects.exists()
    assert response.context["form"].errors["products"] == [
        f"No product of Store A has the SKU or title “{foreign.sku}”."]


def test_an_activitys_products_are_typed_one_a_line_by_sku_or_title(client_a, store_a, make_activity):
    kettle = ProductFactory(store=store_a, sku="K-1", title="Glass kettle")
    cups = ProductFactory(store=store_a, sku="C-6", title="Six cups")
    activity = make_activity()
    edit = reverse("campaigns:activity_edit", args=[activity.pk])
    data = {"name": activity.name, "start_date": "2026-11-20", "end_date": "2026-11-22", "budget": "0",
            "products": "K-1\n six CUPS \n\nK-1", "d-mechanism": "discount", "d-discount_percent": "10"}
    assert client_a.post(edit, data).status_code == 302
    assert list(activity.products.order_by("sku")) == [cups, kettle]
    assert "\nK-1 · Glass kettle\nC-6 · Six cups</textarea>" in client_a.get(edit).content.decode()  # by title


def test_status_buttons_follow_the_flow(client_a, make_activity):
    activity = make_activity()
    client_a.post(reverse("campaigns:activity_status", args=[activity.pk]), {"status": "done"})
    activity.refresh_from_db()
    assert activity.status == "idea"
    client_a.post(reverse("campaigns:activity_status", args=[activity.pk]), {"status": "planned"})
    activity.refresh_from_db()
    assert activity.status == "planned"


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_activity_dates_read_like_the_rest_of_the_desk(client_a, make_activity):
    # "Fri 20 Nov" as the texts, violations and anomaly pages write them, not "Nov. 20, 2026" nor "2026-11-20".
    activity = make_activity(kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                             signup_deadline=date(2026, 11, 3))
    ChecklistItem.objects.create(activity=activity, position=1, title="Book the banner", due_date=date(2026, 11, 18))
    listing = client_a.get(reverse("campaigns:activities")).content.decode()
    assert "Fri 20 – Sun 22 Nov" in listing and "Tue 3 Nov" in listing
    detail = client_a.get(activity.get_absolute_url()).content.decode()
    assert "Fri 20 – Sun 22 Nov (3 days)" in detail and "due Wed 18 Nov" in detail
    assert "Nov. 20, 2026" not in listing + detail


def test_a_platform_events_page_spells_sign_up_one_way(client_a, make_activity):
    activity = make_activity(kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                             signup_deadline=date(2026, 11, 3))
    detail = client_a.get(activity.get_absolute_url()).content.decode()
    assert "Sign-up deadline" in detail and "Sign-up status" in detail and "Signup" not in detail


def test_calendar_shows_activities_and_deadlines_of_my_stores_only(client_a, make_activity, store_b):
    mine = make_activity(name="Mine", kind="platform_event", details={"event": "618", "signup_status": "submitted"},
                         start_date=date(2026, 11, 11), end_date=date(2026, 11, 12), signup_deadline=date(2026, 11, 3))
    make_activity(store=store_b, name="Theirs", start_date=date(2026, 11, 11), end_date=date(2026, 11, 12))
    page = client_a.get(reverse("campaigns:calendar"), {"date": "2026-11-05"}).content.decode()
    assert page.count(f'href="{mine.get_absolute_url()}"') == 3  # two days plus the deadline
    assert "sign up: Mine" in page and "Theirs" not in page
    week = client_a.get(reverse("campaigns:calendar"), {"date": "2026-11-12", "view": "week"}).content.decode()
    assert "Week of 9 Nov 2026" in week and "Week of 09" not in week  # a day as every page writes it
    assert week.count(f'href="{mine.get_absolute_url()}"') == 2


def test_another_stores_activity_is_a_404(client_a, make_activity, store_b):
    theirs = make_activity(store=store_b, kind="gift", details={"gift_type": "lottery", "gift_item": "Mug",
                                                                "prize_count": 1})
    for name in ["activity_detail", "activity_edit", "activity_review"]:
        assert client_a.get(reverse(f"campaigns:{name}", args=[theirs.pk])).status_code == 404
    assert client_a.post(reverse("campaigns:activity_status", args=[theirs.pk]), {"status": "planned"}).status_code \
        == 404
    assert client_a.post(reverse("campaigns:lottery_draw", args=[theirs.pk]), {}).status_code == 404
    assert "Weekend 10% off" not in client_a.get(reverse("campaigns:activities")).content.decode()


def test_a_template_id_that_is_not_a_number_is_a_404_not_a_server_error(client_a):
    assert client_a.get(reverse("campaigns:activity_new") + "?template=abc").status_code == 404


def test_someone_elses_template_is_a_404(client_a, store_b):
    private = ActivityTemplate.objects.create(store=store_b, name="B only", kind="content")
    assert client_a.get(reverse("campaigns:activity_new"), {"template": private.pk}).status_code == 404


@time_machine.travel(NOON_SHANGHAI, tick=False)
def test_desk_warns_of_signup_deadlines_and_starts_within_a_week(store_a, operator_a, make_activity):
    make_activity(name="D11", kind="platform_event", details={"event": "double_11", "signup_status": "not_started"},
                  start_date=date(2026, 11, 20), end_date=date(2026, 11, 21), signup_deadline=date(2026, 11, 15))
    make_activity(name="Done sign-up", kind="platform_event", details={"event": "618", "signup_status": "approved"},
                  start_date=date(2026, 11, 20), end_date=date(2026, 11, 21), signup_deadline=date(2026, 11, 12))
    make_activity(name="Starts soon", start_date=date(2026, 11, 16), end_date=date(2026, 11, 17))
    make_activity(name="Too far", start_date=date(2026, 11, 30), end_date=date(2026, 12, 1))
    items = {i.label: i for i in open_items(store_a, operator_a)}
    deadline = items["Event sign-up deadlines (first in 5 days)"]
    assert deadline.count == 1 and deadline.severity == "warning"
    assert items["Activities starting within 7 days"].count == 1


def test_desk_deadline_is_danger_two_days_ahead(store_a, operator_a, make_activity):
    with time_machine.travel(NOON_SHANGHAI, tick=False):
        make_activity(name="D11", kind="platform_event", details={"event": "double_11", "signup_status": "not_started"},
                      start_date=date(2026, 11, 20), end_date=date(2026, 11, 21), signup_deadline=date(2026, 11, 12))
        [item] = [i for i in open_items(store_a, operator_a) if "sign-up" in i.label]
    assert item.severity == "danger" and "in 2 days" in item.label


def test_owner_must_belong_to_the_store(client_a, store_a, store_b):
    outsider = MembershipFactory(store=store_b, user=UserFactory(username="op-b")).user
    response = client_a.post(reverse("campaigns:activity_new") + "?kind=content", {
        "store": store_a.pk, "name": "Post", "start_date": "2026-11-14", "end_date": "2026-11-14", "budget": "0",
        "owner": outsider.pk, "d-channel": "weibo", "d-publish_at": "2026-11-14T20:00"})
    assert response.status_code == 200 and not Activity.objects.exists()


def test_every_page_renders(client_a, make_activity, default_templates):
    activity = make_activity()
    for url in [reverse("campaigns:activities"), reverse("campaigns:activity_new"),
                reverse("campaigns:activity_new") + "?kind=gift", reverse("campaigns:activity_templates"),
                reverse("campaigns:calendar"), reverse("campaigns:related_sales"), reverse("campaigns:plans"),
                reverse("campaigns:plan_new"), reverse("campaigns:playbooks"),
                reverse("campaigns:playbook", args=["full-reduction"]), activity.get_absolute_url(),
                reverse("campaigns:activity_edit", args=[activity.pk]),
                reverse("campaigns:activity_review", args=[activity.pk])]:
        assert client_a.get(url).status_code == 200, url


def _names_listed(response):
    return re.findall(r'<a href="/campaigns/activities/\d+/">([^<]+)</a>', response.content.decode())


def test_the_activities_list_counts_with_thousands_separated(client_a, store_a):
    day = date(2026, 11, 20)
    Activity.objects.bulk_create(Activity(store=store_a, name=f"Sale {n}", kind="store_promotion", start_date=day,
                                          end_date=day, details={"mechanism": "discount", "discount_percent": "10"})
                                 for n in range(1001))
    assert "1,001 activities · page 1 of 21" in client_a.get(reverse("campaigns:activities")).content.decode()


def test_a_long_history_of_activities_is_paged_latest_first_and_the_filters_stay_on_the_links(
        client_a, store_a, make_activity):
    first = date(2021, 1, 1)
    for n in range(60):  # "Sale 00" starts first, "Sale 59" last
        day = first + timedelta(days=30 * n)
        make_activity(name=f"Sale {n:02}", start_date=day, end_date=day)
    make_activity(name="A content post", kind="content", start_date=date(2026, 1, 1), end_date=date(2026, 1, 1),
                  details={"channel": "weibo", "publish_at": "2026-01-01T20:00"})
    filters = {"store": store_a.slug, "kind": "store_promotion"}

    page_1 = client_a.get(reverse("campaigns:activities"), filters)
    assert _names_listed(page_1) == [f"Sale {n:02}" for n in range(59, 9, -1)]
    assert "60 activities · page 1 of 2" in page_1.content.decode()
    [next_link] = re.findall(r'<a href="([^"]+)" rel="next">', page_1.content.decode())
    assert QueryDict(html.unescape(next_link).lstrip("?")).dict() == {**filters, "page": "2"}

    page_2 = client_a.get(reverse("campaigns:activities") + html.unescape(next_link))
    assert _names_listed(page_2) == [f"Sale {n:02}" for n in range(9, -1, -1)]
    assert 'rel="next"' not in page_2.content.decode()


@pytest.mark.parametrize("page", ["abc", "0", "99"])
def test_a_page_number_no_list_has_shows_a_page_not_an_error(client_a, make_activity, page):
    make_activity()
    response = client_a.get(reverse("campaigns:activities"), {"page": page})
    assert response.status_code == 200 and _names_listed(response) == ["Weekend 10% off"]


def test_other_stores_checklist_and_suggestions_are_404(client_a, make_activity, store_b, default_templates):
    theirs = make_activity(store=store_b, template=ActivityTemplate.objects.first())
    from campaigns.activity_templates import copy_checklist

    copy_checklist(theirs, theirs.template)
    item = theirs.checklist.first()
    assert client_a.post(reverse("campaigns:checklist_toggle", args=[theirs.pk, item.pk]), {"done": "1"}) \
        .status_code == 404
    item.refresh_from_db()
    assert item.done_at is None
    assert client_a.get(reverse("campaigns:related_sales"), {"store": store_b.slug}).status_code == 404


def test_lottery_activity_offers_a_draw_form(client_a, make_activity):
    lottery = make_activity(kind="gift", details={"gift_type": "lottery", "gift_item": "Mug", "prize_count": 2})
    page = client_a.get(lottery.get_absolute_url()).content.decode()
    assert "Draw winners (once)" in page and 'value="2"' in page


def test_soon_filter_lists_what_the_desk_counts(client_a, store_a, make_activity):
    with time_machine.travel(NOON_SHANGHAI, tick=False):
        make_activity(name="Starts soon", start_date=date(2026, 11, 16), end_date=date(2026, 11, 17))
        make_activity(name="Too far", start_date=date(2026, 11, 30), end_date=date(2026, 12, 1))
        [item] = [i for i in open_items(store_a, None) if i.label.startswith("Activities starting")]
        page = client_a.get(item.url).content.decode()
    assert "Starts soon" in page and "Too far" not in page


def test_steps_can_be_added_by_hand(client_a, make_activity, store_b):
    activity = make_activity()
    url = reverse("campaigns:checklist_new", args=[activity.pk])
    client_a.post(url, {"title": "Order banners", "data_to_watch": "CTR"})
    client_a.post(url, {"title": "Brief support team"})
    assert list(activity.checklist.values_list("position", "title")) == [(1, "Order banners"),
                                                                        (2, "Brief support team")]
    assert activity.progress == 0
    theirs = make_activity(store=store_b)
    assert client_a.post(reverse("campaigns:checklist_new", args=[theirs.pk]), {"title": "x"}).status_code == 404


def test_a_double_clicked_add_step_adds_it_once_and_says_why(client_a, make_activity):
    activity = make_activity()
    url = reverse("campaigns:checklist_new", args=[activity.pk])
    step = {"title": "Order banners", "data_to_watch": "CTR", "due_date": "2026-11-18"}
    client_a.post(url, step)
    page = client_a.post(url, step, follow=True)
    assert "“Order banners” is already on the checklist and not done; it was not added again." in page.content.decode()
    assert list(activity.checklist.values_list("position", "title")) == [(1, "Order banners")]


def test_a_step_like_one_already_done_or_with_another_due_day_is_added(client_a, make_activity, operator_a):
    activity = make_activity()
    url = reverse("campaigns:checklist_new", args=[activity.pk])
    client_a.post(url, {"title": "Check stock", "due_date": "2026-11-18"})
    client_a.post(url, {"title": "Check stock", "due_date": "2026-11-21"})  # checked again later: a second step
    activity.checklist.filter(position=1).update(done_at=NOON_SHANGHAI, done_by=operator_a)
    client_a.post(url, {"title": "Check stock", "due_date": "2026-11-18"})  # the first was done: again is new work
    assert activity.checklist.count() == 3


@time_machine.travel(BEFORE_DOUBLE_11_SIGNUP)
def test_negative_goal_gmv_is_refused_in_plain_words(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Double 11 sign-up")
    response = _post_from_template(client_a, template, store_a, goal_gmv="-5")
    body = response.content.decode()
    assert response.status_code == 200 and not Activity.objects.exists()
    assert body.count("Goal GMV cannot be negative.") == 1  # beside the field, not again at the top
    assert "is violated" not in body


def test_every_campaigns_check_constraint_explains_itself_in_words():
    from django.apps import apps
    from django.db.models import CheckConstraint

    for model in apps.get_app_config("campaigns").get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                assert constraint.violation_error_message != constraint.default_violation_error_message, \
                    f"{model.__name__}: {constraint.name}"


# 01:00 on 10 November in Shanghai is still 9 November in UTC: the store's day decides.
@time_machine.travel(datetime(2026, 11, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_a_new_event_whose_signup_deadline_has_passed_is_refused(client_a, store_a, default_templates):
    template = ActivityTemplate.objects.get(name="Double 11 sign-up")
    response = _post_from_template(client_a, template, store_a, signup_deadline="2026-11-09")
    assert response.status_code == 200 and not Activity.objects.exists()
    assert "The sign-up deadline 2026-11-09 has already passed" in response.content.decode()
    response = _post_from_template(client_a, template, store_a, signup_deadline="2026-11-10")
    assert response.status_code == 302


def test_checklist_marks_steps_past_due_and_not_done_as_overdue(client_a, store_a, default_templates):
    with time_machine.travel(BEFORE_DOUBLE_11_SIGNUP):
        _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a)
    activity = Activity.objects.get()
    first, second = activity.checklist.order_by("position")[:2]  # due 20 October, the day it was planned
    client_a.post(reverse("campaigns:checklist_toggle", args=[activity.pk, second.pk]), {"done": "1"})
    with time_machine.travel(datetime(2026, 10, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        page = client_a.get(activity.get_absolute_url()).content.decode()
    assert page.count('<span class="badge danger">overdue</span>') == 1
    assert 'due Tue 20 Oct <span class="badge danger">overdue</span>' in page
    with time_machine.travel(datetime(2026, 11, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        page = client_a.get(activity.get_absolute_url()).content.decode()
    assert "passed, not signed up" in page


def test_a_finished_activitys_steps_left_undone_read_not_done_not_overdue(client_a, store_a, default_templates):
    # Weeks after the event, red "overdue" on each step nobody ticked asked for work that can no longer be done.
    with time_machine.travel(BEFORE_DOUBLE_11_SIGNUP):
        _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a)
    activity = Activity.objects.get()
    Activity.objects.filter(pk=activity.pk).update(status="done")
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        page = client_a.get(activity.get_absolute_url()).content.decode()
    assert "overdue" not in page
    assert page.count('<span class="badge">not done</span>') == activity.checklist.filter(done_at=None).count() > 0


@pytest.mark.parametrize("now, start, end", [
    (datetime(2026, 10, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), "2026-11-11", "2026-11-13"),
    # 26 November: this year's Double 11 is over, the form offers next year's, not "in two weeks" (10 December)
    (datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), "2027-11-11", "2027-11-13"),
])
def test_double_11_template_offers_the_next_11_november(client_a, default_templates, now, start, end):
    template = ActivityTemplate.objects.get(name="Double 11 sign-up")
    with time_machine.travel(now):
        page = client_a.get(reverse("campaigns:activity_new"), {"template": template.pk}).content.decode()
    assert f'name="start_date" value="{start}"' in page and f'name="end_date" value="{end}"' in page


def test_activity_page_shows_money_and_goals_with_thousands_separators(client_a, make_activity):
    activity = make_activity(budget=Decimal("5000"), goal_gmv=Decimal("200000"), goal_orders=1200)
    page = client_a.get(activity.get_absolute_url()).content.decode()
    assert "5,000.00 CNY" in page and "GMV 200,000.00 CNY" in page and "1,200 paid orders" in page
    assert "5000.00" not in page and "200000.00" not in page


# 22 October: Double 11 is 20 days ahead, so the template's 30, 25 and 21 days before it have gone by.
@time_machine.travel(datetime(2026, 10, 22, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_an_event_planned_in_time_has_no_overdue_step_and_its_signup_step_is_due_on_the_deadline(
        client_a, store_a, default_templates):
    _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a,
                        signup_deadline="2026-10-27")
    activity = Activity.objects.get()
    due = dict(activity.checklist.values_list("title", "due_date"))
    assert due["Submit the sign-up"] == date(2026, 10, 27)
    assert due["Read the event's entry rules"] == due["Choose products and check margins after the event discount"] \
        == date(2026, 10, 22)
    assert min(due.values()) == date(2026, 10, 22)
    page = client_a.get(activity.get_absolute_url()).content.decode()
    assert "Sign-up deadline</th><td>Tue 27 Oct" in page and "due Tue 27 Oct" in page
    assert "overdue" not in page


@time_machine.travel(datetime(2026, 9, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_an_early_signup_deadline_brings_the_steps_before_the_signup_forward(client_a, store_a, default_templates):
    _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a,
                        signup_deadline="2026-09-20")
    due = dict(Activity.objects.get().checklist.values_list("title", "due_date"))
    assert due["Read the event's entry rules"] == due["Submit the sign-up"] == date(2026, 9, 20)
    assert due["Prepare banners and the landing page"] == date(2026, 11, 4)  # after the sign-up: its own lead time


@time_machine.travel(datetime(2026, 9, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_a_moved_signup_deadline_moves_the_signup_step_not_yet_done(client_a, store_a, default_templates):
    _post_from_template(client_a, ActivityTemplate.objects.get(name="Double 11 sign-up"), store_a,
                        signup_deadline="2026-10-27")
    activity = Activity.objects.get()
    data = {"store": store_a.pk, "name": activity.name, "start_date": "2026-11-11", "end_date": "2026-11-13",
            "signup_deadline": "2026-10-30", "budget": "500", "goal_gmv": "20000", "goal_orders": "300",
            "d-event": "double_11", "d-signup_status": "not_started", "d-requirements": "15% off, 500 units"}
    response = client_a.post(reverse("campaigns:activity_edit", args=[activity.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    signup = activity.checklist.get(title="Submit the sign-up")
    assert signup.due_date == date(2026, 10, 30)
    # Once ticked off, the step keeps the date it was done against.
    signup.done_at = datetime(2026, 9, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    signup.save()
    response = client_a.post(reverse("campaigns:activity_edit", args=[activity.pk]),
                             {**data, "signup_deadline": "2026-10-20"})
    assert response.status_code == 302
    activity.refresh_from_db()
    signup.refresh_from_db()
    assert (activity.signup_deadline, signup.due_date) == (date(2026, 10, 20), date(2026, 10, 30))


@time_machine.travel(NOON_SHANGHAI)
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_no_plan_means_is_refused_beside_the_field_and_the_form_keeps_what_was_typed(
        client_a, store_a, default_templates, day):
    template = ActivityTemplate.objects.get(name="Bundle on hero product")  # its last step is 7 days after start
    response = client_a.post(reverse("campaigns:activity_new") + f"?template={template.pk}", {
        "store": store_a.pk, "name": "Hero bundle", "start_date": day, "end_date": day, "budget": "300",
        "d-mode": "bundle"})

    assert response.status_code == 200 and not Activity.objects.exists()
    form = response.context["form"]
    assert form.errors["start_date"] == [f"{day} is more than 10 years from today; "
                                         "pick a day from 2016-11-10 to 2036-11-10."]
    assert form["name"].value() == "Hero bundle" and form["budget"].value() == "300"


@time_machine.travel(NOON_SHANGHAI)
def test_a_lottery_window_no_plan_means_is_refused_with_a_message(client_a, make_activity):
    lottery = make_activity(kind="gift", details={"gift_type": "lottery", "gift_item": "Tea set", "prize_count": 3})
    response = client_a.post(reverse("campaigns:lottery_draw", args=[lottery.pk]), {
        "source": "orders", "window_start": "9999-12-31", "window_end": "9999-12-31", "winner_count": "1"},
        follow=True)

    assert response.status_code == 200
    assert "9999-12-31 is more than 10 years from today" in response.content.decode()


@time_machine.travel(NOON_SHANGHAI)
def test_the_calendar_asked_for_a_day_no_plan_means_shows_this_month(client_a):
    for view in ("month", "week"):
        response = client_a.get(reverse("campaigns:calendar") + f"?view={view}&date=9999-12-31")
        assert response.status_code == 200
        assert response.context["anchor"] == date(2026, 11, 10)


@time_machine.travel(datetime(2026, 12, 1, 2, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)  # still 30 Nov in UTC
def test_the_calendar_opens_on_the_stores_own_today_not_utcs(client_a):
    response = client_a.get(reverse("campaigns:calendar"))

    assert response.context["title"] == "December 2026"
    today = [d["date"] for week in response.context["weeks"] for d in week if d["today"]]
    assert today == [date(2026, 12, 1)]


def test_templates_page_says_when_each_step_is_due_in_words(client_a, default_templates):
    body = client_a.get(reverse("campaigns:activity_templates")).content.decode()

    assert "<td>Watch the hero product&#x27;s conversion</td>" in body
    assert "<td>7 days after start</td>" in body and "<td>1 day after start</td>" in body
    assert "<td>1 day before start</td>" in body and "<td>on the first day</td>" in body
    assert "<td>on the sign-up deadline</td>" in body
    assert "<td class=\"num\">-" not in body


def test_a_deactivated_member_is_not_offered_as_activity_or_task_owner(client_a, store_a, manager_a, make_activity):
    manager_a.is_active = False
    manager_a.save()
    new_form = client_a.get(reverse("campaigns:activity_new") + "?kind=content").context["form"]
    assert list(new_form.fields["owner"].queryset.values_list("username", flat=True)) == ["op-a"]
    response = client_a.post(reverse("campaigns:activity_new") + "?kind=content", {
        "store": store_a.pk, "name": "Post", "start_date": "2026-11-14", "end_date": "2026-11-14", "budget": "0",
        "owner": manager_a.pk, "d-channel": "weibo", "d-publish_at": "2026-11-14T20:00"})
    assert response.status_code == 200 and not Activity.objects.exists()
    plan = Plan.objects.create(store=store_a, level="year", period_start=date(2026, 1, 1), title="2026")
    task_form = client_a.get(plan.get_absolute_url()).context["task_form"]
    assert list(task_form.fields["owner"].queryset.values_list("username", flat=True)) == ["op-a"]
    client_a.post(plan.get_absolute_url(), {"task-title": "Sign up", "task-owner": manager_a.pk})
    assert not plan.tasks.exists()


def test_an_activity_whose_owner_was_deactivated_still_saves_with_that_owner(client_a, store_a, manager_a,
                                                                              make_activity):
    activity = make_activity(owner=manager_a)
    manager_a.is_active = False
    manager_a.save()
    form = client_a.get(reverse("campaigns:activity_edit", args=[activity.pk])).context["form"]
    assert set(form.fields["owner"].queryset.values_list("username", flat=True)) == {"op-a", "mgr-a"}
    response = client_a.post(reverse("campaigns:activity_edit", args=[activity.pk]), {
        "store": store_a.pk, "name": "Weekend 15% off", "start_date": "2026-11-20", "end_date": "2026-11-22",
        "budget": "0", "owner": manager_a.pk, "d-mechanism": "discount", "d-discount_percent": "15"})
    assert response.status_code == 302, response.content.decode()[:2000]
    activity.refresh_from_db()
    assert (activity.name, activity.owner) == ("Weekend 15% off", manager_a)


def test_activity_details_write_money_with_its_currency(client_a, make_activity):
    """'Threshold 199' / 'Bundle price 99' said neither the currency nor the cents that Budget beside them says."""
    promo = make_activity(details={"mechanism": "threshold", "threshold": "199", "reduction": "30"})
    bundle = make_activity(kind="related_sales", details={"mode": "bundle", "bundle_price": "1299.5"})
    promo_page = client_a.get(promo.get_absolute_url()).content.decode()
    assert "<th>Threshold</th><td>199.00 CNY</td>" in promo_page
    assert "<th>Reduction</th><td>30.00 CNY</td>" in promo_page
    assert "<th>Bundle price</th><td>1,299.50 CNY</td>" in client_a.get(bundle.get_absolute_url()).content.decode()


def test_templates_page_says_1_day_and_opens_a_steps_link(client_a, default_templates):
    body = client_a.get(reverse("campaigns:activity_templates")).content.decode()
    assert "Content post · 1 day ·" in body and "1 days" not in body
    assert '<a href="/metrics/daily/">/metrics/daily/</a>' in body  # a step's link in the app opens it


@time_machine.travel(NOON_SHANGHAI)
def test_the_edit_form_keeps_a_finished_activitys_days(client_a, make_activity):
    done = make_activity(status="done")

    edit = client_a.post(reverse("campaigns:activity_edit", args=[done.pk]), {
        "name": "Renamed", "start_date": "2026-11-21", "end_date": "2026-11-23", "budget": "0",
        "d-mechanism": "discount", "d-discount_percent": "10"})

    assert edit.status_code == 200
    assert "A finished (done) activity keeps its days: 2026-11-20 to 2026-11-22." in edit.content.decode()
    done.refresh_from_db()
    assert (done.name, done.start_date) == ("Weekend 10% off", date(2026, 11, 20))
