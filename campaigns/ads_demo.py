"""Demo data for paid promotion (called from campaigns/demo.py's seed(ctx)).

Per store, one ad plan per channel with ctx.days of daily performance drawn from the store's own
paid orders (a channel's orders and sales are a share of its traffic source's), so ads and orders
tell one story: on ctx.anomaly_day the first store's through-train plan stops spending ("paid-search
plan paused") and, still not spending today, shows as "stopped spending" on the desk; the second
store's display plan runs hot today and shows as "on pace to overspend"; the first store's display plan was paused
by the manager for four days and resumed by the operator yesterday (its month judged on the days it ran).
Today's hourly spend snapshots follow the stores' hourly order curve. Two plans get three creatives each (generated
images) and each store a product launch ten days ago with its listing versions and checklist. Each store has
this month's ad budget (all plans together): the first store's leaves room, the second store's is below what
its month ends at the current rate, so its ads page and the desk say it is on pace to overspend.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pandas as pd
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from opsdesk.money import to_money
from stores.demo import HOUR_WEIGHTS
from stores.models import ListingVersion, Order, Store

from .ads_pacing import store_month_pacing
from .models import (
    CHANNEL_SOURCE,
    AdChannel,
    AdCreative,
    AdCreativePerformance,
    AdDailyPerformance,
    AdPlan,
    AdPlanStatus,
    AdPlanStatusChange,
    AdSpendSnapshot,
    BidStrategy,
    LaunchPlan,
    LaunchStatus,
    StatusSource,
    StoreAdBudget,
)

# channel -> (name for a Tmall store, name for another store, share of the source's orders, target ROAS,
#             cost per click, click-through rate, bid strategy)
PLANS = {
    AdChannel.SEARCH: ("Through train · core keywords", "Search · brand + generic", 1.0, "4.0", 0.9, 0.035,
                       BidStrategy.TARGET_ROAS),
    AdChannel.DISPLAY: ("Display · retargeting", "Display · retargeting", 0.35, "3.0", 0.45, 0.008,
                        BidStrategy.MAXIMIZE_CONVERSIONS),
    AdChannel.SOCIAL: ("Social · tea moments", "Social · trail stories", 0.5, "2.5", 0.6, 0.012,
                       BidStrategy.MAXIMIZE_CLICKS),
    AdChannel.AFFILIATE: ("Affiliate · partners", "Affiliate · partners", 1.0, "6.0", 0.3, 0.02,
                          BidStrategy.TARGET_CPA),
}
CREATIVE_SHARES = [  # impressions share, clicks share, orders share: the first one clearly wins on CTR
    (0.40, 0.55, 0.55), (0.35, 0.28, 0.27), (0.25, 0.17, 0.18),
]
CREATIVE_TEXT = [("Hero shot", "Fresh this season", "#1f6feb"), ("Lifestyle", "Made for every day", "#067647"),
                 ("Price badge", "Members save 10 %", "#b54708")]


def seed(ctx) -> None:
    now = timezone.now()
    for index, store in enumerate(ctx.stores):
        plans = _seed_plans(ctx, store, index, now)
        if index == 0:
            _anomaly(ctx, store, plans[AdChannel.SEARCH])
            _pause_and_resume(ctx, store, plans[AdChannel.DISPLAY], now)
        _seed_snapshots(ctx, store, plans, index, now)
        _seed_creatives(ctx, store, plans[AdChannel.SEARCH])
        _seed_launch(ctx, store, plans, now)
        _seed_month_budget(ctx, store, index, now)


def _orders_by_day_source(store: Store) -> dict[tuple[date, str], tuple[int, float]]:
    rows = list(Order.objects.filter(store=store).paid().values_list("paid_at", "traffic_source", "total"))
    frame = pd.DataFrame(rows, columns=["paid_at", "source", "total"])
    if frame.empty:
        return {}
    frame["day"] = pd.to_datetime(frame["paid_at"], utc=True).dt.tz_convert(store.timezone).dt.date
    frame["total"] = frame["total"].astype(float)
    sums = frame.groupby(["day", "source"]).agg(orders=("total", "size"), sales=("total", "sum"))
    # plain int/float: opsdesk.money.to_money cannot parse numpy's float64 repr
    return {key: (int(o), float(v)) for key, o, v in zip(sums.index, sums["orders"], sums["sales"], strict=True)}


def _seed_plans(ctx, store: Store, index: int, now: datetime) -> dict[str, AdPlan]:
    rng = ctx.rng
    today = store.today(now)
    grouped = _orders_by_day_source(store)
    plans, rows = {}, []
    for channel, (tmall_name, name, share, roas, cpc, ctr, bid) in PLANS.items():
        status = AdPlanStatus.PAUSED if channel == AdChannel.AFFILIATE and index == 1 else AdPlanStatus.ACTIVE
        plan = AdPlan.objects.create(
            store=store, name=tmall_name if store.platform == "tmall" else name, channel=channel, status=status,
            bid_strategy=bid, target_roas=Decimal(roas), start_date=today - timedelta(days=ctx.days),
            hour_from=0 if channel != AdChannel.SOCIAL else 7, hour_to=24,
            external_id=f"{store.slug[:3]}-{channel}-{rng.randrange(10**6):06d}",
        )
        plans[channel] = plan
        _seed_history(plan, store, today - timedelta(days=ctx.days), paused_on=today - timedelta(days=19)
                      if status == AdPlanStatus.PAUSED else None)
        source = str(CHANNEL_SOURCE[channel])
        spends = []
        for offset in range(ctx.days, 0, -1):
            day = today - timedelta(days=offset)
            if status == AdPlanStatus.PAUSED and offset < 20:
                continue
            key = (day, source)
            n, gmv = grouped.get(key, (0, 0.0))
            orders = int(round(n * share * rng.uniform(0.85, 1.0)))
            sales = gmv * share * rng.uniform(0.85, 1.0)
            spend = sales / (float(roas) * rng.uniform(0.75, 1.25)) if sales else rng.uniform(5, 20)
            clicks = max(1, int(spend / (cpc * rng.uniform(0.8, 1.2))))
            impressions = int(clicks / (ctr * rng.uniform(0.8, 1.2)))
            spends.append(spend)
            rows.append(AdDailyPerformance(plan=plan, date=day, impressions=impressions, clicks=clicks,
                                           spend=to_money(spend), orders=orders, sales=to_money(sales)))
        typical = sorted(spends)[len(spends) // 2] if spends else 100
        plan.daily_budget = to_money(round(typical * 1.3, -1) or 50)
        plan.total_budget = to_money(plan.daily_budget * (ctx.days + 60)) if channel == AdChannel.SEARCH else 0
        plan.save(update_fields=["daily_budget", "total_budget"])
    AdDailyPerformance.objects.bulk_create(rows, batch_size=2000)
    return plans


def _anomaly(ctx, store: Store, plan: AdPlan) -> None:
    """The story: the through-train plan stopped spending on the anomaly day."""
    day = ctx.anomaly_day.get(store.slug)
    if day:
        AdDailyPerformance.objects.filter(plan=plan, date=day).update(impressions=0, clicks=0, spend=0, orders=0,
                                                                       sales=0)


PAUSED_FROM_DAYS_AGO = 6  # the first store's display plan: paused by the manager this many days ago (10:00) ...
RESUMED_DAYS_AGO = 1  # ... and set active again by the operator at 09:00 this many days ago: 4 whole days paused


def _pause_and_resume(ctx, store: Store, plan: AdPlan, now: datetime) -> None:
    """The manager paused the plan PAUSED_FROM_DAYS_AGO days ago and the operator set it running again yesterday,
    through the plan form's status record (`AdPlanStatusChange.record`): the days between have no report (it did not
    run), so the plan page's month reads "paused 4 days: budget for the N running days" and its history names them.
    Early in a month the pause falls partly in the month before, so fewer of its days are this month's."""
    today = store.today(now)
    paused_on, resumed_on = today - timedelta(days=PAUSED_FROM_DAYS_AGO), today - timedelta(days=RESUMED_DAYS_AGO)
    if paused_on <= plan.start_date:  # a short demo history: the plan had barely started
        return
    plan.status = AdPlanStatus.PAUSED
    AdPlanStatusChange.record(plan, StatusSource.FORM, by=ctx.manager, previous=AdPlanStatus.ACTIVE,
                              at=datetime.combine(paused_on, time(10), tzinfo=store.zone))
    plan.status = AdPlanStatus.ACTIVE  # never saved paused: it runs again now
    AdPlanStatusChange.record(plan, StatusSource.FORM, by=ctx.operator, previous=AdPlanStatus.PAUSED,
                              at=datetime.combine(resumed_on, time(9), tzinfo=store.zone))
    plan.daily.filter(date__gt=paused_on, date__lt=resumed_on).delete()


