"""Spend pacing, alerts and the numbers other duties read: the morning ad results and cost per source.

Pacing compares a plan's spend so far today (its latest AdSpendSnapshot) with where it should be by
now. "Where it should be" follows the store's expected hourly curve: the share of paid orders in
each store-local hour over the last 14 days (buyers and ad auctions keep the same hours), limited
to the plan's own hours; with fewer than MIN_CURVE_ORDERS orders it is a flat curve over those hours.
Each real hour of today takes its clock hour's share, so a 25-hour day counts 01:00 twice and a
23-hour day none for the 02:00 it skips (`day_shares`).
At the current pace the day ends at spend_so_far / expected_share_by_now, which is compared with the
daily budget (after EARLIEST_PROJECTION of the day, earlier guesses are noise). The total budget is
checked with: spent before today + today's projection + remaining days × the last 7 days' average.

A plan "stopped spending" when it is active, inside its dates and hours, is fed hourly (it has any
snapshot in the last 7 days), and its cumulative spend has not risen for STOPPED_HOURS hours of its
window (for a round-the-clock plan the quiet spell may begin the day before). A plan that has spent
its daily budget (BUDGET_SPENT of it) is quiet because the platform stops serving it, not stopped.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, FilteredRelation, IntegerField, Max, Q, QuerySet, Sum, When
from django.db.models.functions import ExtractHour
from django.utils import timezone

from metrics.figures import metric_value
from opsdesk.localtime import hours_words
from opsdesk.money import to_money
from stores.models import Order, Store

from .models import (
    CHANNEL_SOURCE,
    AdDailyPerformance,
    AdPlan,
    AdPlanStatus,
    AdPlanStatusChange,
    AdSpendSnapshot,
    DerivedMetrics,
    StatusSource,
    StoreAdBudget,
    percent,
    ratio,
)

CURVE_DAYS = 14
MIN_CURVE_ORDERS = 50
EARLIEST_PROJECTION = Decimal("0.10")  # share of the day's expected spend before projecting the day's end
STOPPED_HOURS = 3
RUN_RATE_DAYS = 7
# Platforms stop serving a plan once the rest of its daily budget is below a bid, so the day's spend
# ends a little short of the budget: from this share on, the plan's quiet spell is its budget cap.
BUDGET_SPENT = Decimal("0.98")
# Whole days of a month (a plan's run days) gone before its underspend is judged: a slow first day or two, or a
# report imported late, would otherwise project a starved month on the 2nd.
MIN_UNDERSPEND_DAYS = 5
ZERO = Decimal("0.00")
# A reported day the plan ran: some spend, or at least impressions (served but not clicked).
RAN = Q(spend__gt=0) | Q(impressions__gt=0)


@dataclass
class Totals(DerivedMetrics):
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = ZERO
    orders: int = 0
    sales: Decimal = ZERO

    def add(self, other) -> None:
        for name in ("impressions", "clicks", "spend", "orders", "sales"):
            setattr(self, name, getattr(self, name) + (getattr(other, name) or 0))

    def as_dict(self) -> dict:
        return {"impressions": self.impressions, "clicks": self.clicks, "spend": self.spend, "orders": self.orders,
                "sales": self.sales, "ctr": self.ctr, "cpc": self.cpc, "cvr": self.cvr, "cpa": self.cpa,
                "roas": self.roas, "acos": self.acos}


@dataclass
class PlanRow:
    plan: AdPlan
    totals: Totals

    @property
    def below_target(self) -> bool:
        """Whether the period's ROAS fell short of the plan's target ROAS (spend not paying back as planned)."""
        roas, target = self.totals.roas, self.plan.target_roas
        return roas is not None and target is not None and roas < target


def plan_totals(plans: QuerySet, since: date | None = None, until: date | None = None,
                last_days: int | None = None, now: datetime | None = None) -> list[PlanRow]:
    """Each plan with its summed performance over since..until (inclusive), derived metrics included.

    With `last_days`, each plan's window is instead its own store's last `last_days` local days up to
    that store's today (plans of stores on either side of midnight have different todays)."""
    own_days = None
    if last_days:
        # One sum for all stores, each plan over its own store's last days: the join reads the days of any of the
        # stores' todays (a day apart at most), the sums' FILTER keeps each store's own.
        todays = group(Store.objects.filter(pk__in=plans.values("store")), lambda store: store.today(now))
        if not todays:
            return []
        since, until = min(todays) - timedelta(days=last_days - 1), max(todays)
        own_days = Q()
        for today, day_stores in todays.items():
            own_days |= Q(store__in=day_stores, period__date__gte=today - timedelta(days=last_days - 1),
                          period__date__lte=today)
    cond = Q()
    if since:
        cond &= Q(daily__date__gte=since)
    if until:
        cond &= Q(daily__date__lte=until)
    # The dates go into the join, not a FILTER on the sums: a plan's other days (a year of them) are then not
    # read at all, the (plan, date) index finds the period's rows.
    if cond:
        plans = plans.annotate(period=FilteredRelation("daily", condition=cond))
    days = "period" if cond else "daily"
    sums = {name: Sum(f"{days}__{name}", filter=own_days)
            for name in ("impressions", "clicks", "spend", "orders", "sales")}
    rows = []
    for plan in plans.annotate(**{f"t_{k}": v for k, v in sums.items()}):
        values = {k: getattr(plan, f"t_{k}") or 0 for k in sums}
        for money in ("spend", "sales"):  # SQLite sums decimals without their scale
            values[money] = to_money(values[money])
        rows.append(PlanRow(plan, Totals(**values)))
    return rows


# --- expected hourly curve ------------------------------------------------------------------

def expected_curve(store: Store, now: datetime | None = None) -> tuple[list[float], str]:
    """Share of a day's spend expected in each store-local hour (24 values summing to 1) and its basis."""
    return expected_curves([store], now)[store.pk]


