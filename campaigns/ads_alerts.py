"""The hourly pacing alert email: plans that stopped spending, or are on pace to overspend the day or their total
budget, sent to each store's operators and managers (those who did not opt out) once per alert episode, each
person their own email with a signed one-click opt-out link; and the all-clear of a plan emailed as stopped, once
it spends again (once per quiet spell, claimed the same way).

An episode is a plan's quiet spell (from when its spend last rose: a plan that resumes and stops again starts a
new one), a store-local day it is on pace to overspend, or a spell on pace to pass its total budget (a budget
changed later is a new episode, and so is going over again after an hourly run found it under pace by a margin,
TOTAL_BACK_UNDER_SHARE: just under is the same episode). Each is
claimed by inserting an AdPacingAlertSent row before the email goes (INSERT … ON CONFLICT DO NOTHING, one
statement for all): its unique constraint makes a second beat run, or a retried task, find the episode claimed and
send nothing. The same transaction writes one AdPacingAlertDelivery for each of the store's people: each is taken
before its email goes, so a racing run skips it, and given back when the send fails, so the next hourly run retries
that person's email only (for RETRY_FOR after the claim, then logged and given up).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from metrics.figures import metric_value
from stores.models import Store, StoreMembership

from .ads_pacing import ZERO, PlanPacing, group, stores_plans_pacing, watched_plans
from .models import AdPacingAlertDelivery, AdPacingAlertSent, AdPlan, AdPlanStatus

log = logging.getLogger(__name__)

# A person's failed email is retried by the hourly runs until its episode was claimed this long ago: later, the
# news is too old to send. A run retries none tried less than RETRY_AFTER ago (a double beat fire, a racing worker).
RETRY_FOR = timedelta(hours=6)
RETRY_AFTER = timedelta(minutes=30)
# A total-budget episode ends only when a run finds the plan's projected total at most this share of its total
# budget: a plan hovering around 100 % (over one hour, just under the next) is one episode, not an email each hour.
TOTAL_BACK_UNDER_SHARE = Decimal("0.95")


@dataclass
class NewAlert:
    """One alert episode to email, its words ready in the store's zone and currency."""

    plan_id: int
    store_id: int
    kind: str
    episode_start: datetime
    budget: Decimal
    name: str
    words: str
    url: str
    # An all-clear also ends the earlier quiet spells emailed of the same plan (a plan with hours dead for days was
    # emailed each day its window opened): claimed with it, told once.
    earlier_starts: tuple[datetime, ...] = ()

    @property
    def episode_starts(self) -> tuple[datetime, ...]:
        return (*self.earlier_starts, self.episode_start)

    @classmethod
    def claimed(cls, row: AdPacingAlertSent) -> NewAlert:
        """The alert of an episode claimed (plan and store loaded), in the words it was claimed with."""
        return cls(row.plan_id, row.plan.store_id, row.kind, row.episode_start, row.budget, row.plan.name, row.words,
                   settings.SITE_URL + row.plan.get_absolute_url())


def _local(moment: datetime, store: Store) -> str:
    return f"{timezone.localtime(moment, store.zone):%Y-%m-%d %H:%M}"


def _money(value: Decimal, store: Store) -> str:
    return f"{metric_value(value, 'money')} {store.currency}"


def unresolved_stops(plans: list[AdPlan]) -> dict[int, list[datetime]]:
    """The starts of each plan's quiet spells emailed and not yet followed by their all-clear, oldest first (one
    query for any number of plans)."""
    all_clear = AdPacingAlertSent.objects.filter(plan=OuterRef("plan"), kind=AdPacingAlertSent.RESUMED,
                                                 episode_start=OuterRef("episode_start"))
    rows = (AdPacingAlertSent.objects.filter(plan__in=plans, kind=AdPacingAlertSent.STOPPED, sent_at__isnull=False)
            .exclude(Exists(all_clear)).order_by("episode_start").values_list("plan_id", "episode_start"))
    found: dict[int, list[datetime]] = {}
    for plan_id, start in rows:
        found.setdefault(plan_id, []).append(start)
    return found


