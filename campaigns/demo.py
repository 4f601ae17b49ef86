"""Demo activities and plans on top of the stores' demo history.

Per store: the promotion the order history spikes for (at ctx.promo's days, finished), a platform
event a few weeks ahead whose sign-up closes in 5 days (the store's next named event 8 to 90 days
ahead on its real day, such as Double 12 on 12 December; else a seasonal platform sale in three
weeks), with the Double 11 template's checklist, half of it ticked, whose budget the manager raised yesterday; a
content post in 3 days with its checklist, which the operator moved two days later on the calendar three days
ago (so both histories show named people and a move, not only their creation); a members' lottery that ran
two weeks ago and was drawn, and year, month and week plans with goals and tasks. The second store also has a
bundle running now and its promotion reviewed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import activity_history, activity_lottery, activity_moves, ads_demo
from .activity_kinds import next_event_day
from .activity_templates import copy_checklist, install_defaults
from .models import Activity, ActivityChange, ActivityReview, ActivityTemplate, Plan, PlanGoal, PlanTask, Playbook


def _activity(store, owner, status_path, **values) -> Activity:
    """An activity made and moved along `status_path` by its owner (the history names them); its entries are
    stamped now until `_date_path` or `_date_entries` puts them where they would have happened."""
    activity = Activity(store=store, owner=owner, **values)
    activity.full_clean()
    activity.save()
    activity_history.record_created(activity, user=owner)
    for status in status_path:
        activity.move_to(status, user=owner)
    return activity


@transaction.atomic
def seed(ctx) -> None:
    install_defaults()
    templates = {t.name: t for t in ActivityTemplate.objects.filter(store=None)}
    for n, store in enumerate(ctx.stores):
        today = store.today()
        products = list(store.products.all()[:4])
        first, last = ctx.promo[store.slug]
        promo = _activity(store, ctx.operator, ["planned", "running", "done"], name="Spend 199, save 30 weekend",
                          kind="store_promotion", start_date=first, end_date=last, budget=Decimal("800"),
                          goal_gmv=Decimal("30000") if store.currency == "CNY" else Decimal("9000"), goal_orders=400,
                          details={"mechanism": "threshold", "threshold": "199", "reduction": "30"},
                          template=templates["Full-reduction weekend"])
        copy_checklist(promo, templates["Full-reduction weekend"])
        promo.checklist.update(done_at=timezone.now(), done_by=ctx.operator)
        _date_path(promo, store, ctx)

        event = seed_platform_event(store, ctx.operator, templates["Double 11 sign-up"], products[:3], today)
        for item in event.checklist.order_by("position")[:2]:
            item.done_at, item.done_by = timezone.now(), ctx.operator
            item.save()

        seed_moved_post(store, ctx, templates["Content post"], products[0], today)
        seed_budget_raised(store, ctx, event, today)

        lottery = _activity(store, ctx.manager, ["planned", "running", "done"], name="Lottery for last week's buyers",
                            kind="gift", start_date=today - timedelta(days=14), end_date=today - timedelta(days=8),
                            details={"gift_type": "lottery", "gift_item": "Gift box", "prize_count": 3},
                            template=templates["Lottery for members"])
        copy_checklist(lottery, templates["Lottery for members"])
        _date_path(lottery, store, ctx)
        if activity_lottery.entrants(lottery, "orders", lottery.start_date, lottery.end_date):  # short histories
            activity_lottery.draw(lottery, "orders", lottery.start_date, lottery.end_date, 3, user=ctx.manager,
                                  seed=f"demo-{store.slug}")

        if n == 1:
            bundle = _activity(store, ctx.operator, ["planned", "running"], name=f"Bundle: {products[0].title} + "
                               f"{products[1].title}", kind="related_sales", start_date=today - timedelta(days=3),
                               end_date=today + timedelta(days=10), details={"mode": "bundle", "bundle_price": "99"})
            bundle.products.set(products[:2])
            _date_path(bundle, store, ctx)
            promo.move_to("reviewed", user=ctx.manager)
            _date_path(promo, store, ctx)
            ActivityReview.objects.create(
                activity=promo, summary="Orders more than doubled over the weekend; stock ran short on day 2.",
                root_cause="Stock planned for a normal weekend", playbook=Playbook.objects.get(slug="full-reduction"),
                created_by=ctx.manager)

        _seed_plans(store, ctx, today)
    ads_demo.seed(ctx)  # after the activities, so launches can link them


POST_PLANNED_AHEAD = 10  # days ahead the content post was first planned, when it was created
POST_MOVED = 2  # days olivia moved it later on the calendar, MOVED_DAYS_AGO days ago
MOVED_DAYS_AGO = 3
EVENT_BUDGET_RAISED = Decimal("2500")  # the platform event's budget after marco's edit yesterday (was 2000)


def _local(store, day: date, hour: int, rng: random.Random) -> datetime:
    """A time in the store-local `hour` of `day`, its minute drawn from the demo's history RNG."""
    return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=store.zone)