def expected_curves(stores: list[Store], now: datetime | None = None) -> dict[int, tuple[list[float], str]]:
    """`expected_curve` of each of `stores` by store id, in one query: each store's paid orders of its own last
    CURVE_DAYS local days, counted by the hour of its own zone."""
    if not stores:
        return {}
    by_zone: dict[str, list[Store]] = defaultdict(list)
    for store in stores:
        by_zone[store.timezone].append(store)
    window, hour = Q(), []
    for zone_stores in by_zone.values():  # one zone, one today and one window
        zone, today = zone_stores[0].zone, zone_stores[0].today(now)
        start, _ = zone_stores[0].day_bounds(today - timedelta(days=CURVE_DAYS))
        end, _ = zone_stores[0].day_bounds(today)
        window |= Q(store__in=zone_stores, paid_at__gte=start, paid_at__lt=end)
        hour.append(When(store__in=zone_stores, then=ExtractHour("paid_at", tzinfo=zone)))
    counts = {store.pk: [0] * 24 for store in stores}
    rows = (Order.objects.paid().filter(window).annotate(h=Case(*hour, output_field=IntegerField()))
            .order_by().values("store_id", "h").annotate(n=Count("id")))
    for row in rows:
        counts[row["store_id"]][row["h"]] += row["n"]
    curves = {}
    for pk, hours in counts.items():
        total = sum(hours)
        curves[pk] = (([1 / 24] * 24, "flat") if total < MIN_CURVE_ORDERS else
                      ([c / total for c in hours], f"paid orders by hour, last {CURVE_DAYS} days"))
    return curves


def plan_curve(plan: AdPlan, curve: list[float]) -> list[float]:
    """The store curve limited to the plan's hours and scaled back to 1 (flat there if it is all zero)."""
    window = [c if plan.runs_at_hour(h) else 0.0 for h, c in enumerate(curve)]
    total = sum(window)
    if total <= 0:
        hours = plan.hour_to - plan.hour_from
        return [1 / hours if plan.runs_at_hour(h) else 0.0 for h in range(24)]
    return [c / total for c in window]


def day_hours(store: Store, day: date) -> list[tuple[int, datetime]]:
    """The real hours of the store-local `day`: (clock hour, start in UTC) each, 23 on the day the clocks go
    forward (no 02:00 in Los Angeles) and 25 on the day they go back (01:00 twice)."""
    start, end = store.day_bounds(day)
    hours = []
    while start < end:
        hours.append((start.astimezone(store.zone).hour, start))
        start += timedelta(hours=1)
    return hours


def day_shares(curve: list[float], hours: list[tuple[int, datetime]]) -> list[float]:
    """The 24-clock-hour `curve` laid over the day's real `hours` (a doubled hour counted twice, a skipped
    one not at all) and scaled back to 1; all zero when none of the curve's hours happens that day."""
    raw = [curve[hour] for hour, _ in hours]
    total = sum(raw)
    return [c / total for c in raw] if total > 0 else [0.0] * len(raw)


def share_by(shares: list[float], hours: list[tuple[int, datetime]], moment: datetime) -> Decimal:
    """Expected share of the day's spend by `moment` (the hour under way counted by its elapsed seconds)."""
    done = 0.0
    for share, (_, start) in zip(shares, hours, strict=True):
        elapsed = (moment - start).total_seconds()
        if elapsed > 0:
            done += share * min(elapsed / 3600, 1.0)
    return Decimal(str(round(min(done, 1.0), 6)))


def local_hour_start(store: Store, day: date, hour: int) -> datetime:
    """When the store-local clock hour `hour` (0-24; 24 is the next midnight) of `day` begins, in UTC.

    By the clock, not midnight + hours: on a DST day those differ by an hour after the change."""
    if hour >= 24:
        return store.day_bounds(day)[1]
    return datetime.combine(day, time(hour), tzinfo=store.zone).astimezone(UTC)


# --- today's pacing -------------------------------------------------------------------------

@dataclass
class PlanPacing:
    plan: AdPlan
    now: datetime
    today: date
    curve_basis: str
    spend_today: Decimal
    last_snapshot: datetime | None
    last_increase: datetime | None
    expected_share: Decimal
    projected_day: Decimal | None
    spent_total: Decimal
    projected_total: Decimal | None
    hourly_actual: list[Decimal | None] = field(default_factory=list)  # cumulative at the end of each hour
    hourly_expected: list[Decimal] = field(default_factory=list)  # budget × cumulative expected share
    stopped_hours: float | None = None
    stopped_since: datetime | None = None  # when the quiet spell began (its spend last rose), while stopped
    fed_today: bool = True  # a snapshot or a report for today: without one, today's spend is unknown, not 0
    spend_as_of: datetime | None = None  # when today's spend figure was taken (its snapshot, or its report's import)
    spend_rises: list[datetime] = field(default_factory=list)  # its snapshots of the last 7 days that rose, by time

    @property
    def will_overspend_day(self) -> bool:
        budget = self.plan.daily_budget
        return bool(budget and self.projected_day is not None and self.projected_day > budget)

    @property
    def will_overspend_total(self) -> bool:
        budget = self.plan.total_budget
        return bool(budget and self.projected_total is not None and self.projected_total > budget)

    @property
    def stopped(self) -> bool:
        return self.stopped_hours is not None

    @property
    def stopped_words(self) -> str:
        """How long it has been quiet, as the desk says waits: '4 h 30 min', '91 h' (not '91.9 h')."""
        return hours_words(timedelta(hours=self.stopped_hours)) if self.stopped else ""

    @property
    def running(self) -> bool:
        """Active and inside its dates today: a paused or ended plan is expected to spend nothing."""
        return _is_running(self.plan, self.today)

    @property
    def expected_share_pct(self) -> str:
        return percent(self.expected_share)

    @property
    def budget_used(self) -> Decimal | None:
        return ratio(self.spend_today, self.plan.daily_budget)

    @property
    def budget_used_pct(self) -> str:
        return percent(self.budget_used)


def _is_running(plan: AdPlan, day: date) -> bool:
    return plan.status == AdPlanStatus.ACTIVE and plan.runs_on(day)


def budget_spent(plan: AdPlan, spend: Decimal) -> bool:
    """Whether `spend` (one day's) used up the plan's daily budget, so the platform stopped serving it."""
    return bool(plan.daily_budget) and spend >= plan.daily_budget * BUDGET_SPENT


def plan_pacing(plan: AdPlan, now: datetime | None = None, curve: tuple[list[float], str] | None = None) -> PlanPacing:
    """Today's pacing of one plan at `now` (default: the current time)."""
    return plans_pacing(plan.store, [plan], now, curve)[plan.pk]


