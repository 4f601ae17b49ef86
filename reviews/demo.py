"""Demo reviews: about one delivered order in seven gets a review, about 8 % of them bad, in the
store's language (plus some Portuguese and Spanish). Bad reviews open cases that sit at every step
of the workflow; one case is overdue for its first call. Some open cases are the demo operator's (she took two, the
manager gave her one) and one in the first store is the manager's, each with the history line of its
assignment (`services.assign_case`); the newest and the overdue one are nobody's yet. In the first store, the
most reviewed product got a listing fix 30 days ago from a case, and its reviews are better since.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from members import compliance
from members.models import Message, MessageStatus
from members.replies import receive
from stores.models import OrderLine, OrderStatus

from .importers import import_reviews
from .models import (
    OPEN_STATUSES,
    CaseEvent,
    CaseStatus,
    ContactAttempt,
    ContactOutcome,
    ProductTask,
    Resolution,
    Review,
    ReviewCase,
    ReviewPolicy,
    RootCause,
)
from .services import assign_case, care_text, case_reason, create_listing_fix, open_case_if_bad, text_customer

TEXTS = {
    "CN": {
        "good": [("好评", "茶香浓郁，已经回购了"), ("", "包装精美，送人很体面"), ("物流快", "第二天就到了，味道不错"),
                 ("", ""), ("", "和描述一致"), ("满意", "")],
        "neutral": [("", "还可以"), ("一般", "中规中矩")],
        "bad": [("包装破损", "盒子压坏了，茶叶撒了一地"), ("质量差", "和图片不一样，颜色发黄"),
                ("没收到货", "物流显示签收但我没收到"),
                ("失望", "味道很差，像陈茶"), ("发错货", "买的是铁观音，发来的是红茶"), ("", "")],
        "meh": [("一般", "物流太慢了"), ("", "还行吧，有点失望")],
    },
    "US": {
        "good": [("Love it", "Great fit, would buy again"), ("", "Exactly as described"), ("Fast shipping", ""),
                 ("", ""), ("Solid", "Held up well on a 3-day hike"), ("", "Muito bom, chegou antes do prazo")],
        "neutral": [("OK", "Does the job"), ("", "Fine for the price")],
        "bad": [("Arrived broken", "The buckle snapped out of the box"), ("Not as pictured", "Colour is much darker"),
                ("Never arrived", "Tracking says delivered, nothing here"), ("", "Runs two sizes small"),
                ("Produto ruim", "Não recebi o que pedi"), ("Malo", "Llegó roto"), ("", "")],
        "meh": [("Meh", "Shipping was late"), ("", "Zipper feels poor")],
    },
}
CAUSES = [(RootCause.PRODUCT_DEFECT, 3), (RootCause.NOT_AS_DESCRIBED, 3), (RootCause.LOGISTICS, 3),
          (RootCause.SERVICE, 1), (RootCause.EXPECTATION, 2), (RootCause.OTHER, 1)]
RESOLUTION_FOR = {RootCause.PRODUCT_DEFECT: [Resolution.REPLACEMENT, Resolution.REFUND, Resolution.SUPPLIER_FEEDBACK],
                  RootCause.NOT_AS_DESCRIBED: [Resolution.LISTING_FIX, Resolution.REFUND],
                  RootCause.LOGISTICS: [Resolution.REPLACEMENT, Resolution.REFUND],
                  RootCause.SERVICE: [Resolution.NO_ACTION, Resolution.REFUND],
                  RootCause.EXPECTATION: [Resolution.NO_ACTION, Resolution.LISTING_FIX],
                  RootCause.OTHER: [Resolution.NO_ACTION]}


@transaction.atomic
def seed(ctx) -> None:
    now = timezone.now()
    for index, store in enumerate(ctx.stores):
        _seed_store(ctx, store, now, fixed_product=index == 0)
        _assign(ctx, store, manager_takes_one=index == 0)
        _text_a_customer(ctx, store, now)


def _seed_store(ctx, store, now, fixed_product: bool) -> None:
    rng = ctx.rng
    texts = TEXTS["CN" if store.country == "CN" else "US"]
    delivered = store.orders.filter(status__in=[OrderStatus.DELIVERED, OrderStatus.REFUNDED])
    orders = list(delivered.order_by("placed_at").values_list("pk", "external_id", "delivered_at"))
    first_product: dict[int, int] = {}
    counts: dict[int, int] = {}
    for order_id, product_id in (OrderLine.objects.filter(order__in=delivered, product__isnull=False)
                                 .order_by("order_id", "line_no").values_list("order_id", "product_id")):
        first_product.setdefault(order_id, product_id)
        counts[product_id] = counts.get(product_id, 0) + 1
    skus = dict(store.products.values_list("pk", "sku"))
    star = max(counts, key=counts.get) if fixed_product and counts else None
    change_at = now - timedelta(days=30)
    items = []
    for order_pk, external_id, delivered_at in orders:
        if rng.random() > 0.15:
            continue
        written = delivered_at + timedelta(days=rng.uniform(0.5, 4))
        if written > now - timedelta(hours=1):
            continue
        product_id = first_product.get(order_pk)
        bad_chance = 0.08
        if product_id is not None and product_id == star:
            bad_chance = 0.25 if written < change_at else 0.03
        draw = rng.random()
        if draw < bad_chance * 0.8:
            rating, (title, body) = rng.choice([1, 1, 2]), rng.choice(texts["bad"])
        elif draw < bad_chance:
            rating, (title, body) = 3, rng.choice(texts["meh"])
        elif draw < bad_chance + 0.05:
            rating, (title, body) = 3, rng.choice(texts["neutral"])
        else:
            rating, (title, body) = rng.choice([5, 5, 5, 4]), rng.choice(texts["good"])
        items.append({"id": f"demo-{external_id}", "rating": rating, "title": title, "body": body,
                      "created_at": written.isoformat(), "order_id": external_id,
                      "sku": skus.get(product_id, "")})
    import_reviews(store, items, "json", open_cases=False)
    policy = ReviewPolicy.for_store(store)
    cases = []
    for review in store.reviews.filter(rating__lte=3).order_by("created_at"):
        reason = case_reason(review, policy)
        if reason:
            opened = min(review.created_at + timedelta(hours=rng.uniform(0.5, 6)), now - timedelta(hours=2))
            cases.append(ReviewCase(store=store, review=review, reason=reason, opened_at=opened,
                                    first_contact_due_at=opened + policy.first_contact_within))
    ReviewCase.objects.bulk_create(cases)
    # The newest cases sit at the early steps, older ones further on, so every step has a few cases.
    stages = [CaseStatus.NEW] + [CaseStatus.CONTACTING] * 2 + [CaseStatus.CONTACTED] * 2 \
        + [CaseStatus.PRODUCT_CHECK] * 2 + [CaseStatus.RESOLVED] * 3
    contacts, events, tasks = [], [], []
    for rank, case in enumerate(reversed(cases)):
        target = stages[rank] if rank < len(stages) else CaseStatus.CLOSED
        _history(ctx, case, now, target, star, change_at, contacts, events, tasks)
    if star is not None:  # while the stored cases are still open, as the fix's case was 30 days ago
        _fix_listing(ctx, cases, star, now)
    ReviewCase.objects.bulk_update(cases, ["status", "first_contact_due_at", "first_contact_at", "situation",
                                           "root_cause", "check_finding", "check_notes", "resolution",
                                           "customer_updated_review", "updated_rating", "resolved_at",
                                           "closed_at"], batch_size=500)
    ContactAttempt.objects.bulk_create(contacts, batch_size=1000)
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    ProductTask.objects.bulk_create(tasks)
    _overdue_case(store, now, texts)


def _history(ctx, case, now, target, star, change_at, contacts, events, tasks) -> None:
    """Give `case` the history of a case walked legally up to `target`: calls one to thirty hours
    after opening (some miss the SLA), findings, resolution. Built in memory, saved in bulk."""
    rng, user = ctx.rng, ctx.operator
    review = case.review

    def move(to_status, at, by=user, note=""):
        events.append(CaseEvent(case=case, from_status=case.status, to_status=to_status, by=by, at=at, note=note))
        case.status = to_status

    events.append(CaseEvent(case=case, from_status="", to_status=CaseStatus.NEW, at=case.opened_at,
                            note=f"Opened: {case.reason}"))
    if target == CaseStatus.NEW:
        case.first_contact_due_at = now + timedelta(hours=6)  # the newest case is still within its SLA
        return
    latest = now - timedelta(minutes=30)
    call = min(case.opened_at + timedelta(hours=rng.choice([1, 2, 3, 5, 8, 12, 20, 30])), latest)
    answered = target != CaseStatus.CONTACTING and rng.random() < 0.75
    contacts.append(ContactAttempt(case=case, by=user, at=call, notes=_situation(review) if answered else "",
                                   outcome=ContactOutcome.REACHED if answered else ContactOutcome.NO_ANSWER))
    case.first_contact_at = call
    move(CaseStatus.CONTACTING, call, note="First call logged.")
    if target == CaseStatus.CONTACTING:
        return
    if not answered:
        call = min(call + timedelta(hours=rng.uniform(3, 26)), latest)
        contacts.append(ContactAttempt(case=case, by=user, at=call, notes=_situation(review),
                                       outcome=ContactOutcome.REACHED))
    step = min(call + timedelta(minutes=5), latest)
    move(CaseStatus.CONTACTED, step)
    is_star = review.product_id == star and review.created_at < change_at
    cause = RootCause.NOT_AS_DESCRIBED if is_star else _pick(rng, CAUSES)
    case.root_cause, case.situation = cause, _situation(review)
    if target == CaseStatus.CONTACTED:
        return
    if cause in (RootCause.PRODUCT_DEFECT, RootCause.NOT_AS_DESCRIBED) or target == CaseStatus.PRODUCT_CHECK:
        move(CaseStatus.PRODUCT_CHECK, min(step + timedelta(hours=4), latest), note="Pulled two units from stock.")
        if target == CaseStatus.PRODUCT_CHECK:
            return
        case.check_finding = "confirmed" if rng.random() < 0.7 else "not_reproduced"
        case.check_notes = "Same fault on one of two stock units." if case.check_finding == "confirmed" else \
            "Both stock units fine."
    case.resolution = Resolution.LISTING_FIX if is_star else rng.choice(RESOLUTION_FOR[cause])
    case.customer_updated_review = rng.random() < 0.35
    case.updated_rating = rng.choice([3, 4, 4, 5]) if case.customer_updated_review else None
    case.resolved_at = min(step + timedelta(days=1), latest)
    move(CaseStatus.RESOLVED, case.resolved_at)
    if case.resolution == Resolution.SUPPLIER_FEEDBACK and review.product_id and len(tasks) < 3:
        tasks.append(ProductTask(store=case.store, product_id=review.product_id, case=case, owner=ctx.manager,
                                 text="Send the defect photos to the supplier and ask for a fix.",
                                 due=(now + timedelta(days=7)).date()))
    if target == CaseStatus.CLOSED:
        case.closed_at = min(case.resolved_at + timedelta(days=2), latest)
        move(CaseStatus.CLOSED, case.closed_at, by=ctx.manager)


def _assign(ctx, store, manager_takes_one: bool) -> None:
    """Give the store's open cases that someone has called owners, through the service (its history line
    included): the operator took the two newest, the manager gave her the next, and (`manager_takes_one`)
    took the one after himself. Each assignment is dated soon after the case opened, before its first call."""
    operator, manager = ctx.operator, ctx.manager
    called = (ReviewCase.objects.filter(store=store, status__in=OPEN_STATUSES, first_contact_at__isnull=False)
              .order_by("-opened_at", "-pk"))
    owners = [(operator, operator), (operator, operator), (operator, manager)]
    if manager_takes_one:
        owners.append((manager, manager))
    for case, (assignee, by) in zip(called, owners, strict=False):
        at = min(case.opened_at + timedelta(minutes=20), case.first_contact_at)
        assign_case(case, by, assignee.pk, now=at)


# The customer's answer to the case's text, in the store's language.
CARE_REPLIES = {"CN": "刚才在开会没接到，晚上6点以后打给我吧。",
                "US": "Sorry I missed your call. Happy to talk, please call me after 6pm."}


def _text_a_customer(ctx, store, now) -> None:
    """olivia texted the customer of one of her open cases after a call (the store's bad-review text, through
    `services.text_customer` and so the members' `queue_one`), Twilio reported it delivered, and the customer
    answered: the case's contact log shows the Texted line, its conversation the reply (through
    `members.replies.receive`, which keeps it and sends our acknowledgement). Her case with a missed call first, then
    the newest; none when no case of hers can be texted yet (no member, no consent, a short history)."""
    rng = random.Random(f"{ctx.seed_value}-{store.slug}-care-text")
    cases = (ReviewCase.objects.filter(store=store, status__in=OPEN_STATUSES, assigned_to=ctx.operator,
                                       first_contact_at__isnull=False).order_by("-opened_at", "-pk"))
    missed = {c.pk for c in cases if c.contacts.filter(outcome=ContactOutcome.NO_ANSWER).exists()}
    for case in sorted(cases, key=lambda c: c.pk not in missed):
        care = care_text(case)
        texted_at = case.first_contact_at + timedelta(minutes=rng.randrange(10, 40))
        sent_at = compliance.next_send_time(texted_at, care.member.zone) if care.member else None
        # The demo shows the reply, so the text went early enough for it (quiet hours may have held it).
        if care.refusal or sent_at + timedelta(hours=2) > now:
            continue
        contact, _ = text_customer(case, ctx.operator, care.attempt, now=texted_at)
        sent_at += timedelta(seconds=rng.randrange(2, 30))
        # As the worker and Twilio's status callback leave a delivered text.
        Message.objects.filter(pk=contact.message_id).update(
            status=MessageStatus.DELIVERED, attempts=1, claimed_at=sent_at, sent_at=sent_at,
            status_updated_at=sent_at + timedelta(seconds=8), provider_sid=f"SMdemo{store.pk:02d}c{case.pk:025d}",
            created_at=texted_at)
        receive(care.member.phone, CARE_REPLIES["CN" if store.country == "CN" else "US"],
                provider_sid=f"SMdemo{store.pk:02d}r{case.pk:025d}",
                now=sent_at + timedelta(minutes=rng.randrange(5, 60)))
        return


def _situation(review) -> str:
    return {1: "Very unhappy; wants money back.", 2: "Wants a replacement.", 3: "Mostly fine, one complaint."}.get(
        review.rating, "") + (f" Said: {review.body[:80]}" if review.body else "")


def _pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _overdue_case(store, now, texts) -> None:
    """One bad review from yesterday whose case has had no call: it shows as overdue on the desk."""
    order = store.orders.filter(status=OrderStatus.DELIVERED).exclude(reviews__isnull=False).order_by(
        "-placed_at").first()
    if order is None:
        return
    title, body = texts["bad"][0]
    review = Review.objects.create(store=store, external_id=f"demo-overdue-{order.external_id}", rating=1,
                                   title=title, body=body, created_at=now - timedelta(hours=31), order=order,
                                   product=next((line.product for line in order.lines.all()), None))
    open_case_if_bad(review, now=now - timedelta(hours=30))


def _fix_listing(ctx, cases, star, now) -> None:
    """The listing-fix story: the last listing-fix case on the star product before the change changes its listing."""
    case = max((c for c in cases if c.resolution == Resolution.LISTING_FIX and c.review.product_id == star
                and c.review.created_at < now - timedelta(days=30)), key=lambda c: c.review.created_at, default=None)
    if case is not None:
        create_listing_fix(case, ctx.operator, title=f"{case.review.product.title} (true-to-photo colours)",
                           note="Photos and size chart corrected after bad reviews", now=now - timedelta(days=30))