def total_episodes(plans: list[AdPlan]) -> dict[int, tuple[datetime | None, datetime | None]]:
    """Each plan's total-budget episodes emailed: the start of the one lasting (None when none is) and when the last
    one ended (None when none has), one query for any number of plans."""
    rows = (AdPacingAlertSent.objects.filter(plan__in=plans, kind=AdPacingAlertSent.OVERSPEND_TOTAL).order_by()
            .values("plan_id").annotate(lasting=Max("episode_start", filter=Q(ended_at__isnull=True)),
                                        ended=Max("ended_at")).values_list("plan_id", "lasting", "ended"))
    return {plan_id: (lasting, ended) for plan_id, lasting, ended in rows}


def back_under_total(p: PlanPacing) -> bool:
    """Whether `p`'s plan is clear of its total budget's pace: projected at most TOTAL_BACK_UNDER_SHARE of it (or
    no total budget, or no projection, any more), so its over-total episode ends."""
    budget = p.plan.total_budget
    return not budget or p.projected_total is None or p.projected_total <= budget * TOTAL_BACK_UNDER_SHARE


def current_alerts(now: datetime) -> tuple[list[NewAlert], list[int]]:
    """Every store's stopped and overspending plans at `now`, each as its episode, and the all-clear of each plan
    emailed as stopped whose spend has risen since: the same few queries for any number of stores and plans
    (`stores_plans_pacing`). Also the plans whose total-budget episode ends: back under pace by the margin."""
    stores = list(Store.objects.filter(ad_plans__status=AdPlanStatus.ACTIVE).distinct())
    watched = watched_plans(stores, now)
    pacings = stores_plans_pacing(watched, now)
    stops, totals = unresolved_stops(watched), total_episodes(watched)
    alerts, back_under = [], []
    for plan in watched:
        p, store = pacings[plan.pk], plan.store
        url = settings.SITE_URL + plan.get_absolute_url()
        ended = [start for start in stops.get(plan.pk, []) if p.spend_rises and p.spend_rises[-1] > start]
        if ended:
            # Its spend rose after the quiet spell began: the spell is over, whatever it does now.
            again = next(t for t in p.spend_rises if t > ended[-1])
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.RESUMED, ended[-1], ZERO, plan.name,
                                   f"spending again since {_local(again, store)} after no spend since "
                                   f"{_local(ended[0], store)}; {_money(p.spend_today, store)} spent today", url,
                                   tuple(ended[:-1])))
        if p.stopped:
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.STOPPED, p.stopped_since, ZERO, plan.name,
                                   f"no spend since {_local(p.stopped_since, store)} ({p.stopped_words}) while "
                                   f"active; {_money(p.spend_today, store)} spent today", url))
        if p.will_overspend_day:
            # One episode a store-local day: the day's budget is what it would overspend.
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.OVERSPEND_DAY, store.day_bounds(p.today)[0],
                                   ZERO, plan.name, f"on pace for {_money(p.projected_day, store)} today, daily "
                                   f"budget {_money(plan.daily_budget, store)} ({_money(p.spend_today, store)} "
                                   f"spent by {timezone.localtime(now, store.zone):%H:%M})", url))
        lasting, ended = totals.get(plan.pk, (None, None))
        if p.will_overspend_total:
            # Told once while it stays on pace, not every day; a new budget is news again, and so is going over
            # again after a run found it under pace by the margin (that run's time starts the new episode, the same
            # for any number of runs racing).
            by = f" by {plan.end_date:%Y-%m-%d}" if plan.end_date else ""
            alerts.append(NewAlert(plan.pk, store.pk, AdPacingAlertSent.OVERSPEND_TOTAL,
                                   lasting or ended or plan.created_at,
                                   plan.total_budget, plan.name, f"on pace for {_money(p.projected_total, store)} in "
                                   f"all{by}, total budget {_money(plan.total_budget, store)} "
                                   f"({_money(p.spent_total, store)} spent so far)", url))
        elif lasting and back_under_total(p):
            back_under.append(plan.pk)
    return alerts, back_under


def end_total_episodes(plan_ids: list[int], now: datetime) -> None:
    """End the lasting total-budget episodes of `plan_ids` (found under pace by the margin at `now`): going over
    again is news.
    A racing run's update finds them ended and changes nothing, so the next episode starts at one time."""
    if plan_ids:
        AdPacingAlertSent.objects.filter(plan__in=plan_ids, kind=AdPacingAlertSent.OVERSPEND_TOTAL,
                                         ended_at__isnull=True).update(ended_at=now)