def plans_pacing(store: Store, plans: list[AdPlan], now: datetime | None = None,
                 curve: tuple[list[float], str] | None = None) -> dict[int, PlanPacing]:
    """Today's pacing of each of the store's `plans` at `now`, by plan id (the same few queries for any number)."""
    now = now or timezone.now()
    if not plans:
        return {}
    return stores_plans_pacing(plans, now, {store.pk: curve or expected_curve(store, now)})


def stores_plans_pacing(plans: list[AdPlan], now: datetime,
                        curves: dict[int, tuple[list[float], str]] | None = None) -> dict[int, PlanPacing]:
    """`plans_pacing` of plans of several stores (each on its store's local today, `plan.store` loaded), by plan
    id: the same few queries for any number of plans and stores. `curves` by store id (default: read here)."""
    if not plans:
        return {}
    stores = {plan.store_id: plan.store for plan in plans}
    curves = curves if curves is not None else expected_curves(list(stores.values()), now)
    todays = {pk: store.today(now) for pk, store in stores.items()}
    ids = [plan.pk for plan in plans]
    week: dict[int, list[AdSpendSnapshot]] = defaultdict(list)
    for snap in AdSpendSnapshot.objects.filter(plan__in=ids, ts__gte=now - timedelta(days=7), ts__lte=now
                                               ).order_by("ts"):
        week[snap.plan_id].append(snap)
    today_of = {plan.pk: todays[plan.store_id] for plan in plans}
    recent: dict[int, dict[date, AdDailyPerformance]] = defaultdict(dict)
    for row in AdDailyPerformance.objects.filter(plan__in=ids,
                                                 date__gte=min(todays.values()) - timedelta(days=RUN_RATE_DAYS),
                                                 date__lte=max(todays.values())):
        if 0 <= (today_of[row.plan_id] - row.date).days <= RUN_RATE_DAYS:  # its own store's days
            recent[row.plan_id][row.date] = row
    before = Q()  # each plan's days before its own store's today (stores on either side of midnight)
    for day, day_ids in group(ids, today_of.get).items():
        before |= Q(plan__in=day_ids, date__lt=day)
    spent_before = dict(AdDailyPerformance.objects.filter(before).order_by()
                        .values("plan_id").annotate(s=Sum("spend")).values_list("plan_id", "s"))
    # When each plan was last set active (resumed): a plan quiet while paused has not stopped. The row the record
    # began with is no resumption.
    resumed = dict(AdPlanStatusChange.objects.filter(plan__in=ids, status=AdPlanStatus.ACTIVE, at__lte=now)
                   .exclude(source=StatusSource.RECORD_BEGAN).order_by().values("plan_id")
                   .annotate(at=Max("at")).values_list("plan_id", "at"))
    return {plan.pk: _pacing(plan, now, curves[plan.store_id], week[plan.pk], recent[plan.pk],
                             spent_before.get(plan.pk), resumed.get(plan.pk)) for plan in plans}


def group(items, key) -> dict:
    """`items` in lists by `key(item)`, in their order."""
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def _pacing(plan: AdPlan, now: datetime, curve: tuple[list[float], str], week: list[AdSpendSnapshot],
            recent_days: dict[date, AdDailyPerformance], spent_before: Decimal | None,
            resumed: datetime | None = None) -> PlanPacing:
    """One plan's pacing from its snapshots of the last 7 days up to `now` (by time), its daily reports of the
    last RUN_RATE_DAYS days and today, the sum of its reported spend before today, and when it was last set
    active (its quiet spell cannot begin before)."""
    store = plan.store
    today = store.today(now)
    local_now = now.astimezone(store.zone)
    day_start, _ = store.day_bounds(today)
    store_curve, basis = curve
    hours = day_hours(store, today)
    shares = day_shares(plan_curve(plan, store_curve), hours)
    snapshots = [snap for snap in week if snap.ts >= day_start]
    spend_today = snapshots[-1].spend_today if snapshots else ZERO
    spend_as_of = snapshots[-1].ts if snapshots else None
    today_row = recent_days.get(today)
    if today_row and (today_row.spend > spend_today or not snapshots):
        spend_today, spend_as_of = today_row.spend, today_row.imported_at
    last_increase, previous = None, ZERO
    for snap in snapshots:
        if snap.spend_today > previous:
            last_increase, previous = snap.ts, snap.spend_today

    fed_today = bool(snapshots) or today_row is not None
    expected_share = share_by(shares, hours, now)
    projected_day = None
    if fed_today and expected_share >= EARLIEST_PROJECTION:
        projected_day = to_money(spend_today / expected_share)

    spent_before = to_money(spent_before or ZERO)
    recent = [row.spend for day, row in recent_days.items() if day < today]
    run_rate = (sum(recent, ZERO) / len(recent)) if recent else plan.daily_budget
    days_left = max(0, (plan.end_date - today).days) if plan.end_date else 0
    projected_total = to_money(spent_before + (projected_day or spend_today) + run_rate * days_left)

    hourly_actual: list[Decimal | None] = []
    hourly_expected: list[Decimal] = []
    idx, value = 0, ZERO
    for h in range(24):  # by clock hour: a doubled hour holds both its real hours, a skipped one none
        hour_end = local_hour_start(store, today, h + 1)
        hourly_expected.append(to_money(plan.daily_budget * share_by(shares, hours, hour_end)))
        if h > local_now.hour or not fed_today:
            hourly_actual.append(None)
            continue
        while idx < len(snapshots) and snapshots[idx].ts <= hour_end:
            value = snapshots[idx].spend_today
            idx += 1
        # The hour under way ends at the spend the page shows (an intraday report may exceed the snapshots).
        hourly_actual.append(spend_today if h == local_now.hour else value)

    pacing = PlanPacing(plan=plan, now=now, today=today, curve_basis=basis, spend_today=spend_today,
                        last_snapshot=snapshots[-1].ts if snapshots else None, last_increase=last_increase,
                        expected_share=expected_share, projected_day=projected_day, spent_total=spent_before +
                        spend_today, projected_total=projected_total, hourly_actual=hourly_actual,
                        hourly_expected=hourly_expected, fed_today=fed_today, spend_as_of=spend_as_of,
                        spend_rises=_spend_rises(plan, week))
    if not budget_spent(plan, spend_today):
        since = _quiet_since(plan, now, today, local_now, last_increase, week, resumed)
        quiet = (now - since).total_seconds() / 3600 if since is not None else 0
        if quiet >= STOPPED_HOURS:
            pacing.stopped_hours, pacing.stopped_since = round(quiet, 1), since
    return pacing


