"""The demo's reviews tell the story the docs promise."""

from datetime import UTC, datetime

import time_machine
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from members import demo as members_demo
from members.models import Flow, InboundReply, MessageStatus, SavedAnswer
from reviews import demo, desk
from reviews.models import OPEN_STATUSES, CaseStatus, ContactAttempt, ContactOutcome, Review, ReviewCase
from reviews.services import overdue_cases
from stores import demo as stores_demo
from stores.models import ListingVersion


def test_demo_reviews_cases_and_listing_fix(db):
    ctx = stores_demo.seed(days=45)
    demo.seed(ctx)
    first = ctx.stores[0]
    for store in ctx.stores:
        reviews = Review.objects.filter(store=store)
        bad = reviews.filter(case__isnull=False).count()
        assert reviews.count() > 150
        assert 0.04 < bad / reviews.count() < 0.16
        assert overdue_cases(store).count() == 1
        statuses = set(ReviewCase.objects.filter(store=store).values_list("status", flat=True))
        assert {CaseStatus.NEW, CaseStatus.CONTACTED, CaseStatus.RESOLVED, CaseStatus.CLOSED} <= statuses
    assert ReviewCase.objects.filter(store=first, listing_version__isnull=False).count() == 1
    fix = ReviewCase.objects.get(store=first, listing_version__isnull=False).listing_version
    baseline, = ListingVersion.objects.filter(product__store=first).exclude(pk=fix.pk)  # the listing before it
    assert baseline.product == fix.product and baseline.started_at < fix.started_at
    assert fix.product.title == fix.title
    text = " ".join(t + " " + b for t, b in Review.objects.values_list("title", "body")).lower()
    assert "茶" in text and "hike" in text and "muito bom" in text  # Chinese, English, Portuguese
    assert Review.objects.values("case__status").annotate(n=Count("id")).count() >= 5


def test_demo_gives_open_cases_owners_with_their_history_line(db, client):
    ctx = stores_demo.seed(days=45)
    demo.seed(ctx)
    olivia, marco = ctx.operator, ctx.manager
    jade, pacific = ctx.stores
    open_cases = ReviewCase.objects.filter(status__in=OPEN_STATUSES)
    for store in ctx.stores:
        mine = open_cases.filter(store=store, assigned_to=olivia)
        assert mine.count() == 3
        notes = sorted(e.note for c in mine for e in c.events.filter(note__contains="olivia"))
        assert notes == ["Assigned to olivia.", "olivia took the case.", "olivia took the case."]
        for case in mine:
            line = case.events.get(note__contains="olivia")
            assert case.opened_at < line.at <= case.first_contact_at
        items = {i.label: i.count for i in desk.open_items(store, olivia)}
        assert items["Your open bad-review cases"] == 3
        assert overdue_cases(store).get().assigned_to is None  # nobody has it yet: the desk's red item
    assert open_cases.filter(store=jade, assigned_to=marco).get().events.filter(note="marco took the case.").exists()
    assert not open_cases.filter(store=pacific, assigned_to=marco).exists()
    client.force_login(olivia)
    page = client.get(reverse("reviews:index") + "?assigned=me").content.decode()
    assert "6 open cases assigned to you" in page, page


@time_machine.travel(datetime(2026, 11, 25, 7, 30, tzinfo=UTC), tick=False)  # 15:30 Shanghai, 23:30 Los Angeles
def test_a_newcomer_sees_a_case_texted_by_olivia_delivered_and_the_customers_reply(db, client):
    ctx = stores_demo.seed(days=45)
    members_demo.seed(ctx)
    demo.seed(ctx)
    client.force_login(ctx.operator)
    for store in ctx.stores:
        contact = ContactAttempt.objects.get(case__store=store, outcome=ContactOutcome.TEXTED)
        case, text = contact.case, contact.message
        assert case.is_open() and case.assigned_to == ctx.operator and contact.by == ctx.operator
        assert text.flow == Flow.REVIEW_CARE and text.status == MessageStatus.DELIVERED
        assert contact.at <= text.sent_at < text.status_updated_at < timezone.now()
        page = client.get(reverse("reviews:case", args=[store.slug, case.pk])).content.decode()
        assert "· Texted · olivia · " in page and 'data-text-status="delivered">Delivered</span>' in page
        assert text.body in page and text.body.startswith(("Sorry about your order", text.member.first_name))
        first = text.member.first_name
        if store.country == "CN":  # a Chinese name, surname and given name, greeted whole ("王芳您好")
            assert first[0] in stores_demo.CN_SURNAMES and first[1:] in stores_demo.CN_GIVEN_NAMES
            assert text.body.startswith(f"{first}您好，订单")
        else:
            assert first.isascii() and first in stores_demo.FIRST_NAMES and first in text.body
        conversation = reverse("members:conversation", args=[text.member_id])
        reply = InboundReply.objects.get(member=text.member)
        assert conversation in page and reply.body in page  # the reply under the text, on the case itself
        page = client.get(conversation).content.decode()
        assert reply.body in page and reply.received_at > text.sent_at
        assert reply.body in demo.CARE_REPLIES.values()
        # The reply waiting for an answer offers the store's saved answers to pick under Text back.
        assert all(answer.title in page for answer in SavedAnswer.objects.filter(store=store))
        assert SavedAnswer.objects.filter(store=store).count() >= 2