def claim(alerts: list[NewAlert], to: dict[int, list[StoreMembership]], now: datetime) -> int:
    """Insert each alert's episode row and, for each one not claimed before (by an earlier run or a racing one), a
    delivery for each of its store's people in `to`, in one transaction; returns the episodes claimed. The episodes
    go in one statement whatever the number: ON CONFLICT DO NOTHING … RETURNING (Postgres, SQLite ≥ 3.35)."""
    if not alerts:
        return 0
    table, ops = AdPacingAlertSent._meta.db_table, connection.ops
    episodes = [(a, start) for a in alerts for start in a.episode_starts]
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(episodes))
    params = [value for a, start in episodes for value in (a.plan_id, a.kind, ops.adapt_datetimefield_value(start),
                                                           ops.adapt_decimalfield_value(a.budget, 14, 2),
                                                           ops.adapt_datetimefield_value(now), a.words)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (plan_id, kind, episode_start, budget, created_at, words) "  # noqa: S608 (our table)
                       f"VALUES {rows} ON CONFLICT (plan_id, kind, episode_start, budget) DO NOTHING "
                       "RETURNING id, plan_id, kind, episode_start", params)
        # A run has one alert for a plan and kind; an all-clear's earlier quiet spells are claimed with it, and its
        # people's emails go with its own episode, the latest.
        latest = {}
        for pk, plan_id, kind, start in cursor.fetchall():
            if (plan_id, kind) not in latest or start > latest[plan_id, kind][1]:
                latest[plan_id, kind] = (pk, start)
        AdPacingAlertDelivery.objects.bulk_create(
            AdPacingAlertDelivery(alert_id=latest[a.plan_id, a.kind][0], membership=membership)
            for a in alerts if (a.plan_id, a.kind) in latest for membership in to[a.store_id])
    return len(latest)


def take_deliveries(now: datetime) -> list[AdPacingAlertDelivery]:
    """The people's emails to send now, marked sent before they go so a racing run skips them (locked, SKIP LOCKED,
    or found sent): those just claimed and those given back by a failed send at least RETRY_AFTER ago, of episodes
    claimed less than RETRY_FOR ago, to people who still keep the alerts on. Episode, plan, store and user loaded."""
    with transaction.atomic():
        taken = list(AdPacingAlertDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(sent_at__isnull=True, gave_up_at__isnull=True, alert__created_at__gt=now - RETRY_FOR)
                     .filter(Q(failed_at__isnull=True) | Q(failed_at__lte=now - RETRY_AFTER))
                     .filter(membership__ad_alert_email=True, membership__user__is_active=True)
                     .exclude(membership__user__email="")
                     .select_related("alert__plan__store", "membership__user").order_by("alert_id"))
        AdPacingAlertDelivery.objects.filter(pk__in=[d.pk for d in taken]).update(sent_at=now)
    return taken


def give_up_stale(now: datetime) -> None:
    """Stop retrying the emails of episodes claimed RETRY_FOR ago or more (and of people who opted out since),
    logging each: old news is not sent."""
    stale = list(AdPacingAlertDelivery.objects.filter(sent_at__isnull=True, gave_up_at__isnull=True)
                 .filter(Q(alert__created_at__lte=now - RETRY_FOR) | Q(membership__ad_alert_email=False))
                 .values_list("pk", "alert__plan__store_id", "alert_id", "membership_id", "failures",
                              "membership__ad_alert_email"))
    for _, store_id, alert_id, membership_id, failures, keeps_on in stale:
        log.error("gave up the pacing alert email of store %s (episode %s) to membership %s: %s failed send(s)%s",
                  store_id, alert_id, membership_id, failures, "" if keeps_on else ", opted out since")
    if stale:
        AdPacingAlertDelivery.objects.filter(pk__in=[pk for pk, *_ in stale]).update(gave_up_at=now)


def recipients(store_ids) -> dict[int, list[StoreMembership]]:
    """The memberships (user loaded) of each store's operators and managers who keep the pacing alert email on."""
    rows = (StoreMembership.objects.filter(store__in=store_ids, ad_alert_email=True, user__is_active=True)
            .exclude(user__email="").select_related("user").order_by("user__email"))
    found: dict[int, list[StoreMembership]] = {}
    for membership in rows:
        found.setdefault(membership.store_id, []).append(membership)
    return found