def _spend_rises(plan: AdPlan, week: list[AdSpendSnapshot]) -> list[datetime]:
    """When the plan's cumulative spend rose over `week` (each store-local day's counter starts at zero): what tells
    that a plan emailed as stopped spends again."""
    zone = plan.store.zone
    rises, previous, current_day = [], ZERO, None
    for snap in week:
        day = snap.ts.astimezone(zone).date()
        if day != current_day:
            current_day, previous = day, ZERO
        if snap.spend_today > previous:
            rises.append(snap.ts)
            previous = snap.spend_today
    return rises


def _last_increase_before_today(plan: AdPlan, day_start: datetime, week: list[AdSpendSnapshot]) -> datetime | None:
    """When the cumulative spend last rose in the previous days (each day's counter starts at zero).

    A day that ended on its spent budget was quiet because of the cap: today's start is returned."""
    zone = plan.store.zone
    last, previous, current_day = None, ZERO, None
    for snap in week:
        if snap.ts >= day_start:
            break
        day = snap.ts.astimezone(zone).date()
        if day != current_day:
            current_day, previous = day, ZERO
        if snap.spend_today > previous:
            last, previous = snap.ts, snap.spend_today
    return day_start if last is not None and budget_spent(plan, previous) else last


def _quiet_since(plan: AdPlan, now, today, local_now, last_increase, week: list[AdSpendSnapshot],
                 resumed: datetime | None = None) -> datetime | None:
    """When the plan's spend last rose inside its window (its quiet spell's start), or None when it is not
    expected to spend now (not running, outside its hours) or not fed hourly."""
    if not _is_running(plan, today) or not plan.runs_at_hour(local_now.hour):
        return None
    if not week:  # not fed hourly: no snapshot in the last 7 days
        return None
    day_start, _ = plan.store.day_bounds(today)
    window_open = local_hour_start(plan.store, today, plan.hour_from)
    if last_increase is not None:
        since = max(last_increase, window_open)
    elif plan.hour_from == 0 and plan.hour_to == 24:
        # Round the clock: the quiet spell may have begun before midnight.
        since = _last_increase_before_today(plan, day_start, week) or window_open
    else:
        since = window_open
    if resumed is not None:
        since = max(since, resumed)
    return since


@dataclass(frozen=True)
class PacingAlert:
    plan: AdPlan
    kind: str  # overspend_day | overspend_total | stopped
    message: str
    severity: str


def _alerts(plans: list[AdPlan], pacings: dict[int, PlanPacing], cur: str) -> list[PacingAlert]:
    def money(value) -> str:  # '1,714.29 CNY', as the amounts beside the alert are written
        return f"{metric_value(value, 'money')} {cur}"

    alerts = []
    for plan in plans:
        p = pacings[plan.pk]
        if p.stopped:
            alerts.append(PacingAlert(plan, "stopped", f"{plan.name}: no spend for {p.stopped_words} while "
                                      f"active (today {money(p.spend_today)})", "danger"))
        if p.will_overspend_day:
            alerts.append(PacingAlert(plan, "overspend_day", f"{plan.name}: on pace for {money(p.projected_day)} "
                                      f"today, daily budget {money(plan.daily_budget)}", "warning"))
        if p.will_overspend_total:
            alerts.append(PacingAlert(plan, "overspend_total", f"{plan.name}: on pace for "
                                      f"{money(p.projected_total)} in all, total budget {money(plan.total_budget)}",
                                      "warning"))
    return alerts


def pacing_alerts(store: Store, now: datetime | None = None) -> list[PacingAlert]:
    """Alerts for the store's active plans: will overspend the daily / total budget, or stopped spending."""
    return stores_pacing_alerts([store], now)[store.pk]


def watched_plans(stores: list[Store], now: datetime) -> list[AdPlan]:
    """The plans of `stores` that pacing alerts watch: active and inside their dates on their own store's today."""
    by_pk = {store.pk: store for store in stores}
    watched = []
    for plan in AdPlan.objects.filter(store__in=stores, status=AdPlanStatus.ACTIVE):
        plan.store = by_pk[plan.store_id]
        if plan.runs_on(plan.store.today(now)):
            watched.append(plan)
    return watched


def stores_pacing_alerts(stores: list[Store], now: datetime | None = None) -> dict[int, list[PacingAlert]]:
    """`pacing_alerts` of each of `stores` by store id: the same few queries for any number of stores."""
    now = now or timezone.now()
    watched = watched_plans(stores, now)
    pacings = stores_plans_pacing(watched, now)
    by_store = group(watched, lambda plan: plan.store_id)
    return {store.pk: _alerts(by_store.get(store.pk, []), pacings, store.currency) for store in stores}


def listed_pacing(stores: list[Store], listed: list[AdPlan], now: datetime | None = None
                  ) -> tuple[dict[int, PlanPacing], list[PacingAlert]]:
    """Today's pacing of the `listed` plans of `stores` (each on its store's local today) by plan id, and the
    alerts of `stores`, listed or not, store by store: the same few queries for any number of plans and stores."""
    now = now or timezone.now()
    watched = watched_plans(stores, now)
    shown = {store.pk for store in stores}
    plans = {plan.pk: plan for plan in [*watched, *(p for p in listed if p.store_id in shown)]}
    pacings = stores_plans_pacing(list(plans.values()), now)
    by_store = group(watched, lambda plan: plan.store_id)
    alerts = [alert for store in stores for alert in _alerts(by_store.get(store.pk, []), pacings, store.currency)]
    return pacings, alerts


# --- month pacing ---------------------------------------------------------------------------

