"""The morning email: at 08:00 in each manager's own zone, yesterday's numbers, anomalies, violations, orders
late to ship, and the month's ad budgets that are over (or on pace to be) or on pace to be left largely unspent.

One email per manager membership and manager-local day, about the store's last complete day (the
one the nightly job rolls up: `rollup.due_day`), and each store day reported once. The MorningEmail
row is inserted before sending; its unique constraints make a second beat run (or a second worker
racing the first) skip instead of sending twice. A failed send removes the row so the next hourly
run retries.
"""

from __future__ import annotations

import base64
import logging
from datetime import date, datetime, time, timedelta
from email.mime.image import MIMEImage

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import ordinal
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Case, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaigns import ads_pacing
from opsdesk.lazy import lazy_module
from opsdesk.tenancy import MANAGER
from reviews.services import overdue_cases
from stores.models import StoreMembership
from stores.shipping import shipping_due_by_store

from .anomaly import detect_anomalies, label_values, with_related
from .charts import EMAIL_CHART_WIDTH, ON_A_PHONE, PngSize, email_figures, figure_pngs, sparkline_png
from .compare import history, unusual_earlier_days
from .figures import metric_value, pct, short_day
from .models import Anomaly, AnomalyStatus, MorningEmail
from .peers import with_peer_notes
from .rollup import HEADLINE, METRICS, due_day, is_rolled_up, rollup_day

pd = lazy_module("pandas")

log = logging.getLogger(__name__)

SEND_FROM = time(8, 0)
SEND_UNTIL = time(12, 0)  # a worker that was down at 08:00 still sends until noon, never in the evening
SPARK_DAYS = 14
EMAIL_CHARTS = 3  # anomalies with a chart in the email; the rest link to theirs
CHART_DAYS = 28
EARLIER_LISTED = 10  # open anomalies of earlier days listed (the most recent); the rest are counted


def due_memberships(now: datetime):
    """(membership, manager-local date) for every opted-in manager whose local time is 08:00–11:59."""
    memberships = (StoreMembership.objects.filter(role=MANAGER, morning_email=True, user__is_active=True)
                   .exclude(user__email="").select_related("store", "user"))
    for membership in memberships:
        local = now.astimezone(membership.email_zone)
        if SEND_FROM <= local.time() < SEND_UNTIL:
            yield membership, local.date()


def send_due_morning_emails(now: datetime | None = None) -> int:
    """Send every morning email that is due and not sent yet; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for membership, local_day in due_memberships(now):
        # Not "the store's yesterday": at a Los Angeles manager's 08:00 a Shanghai store's day is two
        # minutes old, and its yesterday is not complete until the nightly grace period has passed.
        report_day = due_day(membership.store, now)
        try:
            with transaction.atomic():
                record = MorningEmail.objects.create(membership=membership, day=local_day, report_day=report_day)
        except IntegrityError:
            continue  # already sent (or being sent) this morning, or that day already reported
        try:
            build_message(membership, report_day, skipped_days(membership, local_day, report_day)).send()
        except Exception:
            log.exception("morning email to membership %s failed; will retry next hour", membership.pk)
            record.delete()
            continue
        record.sent_at = timezone.now()
        record.save(update_fields=["sent_at"])
        sent += 1
    return sent


def skipped_days(membership: StoreMembership, local_day: date, report_day: date) -> list[date]:
    """Store days between yesterday morning's report and this one's, which no email reported.

    Each morning reports the freshest complete day. Where the store's 00:30 grace sits near the manager's
    08:00 (a Los Angeles manager of a Tokyo store), a clock change in either zone moves it across that
    beat, and one morning's day is two after the previous morning's. Reporting the day in between instead
    would keep the manager a day behind for the whole season; the email names it with a link instead."""
    previous = (MorningEmail.objects.filter(membership=membership, day=local_day - timedelta(days=1))
                .values_list("report_day", flat=True).first())
    if previous is None or not previous < report_day <= previous + timedelta(days=MAX_SKIPPED + 1):
        return []
    return [previous + timedelta(days=k) for k in range(1, (report_day - previous).days)]


MAX_SKIPPED = 2  # more is a new email zone or a store's new time zone, not a clock change


def opt_out_url(membership: StoreMembership) -> str:
    """The email's own "stop these emails" link: signed, so it needs no login and names only this membership."""
    return settings.SITE_URL + reverse("metrics:email_opt_out", args=[membership.opt_out_token("morning_email")])