def opt_out_url(membership: StoreMembership) -> str:
    """The email's own "stop these emails" link: signed (as the morning email's), so it needs no login and turns
    off only this person's alerts of this store."""
    return settings.SITE_URL + reverse("campaigns:ad_alert_opt_out",
                                       args=[membership.opt_out_token("ad_alert_email")])


def build_message(store: Store, alerts: list[NewAlert], membership: StoreMembership,
                  now: datetime) -> EmailMultiAlternatives:
    """The email of `store`'s new `alerts` to one person (`membership`), with their own opt-out link."""
    kinds = [(AdPacingAlertSent.STOPPED, "stopped spending"), (AdPacingAlertSent.OVERSPEND_DAY,
                                                                "on pace to overspend today"),
             (AdPacingAlertSent.OVERSPEND_TOTAL, "on pace to overspend the total budget"),
             (AdPacingAlertSent.RESUMED, "spending again")]
    by_kind = {kind: [a for a in alerts if a.kind == kind] for kind, _ in kinds}
    subject = f"[opsdesk] {store.name} · ad plans: " + ", ".join(
        f"{len(by_kind[kind])} {words}" for kind, words in kinds if by_kind[kind])
    context = {
        "store": store, "stopped": by_kind[AdPacingAlertSent.STOPPED],
        "overspend": by_kind[AdPacingAlertSent.OVERSPEND_DAY],
        "overspend_total": by_kind[AdPacingAlertSent.OVERSPEND_TOTAL], "resumed": by_kind[AdPacingAlertSent.RESUMED],
        "all_clear_only": len(by_kind[AdPacingAlertSent.RESUMED]) == len(alerts), "as_of": _local(now, store),
        "ads_url": settings.SITE_URL + reverse("campaigns:ads") + f"?store={store.slug}#pacing-alerts",
        "settings_url": settings.SITE_URL + reverse("stores:my_settings"), "opt_out_url": opt_out_url(membership),
    }
    # RFC 8058 one-click opt-out, as the morning email: the mail app's own "Unsubscribe" button POSTs to the link.
    headers = {"List-Unsubscribe": f"<{context['opt_out_url']}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject, render_to_string("campaigns/email/pacing_alerts.txt", context),
                                     settings.DEFAULT_FROM_EMAIL, [membership.user.email], headers=headers)
    message.attach_alternative(render_to_string("campaigns/email/pacing_alerts.html", context), "text/html")
    return message


def send_pacing_alerts(now: datetime | None = None) -> int:
    """Email each store's new pacing alert episodes to each of its people (one email a person and store), and again
    to each person whose email of an earlier run failed; returns the emails sent.

    Only stores with someone to tell claim their episodes: an episode nobody received is sent once someone opts in
    while it lasts. Each person's email of an episode is taken before it goes and given back if the send fails, so
    nobody is sent it twice and the next hourly run retries only those it failed for (until RETRY_FOR)."""
    now = now or timezone.now()
    alerts, back_under = current_alerts(now)
    end_total_episodes(back_under, now)
    give_up_stale(now)
    to = recipients({a.store_id for a in alerts}) if alerts else {}
    claim([a for a in alerts if a.store_id in to], to, now)
    failed, went, delivered = [], set(), 0
    # One email per person, store and claiming run: a retry is the email that failed, as of when it was claimed.
    taken = group(take_deliveries(now), lambda d: (d.membership_id, d.alert.plan.store_id, d.alert.created_at))
    for (membership_id, store_id, claimed_at), deliveries in taken.items():
        membership, store = deliveries[0].membership, deliveries[0].alert.plan.store
        try:
            build_message(store, [NewAlert.claimed(d.alert) for d in deliveries], membership, claimed_at).send()
        except Exception:
            log.exception("pacing alert email of store %s to membership %s failed; will retry next hour", store_id,
                          membership_id)
            failed += [d.pk for d in deliveries]
            continue
        went.update(d.alert_id for d in deliveries)
        delivered += 1
    if failed:
        AdPacingAlertDelivery.objects.filter(pk__in=failed).update(sent_at=None, failures=F("failures") + 1,
                                                                   failed_at=now)
    if went:
        # Emailed to someone: an episode stopped is now one to give the all-clear of.
        AdPacingAlertSent.objects.filter(pk__in=went, sent_at__isnull=True).update(sent_at=now)
    return delivered