@dataclass
class MonthPacing:
    """Spend in a month so far against its budget, for one plan or a whole store (`month_figures`)."""

    month_start: date
    days_in_month: int
    days_elapsed: int  # whole days the budget covers before today (today, still under way, is not one)
    spend: Decimal
    budget: Decimal | None  # None: neither a daily nor a total cap
    projected: Decimal | None  # None before a whole day has gone
    run_days: int = 0  # days of the month the budget covers (a plan's days; the whole month for a store)
    active: bool = True  # False for a paused, draft or ended plan: it is never underspending
    # Run days gone whose spend is known (a report, or for the day in hand a snapshot); fewer than days_elapsed
    # when the reports stop early: the projection averages these only, an unimported day is not a day of 0.
    reported_days: int | None = None
    missing_since: date | None = None  # the first run day gone without a report (an active plan's), or None
    # Reported run days gone without spend (or impressions) before a later day that had some: days the plan was
    # paused and then resumed, left out of its average and of the days it is projected over.
    paused_days: int = 0
    rate: Decimal | None = None  # the average daily spend over the days it ran (None: no reported day to average)
    # Whole days gone its status history says it was not set to run (paused, draft): left out of the days it should
    # have spent on and of its budget (`run_days`), not inferred from its reports.
    paused_by_status: int = 0
    missing_plans: list = field(default_factory=list)  # a store's month: (plan, its month) of plans missing reports
    paused_on: frozenset = frozenset()  # the days counted in `paused_by_status` (a plan's month; the chart reads them)
    # A plan's month: active again today after every run day gone was paused by its status history, so no day of
    # spend to project from yet (its month reads so, not "too early").
    resumed_today: bool = False
    # A store's month: the share of its plans' budgeted run days gone (each plan's days weighted by its daily budget),
    # which pro-rates the store's budget to `expected`; None: the month's days gone (no plan runs this month).
    share_gone: Decimal | None = None

    def __post_init__(self):
        if self.reported_days is None:
            self.reported_days = self.days_elapsed

    @property
    def expected(self) -> Decimal | None:
        """The budget pro-rated by the days gone: what should be spent by the start of today."""
        if self.budget is None or not self.run_days:
            return None
        if self.share_gone is not None:
            return to_money(self.budget * self.share_gone)
        return to_money(self.budget * self.days_elapsed / self.run_days)

    @property
    def will_overspend(self) -> bool:
        if self.budget is None:
            return False
        return self.spend > self.budget or (self.projected is not None and self.projected > self.budget)

    @property
    def days_left(self) -> int:
        """Days the budget covers still to come, today included while it is under way (0 once the plan's last day
        of the month, or the month, is over)."""
        return self.run_days - self.days_elapsed

    @property
    def will_underspend(self) -> bool:
        """On pace to end the month below AD_UNDERSPEND_SHARE of its budget: starved or stalled campaigns. Judged
        only from MIN_UNDERSPEND_DAYS whole days on (a month's first days are too few to project from), while it
        still has days to spend on and the plan is active (a paused or ended one spends nothing by choice)."""
        if not self.budget or not self.active or self.projected is None or self.will_overspend:
            return False
        if self.reported_days < MIN_UNDERSPEND_DAYS or self.days_left <= 0:
            return False
        return self.heading_for < self.budget * Decimal(str(settings.AD_UNDERSPEND_SHARE))

    @property
    def verdict(self) -> str | None:
        """over (spent or on pace to spend more than the budget), underspend (on pace to use less than
        AD_UNDERSPEND_SHARE of it), under (on pace, within the budget), early (no whole day to project from
        yet), or None without a budget."""
        if self.budget is None:
            return None
        if self.will_overspend:
            return "over"
        if self.will_underspend:
            return "underspend"
        return "early" if self.projected is None else "under"

    @property
    def alert(self) -> bool:
        """Whether the month needs the manager: over its budget, already or at the current rate, or on pace to
        leave much of it unspent. The one rule the desk, the ads pages and the morning email all go by; on pace,
        too early to project or no budget is no alert."""
        return self.verdict in ("over", "underspend")

    @property
    def heading_pct(self) -> int | None:
        """Where the month is heading as a whole percentage of the budget (None for a budget of 0 or none)."""
        return round(self.heading_for / self.budget * 100) if self.budget else None

    @property
    def heading_for(self) -> Decimal:
        """Where the month ends at the current rate, or what is spent already when that is more (or no projection)."""
        return max(self.spend, self.projected if self.projected is not None else self.spend)

    @property
    def over_by(self) -> Decimal | None:
        """How far beyond the budget the month already is or ends at the current rate (the larger)."""
        if self.verdict != "over":
            return None
        return max(self.spend, self.projected or ZERO) - self.budget

    @property
    def under_by(self) -> Decimal | None:
        """How far below the budget the month ends at the current rate, when it is on pace within it."""
        return self.budget - self.projected if self.verdict in ("under", "underspend") else None


def plan_days(n: int) -> str:
    """"1 plan-day", "15 plan-days": days summed over a store's plans (its month's `paused_by_status`)."""
    return f"{n:,} plan-day{'' if n == 1 else 's'}"