def opted_out_membership(token: str) -> StoreMembership | None:
    """The membership an opt-out link was made for, or None for a forged or mangled one."""
    return StoreMembership.from_opt_out_token(token, "morning_email")


def report_context(membership: StoreMembership, report_day: date, skipped: list[date] = ()) -> dict:
    """Everything the email shows about the store's `report_day` (and the `skipped` days no email reported)."""
    store = membership.store
    if not is_rolled_up(store, report_day):
        rollup_day(store, report_day)
        detect_anomalies(store, report_day)
    images = InlineImages()
    frame = history(store, report_day - timedelta(days=max(SPARK_DAYS, 8) - 1), report_day, metrics=HEADLINE)
    ts = frame.index[-1]
    vs = unusual_earlier_days(store, report_day)
    rows = []
    for metric in HEADLINE:
        info = METRICS[metric]
        series = frame[metric] if metric in frame.columns else None
        value, before, week = (None if series is None or pd.isna(series.get(t)) else float(series.get(t))
                               for t in (ts, ts - pd.Timedelta(days=1), ts - pd.Timedelta(days=7)))
        rows.append({
            "metric": metric, "label": info.label, "kind": info.kind, "value": value,
            "good_when_up": info.higher_is_better,
            "day_before": before, "week_before": week, "vs": vs,
            "dod": None if value is None or not before else value / before - 1,
            "wow": None if value is None or not week else value / week - 1,
            "spark": images.add(f"spark-{metric}", sparkline_png(
                [None if pd.isna(v) else float(v) for v in series.iloc[-SPARK_DAYS:]], kind=info.kind)
                if series is not None else None),
        })
    with_peer_notes(rows, store, report_day)  # the platform's peer figures of the day, as the daily page says them
    site = settings.SITE_URL
    # In the anomaly list's order (most abnormal first), but an anomaly an operator already resolved this
    # morning comes last, marked as such.
    # One entry per incident, its related anomalies named under it.
    # With the day's number now: late data since it was flagged is said in its numbers and its chart's legend.
    anomalies = with_related(
        Anomaly.objects.filter(store=store, day=report_day, part_of__isnull=True).with_value_now()
        .select_related("store", "explained_by", "owner")
        .order_by(Case(When(status=AnomalyStatus.RESOLVED, then=1), default=0), *Anomaly._meta.ordering))
    for a in anomalies:
        a.url = site + reverse("metrics:anomaly", args=[a.pk])
        a.summary = email_summary(a)
        a.is_open = a.status != AnomalyStatus.RESOLVED
        a.continued = a.continued_incident() if a.is_open else None
        if a.run and a.continued and not a.continued.plan:
            a.continued = None  # its run line says since when; the earlier day is worth a line for its plan
    # The most important few open ones get their chart (the page's figure), twice: ~0.3 s of Chromium an image.
    email_charts(anomalies, images)
    # What is still open from earlier days: a quiet day is not "all is well" while they wait.
    # An incident that runs over days is listed once, on its latest day.
    earlier = Anomaly.objects.filter(store=store, day__lt=report_day, part_of__isnull=True,
                                     continued_by__isnull=True).exclude(status=AnomalyStatus.RESOLVED)
    earlier_anomalies = label_values(list(earlier.select_related("store", "owner")[:EARLIER_LISTED]))
    for a in earlier_anomalies:
        a.url = site + reverse("metrics:anomaly", args=[a.pk])
    violations = store.violations.open().order_by("-occurred_at")
    overdue = overdue_cases(store).select_related("review__product")
    overdue_listed = list(overdue[:10])
    for c in overdue_listed:
        c.url = site + c.get_absolute_url()
    return {
        "overdue_cases": overdue_listed, "overdue_case_count": overdue.count(),
        "cases_url": site + reverse("reviews:store", args=[store.slug]),
        "membership": membership, "store": store, "user": membership.user, "day": report_day, "rows": rows, "vs": vs,
        "anomalies": anomalies, "open_anomaly_count": sum(a.is_open for a in anomalies),
        "earlier_anomalies": earlier_anomalies, "earlier_anomaly_count": earlier.count(),
        "open_violations": list(violations[:10]), "open_violation_count": violations.count(),
        # As of the email's sending, not the day reported: these orders can still be shipped this morning.
        "late_to_ship": shipping_due_by_store([store])[store.pk],
        "late_to_ship_url": site + reverse("stores:orders", args=[store.slug]) + "?shipping=waiting",
        # The day reported, not the page's "yesterday": a manager far from the store reads the email
        # while the store's yesterday is not rolled up yet.
        "desk_url": site + reverse("desk"),
        "daily_url": daily_url(store, report_day),
        "skipped": [{"day": d, "url": daily_url(store, d)} for d in skipped],
        "anomalies_url": site + reverse("metrics:anomalies") + f"?store={store.slug}",
        "violations_url": site + reverse("stores:violations", args=[store.slug]) + "?status=open",
        "settings_url": site + reverse("stores:my_settings"), "opt_out_url": opt_out_url(membership),
        "ad_budget": ad_budget_lines(store, report_day), "ads_url": ads_url(store),
        "browser_url": site + reverse("metrics:morning_email", args=[store.slug]) + f"?day={report_day.isoformat()}",
        "images": images,
    }


