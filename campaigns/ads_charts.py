"""plotly charts for paid promotion: spend vs sales per day, ROAS by plan, and today's pacing.

Each function returns a plotly figure as a dict; pages draw it with `{% plotly figure "id" %}`.
"""

from __future__ import annotations

import calendar
import json
from datetime import timedelta

import plotly.graph_objects as go
from django.db.models import Sum

from .ads_pacing import (
    MonthPacing,
    PlanPacing,
    expected_curve,
    month_budget_cap,
    plan_pacing,
    plan_totals,
    plans_pacing,
)
from .models import AdDailyPerformance, AdPlanStatus

CONFIG = {"displayModeBar": False, "responsive": True}
LAYOUT = dict(margin=dict(l=40, r=10, t=40, b=30), height=300, title_font_size=14,
              legend=dict(orientation="h", y=-0.15), template="plotly_white")


def _html(fig: go.Figure) -> dict:
    return {**json.loads(fig.to_json()), "config": CONFIG}


def spend_vs_sales(days: list, spend: list, sales: list, title: str, names: tuple[str, str] = ("Spend", "Sales")
                   ) -> dict:
    """Spend as bars and sales as a line per day; `names` the legend's words for the two."""
    fig = go.Figure([go.Bar(x=days, y=spend, name=names[0], marker_color="#b54708"),
                     go.Scatter(x=days, y=sales, name=names[1], mode="lines+markers", line=dict(color="#1f6feb"))])
    fig.update_layout(title=title, **LAYOUT)
    fig.update_xaxes(type="date", tickformat="%b %d")
    return _html(fig)


def roas_by_plan(rows, title: str, targets: bool = True) -> dict:
    """ROAS per plan as bars; a plan without spend has no ROAS: no bar, and "(no spend)" by its name (a 0 bar
    would read as spending and earning nothing)."""
    names = [r.plan.name if r.totals.roas is not None else f"{r.plan.name} (no spend)" for r in rows]
    values = [float(r.totals.roas) if r.totals.roas is not None else None for r in rows]
    fig = go.Figure([go.Bar(y=names, x=values, name="ROAS", orientation="h", marker_color="#067647")])
    if targets:
        ty = [name for name, r in zip(names, rows, strict=True) if r.plan.target_roas]
        tx = [float(r.plan.target_roas) for r in rows if r.plan.target_roas]
        if tx:
            fig.add_trace(go.Scatter(x=tx, y=ty, name="Target ROAS", mode="markers",
                                     marker=dict(symbol="line-ns-open", size=22, color="#b42318",
                                                 line=dict(width=3))))
    fig.update_layout(title=title, **LAYOUT)
    fig.update_yaxes(automargin=True, autorange="reversed")
    return _html(fig)


def pacing(pacings: list[PlanPacing], title: str) -> dict:
    """Cumulative spend today (summed over plans) against the budget spread over the expected curve.

    Plans with no hourly data today add nothing to the spend line (their spend is unknown, not zero)."""
    hours = [f"{h + 1:02d}:00" for h in range(24)]
    expected = [float(sum(p.hourly_expected[h] for p in pacings)) for h in range(24)]
    fed = [p for p in pacings if p.fed_today]
    actual = [None if not fed or any(p.hourly_actual[h] is None for p in fed) else
              float(sum(p.hourly_actual[h] for p in fed)) for h in range(24)]
    # A daily budget of 0 is no cap: such plans add nothing to the budget lines, and with none capped
    # there are no budget lines (a line at 0 would read as every cent overspent).
    capped = [p for p in pacings if p.plan.daily_budget]
    of = "" if len(capped) == len(pacings) else " (capped plans)"
    traces = [go.Scatter(x=hours, y=actual, name="Spend so far", mode="lines+markers", line=dict(color="#b54708"))]
    if capped:
        budget = float(sum(p.plan.daily_budget for p in capped))
        traces = [go.Scatter(x=hours, y=expected, name=f"Expected by budget{of}", mode="lines",
                             line=dict(dash="dot", color="#667085")),
                  *traces,
                  go.Scatter(x=hours, y=[budget] * 24, name=f"Daily budget{of}", mode="lines",
                             line=dict(color="#b42318"))]
    fig = go.Figure(traces)
    fig.update_layout(title=title, **LAYOUT)
    # 24 labels on a card-wide chart were turned on their side and cut off by the legend ("01:C"):
    # every third hour, upright, and the axis takes the room its labels need.
    fig.update_xaxes(type="category", tickmode="array", tickvals=hours[2::3], tickangle=0, automargin=True)
    return _html(fig)