def _seed_snapshots(ctx, store: Store, plans: dict, index: int, now: datetime) -> None:
    rng = ctx.rng
    today = store.today(now)
    local_now = now.astimezone(store.zone)
    snapshots = []
    for channel, plan in plans.items():
        if plan.status != AdPlanStatus.ACTIVE:
            continue
        recent = list(plan.daily.filter(date__gte=today - timedelta(days=7)).values_list("spend", flat=True))
        typical = float(sum(recent) / len(recent)) if recent else float(plan.daily_budget) * 0.7
        stopped = index == 0 and channel == AdChannel.SEARCH
        hot = index == 1 and channel == AdChannel.DISPLAY
        pace = 0.0 if stopped else (1.7 if hot else rng.uniform(0.9, 1.05))
        plan_weights = [w if plan.runs_at_hour(h) else 0 for h, w in enumerate(HOUR_WEIGHTS)]
        total_w = sum(plan_weights)
        cumulative = 0.0
        for h in range(local_now.hour + 1):
            ts = datetime.combine(today, time(h), tzinfo=store.zone) + timedelta(minutes=55)
            if ts > now:
                break
            cumulative += plan_weights[h] / total_w * typical * pace
            snapshots.append(AdSpendSnapshot(plan=plan, ts=ts, spend_today=to_money(cumulative)))
        if stopped:  # fed hourly until the plan stopped: its last reading was the day before the anomaly
            day = ctx.anomaly_day.get(store.slug, today) - timedelta(days=1)
            ts = datetime.combine(day, time(23, 55), tzinfo=store.zone)
            snapshots.append(AdSpendSnapshot(plan=plan, ts=ts, spend_today=to_money(typical)))
    AdSpendSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)