CHART_HEIGHT = 240


# A desktop shows its image at the full 600 px: drawn at 2× for a high-density screen. A phone shows its image about
# half that wide, so its 600 px are already two pixels a point.
FOR_DESKTOP, FOR_PHONE = PngSize(EMAIL_CHART_WIDTH, CHART_HEIGHT, scale=2), PngSize(EMAIL_CHART_WIDTH, CHART_HEIGHT)


def email_charts(anomalies: list[Anomaly], images: InlineImages) -> None:
    """Sets each anomaly's `chart` and `phone_chart`: the Content-IDs of its chart for a desktop mail app and for a
    phone's, each drawn for the width it is shown at (the email's <style> shows the one that fits), for the first
    `EMAIL_CHARTS` open ones with numbers; "" for the rest. Their images are exported in one kaleido batch, drawn in
    several browser tabs at once. Where one image of a chart could not be exported, the other stands in for it."""
    charted, exports = [], []
    for a in anomalies:
        a.chart = a.phone_chart = ""
        if a.is_open and len(charted) < EMAIL_CHARTS:
            for_desktop, for_phone = email_figures(a, days=CHART_DAYS, height=CHART_HEIGHT,
                                                   widths=(EMAIL_CHART_WIDTH, ON_A_PHONE))
            if for_desktop is not None:
                charted.append(a)
                exports += [(for_desktop, FOR_DESKTOP), (for_phone, FOR_PHONE)]
    pngs = figure_pngs(exports)
    for i, a in enumerate(charted):
        desktop, phone = pngs[2 * i], pngs[2 * i + 1]
        a.chart = images.add(f"anomaly-{a.pk}-desktop", desktop or phone)
        a.phone_chart = images.add(f"anomaly-{a.pk}-phone", phone or desktop)


def ads_url(store) -> str:
    """The store's line of the ads page's "Ad budget this month"."""
    return settings.SITE_URL + reverse("campaigns:ads") + f"?store={store.slug}#ad-budget"


