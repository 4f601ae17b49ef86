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

from campaigns.models import Activity, StoreAdBudget
from members.models import InboundReply, MemberOrder, Message, SmsTemplate
from metrics.models import ActionItem, Anomaly
from reviews.models import ProductTask
from stores.models import ListingVersion, Store
from tests.ads.conftest import AdDailyFactory, AdPlanFactory, SnapshotFactory
from tests.factories import (
    MembershipFactory,
    OrderFactory,
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

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


def test_conversation_page_does_not_query_per_text_or_reply(client_a, operator_a, store_a):
    member = make_member(store_a)
    template = SmsTemplate.objects.create(store=store_a, name="Thanks", flow="campaign", body="Hi")
    url = reverse("members:conversation", args=[member.pk])

    def add(n):
        for _ in range(n):
            i = Message.objects.count()
            Message.objects.create(store=store_a, member=member, flow="campaign", occasion=f"campaign:{i}", body="Hi",
                                   template=template, scheduled_for=timezone.now(), status="failed", error_code="30006")
            InboundReply.objects.create(store=store_a, member=member, kind="help", body="HELP", provider_sid=f"SM{i}",
                                        received_at=timezone.now(), answered_at=timezone.now(), answered_by=operator_a)

    add(3)
    few = queries(client_a, url)
    add(3)
    assert queries(client_a, url) == few


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
               and any(item.label.startswith("Ad budget of") for item in panel["items"]) for panel in panels)
    assert many == few
