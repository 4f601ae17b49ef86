"""The hourly pacing alert email: plans that stopped spending or are on pace to overspend the day, sent to each
store's operators and managers (those who did not opt out) once per alert episode.

An episode is a plan's quiet spell (from when its spend last rose: a plan that resumes and stops again starts a
new one) or a store-local day it is on pace to overspend. Each is claimed by inserting an AdPacingAlertSent row
before the email goes (INSERT … ON CONFLICT DO NOTHING, one statement for all): its unique constraint makes a
second beat run, or a retried task, find the episode claimed and send nothing. A failed send deletes the store's
claims, so the next hourly run retries them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from metrics.figures import metric_value
from stores.models import Store, StoreMembership

from .ads_pacing import _group, _watched_plans, stores_plans_pacing
from .models import AdPacingAlertSent, AdPlanStatus

log = logging.getLogger(__name__)


@dataclass
class NewAlert:
    """One alert episode to email, its words ready in the store's zone and currency."""

    plan_id: int
    store_id: int
    kind: str
    episode_start: datetime
    name: str
    words: str
    url: str


def _local(moment: datetime, store: Store) -> str:
    return f"{timezone.localtime(moment, store.zone):%Y-%m-%d %H:%M}"


def _money(value: Decimal, store: Store) -> str:
    return f"{metric_value(value, 'money')} {store.currency}"


def current_alerts(now: datetime) -> list[NewAlert]:
    """Every store's stopped and overspending-today plans at `now`, each as its episode: the same few queries
    for any number of stores and plans (`stores_plans_pacing`)."""
    stores = list(Store.objects.filter(ad_plans__status=AdPlanStatus.ACTIVE).distinct())
    watched = _watched_plans(stores, now)
    pacings = stores_plans_pacing(watched, now)
    alerts = []
    for plan in watched:
        p, store = pacings[plan.pk], plan.store
        url = settings.SITE_URL + plan.get_absolute_url()
        if p.stopped:
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.STOPPED, p.stopped_since, plan.name,
                                   f"no spend since {_local(p.stopped_since, store)} ({p.stopped_hours:g} h) while "
                                   f"active; {_money(p.spend_today, store)} spent today", url))
        if p.will_overspend_day:
            # One episode a store-local day: the day's budget is what it would overspend.
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.OVERSPEND_DAY, store.day_bounds(p.today)[0],
                                   plan.name, f"on pace for {_money(p.projected_day, store)} today, daily budget "
                                   f"{_money(plan.daily_budget, store)} ({_money(p.spend_today, store)} spent by "
                                   f"{timezone.localtime(now, store.zone):%H:%M})", url))
    return alerts


def claim(alerts: list[NewAlert], now: datetime) -> list[NewAlert]:
    """Insert each alert's episode row; returns those not claimed before (by an earlier run or a racing one).
    One statement whatever the number: ON CONFLICT DO NOTHING … RETURNING (Postgres, SQLite ≥ 3.35)."""
    if not alerts:
        return []
    table, ops = AdPacingAlertSent._meta.db_table, connection.ops
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(alerts))
    params = [value for a in alerts for value in (a.plan_id, a.kind, ops.adapt_datetimefield_value(a.episode_start),
                                                  ops.adapt_datetimefield_value(now))]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (plan_id, kind, episode_start, created_at) VALUES {rows} "  # noqa: S608 (our table)
                       "ON CONFLICT (plan_id, kind, episode_start) DO NOTHING RETURNING plan_id, kind", params)
        claimed = set(cursor.fetchall())
    # The episode's start is the same for a plan and kind within one run: plan and kind name it.
    return [a for a in alerts if (a.plan_id, a.kind) in claimed]


def recipients(store_ids) -> dict[int, list[str]]:
    """The email addresses of each store's operators and managers who keep the pacing alert email on."""
    rows = (StoreMembership.objects.filter(store__in=store_ids, ad_alert_email=True, user__is_active=True)
            .exclude(user__email="").order_by("user__email").values_list("store_id", "user__email"))
    found: dict[int, list[str]] = {}
    for store_id, email in rows:
        found.setdefault(store_id, []).append(email)
    return found


def build_message(store: Store, alerts: list[NewAlert], to: list[str], now: datetime) -> EmailMultiAlternatives:
    stopped = [a for a in alerts if a.kind == AdPacingAlertSent.STOPPED]
    overspend = [a for a in alerts if a.kind == AdPacingAlertSent.OVERSPEND_DAY]
    parts = [f"{len(stopped)} stopped spending" if stopped else "",
             f"{len(overspend)} on pace to overspend today" if overspend else ""]
    subject = f"[opsdesk] {store.name} · ad plans: " + ", ".join(p for p in parts if p)
    context = {
        "store": store, "stopped": stopped, "overspend": overspend, "as_of": _local(now, store),
        "ads_url": settings.SITE_URL + reverse("campaigns:ads") + f"?store={store.slug}#pacing-alerts",
        "settings_url": settings.SITE_URL + reverse("stores:my_settings"),
    }
    message = EmailMultiAlternatives(subject, render_to_string("campaigns/email/pacing_alerts.txt", context),
                                     settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(render_to_string("campaigns/email/pacing_alerts.html", context), "text/html")
    return message


def send_pacing_alerts(now: datetime | None = None) -> int:
    """Email each store's new pacing alert episodes (one email a store) to its people; returns emails sent.

    Only stores with someone to tell claim their episodes: an episode nobody received is sent once someone
    opts in while it lasts."""
    now = now or timezone.now()
    alerts = current_alerts(now)
    if not alerts:
        return 0
    to = recipients({a.store_id for a in alerts})
    new = claim([a for a in alerts if a.store_id in to], now)
    stores = Store.objects.in_bulk({a.store_id for a in new})
    sent = []
    for store_id, store_alerts in _group(new, lambda a: a.store_id).items():
        store = stores[store_id]
        try:
            build_message(store, store_alerts, to[store_id], now).send()
        except Exception:
            log.exception("pacing alert email of store %s failed; will retry next hour", store_id)
            for a in store_alerts:
                AdPacingAlertSent.objects.filter(plan_id=a.plan_id, kind=a.kind,
                                                 episode_start=a.episode_start).delete()
            continue
        sent.append(store_id)
    if sent:
        AdPacingAlertSent.objects.filter(created_at=now, sent_at__isnull=True, plan__store__in=sent).update(
            sent_at=timezone.now())
    return len(sent)