def ad_budget_lines(store, day: date) -> list[dict]:
    """The "Ad budget" section: the store's month and each plan's when over budget or on pace to underspend it
    through `day` (the day the email reports, so this morning's spend is not counted), by the desk's rule; empty
    when all is on pace.
    Each line is {"name", "words", "url"}."""
    alerts = ads_pacing.month_alerts(store, day)
    lines = []
    if alerts.store:
        lines.append({"name": "All plans", "words": budget_words(alerts.store, day, store.currency,
                                                                 alerts.store.paused_by_status),
                      "url": ads_url(store)})
    for plan, month in alerts.plans:
        if month.alert:
            lines.append({"name": plan.name, "words": budget_words(month, day, store.currency),
                          "url": settings.SITE_URL + plan.get_absolute_url()})
        if month.missing_since:  # its month is projected from the reported days; the rest is to import
            lines.append({"name": plan.name, "words": f"no ad report since {short_day(month.missing_since)}",
                          "url": settings.SITE_URL + reverse("campaigns:ad_import")})
    return lines


def budget_words(month: ads_pacing.MonthPacing, day: date, currency: str, paused_plan_days: int = 0) -> str:
    """A month over its budget in plain words: "on pace to spend 3,000.00 CNY of 2,800.00 CNY this month (107 %);
    2,500.00 CNY spent through Wed 25 Nov", "already …", or, when `day` is the month's last (the email of the 1st),
    how the month ended; one underspending it: "on pace to spend only 4,100.00 CNY of 10,000.00 CNY this month
    (41 %); …" (never on the month's last day: nothing is left to spend it on)."""
    def money(value) -> str:
        return f"{metric_value(value, 'money')} {currency}"

    def days(n: int) -> str:
        return "1 more day" if n == 1 else f"{n} more days"

    def share(value) -> str:  # of a budget of 0 (a total budget used up) there is no share to say
        return f" ({round(value / month.budget * 100):,} %)" if month.budget else ""

    if (day + timedelta(days=1)).month != day.month:
        return f"{month.month_start:%B %Y} ended at {money(month.spend)} of {money(month.budget)}{share(month.spend)}"
    through = f"through {short_day(day)}"
    if month.verdict == "underspend":
        # A store's plans paused on purpose explain some of the gap (a plan's own paused days are out of its budget).
        paused = f" (plans paused {ads_pacing.plan_days(paused_plan_days)})" if paused_plan_days else ""
        return (f"on pace to spend only {money(month.heading_for)} of {money(month.budget)} this month"
                f"{share(month.heading_for)}; {money(month.spend)} spent {through}{paused}, "
                f"{money(month.budget - month.spend)} left for {days(month.days_left)}")
    if month.spend > month.budget:
        return (f"already spent {money(month.spend)} of {money(month.budget)} this month{share(month.spend)} "
                f"{through}; on pace for {money(month.heading_for)} by the month's end")
    return (f"on pace to spend {money(month.heading_for)} of {money(month.budget)} this month"
            f"{share(month.heading_for)}; {money(month.spend)} spent {through}")


def daily_url(store, day: date) -> str:
    return settings.SITE_URL + reverse("metrics:store_daily", args=[store.slug]) + f"?day={day.isoformat()}"


def email_summary(anomaly: Anomaly) -> str:
    """The anomaly's explanation as its email entry opens with it, without what the entry says apart: an
    overall move flagged for the source that drove it loses the sentence saying so (the line of numbers
    under it says it, as its page does, with the source's own move: "flagged because of Paid search /
    through train (−90 %)"), and one a running activity explains loses the sentence naming it (the entry
    names it: "(activity: …)", "Activity running that day: …")."""
    return anomaly.explanation_from_parts(flagged=False)


