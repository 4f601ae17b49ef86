"""Post-activity review: actual vs goal vs baseline, and the uplift with its uncertainty.

The baseline is the same-length period before the activity, moved back by whole weeks so every
activity day is paired with the same weekday (a 3-day Fri–Sun activity is compared with the
Fri–Sun one week earlier; a 10-day one with the 10 days two weeks earlier). The uplift is the
sum of the daily differences; its 95 % interval is t-based on those paired differences.

`running_activities(store, day)` is what the daily anomaly detector calls to explain a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from metrics import figures as house
from opsdesk.lazy import lazy_module
from stores.models import Store

from . import activity_history
from .measures import daily_measures
from .models import Activity, ActivityReview, ActivityStatus

stats = lazy_module("scipy.stats")

REVIEWED_MEASURES = [("gmv", "GMV", "goal_gmv"), ("orders", "Paid orders", "goal_orders"),
                     ("new_members", "New members", "goal_new_members")]


@dataclass(frozen=True)
class MeasureReview:
    key: str
    label: str
    actual: float
    goal: float | None
    baseline: float
    uplift: float
    uplift_low: float | None  # 95 % interval of the uplift; None when there is one day only
    uplift_high: float | None

    @property
    def goal_reached(self) -> bool | None:
        return None if self.goal is None else self.actual >= self.goal

    @property
    def uplift_percent(self) -> float | None:
        return round(100 * self.uplift / self.baseline, 1) if self.baseline else None

    @property
    def kind(self) -> str:
        """How its figures are written (metrics.figures.metric_value): GMV is money, the others counts."""
        return "money" if self.key == "gmv" else "count"

    @property
    def uplift_words(self) -> str:
        """'+289 (+162 %)': the uplift with its sign, and its share of the baseline as the daily pages write a
        change ('−34 %', 'from 0')."""
        change = self.uplift / self.baseline if self.baseline else None
        words, _ = house.change_words(change, value=self.actual, earlier=self.baseline)
        return f"{signed(self.uplift, self.kind)} ({words})"

    @property
    def interval_words(self) -> str | None:
        """'−2.91 … +26.91' (two decimals even for counts: the bounds are no whole numbers); None for one day."""
        if self.uplift_low is None:
            return None
        return f"{signed(self.uplift_low, 'money')} … {signed(self.uplift_high, 'money')}"

    @property
    def significant(self) -> bool:
        return self.uplift_low is not None and (self.uplift_low > 0 or self.uplift_high < 0)


def signed(value: float, kind: str) -> str:
    """A difference as metrics.figures writes a figure of `kind`, with '+' or a real minus ('±0' for none)."""
    text = house.metric_value(abs(value), kind)
    if not text.strip("0.,"):
        return f"±{text}"
    return f"{'+' if value > 0 else house.MINUS}{text}"


def baseline_period(first: date, last: date) -> tuple[date, date]:
    """The same-length period before first..last, shifted by whole weeks (same weekdays, no overlap)."""
    length = (last - first).days + 1
    shift = timedelta(days=7 * math.ceil(length / 7))
    return first - shift, last - shift


def uplift_interval(diffs: list[float], confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """Total uplift (sum of paired daily differences) and its t-based interval (None with < 2 days)."""
    n = len(diffs)
    total = float(sum(diffs))
    if n < 2:
        return total, None, None
    mean = total / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n) * n
    return total, total - half, total + half


def review(activity: Activity) -> list[MeasureReview]:
    """Each reviewed measure of the activity's days against its goal and its baseline days."""
    store = activity.store
    base_first, base_last = baseline_period(activity.start_date, activity.end_date)
    frame = daily_measures(store, base_first, activity.end_date)
    during = frame.loc[activity.start_date:activity.end_date]
    before = frame.loc[base_first:base_last]
    out = []
    for key, label, goal_field in REVIEWED_MEASURES:
        diffs = [float(a - b) for a, b in zip(during[key], before[key], strict=True)]
        total, low, high = uplift_interval(diffs)
        goal = getattr(activity, goal_field)
        out.append(MeasureReview(key=key, label=label, actual=float(during[key].sum()),
                                 goal=None if goal is None else float(goal), baseline=float(before[key].sum()),
                                 uplift=total, uplift_low=low, uplift_high=high))
    return out


def daily_pairs(activity: Activity, measure: str = "gmv") -> list[dict]:
    """Each activity day with its baseline day and both values, for the review chart."""
    base_first, base_last = baseline_period(activity.start_date, activity.end_date)
    frame = daily_measures(activity.store, base_first, activity.end_date)
    during = frame.loc[activity.start_date:activity.end_date, measure]
    before = frame.loc[base_first:base_last, measure]
    return [{"day": d, "baseline_day": b, "actual": float(a), "baseline": float(v)}
            for (d, a), (b, v) in zip(during.items(), before.items(), strict=True)]


def running_activities(store: Store, day: date) -> list[Activity]:
    """The activities that were on in `store` on its local `day` (for explaining anomalies).

    Counts every activity whose days cover `day` and that went ahead: planned, running, done or
    reviewed (an idea never ran).
    """
    return running_by_day(store, [day])[day]


def running_by_day(store: Store, days) -> dict[date, list[Activity]]:
    """`running_activities` of each of `days`, in one query."""
    days = list(days)
    went_ahead = list(Activity.objects.filter(store=store, start_date__lte=max(days), end_date__gte=min(days))
                      .exclude(status=ActivityStatus.IDEA).order_by("start_date", "pk"))
    return {day: [a for a in went_ahead if a.start_date <= day <= a.end_date] for day in days}


def save_review(activity: Activity, form, figures: list[MeasureReview], user,
                read: ActivityReview | None) -> tuple[ActivityReview, bool]:
    """Save the valid review `form` with today's `figures` and mark a done activity reviewed.

    `read` is the review the form was built on. When there was none but one is stored by now, nothing
    is written: the same text sent twice (a double click) returns (the stored review, False), a
    colleague's different review (it, True) for a conflict.
    """
    with transaction.atomic():
        # One review write per activity at a time: the second POST waits here, then sees the first's review.
        Activity.objects.select_for_update().filter(pk=activity.pk).first()
        stored = ActivityReview.objects.filter(activity=activity).select_related("created_by").first()
        if read is None and stored is not None:
            data = form.cleaned_data
            same = (stored.summary, stored.root_cause, stored.playbook) == (
                data["summary"], data["root_cause"], data["playbook"])
            return stored, not same
        old = (stored.summary, stored.root_cause, stored.playbook_id) if stored else None
        saved = form.save(commit=False)
        saved.activity = activity
        saved.created_by = saved.created_by or user
        saved.figures = {f.key: {"actual": f.actual, "goal": f.goal, "baseline": f.baseline,
                                 "uplift": f.uplift, "low": f.uplift_low, "high": f.uplift_high} for f in figures}
        saved.save()
        # One entry for the review and the status move it makes (done → reviewed); re-saving the same words, none.
        events = [] if old == (saved.summary, saved.root_cause, saved.playbook_id) else [activity_history.event(
            "review", f"Review {'updated' if stored else 'written'}: {activity_history.quoted(saved.summary)}",
            old=stored and stored.summary, new=saved.summary)]
        activity.refresh_from_db(fields=["status"])
        if activity.status == ActivityStatus.DONE:
            activity.move_to(ActivityStatus.REVIEWED, user=user, events=events)
        elif events:
            activity_history.record(activity, {}, after={}, user=user, events=events)
    return saved, False
