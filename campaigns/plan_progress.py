"""Plan progress from real data: each goal's actual so far, the share of the period gone, and the pace.

Actuals come from `campaigns.measures.totals` (paid orders, sessions, new members) over the
plan's days up to yesterday in the store's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .measures import totals
from .models import Plan, PlanMetric


@dataclass(frozen=True)
class GoalProgress:
    metric: str
    label: str
    target: float
    actual: float | None
    percent: float | None  # actual / target
    elapsed_percent: float  # share of the period's days gone
    on_track: bool | None

    @property
    def bar(self) -> float:
        return min(100.0, self.percent or 0.0)


def plan_progress(plan: Plan, today: date | None = None) -> list[GoalProgress]:
    """Progress of each goal of `plan` counting its days before `today` (the store's today by default)."""
    today = today or plan.store.today()
    last = min(plan.period_end, today - timedelta(days=1))
    total_days = (plan.period_end - plan.period_start).days + 1
    gone = max(0, (last - plan.period_start).days + 1)
    elapsed = round(100 * gone / total_days, 1)
    sums = totals(plan.store, plan.period_start, last) if gone else None
    out = []
    for goal in plan.goals.all():
        target = float(goal.target)
        actual = None if sums is None else sums[goal.metric]
        if actual is None:
            percent = on_track = None
        elif goal.metric == PlanMetric.CONVERSION:
            # A rate is on track when it is at the target already, whatever the share of days gone.
            percent = round(100 * actual / target, 1) if target else None
            on_track = actual >= target
        else:
            percent = round(100 * actual / target, 1) if target else None
            on_track = percent is not None and percent >= elapsed
        out.append(GoalProgress(goal.metric, goal.get_metric_display(), target, actual, percent, elapsed, on_track))
    return out