BUDGET_ROOM = Decimal("1.25")  # the first store's budget: this much above where its month ends at the current rate
BUDGET_STEP = Decimal(100)  # a person sets a round figure


def _seed_month_budget(ctx, store: Store, index: int, now: datetime) -> None:
    """This store-local month's ad budget, set by the manager, from the month's spend so far and its projection
    (`store_month_pacing`, as the ads page reads it): the first store's leaves room; the second store's lies
    halfway between what it has spent and where it ends at the current rate, so it is on pace to overspend on
    any day of the month, not over already. On a month's 1st there is no projection yet: the second store is
    then over its budget already (today's spend so far, less a little)."""
    month = store_month_pacing(store, now)
    heading_for = month.projected if month.projected is not None else month.spend
    if index % 2 == 0:
        amount = (heading_for * BUDGET_ROOM / BUDGET_STEP).to_integral_value(ROUND_CEILING) * BUDGET_STEP
    else:
        halfway = (month.spend + heading_for) / 2 if heading_for > month.spend else month.spend * Decimal("0.9")
        amount = (halfway / BUDGET_STEP).to_integral_value(ROUND_FLOOR) * BUDGET_STEP
        if amount <= month.spend < halfway:  # late in the month the gap is narrower than a round figure
            amount = halfway.to_integral_value(ROUND_FLOOR)
    StoreAdBudget.objects.create(store=store, month=month.month_start, amount=amount, updated_by=ctx.manager)


def _image(title: str, color: str) -> bytes:
    img = Image.new("RGB", (600, 400), color)
    draw = ImageDraw.Draw(img)
    draw.rectangle((30, 30, 570, 370), outline="white", width=6)
    draw.text((60, 180), title, fill="white")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _seed_creatives(ctx, store: Store, plan: AdPlan) -> None:
    creatives = []
    for name, headline, color in CREATIVE_TEXT:
        creative = AdCreative(plan=plan, name=name, headline=headline, text=f"{store.name}: {headline.lower()}.",
                              original_filename=f"{name.lower().replace(' ', '-')}.png")
        creative.image.save(f"{name}.png", ContentFile(_image(f"{store.name} · {headline}", color)), save=False)
        creative.width, creative.height = 600, 400
        creative.save()
        creatives.append(creative)
    rows = []
    for day in plan.daily.filter(date__gte=store.today() - timedelta(days=30)):
        left = {"impressions": day.impressions, "clicks": day.clicks, "orders": day.orders, "spend": day.spend,
                "sales": day.sales}
        for i, (creative, (s_impr, s_clicks, s_orders)) in enumerate(zip(creatives, CREATIVE_SHARES, strict=True)):
            last = i == len(creatives) - 1
            part = left if last else {
                "impressions": int(day.impressions * s_impr), "clicks": int(day.clicks * s_clicks),
                "orders": int(day.orders * s_orders), "spend": to_money(day.spend * Decimal(str(s_clicks))),
                "sales": to_money(day.sales * Decimal(str(s_orders))),
            }
            part = {**part, "clicks": min(part["clicks"], part["impressions"])}
            rows.append(AdCreativePerformance(creative=creative, date=day.date, **part))
            if not last:
                left = {k: left[k] - part[k] for k in left}
    AdCreativePerformance.objects.bulk_create(rows)