def _history_rng(ctx, store) -> random.Random:
    # Its own RNG derived from the demo's seed, so the rest of the demo draws what it drew before.
    return random.Random(f"{ctx.seed_value}-{store.slug}-activity-history")


def _date_entries(activity: Activity, at: datetime) -> None:
    """The entries written so far for `activity` (its creation, its status) happened at `at`, not at seeding."""
    ActivityChange.objects.filter(activity=activity).update(at=at)


def _date_path(activity: Activity, store, ctx) -> None:
    """Date `activity`'s creation and status moves as its owner would have made them, not all in the minute of
    seeding: created three weeks before it starts, planned the day after, running on its first day, done the day
    after its last, reviewed two days later (each day at most yesterday, so none lies ahead of now)."""
    rng = _history_rng(ctx, store)
    start, end = activity.start_date, activity.end_date
    yesterday = store.today() - timedelta(days=1)
    when = {"created": (start - timedelta(days=21), 10), "planned": (start - timedelta(days=20), 11),
            "running": (start, 9), "done": (end + timedelta(days=1), 10), "reviewed": (end + timedelta(days=3), 15)}
    for entry in ActivityChange.objects.filter(activity=activity).order_by("pk"):
        first = entry.changes[0]
        day, hour = when["created" if first["field"] == "created" else first["new"].lower()]  # "Planned" → planned
        entry.at = _local(store, min(day, yesterday), hour, rng)
        entry.save(update_fields=["at"])


def seed_moved_post(store, ctx, template, product, today: date) -> Activity:
    """The content post, planned POST_PLANNED_AHEAD days ahead with the template's checklist, which olivia
    moved POST_MOVED days later on the calendar MOVED_DAYS_AGO days ago (`move_activity`, its steps following):
    it now falls in 3 days, and its history shows her move, not only its creation."""
    rng = _history_rng(ctx, store)
    created_on = today - timedelta(days=POST_PLANNED_AHEAD - 1)
    first = today + timedelta(days=MOVED_DAYS_AGO - POST_MOVED)
    post = _activity(store, ctx.operator, ["planned"], name="Evening tasting post", kind="content",
                     start_date=first, end_date=first, template=template,
                     details={"channel": "xiaohongshu" if store.country == "CN" else "instagram",
                              "publish_at": f"{first}T20:00", "topic": product.title})
    copy_checklist(post, template, created_on)  # made on the day it was planned: the steps' full lead times
    _date_entries(post, _local(store, created_on, 11, rng))
    made = ActivityChange.objects.filter(activity=post).latest("pk").pk
    post, _ = activity_moves.move_activity(post, POST_MOVED, shown_start=first, user=ctx.operator)
    ActivityChange.objects.filter(activity=post, pk__gt=made).update(
        at=_local(store, today - timedelta(days=MOVED_DAYS_AGO), 10, rng))
    return post


def seed_budget_raised(store, ctx, event: Activity, today: date) -> None:
    """marco raised the platform event's budget yesterday, recorded as the Edit form records it."""
    rng = _history_rng(ctx, store)
    _date_entries(event, _local(store, today - timedelta(days=6), 15, rng))
    before = activity_history.snapshot(event)
    event.budget = EVENT_BUDGET_RAISED
    event.full_clean()
    event.save()
    entry = activity_history.record(event, before, user=ctx.manager)
    entry.at = _local(store, today - timedelta(days=1), 16, rng)
    entry.save(update_fields=["at"])


