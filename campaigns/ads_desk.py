"""Desk items for paid promotion: plans that stopped spending or are on pace to overspend, and the store's
month on pace to pass its ad budget or to leave much of it unspent (wired via desk.py)."""

from django.urls import reverse
from django.utils import timezone

from metrics.figures import metric_value, short_day
from opsdesk.desk import DeskItem

from .ads_pacing import MonthPacing, plan_days, stores_month_pacing, stores_pacing_alerts


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    now = timezone.now()
    alerts, months = stores_pacing_alerts(stores, now), stores_month_pacing(stores, now)
    items = {}
    for store in stores:
        url = reverse("campaigns:ads") + f"?store={store.slug}#pacing-alerts"
        stopped = {a.plan.pk for a in alerts[store.pk] if a.kind == "stopped"}
        overspend = {a.plan.pk for a in alerts[store.pk] if a.kind in ("overspend_day", "overspend_total")}
        items[store.pk] = [
            DeskItem("Ad plans stopped spending", len(stopped), url, "danger"),
            DeskItem("Ad plans on pace to overspend", len(overspend), url, "warning"),
            *_month_items(store, months[store.pk]),
        ]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]


def _month_items(store, month: MonthPacing) -> list[DeskItem]:
    """The store's month when it is over its ad budget (already, or at the current rate) or on pace to underspend
    it (`MonthPacing.alert`); nothing otherwise."""
    # An unimported report is not a starved plan: the operator is told to import it (its month is projected
    # from the reported days meanwhile).
    missing = [DeskItem(f"Ad reports missing for {plan.name} since {short_day(plan_month.missing_since)}", 1,
                        reverse("campaigns:ad_import"), "warning") for plan, plan_month in month.missing_plans]
    if not month.alert:
        return missing
    # The amounts go in the label: the count beside it can only say 1.
    amounts = f"{metric_value(month.heading_for, 'money')} of {metric_value(month.budget, 'money')} {store.currency}"
    if month.verdict == "underspend":
        # Days its plans were paused on purpose explain some of the gap: said, so no one hunts a starved plan.
        paused = f"; {plan_days(month.paused_by_status)} paused" if month.paused_by_status else ""
        label = (f"Ad budget of {month.month_start:%B %Y} on pace to underspend: {amounts} "
                 f"({month.heading_pct} %{paused})")
    else:
        label = f"Ad budget of {month.month_start:%B %Y} on pace to overspend: {amounts}"
    return [DeskItem(label, 1, reverse("campaigns:ads") + f"?store={store.slug}#ad-budget", "warning"), *missing]