def build_message(membership: StoreMembership, report_day: date, skipped: list[date] = ()) -> EmailMultiAlternatives:
    context = report_context(membership, report_day, skipped)
    subject = subject_line(context)
    context["preheader"] = preheader(context)
    text = render_to_string("metrics/email/morning.txt", context)
    html = render_to_string("metrics/email/morning.html", context)
    # RFC 8058 one-click opt-out: the mail app's own "Unsubscribe" button POSTs to the signed link.
    headers = {"List-Unsubscribe": f"<{context['opt_out_url']}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [membership.user.email],
                                     headers=headers)
    message.attach_alternative(html, "text/html")
    context["images"].attach_to(message)
    return message


def in_browser(membership: StoreMembership, report_day: date) -> str:
    """The HTML part of the email `membership` gets about `report_day`, its images as data: URLs, for the
    browser (the desk's "morning email" link; the day must be rolled up: this only reads). The browser reads the
    email's <style> as a mail app does: the desktop chart in a wide window, the phone's in a narrow one."""
    context = report_context(membership, report_day)
    context["preheader"] = preheader(context)
    html = render_to_string("metrics/email/morning.html", {**context, "subject": subject_line(context),
                                                          "in_browser": True})
    for cid, png in context["images"].images.items():
        html = html.replace(f'src="cid:{cid}"', f'src="data:image/png;base64,{base64.b64encode(png).decode()}"')
    return html


def subject_line(context: dict) -> str:
    store, report_day = context["store"], context["day"]
    gmv = context["rows"][0]
    headline = "no data"
    if gmv["value"] is not None:
        headline = f"GMV {gmv['value']:,.2f} {store.currency}"
        if gmv["dod"] is not None:
            # A fall against a holiday or a sale is no news: said in the subject, the phone's list does not
            # alarm the manager before the body's "vs Thu 7 May (Spring sale)" can.
            unusual = context["vs"].get("dod")
            against = f"{report_day - timedelta(days=1):%a}" + (f", {', '.join(unusual.names)}" if unusual else "")
            headline += f" ({pct(gmv['dod'])} vs {against})"
    # The anomaly count first: a phone shows the subject's first ~40 characters.
    n = context["open_anomaly_count"]
    # A change that goes on is no fresh alarm: "1 open anomaly, 3rd day" (the longest-running open incident).
    running = max((a.run_day for a in context["anomalies"] if a.is_open), default=1)
    run = "" if running == 1 else f", {ordinal(running)} day" if n == 1 else f", one on its {ordinal(running)} day"
    # The day's own holiday or sale, last: "GMV (+180 % vs Tue)" on Singles' Day is no alarm either, and said
    # after the count it keeps that within a phone's first ~40 characters.
    occasion = context["vs"].get("day")
    return (f"[opsdesk] {store.name} · {short_day(report_day)}: "
            + (f"{n} open anomal{'y' if n == 1 else 'ies'}{run} · " if n else "") + headline
            + (f" · {occasion.said}" if occasion else ""))


def preheader(context: dict) -> str:
    """The line a mail app shows under the subject: the most important open anomaly, or the all-clear."""
    first = next((a for a in context["anomalies"] if a.is_open), None)
    if first:
        return first.summary
    earlier = context["earlier_anomaly_count"]
    text = f"No anomalies on {context['day']:%A}"
    return text + (f"; {earlier} still open from earlier days." if earlier else
                   ": every metric within its usual range.")


class InlineImages:
    """PNG images shown inside the HTML part, referenced as `cid:…` (multipart/related)."""

    def __init__(self):
        self.images: dict[str, bytes] = {}

    def add(self, name: str, png: bytes | None) -> str:
        """The Content-ID to use as `src="cid:…"`, or "" when there is no image."""
        if not png:
            return ""
        cid = f"{name}@opsdesk"
        self.images[cid] = png
        return cid

    def attach_to(self, message: EmailMultiAlternatives) -> None:
        if not self.images:
            return
        message.mixed_subtype = "related"
        for cid, png in self.images.items():
            image = MIMEImage(png, "png")
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename=cid.split("@")[0] + ".png")
            message.attach(image)