def month_pacing(plan, day, paused_on: frozenset = frozenset()) -> dict:
    """This month: cumulative spend per day against the budget accumulating day by day, never above
    what the total budget had left when the month began (as the page's month budget). The days `paused_on`
    (its status history's, `MonthPacing.paused_on`) add no budget: the line is flat over them, as the page's
    month budget leaves them out."""
    start = day.replace(day=1)
    n_days = calendar.monthrange(day.year, day.month)[1]
    days = [start + timedelta(days=i) for i in range(n_days)]
    spend = dict(plan.daily.filter(date__gte=start, date__lte=day).values_list("date", "spend"))
    cap = month_budget_cap(plan, start)
    actual, budget, total, allowed = [], [], 0.0, 0.0
    for d in days:
        allowed += float(plan.daily_budget) if plan.runs_on(d) and d not in paused_on else 0.0
        if not plan.daily_budget:  # no daily cap: the month may use what the total budget has left
            budget.append(None if cap is None else float(cap))
        else:
            budget.append(allowed if cap is None else min(allowed, float(cap)))
        if d <= day:
            total += float(spend.get(d, 0))
            actual.append(total)
        else:
            actual.append(None)
    fig = go.Figure([
        go.Scatter(x=days, y=budget, name="Budget to date", mode="lines", line=dict(dash="dot", color="#b42318")),
        go.Scatter(x=days, y=actual, name="Spend to date", mode="lines+markers", line=dict(color="#b54708")),
    ])
    fig.update_layout(title=f"{start:%b %Y}: spend vs budget", **LAYOUT)
    fig.update_xaxes(tickformat="%b %d")
    return _html(fig)


def store_charts(store, plans, days: int = 60) -> dict[str, dict]:
    today = store.today()
    since = today - timedelta(days=days - 1)
    per_day = (AdDailyPerformance.objects.filter(plan__in=plans, date__gte=since).values("date")
               .annotate(spend=Sum("spend"), sales=Sum("sales")).order_by("date"))
    x = [r["date"] for r in per_day]
    charts = {"spend_sales": spend_vs_sales(x, [float(r["spend"]) for r in per_day],
                                            [float(r["sales"]) for r in per_day],
                                            f"Spend vs sales per day ({store.currency})")}
    rows = plan_totals(plans, today - timedelta(days=29))
    if rows:
        charts["roas"] = roas_by_plan(rows, "ROAS by plan, last 30 days")
    active = [p for p in plans.filter(status=AdPlanStatus.ACTIVE).select_related("store") if p.runs_on(today)]
    if active:
        curve = expected_curve(store)
        charts["pacing"] = pacing(list(plans_pacing(store, active, curve=curve).values()),
                                  f"Today: active plans vs budget ({store.currency})")
    return charts


def plan_charts(plan, daily, today_pacing: PlanPacing | None = None, month: MonthPacing | None = None
                ) -> dict[str, dict]:
    """The plan page's charts; `month` (its `ads_pacing.month_pacing`, read already) gives the paused days."""
    ordered = sorted(daily, key=lambda r: r.date)
    charts = {"spend_sales": spend_vs_sales([r.date for r in ordered], [float(r.spend) for r in ordered],
                                            [float(r.sales) for r in ordered], "Spend vs sales per day")}
    today_pacing = today_pacing or plan_pacing(plan)
    charts["pacing"] = pacing([today_pacing], "Today: spend vs budget")
    charts["month"] = month_pacing(plan, today_pacing.today, month.paused_on if month else frozenset())
    return charts