def month_figures(day: date, spend_before: Decimal, spend_today: Decimal, budget: Decimal | None,
                  runs_on=lambda d: True, day_done: bool = False, active: bool = True,
                  reported=lambda d: True, watched_from: date = date.min, ran: tuple[int, date | None] | None = None,
                  paused_on: frozenset[date] = frozenset()) -> MonthPacing:
    """The month of the store-local `day` (today): `spend_before` (its days before today) plus `spend_today`
    against `budget`, projected to the month's end at the daily average of the days before today among those
    `runs_on` (today, mostly unreported, would drag the average down; on the 1st there is no projection).

    With `day_done`, `day` is over (the morning email's yesterday): it counts as a whole day gone, its spend
    among the days averaged, and the month's last day projects what was spent. `active` False (a paused, draft
    or ended plan) keeps the month from underspending. The average is over the days gone that are `reported`
    only: days whose report is not imported yet are missing, not days of 0 (an active plan's first such day is
    `missing_since`, from `watched_from` on: the day the plan was created here, whose earlier days nobody was
    to import).

    `ran`, a plan's (days of the month before `day` with spend or impressions, the last of them), leaves out of
    the average the reported days without any before its last day that had some: the plan was paused then and
    resumed, so it is judged at its rate of the days it ran, over the days it ran, has not reported yet and has
    left. Days without spend after its last day that had some still count as days of 0: an active plan quiet
    since is stalled, not paused. Callers pass `ran` only for a month its status history does not cover from its
    first day (the record began later): the history, where it runs, says which days were paused.

    `paused_on`: the days gone its status history says the plan was not set to run all day (`paused_days_of`).
    They are neither days it should have spent on nor days of its budget (`run_days`), nor missing reports."""
    start = day.replace(day=1)
    n_days = calendar.monthrange(day.year, day.month)[1]
    stopped = sum(1 for d in paused_on if runs_on(d))
    run_days = sum(1 for i in range(n_days) if runs_on(start + timedelta(days=i))) - stopped
    gone = [d for d in (start + timedelta(days=i) for i in range((day - start).days + day_done))
            if runs_on(d) and d not in paused_on]
    known = [d for d in gone if reported(d)]
    missing = next((d for d in gone if not reported(d) and d >= watched_from), None) if active else None
    averaged = spend_before + spend_today if day_done else spend_before
    paused = 0
    if ran is not None:
        ran_days, last_ran = ran
        if day_done and spend_today > 0 and day in known:
            ran_days, last_ran = ran_days + 1, day
        if last_ran is not None:
            paused = max(0, sum(1 for d in known if d <= last_ran) - ran_days)
    averaged_days = len(known) - paused
    rate = averaged / averaged_days if averaged_days else None
    projected = to_money(rate * (run_days - paused)) if rate is not None else None
    return MonthPacing(start, n_days, len(gone), to_money(spend_before + spend_today),
                       None if budget is None else to_money(budget), projected, run_days, active, len(known),
                       missing, paused_days=paused, rate=rate, paused_by_status=stopped,
                       paused_on=frozenset(d for d in paused_on if runs_on(d)),
                       resumed_today=active and stopped > 0 and not gone and run_days > 0)


def _store_month(day: date, spend_before: Decimal, spend_today: Decimal, budget, plans: list[AdPlan],
                 plan_months: list[MonthPacing], day_done: bool = False) -> MonthPacing:
    """The store's month from its `plans`' months: what they spent, and each active plan's days to come and days
    without a report yet at its own rate (`MonthPacing.rate`, over the days it ran). A paused, draft or ended
    plan adds what it spent only. A plan set active today after being paused all its days gone has no rate yet:
    its days to come count at its daily budget (without a daily cap the month has no projection). While an active
    plan missing reports has no reported day to average, there is no projection.

    The budget expected by today follows the plans' run days (`share_gone`): a plan paused per its status history
    adds none of its paused days, so a week paused is not a week the store should have spent on."""
    month = month_figures(day, spend_before, spend_today, budget, day_done=day_done)
    ahead = ZERO
    for plan, plan_month in zip(plans, plan_months, strict=True):
        if not plan_month.active:
            continue
        if plan_month.rate is None:
            if plan_month.resumed_today and plan.daily_budget:
                ahead += plan.daily_budget * max(plan_month.days_left, 0)
            elif plan_month.missing_since is not None or plan_month.resumed_today:
                month.projected = None
            continue
        unreported = plan_month.days_elapsed - plan_month.reported_days
        ahead += plan_month.rate * (max(plan_month.days_left, 0) + unreported)
    if month.projected is not None:
        month.projected = to_money((spend_before + spend_today if day_done else spend_before) + ahead)
    missing = [m.missing_since for m in plan_months if m.missing_since is not None]
    month.missing_since = min(missing, default=None)
    month.paused_by_status = sum(m.paused_by_status for m in plan_months)
    month.share_gone = _share_gone(plans, plan_months)
    return month


def _share_gone(plans: list[AdPlan], plan_months: list[MonthPacing]) -> Decimal | None:
    """The share of the plans' run days of the month gone, each plan's days weighted by its daily budget (a plan
    without a daily cap by the capped plans' average, or all alike when none has one); None when no plan runs
    this month."""
    capped = [plan.daily_budget for plan in plans if plan.daily_budget]
    usual = sum(capped, ZERO) / len(capped) if capped else Decimal(1)
    gone = whole = ZERO
    for plan, plan_month in zip(plans, plan_months, strict=True):
        weight = plan.daily_budget or usual
        gone += weight * plan_month.days_elapsed
        whole += weight * plan_month.run_days
    return gone / whole if whole else None


def month_budget_cap(plan: AdPlan, month_start: date) -> Decimal | None:
    """What the plan's total budget had left when the month began (None without a total cap)."""
    if not plan.total_budget:
        return None
    return _cap(plan, plan.daily.filter(date__lt=month_start).aggregate(s=Sum("spend"))["s"])


def _cap(plan: AdPlan, spent_before_month: Decimal | None) -> Decimal | None:
    return max(plan.total_budget - to_money(spent_before_month or ZERO), ZERO) if plan.total_budget else None


def _plan_month_budget(plan: AdPlan, month_start: date, cap: Decimal | None,
                       paused_on: frozenset[date] = frozenset()) -> Decimal | None:
    """Daily budget × the plan's days in the month it was set to run (its days paused per its status history
    left out), at most `cap` (a daily budget of 0 is no daily cap)."""
    n_days = calendar.monthrange(month_start.year, month_start.month)[1]
    run_days = sum(1 for i in range(n_days) if plan.runs_on(d := month_start + timedelta(days=i))
                   and d not in paused_on)
    budget = plan.daily_budget * run_days if plan.daily_budget else None
    if cap is not None:
        budget = cap if budget is None else min(budget, cap)
    return budget


# --- status history ---------------------------------------------------------------------------

def status_changes(plan_ids, until: datetime | None = None) -> dict[int, list[tuple[datetime, str]]]:
    """Each plan's status changes up to `until` as (when, status), oldest first, by plan id: one query."""
    rows = AdPlanStatusChange.objects.filter(plan__in=plan_ids)
    if until is not None:
        rows = rows.filter(at__lt=until)
    changes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for plan_id, at, status in rows.order_by("plan_id", "at", "pk").values_list("plan_id", "at", "status"):
        changes[plan_id].append((at, status))
    return changes


