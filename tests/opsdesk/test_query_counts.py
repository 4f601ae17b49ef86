"""Pages whose number of SQL queries must not grow with the rows they show (no query per row).

Each test opens a page with some rows, adds as many again, and expects the same number of queries.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import activity_history, activity_series
from campaigns.models import (
    Activity,
    ActivityTemplate,
    AdPlanStatusChange,
    ChecklistItem,
    LaunchPlan,
    Plan,
    PlanGoal,
    PlanTask,
    Playbook,
    StoreAdBudget,
    TemplateStep,
)
from members.models import Coupon, InboundReply, MemberOrder, Message, SavedAnswer, SmsTemplate
from metrics.models import ActionItem, Anomaly
from metrics.rollup import rollup_days
from reviews.models import ContactAttempt, ProductTask
from stores.models import ImportJob, ListingVersion, Store
from tests.ads.conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory
from tests.factories import (
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
    UserFactory,
    ViolationFactory,
)
from tests.members.conftest import make_member
from tests.reviews.conftest import make_case, make_review

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    client.get(url)  # the first visit may fill caches; count the second
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


def test_product_reviews_page_does_not_query_per_review_or_listing_change(client_a, store_a):
    product = ProductFactory(store=store_a)
    url = reverse("reviews:product", args=[store_a.slug, product.pk])

    def add(n):
        for _ in range(n):
            make_review(store_a, rating=5, product=product)
            case = make_case(store_a, rating=1, body="broken", product=product)
            ProductTask.objects.create(store=store_a, product=product, case=case, text="Check the seams")
            ListingVersion.objects.create(product=product, title="New title",
                                          started_at=timezone.now() - timedelta(days=ListingVersion.objects.count()))

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


def test_store_cases_page_does_not_query_per_recent_review(client_a, store_a):
    url = reverse("reviews:store", args=[store_a.slug])
    for _ in range(4):
        make_case(store_a, rating=1, body="broken")
    few = queries(client_a, url)
    for _ in range(4):
        make_case(store_a, rating=1, body="broken")
    assert queries(client_a, url) == few


def test_member_page_does_not_query_per_order(client_a, store_a):
    member = make_member(store_a)
    url = reverse("members:detail", args=[member.pk])

    def add(n):
        for _ in range(n):
            MemberOrder.objects.create(member=member, order=OrderFactory(store=store_a))

    add(5)
    few = queries(client_a, url)
    add(5)
    assert queries(client_a, url) == few


@pytest.mark.parametrize("url", [reverse("campaigns:ads"), reverse("desk")])
def test_ads_page_and_desk_do_not_query_per_active_plan(client_a, store_a, url):
    def add(n):
        for _ in range(n):
            plan = AdPlanFactory(store=store_a)
            # Fed yesterday, nothing today: the pacing check looks back past midnight for its last rise.
            SnapshotFactory(plan=plan, ts=timezone.now() - timedelta(hours=20), spend_today=Decimal("5.00"))
            # Paused for two days and resumed: its status history is read for its month and its quiet spell.
            for days_ago, status in ((40, "active"), (3, "paused"), (1, "active")):
                AdPlanStatusChange.objects.create(plan=plan, status=status, source="form",
                                                  at=timezone.now() - timedelta(days=days_ago))

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


def test_ad_plan_page_does_not_query_per_status_change(client_a, operator_a, store_a):
    plan = AdPlanFactory(store=store_a)

    def add(n):
        for i in range(n):
            AdPlanStatusChange.objects.create(plan=plan, status="paused" if i % 2 else "active", source="form",
                                              by=operator_a, at=timezone.now() - timedelta(days=n - i))

    add(2)
    url = reverse("campaigns:ad_detail", args=[plan.pk])
    few = queries(client_a, url)
    add(6)
    assert queries(client_a, url) == few


def test_conversation_page_does_not_query_per_text_or_reply(client_a, operator_a, store_a):
    member = make_member(store_a)
    template = SmsTemplate.objects.create(store=store_a, name="Thanks", flow="campaign", body="Hi")
    SavedAnswer.objects.create(store=store_a, title="Parcel", body="Hi {first_name}, {store} sent it today.")
    url = reverse("members:conversation", args=[member.pk])

    def add(n):
        for _ in range(n):
            i = Message.objects.count()
            Message.objects.create(store=store_a, member=member, flow="campaign", occasion=f"campaign:{i}", body="Hi",
                                   template=template, scheduled_for=timezone.now(), status="failed", error_code="30006")
            received = InboundReply.objects.create(store=store_a, member=member, kind="help", body="HELP",
                                                   provider_sid=f"SM{i}", received_at=timezone.now(),
                                                   answered_at=timezone.now(), answered_by=operator_a)
            Message.objects.create(store=store_a, member=member, flow="text_back", reply=received, body="On its way",
                                   occasion=f"text_back:reply {received.pk} answer 1", scheduled_for=timezone.now())

    add(3)
    few = queries(client_a, url)
    texts = queries(client_a, reverse("members:texts"))
    add(3)
    assert queries(client_a, url) == few
    assert queries(client_a, reverse("members:texts")) == texts  # its replies' text-back forms too
    assert client_a.get(url).content.decode().count(f"Hi Ada, {store_a.name} sent it today.") == 6  # filled each


def test_case_page_does_not_query_per_text_or_reply(client_a, operator_a, store_a):
    member = make_member(store_a)
    case = make_case(store_a, rating=1, body="broken", member=member)
    SavedAnswer.objects.create(store=store_a, title="Parcel", body="Hi {first_name}, {store} sent it today.")
    url = case.get_absolute_url()

    def add(n):
        for _ in range(n):
            i = Message.objects.count()
            at = timezone.now() - timedelta(hours=10 - i)
            text = Message.objects.create(store=store_a, member=member, flow="review_care", body="Sorry",
                                          occasion=f"review_care:case {case.pk} text {i + 1}", scheduled_for=at,
                                          sent_at=at, status="failed" if i % 2 else "delivered",
                                          error_code="30006" if i % 2 else "")
            ContactAttempt.objects.create(case=case, by=operator_a, at=at, outcome="texted", message=text)
            for minutes in (5, 10):
                reply = InboundReply.objects.create(store=store_a, member=member, kind="message", body="Call me",
                                                    provider_sid=f"SM{i}-{minutes}",
                                                    received_at=at + timedelta(minutes=minutes))
            # The operator texted the last reply back from the case (answered by them, its own log line).
            answered = at + timedelta(minutes=12)
            answer = Message.objects.create(store=store_a, member=member, flow="review_care", body="On it",
                                            occasion=f"review_care:case {case.pk} reply {reply.pk} answer 1",
                                            scheduled_for=answered, sent_at=answered, status="sent")
            ContactAttempt.objects.create(case=case, by=operator_a, at=answered, outcome="answered", message=answer,
                                          reply=reply)
            InboundReply.objects.filter(pk=reply.pk).update(answered_at=answered, answered_by=operator_a)

    add(2)
    few = queries(client_a, url)
    add(2)
    assert queries(client_a, url) == few
    page = client_a.get(url).content.decode()
    assert page.count("<li data-reply>") == 8 and page.count("Answered by you") == 4
    assert page.count(f"Hi Ada, {store_a.name} sent it today.") == 8  # each reply's saved answer, filled


def benefit_redeemed_by(store):
    """A benefit template and `add(n)`: n more members whose coupons of its text were redeemed by an order each."""
    template = SmsTemplate.objects.create(store=store, name="Benefit", flow="benefit", coupon_value="10% off",
                                          body="Your coupon {coupon}")

    def add(n):
        for _ in range(n):
            member, i = make_member(store), Coupon.objects.count()
            order = OrderFactory(store=store, external_id=f"redeemed-{i}")
            Message.objects.create(store=store, member=member, flow="benefit", occasion="benefit:2026-11", body="Hi",
                                   template=template, scheduled_for=timezone.now())
            Coupon.objects.create(store=store, member=member, occasion="benefit:2026-11", code=f"LIN-{i:04d}",
                                  redeemed_at=order.paid_at, redeemed_order=order)

    return template, add


def streamed(client, url) -> tuple[int, int]:
    """(queries, lines) of a streamed CSV download, the file read as it streams."""
    with CaptureQueriesContext(connection) as ctx:
        lines = b"".join(client.get(url).streaming_content).count(b"\n")
    return len(ctx), lines


def test_campaign_page_does_not_query_per_redeeming_order(client_a, store_a):
    template, add = benefit_redeemed_by(store_a)
    url = reverse("members:campaign", args=[template.pk])

    add(3)
    few = queries(client_a, url)
    add(60)  # more than the page lists
    assert queries(client_a, url) == few


def test_campaign_csv_reads_all_redeeming_orders_in_the_same_queries_however_many(client_a, store_a):
    template, add = benefit_redeemed_by(store_a)
    url = reverse("members:campaign_orders_csv", args=[template.pk])

    add(3)
    few, lines = streamed(client_a, url)
    assert lines == 1 + 3
    add(60)
    assert streamed(client_a, url) == (few, 1 + 63)


def test_members_csv_reads_every_member_in_the_same_queries_however_many(client, store_a, store_b):
    user = UserFactory(username="mgr-b-op-a")  # manages one store, operates the other: phones by either rule
    MembershipFactory(store=store_a, user=user, role="operator")
    MembershipFactory(store=store_b, user=user, role="manager")
    client.force_login(user)
    url = reverse("members:index_csv")

    def add(n):
        for _ in range(n):
            make_member(store_a)
            make_member(store_b)

    add(3)
    few, lines = streamed(client, url)
    assert lines == 1 + 6
    add(60)
    StoreFactory(slug="not-theirs")
    assert streamed(client, url) == (few, 1 + 126)


def test_activity_page_does_not_query_per_history_entry(client_a, store_a):
    today = store_a.today()
    activity = Activity.objects.create(store=store_a, name="Weekend", kind="store_promotion", start_date=today,
                                       end_date=today, details={"mechanism": "discount", "discount_percent": "10"})
    url = reverse("campaigns:activity_detail", args=[activity.pk])

    def add(n):
        for i in range(n):
            activity_history.record(activity, {"name": f"Old {i}"}, after={"name": activity.name},
                                    user=UserFactory())

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


def test_series_page_does_not_query_per_history_entry(client_a, store_a):
    today = store_a.today()
    first = Activity(store=store_a, name="Member day", kind="store_promotion", start_date=today + timedelta(days=7),
                     end_date=today + timedelta(days=7), details={"mechanism": "discount", "discount_percent": "10"})
    occurrence = activity_series.create_series(first, "weekly", today + timedelta(days=21))[0]
    series = occurrence.series
    url = reverse("campaigns:series_change", args=[occurrence.pk])

    def add(n):
        for _ in range(n):
            activity_history.record_series(series, "monthly on day 1 until 2099-12-01", series.first_day,
                                           user=UserFactory())

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


def test_template_edit_page_does_not_query_per_step(client, manager_a, store_a):
    client.force_login(manager_a)
    template = ActivityTemplate.objects.create(store=store_a, name="Our weekend sale", kind="store_promotion")
    url = reverse("campaigns:activity_template_edit", args=[template.pk])

    def add(n):
        start = template.steps.count() + 1
        TemplateStep.objects.bulk_create(TemplateStep(template=template, position=p, title=f"Step {p}")
                                         for p in range(start, start + n))

    add(3)
    few = queries(client, url)
    add(3)
    assert queries(client, url) == few


def test_desk_does_not_query_per_store(client, db):
    """A manager of a chain waits on the same few queries as a manager of three stores: every duty's items are
    read for all the stores at once, not store by store (the ad budget check alone took ~5 queries a store)."""
    manager = UserFactory(username="chain-manager")
    client.force_login(manager)
    zones = ("Asia/Shanghai", "America/Los_Angeles", "Europe/London")

    def add(n):
        for _ in range(n):
            i = Store.objects.count()
            store = StoreFactory(slug=f"chain-{i}", timezone=zones[i % len(zones)])
            MembershipFactory(store=store, user=manager, role="manager")
            today = store.today()
            ViolationFactory(store=store, status="open")
            # Paid 50 h ago: past the 48 h shipping promise, and due within 6 h where a store promises 54 h.
            paid = timezone.now() - timedelta(hours=50)
            OrderFactory(store=store, placed_at=paid, paid_at=paid)
            if i % 2:
                store.ship_within_hours = 54
                store.save(update_fields=["ship_within_hours"])
            anomaly = Anomaly.objects.create(store=store, day=today, metric="gmv", value=1, baseline=2, band_low=1.5,
                                             band_high=2.5, change=-0.5, score=-5, direction="down", explanation="x")
            ActionItem.objects.create(anomaly=anomaly, text="Check the ad plan", due_date=today - timedelta(days=1))
            Activity.objects.create(store=store, name="Double 11", kind="platform_event", status="planned",
                                    details={"event": "double11", "signup_status": "not_started"},
                                    start_date=today + timedelta(days=5), end_date=today + timedelta(days=6),
                                    signup_deadline=today + timedelta(days=1))
            Activity.objects.create(store=store, name="Done", kind="store_promotion", status="done",
                                    start_date=today - timedelta(days=9), end_date=today - timedelta(days=8))
            plan = AdPlanFactory(store=store)
            SnapshotFactory(plan=plan, ts=timezone.now() - timedelta(hours=20), spend_today=Decimal("5.00"))
            AdDailyFactory(plan=plan, date=today - timedelta(days=1), spend=Decimal("900.00"))
            StoreAdBudget.objects.create(store=store, month=today.replace(day=1), amount=Decimal("100.00"))
            member = make_member(store)
            InboundReply.objects.create(store=store, member=member, kind="help", body="HELP", provider_sid=f"SM{i}",
                                        received_at=timezone.now())
            case = make_case(store, rating=1, body="broken")
            case.assigned_to = manager
            case.save(update_fields=["assigned_to"])

    add(3)
    few = queries(client, reverse("desk"))
    add(9)
    many = queries(client, reverse("desk"))
    panels = client.get(reverse("desk")).context["panels"]
    assert len(panels) == 12
    assert all({"Open violations", "New anomalies", "Anomaly action items overdue", "Finished activities to review",
                "Replies from members waiting for an answer", "Your open bad-review cases",
                "Event sign-up deadlines (first in 1 day)"} <= {item.label for item in panel["items"]}
               and ("Orders due to ship within 6 h" if panel["store"].ship_within_hours == 54
                    else "Orders past the 48 h shipping promise") in {item.label for item in panel["items"]}
               and any(item.label.startswith("Ad budget of") for item in panel["items"]) for panel in panels)
    assert many == few


def chain_store(manager) -> Store:
    """One more store of `manager`'s, with a little of every duty's data: orders rolled up, a violation and an
    import job, an anomaly with its action item, activities, plans, a playbook, an ad plan fed today with a
    budget, a launch, members with texts and a reply, reviews with a case and a product task."""
    zones = ("Asia/Shanghai", "America/Los_Angeles", "Europe/London")
    i = Store.objects.count()
    store = StoreFactory(slug=f"chain-{i}", timezone=zones[i % len(zones)])
    MembershipFactory(store=store, user=manager, role="manager")
    now, today = timezone.now(), store.today()
    product = ProductFactory(store=store)
    orders = [OrderFactory(store=store, placed_at=now - timedelta(days=d, minutes=5)) for d in range(3)]
    for order in orders:
        OrderLineFactory(order=order, product=product, sku=product.sku)
    rollup_days([(store, today - timedelta(days=d)) for d in (1, 2)])
    ViolationFactory(store=store, status="open")
    ImportJob.objects.create(store=store, kind="orders", name="orders.csv", status=ImportJob.Status.DONE)
    anomaly = Anomaly.objects.create(store=store, day=today - timedelta(days=1), metric="gmv", value=1, baseline=2,
                                     band_low=1.5, band_high=2.5, change=-0.5, score=-5, direction="down",
                                     explanation="x")
    ActionItem.objects.create(anomaly=anomaly, text="Check the ad plan", due_date=today - timedelta(days=1))
    event = Activity.objects.create(store=store, name="Double 11", kind="platform_event", status="planned",
                                    details={"event": "double11", "signup_status": "not_started"},
                                    start_date=today + timedelta(days=5), end_date=today + timedelta(days=6),
                                    signup_deadline=today + timedelta(days=1))
    ChecklistItem.objects.create(activity=event, position=0, title="Sign up")
    Activity.objects.create(store=store, name="Done", kind="store_promotion", status="done",
                            start_date=today - timedelta(days=9), end_date=today - timedelta(days=8))
    year = Plan.objects.create(store=store, level="year", period_start=today)
    month = Plan.objects.create(store=store, level="month", parent=year, period_start=today)
    PlanGoal.objects.create(plan=month, metric="gmv", target=Decimal("1000"))
    PlanTask.objects.create(plan=month, title="Book the photographer", due=today)
    Playbook.objects.create(store=store, slug=f"chain-{i}-own", title="Own procedure", body="Steps.")
    own = ActivityTemplate.objects.create(store=store, name="Our weekend sale", kind="store_promotion")
    TemplateStep.objects.create(template=own, position=1, title="Book the banner")  # its Edit asks for the role
    ad_plan = AdPlanFactory(store=store)
    SnapshotFactory(plan=ad_plan, ts=now - timedelta(minutes=30), spend_today=Decimal("5.00"))
    AdDailyFactory(plan=ad_plan, date=today - timedelta(days=1), spend=Decimal("900.00"))
    StoreAdBudget.objects.create(store=store, month=today.replace(day=1), amount=Decimal("100.00"))
    launch = LaunchPlan.objects.create(store=store, product=product, name="Launch", launch_date=today)
    launch.add_default_checklist()
    launch.ad_plans.add(ad_plan)
    member = make_member(store)
    MemberOrder.objects.create(member=member, order=orders[0])
    template = SmsTemplate.objects.create(store=store, name="Thanks", flow="campaign", body="Hi")
    Message.objects.create(store=store, member=member, flow="campaign", occasion="campaign:1", body="Hi",
                           template=template, scheduled_for=now, status="failed", error_code="30006")
    InboundReply.objects.create(store=store, member=member, kind="help", body="HELP", provider_sid=f"SM{i}",
                                received_at=now)
    # Offered by its reply's form, filled for the reply's member.
    SavedAnswer.objects.create(store=store, title="Parcel", body="Hi {first_name}, {store} sent it today.")
    make_review(store, rating=5, product=product)
    case = make_case(store, rating=1, body="broken", product=product)
    case.assigned_to = manager
    case.save(update_fields=["assigned_to"])
    ProductTask.objects.create(store=store, product=product, case=case, text="Check the seams")
    return store


# Every GET page of "all my stores" (routes without a store or an object in their address), and the pages of one
# store whose menus or pickers name the user's other stores.
ACROSS_STORES = ["desk", "stores:list", "stores:my_settings", "metrics:live", "metrics:daily", "metrics:anomalies",
                 "campaigns:activities", "campaigns:activity_new", "campaigns:activity_templates",
                 "campaigns:calendar", "campaigns:related_sales", "campaigns:plans", "campaigns:plan_new",
                 "campaigns:playbooks", "campaigns:ads", "campaigns:ad_new", "campaigns:ad_import",
                 "campaigns:ad_launches", "campaigns:ad_launch_new", "members:index", "members:texts",
                 "members:templates", "reviews:index", "downloads"]
OF_ONE_STORE = ["stores:detail", "stores:orders", "stores:violations", "stores:import", "metrics:store_live",
                "metrics:store_daily", "metrics:peer_benchmarks", "metrics:morning_email", "members:tiers",
                "members:saved_answers", "members:template_new", "reviews:store", "reviews:import", "reviews:report",
                "reviews:policy", "reviews:review_list"]


@pytest.mark.parametrize("name", ACROSS_STORES + OF_ONE_STORE)
def test_page_across_stores_does_not_query_per_store(client, db, name):
    """A manager of hundreds of stores waits on the same queries as a manager of two, on every page."""
    manager = UserFactory(username="chain-manager")
    client.force_login(manager)
    first = chain_store(manager)
    chain_store(manager)
    url = reverse(name, kwargs={"slug": first.slug} if name in OF_ONE_STORE else None)
    few = queries(client, url)
    for _ in range(4):
        chain_store(manager)
    assert queries(client, url) == few