def _seed_history(plan: AdPlan, store: Store, started: date, paused_on: date | None = None) -> None:
    """The plan's status history: active from the morning of `started`, paused from the start of `paused_on`."""
    changes = [AdPlanStatusChange(plan=plan, status=AdPlanStatus.ACTIVE, source=StatusSource.DEMO,
                                  at=store.day_bounds(started)[0] + timedelta(hours=9))]
    if paused_on:
        changes.append(AdPlanStatusChange(plan=plan, status=AdPlanStatus.PAUSED, source=StatusSource.DEMO,
                                          at=store.day_bounds(paused_on)[0]))
    AdPlanStatusChange.objects.bulk_create(changes)


def _launch_plan(ctx, store: Store, product, launch_day: date, now: datetime) -> AdPlan:
    """A search plan for the new product alone; its results follow the product's own sales."""
    rng = ctx.rng
    plan = AdPlan.objects.create(
        store=store, name=f"Launch · {product.title}", channel=AdChannel.SEARCH, status=AdPlanStatus.ACTIVE,
        bid_strategy=BidStrategy.MAXIMIZE_CLICKS, target_roas=Decimal("2.5"), start_date=launch_day,
        end_date=launch_day + timedelta(days=29))
    _seed_history(plan, store, launch_day)
    plan.products.add(product)
    lines = pd.DataFrame(list(product.lines.filter(order__paid_at__isnull=False,
                                                   order__paid_at__gte=store.day_bounds(launch_day)[0])
                              .values_list("order__paid_at", "amount")), columns=["paid_at", "amount"])
    by_day = {}
    if not lines.empty:
        lines["day"] = pd.to_datetime(lines["paid_at"], utc=True).dt.tz_convert(store.timezone).dt.date
        by_day = {d: float(v) for d, v in lines.groupby("day")["amount"].sum().items()}
    rows, spends = [], []
    for i in range((store.today(now) - launch_day).days):
        day = launch_day + timedelta(days=i)
        sales = by_day.get(day, 0.0) * 0.6
        spend = max(sales / rng.uniform(1.8, 3.2), 30.0) * (1.6 if i < 3 else 1.0)  # heavier push at launch
        clicks = int(spend / rng.uniform(0.8, 1.3))
        spends.append(spend)
        rows.append(AdDailyPerformance(plan=plan, date=day, impressions=int(clicks / rng.uniform(0.02, 0.04)),
                                       clicks=clicks, spend=to_money(spend), orders=int(sales // float(product.price)),
                                       sales=to_money(sales)))
    AdDailyPerformance.objects.bulk_create(rows)
    plan.daily_budget = to_money(round(max(spends, default=100) * 1.2, -1))
    plan.save(update_fields=["daily_budget"])
    return plan


def _seed_launch(ctx, store: Store, plans: dict, now: datetime) -> None:
    product = store.products.order_by("-sku").first()
    if product is None:
        return
    launch_day: date = store.today(now) - timedelta(days=10)
    start = datetime.combine(launch_day, time(9), tzinfo=store.zone)
    versions = [
        ListingVersion.objects.create(product=product, title=product.title, started_at=start,
                                      note="Launch listing", main_image=f"https://example.com/{product.sku}-v1.jpg"),
        ListingVersion.objects.create(product=product, title=f"{product.title} · new arrival",
                                      started_at=start + timedelta(days=3), note="Title test after a slow day 2",
                                      main_image=f"https://example.com/{product.sku}-v2.jpg"),
    ]
    launch = LaunchPlan.objects.create(store=store, product=product, name=f"Launch: {product.title}",
                                       launch_date=launch_day, status=LaunchStatus.LAUNCHED,
                                       notes="New product launch with search ads and a retargeting boost.")
    launch.listing_versions.set(versions)
    launch.ad_plans.set([_launch_plan(ctx, store, product, launch_day, now)])
    launch.activities.set(store.activities.filter(start_date__lte=launch_day + timedelta(days=7),
                                                  end_date__gte=launch_day)[:3])
    launch.add_default_checklist()
    for item in launch.checklist.all()[:5]:
        item.done_at = start - timedelta(days=1)
        item.save(update_fields=["done_at"])