def paused_days_of(changes: list[tuple[datetime, str]], store: Store, first: date, last: date
                   ) -> tuple[frozenset[date], bool]:
    """The store-local days `first`..`last` the plan was not set to run at all by its status `changes`
    (`status_changes`): not active when the day began and not made active during it (a day paused for part of
    it ran), and whether the history covers `first` whole (it began before, so it needs no inference).
    Days before the first change are unknown, never paused."""
    if not changes or last < first:
        return frozenset(), bool(changes) and changes[0][0] <= store.day_bounds(first)[0]
    covers = changes[0][0] <= store.day_bounds(first)[0]
    if covers and all(status == AdPlanStatus.ACTIVE for _, status in changes):
        return frozenset(), True  # the usual plan, active all along: no day to walk
    paused, day = set(), first
    while day <= last:
        start, end = store.day_bounds(day)
        began = [status for at, status in changes if at <= start]
        if began and began[-1] != AdPlanStatus.ACTIVE and not any(
                start < at < end and status == AdPlanStatus.ACTIVE for at, status in changes):
            paused.add(day)
        day += timedelta(days=1)
    return frozenset(paused), covers


def _month_history(changes, store: Store, day: date, day_done: bool = False) -> tuple[frozenset[date], bool]:
    """`paused_days_of` for the whole days gone of `day`'s month (`day` too once it is done)."""
    return paused_days_of(changes, store, day.replace(day=1), day if day_done else day - timedelta(days=1))


def month_pacing(plan: AdPlan, day: date) -> MonthPacing:
    """Spend in `day`'s month up to `day` vs the month's budget: daily budget × the plan's days in the month,
    at most what its total budget had left when the month began (a daily budget of 0 is no daily cap)."""
    start = day.replace(day=1)

    def spend_of(**dates) -> Decimal:
        return to_money(plan.daily.filter(**dates).aggregate(s=Sum("spend"))["s"] or ZERO)

    paused, covered = _month_history(status_changes([plan.pk])[plan.pk], plan.store, day)
    budget = _plan_month_budget(plan, start, month_budget_cap(plan, start), paused)
    days = plan.daily.filter(date__gte=start, date__lt=day).aggregate(
        last=Max("date"), ran=Count("pk", filter=RAN), last_ran=Max("date", filter=RAN))
    return month_figures(day, spend_of(date__gte=start, date__lt=day), spend_of(date=day), budget, plan.runs_on,
                         active=plan.status == AdPlanStatus.ACTIVE, reported=_reported_through(days["last"]),
                         watched_from=_created_on(plan, plan.store),
                         ran=None if covered else (days["ran"], days["last_ran"]), paused_on=paused)


def _created_on(plan: AdPlan, store: Store) -> date:
    return timezone.localtime(plan.created_at, store.zone).date()


def _reported_through(last: date | None, also: date | None = None):
    """Whether a day's spend is known: up to the plan's last daily report (and `also`, a day fed by snapshots)."""
    return lambda d: (last is not None and d <= last) or d == also


def store_month_pacing(store: Store, now: datetime | None = None) -> MonthPacing:
    """The store's ad spend this store-local month, all plans together, against its StoreAdBudget for the month
    (budget None when none is set). Days before today count their daily reports; today counts, per plan, the
    larger of its report and its latest snapshot, as spent today reads on the plans page."""
    return stores_month_pacing([store], now)[store.pk]


def stores_month_pacing(stores: list[Store], now: datetime | None = None) -> dict[int, MonthPacing]:
    """`store_month_pacing` of each of `stores` by store id: the same few queries for any number of stores."""
    now = now or timezone.now()
    todays = {store.pk: store.today(now) for store in stores}
    plans = group(AdPlan.objects.filter(store__in=stores), lambda plan: plan.store_id)
    same_today = group(stores, lambda store: todays[store.pk])
    days, budgets = Q(), Q()
    for today, day_stores in same_today.items():
        days |= Q(plan__store__in=day_stores, date__gte=today.replace(day=1), date__lt=today)
        budgets |= Q(store__in=day_stores, month=today.replace(day=1))
    before = {row["plan_id"]: row for row in AdDailyPerformance.objects.filter(days).order_by()
              .values("plan_id").annotate(s=Sum("spend"), last=Max("date"), ran=Count("pk", filter=RAN),
                                          last_ran=Max("date", filter=RAN))} if stores else {}
    on_today = _spend_of_days([(store, todays[store.pk], plans[store.pk]) for store in stores if plans.get(store.pk)],
                              now)
    budget_of = {(pk, month): amount for pk, month, amount
                 in StoreAdBudget.objects.filter(budgets).values_list("store_id", "month", "amount")} if stores else {}
    history = status_changes(AdPlan.objects.filter(store__in=stores).values("pk"), now) if stores else {}
    result = {}
    for store in stores:
        today, store_plans = todays[store.pk], plans.get(store.pk, [])
        start = today.replace(day=1)
        spend_before = to_money(sum((before[p.pk]["s"] for p in store_plans if p.pk in before), ZERO))
        spend_today = to_money(sum((on_today[p.pk] for p in store_plans if p.pk in on_today), ZERO))
        months = []
        for p in store_plans:
            row = before.get(p.pk, {})
            paused, covered = _month_history(history.get(p.pk), store, today)
            months.append(month_figures(today, to_money(row.get("s") or ZERO), on_today.get(p.pk, ZERO), None,
                                        p.runs_on, active=p.status == AdPlanStatus.ACTIVE,
                                        reported=_reported_through(row.get("last")), watched_from=_created_on(p, store),
                                        ran=None if covered else (row.get("ran") or 0, row.get("last_ran")),
                                        paused_on=paused))
        month = _store_month(today, spend_before, spend_today, budget_of.get((store.pk, start)), store_plans, months)
        month.missing_plans = [(p, m) for p, m in zip(store_plans, months, strict=True) if m.missing_since]
        result[store.pk] = month
    return result


@dataclass
class MonthAlerts:
    """The store's month and its plans' months through a complete store-local `day`, only those the desk's rule
    alerts on (over budget, or on pace to underspend it)."""

    day: date
    store: MonthPacing | None  # None: the store's month is on pace with its ad budget (or has none)
    plans: list[tuple[AdPlan, MonthPacing]]  # also those missing reports (`missing_since`), alert or not

    def __bool__(self) -> bool:
        return self.store is not None or bool(self.plans)