# A platform's own sale for the months without a named event near, by the month it starts in.
SEASONAL_SALES = {1: "New-year sale", 2: "New-year sale", 3: "Spring sale", 4: "Spring sale", 5: "Spring sale",
                  6: "Summer sale", 7: "Summer sale", 8: "Summer sale", 9: "Autumn sale", 10: "Autumn sale",
                  11: "Year-end sale", 12: "Year-end sale"}


def demo_event(country: str, today: date) -> tuple[str, str, date]:
    """(event, name, first day) of the platform event the demo plans: the store's next named event 8 to
    90 days ahead (there is time to prepare, and it is near enough to plan now), else a seasonal
    "other" platform sale three weeks ahead."""
    near = []
    for event in ("double_11", "double_12", "618") if country == "CN" else ("black_friday", "cyber_monday"):
        day = next_event_day(event, today + timedelta(days=7))
        if day is not None and day <= today + timedelta(days=90):
            near.append((day, event))
    if near:
        day, event = min(near)
        return event, event.replace("_", " ").title(), day
    day = today + timedelta(days=21)
    return "other", SEASONAL_SALES[day.month], day


def seed_platform_event(store, owner, template, products, today: date) -> Activity:
    """The demo's planned platform event (see `demo_event`) with the template's checklist; its sign-up
    closes in 5 days, so the desk's deadline warning shows, and never after its first day."""
    event, name, first_day = demo_event(store.country, today)
    details = {"event": event, "signup_status": "not_started",
               "requirements": "At least 15 % off the lowest price of the last 30 days; stock for 500 orders; "
                               "rating 4.7+."}
    if event == "other":
        details["event_name"] = name
    activity = _activity(store, owner, ["planned"], name=f"{name} sign-up", kind="platform_event",
                         start_date=first_day, end_date=first_day + timedelta(days=template.duration_days - 1),
                         signup_deadline=min(today + timedelta(days=5), first_day), budget=Decimal("2000"),
                         goal_orders=900, details=details, template=template)
    activity.products.set(products)
    copy_checklist(activity, template, today)
    return activity


def _seed_plans(store, ctx, today) -> None:
    monday = today - timedelta(days=today.weekday())  # the week belongs to the month its Monday is in
    year = Plan(store=store, level="year", period_start=monday)
    year.save()
    month = Plan(store=store, level="month", period_start=monday, parent=year)
    month.save()
    week = Plan(store=store, level="week", period_start=monday, parent=month,
                notes="Focus: the platform event sign-up and the weekend content post.")
    week.full_clean()
    week.save()
    scale = Decimal("7") if store.currency == "CNY" else Decimal("1")
    PlanGoal.objects.bulk_create([
        PlanGoal(plan=year, metric="gmv", target=Decimal("2400000") * scale / 7),
        PlanGoal(plan=year, metric="orders", target=30000),
        PlanGoal(plan=month, metric="gmv", target=Decimal("220000") * scale / 7),
        PlanGoal(plan=month, metric="orders", target=2600),
        PlanGoal(plan=month, metric="new_members", target=500),
        PlanGoal(plan=week, metric="orders", target=600),
        PlanGoal(plan=week, metric="conversion", target=Decimal("3.5")),
    ])
    PlanTask.objects.bulk_create([
        PlanTask(plan=week, title="Submit the platform event sign-up", owner=ctx.operator,
                 due=today + timedelta(days=2)),
        PlanTask(plan=week, title="Check stock of the three event products", owner=ctx.operator,
                 due=today + timedelta(days=3)),
        PlanTask(plan=week, title="Approve the event budget", owner=ctx.manager, due=today + timedelta(days=1)),
        PlanTask(plan=week, title="Review last month's lottery", owner=ctx.manager, due=today - timedelta(days=1),
                 done_at=timezone.now()),
        PlanTask(plan=month, title="Plan the year-end content calendar", owner=ctx.operator,
                 due=month.period_end),
    ])
