"""Desk items for paid promotion: plans that stopped spending or are on pace to overspend (wired via desk.py)."""

from django.urls import reverse

from opsdesk.desk import DeskItem

from .ads_pacing import pacing_alerts


def open_items(store, user) -> list[DeskItem]:
    alerts = pacing_alerts(store)
    url = reverse("campaigns:ads") + f"?store={store.slug}#pacing-alerts"
    stopped = {a.plan.pk for a in alerts if a.kind == "stopped"}
    overspend = {a.plan.pk for a in alerts if a.kind in ("overspend_day", "overspend_total")}
    return [
        DeskItem("Ad plans stopped spending", len(stopped), url, "danger"),
        DeskItem("Ad plans on pace to overspend", len(overspend), url, "warning"),
    ]