def month_alerts(store: Store, day: date) -> MonthAlerts:
    """What the morning email says about ad budgets: the store's month (its StoreAdBudget) and each plan's month
    (`month_pacing`'s budget) through the complete `day`, yesterday, so the morning's first hours of spend do
    not count, kept only when over budget or underspending by the desk's rule (`MonthPacing.alert`). The days
    before `day` count their daily reports, `day` the larger of each plan's report and last snapshot, as "spent
    today" read on it; days its status history says a plan was paused are left out of its month. Six queries,
    whatever the number of plans."""
    start = day.replace(day=1)
    plans = list(AdPlan.objects.filter(store=store).order_by("name"))
    # The month's days before `day`, and for plans with a total budget what they spent before the month too.
    sums = {row["plan_id"]: row for row in AdDailyPerformance.objects
            .filter(Q(date__gte=start) | Q(plan__total_budget__gt=0), plan__store=store, date__lt=day).order_by()
            .values("plan_id").annotate(month=Sum("spend", filter=Q(date__gte=start)),
                                        before=Sum("spend", filter=Q(date__lt=start)),
                                        last=Max("date", filter=Q(date__gte=start)),
                                        ran=Count("pk", filter=Q(date__gte=start) & RAN),
                                        last_ran=Max("date", filter=Q(date__gte=start) & RAN))}
    on_day = _spend_of_day(plans, store, day) if plans else {}
    budget = StoreAdBudget.objects.filter(store=store, month=start).values_list("amount", flat=True).first()
    history = status_changes(plans, store.day_bounds(day)[1]) if plans else {}
    alerted, months = [], []
    for plan in plans:
        row = sums.get(plan.pk, {})
        paused, covered = _month_history(history.get(plan.pk), store, day, day_done=True)
        month = month_figures(day, to_money(row.get("month") or ZERO), on_day.get(plan.pk, ZERO),
                              _plan_month_budget(plan, start, _cap(plan, row.get("before")), paused), plan.runs_on,
                              day_done=True, active=plan.status == AdPlanStatus.ACTIVE,
                              reported=_reported_through(row.get("last"), day if plan.pk in on_day else None),
                              watched_from=_created_on(plan, store),
                              ran=None if covered else (row.get("ran") or 0, row.get("last_ran")), paused_on=paused)
        months.append(month)
        if month.alert or month.missing_since:
            alerted.append((plan, month))
    spend_before = sum((to_money(row["month"] or ZERO) for row in sums.values()), ZERO)
    whole = _store_month(day, spend_before, sum(on_day.values(), ZERO), budget, plans, months, day_done=True)
    return MonthAlerts(day, whole if whole.alert else None, alerted)


# --- what other duties read -----------------------------------------------------------------

def _spend_of_day(plans: list[AdPlan], store: Store, day: date, now: datetime | None = None) -> dict[int, Decimal]:
    """Spend per plan id on `day`: the larger of the daily report and the day's latest snapshot."""
    return _spend_of_days([(store, day, plans)], now)


def _spend_of_days(store_days: list[tuple[Store, date, list[AdPlan]]], now: datetime | None = None
                   ) -> dict[int, Decimal]:
    """`_spend_of_day` of several stores' plans, each (store, its day, its plans), in two queries for all."""
    reports, snapshots = Q(), Q()
    for store, day, plans in store_days:
        if not plans:
            continue
        reports |= Q(plan__in=plans, date=day)
        start, end = store.day_bounds(day)
        end = min(end, now or timezone.now()) if day >= store.today(now) else end
        snapshots |= Q(plan__in=plans, ts__gte=start, ts__lt=end)
    if not reports:
        return {}
    spend = {pid: s for pid, s in AdDailyPerformance.objects.filter(reports).values_list("plan_id", "spend")}
    latest = (AdSpendSnapshot.objects.filter(snapshots)
              .order_by("plan_id", "-ts").values_list("plan_id", "ts", "spend_today"))
    seen = set()
    for pid, _, value in latest:
        if pid in seen:
            continue
        seen.add(pid)
        spend[pid] = max(spend.get(pid, ZERO), value)
    return spend


def spend_by_source(store: Store, day: date, now: datetime | None = None) -> dict[str, Decimal]:
    """Paid spend on the store-local `day` by traffic source (CHANNEL_SOURCE), for the live cost column.

    Today's figure comes from the plans' latest hourly snapshots (or an intraday report, whichever
    is larger); past days from the daily reports. Sources without a plan are absent.
    """
    plans = list(AdPlan.objects.filter(store=store))
    spend = _spend_of_day(plans, store, day, now)
    result: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for plan in plans:
        result[str(CHANNEL_SOURCE[plan.channel])] += spend.get(plan.pk, ZERO)
    return dict(result)


def daily_ad_results(store: Store, day: date) -> dict:
    """The morning numbers for paid ads on `day`: spend, clicks, orders, sales and ROAS by plan and source.

    Returns {"day", "currency", "plans": [...], "sources": [...], "total": {...}}; each entry has
    impressions, clicks, spend, orders, sales and the derived ctr, cpc, cvr, cpa, roas, acos (None
    when undefined). Plans with no row for the day are listed with zeros if they were active.
    """
    rows = {r.plan_id: r for r in AdDailyPerformance.objects.filter(plan__store=store, date=day)}
    plans = AdPlan.objects.filter(Q(pk__in=rows) | Q(status=AdPlanStatus.ACTIVE), store=store).order_by("name")
    by_source: dict[str, Totals] = defaultdict(Totals)
    total = Totals()
    plan_entries = []
    for plan in plans:
        t = Totals()
        if plan.pk in rows:
            t.add(rows[plan.pk])
        elif not plan.runs_on(day):
            continue
        source = str(CHANNEL_SOURCE[plan.channel])
        by_source[source].add(t)
        total.add(t)
        plan_entries.append({"plan_id": plan.pk, "plan": plan.name, "channel": plan.channel,
                             "channel_label": plan.get_channel_display(), "source": source, **t.as_dict()})
    return {
        "day": day, "currency": store.currency, "plans": plan_entries,
        "sources": [{"source": s, **t.as_dict()} for s, t in sorted(by_source.items())],
        "total": total.as_dict(),
    }
