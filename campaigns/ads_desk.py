"""Desk items for paid promotion: plans that stopped spending or are on pace to overspend, and the store's
month on pace to pass its ad budget or to leave much of it unspent (wired via desk.py)."""

from django.urls import reverse

from metrics.figures import metric_value, short_day
from opsdesk.desk import DeskItem

from .ads_pacing import pacing_alerts, store_month_pacing


def open_items(store, user) -> list[DeskItem]:
    alerts = pacing_alerts(store)
    url = reverse("campaigns:ads") + f"?store={store.slug}#pacing-alerts"
    stopped = {a.plan.pk for a in alerts if a.kind == "stopped"}
    overspend = {a.plan.pk for a in alerts if a.kind in ("overspend_day", "overspend_total")}
    return [
        DeskItem("Ad plans stopped spending", len(stopped), url, "danger"),
        DeskItem("Ad plans on pace to overspend", len(overspend), url, "warning"),
        *_month_items(store),
    ]


def _month_items(store) -> list[DeskItem]:
    """The store's month when it is over its ad budget (already, or at the current rate) or on pace to underspend
    it (`MonthPacing.alert`); nothing otherwise."""
    month = store_month_pacing(store)
    # An unimported report is not a starved plan: the operator is told to import it (its month is projected
    # from the reported days meanwhile).
    missing = [DeskItem(f"Ad reports missing for {plan.name} since {short_day(plan_month.missing_since)}", 1,
                        reverse("campaigns:ad_import"), "warning") for plan, plan_month in month.missing_plans]
    if not month.alert:
        return missing
    # The amounts go in the label: the count beside it can only say 1.
    amounts = f"{metric_value(month.heading_for, 'money')} of {metric_value(month.budget, 'money')} {store.currency}"
    if month.verdict == "underspend":
        label = f"Ad budget of {month.month_start:%B %Y} on pace to underspend: {amounts} ({month.heading_pct} %)"
    else:
        label = f"Ad budget of {month.month_start:%B %Y} on pace to overspend: {amounts}"
    return [DeskItem(label, 1, reverse("campaigns:ads") + f"?store={store.slug}#ad-budget", "warning"), *missing]
