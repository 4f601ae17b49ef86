"""Daily-tracking pages: yesterday against the day before and last week, anomalies and their plans.

Every page goes through opsdesk.tenancy: another store's anomaly is a 404.
"""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta

import plotly.graph_objects as go
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from opsdesk.tenancy import MANAGER, assignable_users, get_scoped_object, get_store, parse_pk, scope, stores_for
from stores.models import StoreMembership
from stores.views import opt_out_link_broken
from stores.violations_import import ViolationImportError, import_violations

from ..anomaly import label_values, with_related
from ..breakdowns import day_breakdowns
from ..charts import anomaly_figure, round_ticks, style
from ..compare import Window, compare_days, comparison_row, history, unusual_earlier_days
from ..daily_list import LISTED, reported_days
from ..email import in_browser, opted_out_membership
from ..forms import ActionItemForm, AnomalyForm, ViolationForm, ViolationUploadForm
from ..models import ActionItem, Anomaly, AnomalyStatus, WithdrawnAnomaly
from ..peers import with_peer_notes
from ..rollup import HEADLINE, METRICS, ROLLUP_AFTER, is_rolled_up, refresh_days, refreshed_note


def _figure_json(fig: go.Figure | None) -> dict | None:
    return json.loads(style(fig).to_json()) if fig is not None else None


def metric_rows(store, day, window: Window | None = None) -> tuple[list[dict], list[dict]]:
    """The overview tables: (headline metrics, every other metric), each yesterday, the day before and
    a week before, with DoD and WoW, and the holiday or activity of an earlier day (`vs`)."""
    frame = compare_days(store, day, window=window)
    vs = unusual_earlier_days(store, day)
    return (_rows(frame, HEADLINE, vs),
            _rows(frame, [m for m in METRICS if m not in HEADLINE and m in frame.index], vs))


def _rows(frame, metrics, vs: dict[str, str]) -> list[dict]:
    return [{**comparison_row(m, frame.loc[m] if m in frame.index else None), "vs": vs} for m in metrics]


def gmv_chart(store, day, days: int = 60) -> dict | None:
    frame = history(store, day - timedelta(days=days - 1), day, metrics=["gmv", "orders"])
    if "gmv" not in frame.columns:
        return None
    fig = go.Figure()
    fig.add_bar(x=frame.index, y=frame["gmv"], name="GMV", marker_color="#3b6fd8")
    if "orders" in frame.columns:
        fig.add_scatter(x=frame.index, y=frame["orders"], name="Orders", yaxis="y2", mode="lines",
                        line=dict(color="#e8590c"))
    # Both axes from 0 and orders in whole numbers: a swing of the line is then a swing of the orders. Each axis
    # ticked at round numbers of its own, not orders at GMV's gridlines (plotly's default: 0, 52, 104, 156).
    fig.update_layout(yaxis=dict(rangemode="tozero", **round_ticks(frame["gmv"].max())),
                      yaxis2=dict(overlaying="y", side="right", showgrid=False, rangemode="tozero", tickformat=",d",
                                  **round_ticks(frame["orders"].max() if "orders" in frame.columns else 0,
                                                whole=True)),
                      title=f"GMV and orders, last {days} days")  # the panel names the store; a phone fits this
    return _figure_json(fig)


ASKED_YEARS_BACK = 10  # the daily page's ?day= reaches back to 1 January this many years ago


def _asked_day(request, instead: str = "Showing yesterday.") -> date | None:
    """The `?day=YYYY-MM-DD` the page is asked for (the morning email's link names the day it reports),
    None for the default (the daily page: each store's local yesterday); a malformed one is said, with what
    the page shows `instead`, and ignored."""
    text = request.GET.get("day", "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        messages.error(request, f"“{text}” is not a day: use YYYY-MM-DD, e.g. 2026-11-25. {instead}")
        return None
    # A day with a week before it and a day after it in every zone (0001-01-01 was a 500); no later than
    # tomorrow anywhere, as no day beyond has numbers.
    today = timezone.localdate(timezone=UTC)
    first, last = date(today.year - ASKED_YEARS_BACK, 1, 1), today + timedelta(days=1)
    if not first <= day <= last:
        messages.error(request, f"“{text}” is out of reach: pick a day from {first:%Y-%m-%d} to {last:%Y-%m-%d}. "
                                f"{instead}")
        return None
    return day


def daily(request):
    """Daily tracking: the full panel for a user of one store; for several, one row a store (its reported day's
    headline figures, a constant number of queries however many stores), each linking to its own panel."""
    now = timezone.now()
    asked = _asked_day(request)
    stores = list(stores_for(request.user))
    if len(stores) == 1:
        return _panels_page(request, stores, now, asked)
    return render(request, "metrics/daily_list.html", {
        "rows": reported_days(stores, now, asked), "asked": asked, "listed": LISTED})


def store_daily(request, slug):
    """One store's full daily panel (`?day=` as the daily page); another store's slug is a 404."""
    store = get_store(request.user, slug)
    return _panels_page(request, [store], timezone.now(), _asked_day(request), store_page=True)


def morning_email(request, slug):
    """The morning email a manager of the store gets, in the browser (`?day=`, default the last day it reported:
    yesterday once rolled up): its charts as data: images, its links as in the email. Managers only, as the
    email is theirs; a day not rolled up yet says so (this page reads, it rolls nothing up)."""
    store = get_store(request.user, slug, role=MANAGER)
    membership = get_object_or_404(StoreMembership, user=request.user, store=store)
    day = _asked_day(request, instead="Showing the last day reported.")
    if day is None:
        yesterday = store.today() - timedelta(days=1)
        day = yesterday if is_rolled_up(store, yesterday) else Window(store, yesterday - timedelta(days=7),
                                                                      yesterday).last_rolled_up()
    if day is None or not is_rolled_up(store, day):
        return render(request, "metrics/morning_email_pending.html", {"store": store, "day": day}, status=404)
    return HttpResponse(in_browser(membership, day))


def _panels_page(request, stores, now, asked, store_page: bool = False):
    open_counts = dict(
        scope(Anomaly.objects.filter(part_of__isnull=True, continued_by__isnull=True, store__in=stores),
              request.user)
        .exclude(status=AnomalyStatus.RESOLVED)
        .values_list("store").annotate(n=Count("id")).values_list("store", "n")
    )
    panels = [_panel(store, now, asked, open_counts.get(store.pk, 0)) for store in stores]
    managed = set(stores_for(request.user, MANAGER).filter(pk__in=[s.pk for s in stores]).values_list("pk", flat=True))
    for panel in panels:
        panel["manages"] = panel["store"].pk in managed  # their morning email is linked
    return render(request, "metrics/daily.html", {"panels": panels, "asked": asked, "store_page": store_page})


def _panel(store, now, asked, open_anomalies: int) -> dict:
    """A store's full panel: every metric with DoD and WoW, breakdowns, peers, the GMV chart, the day's anomalies."""
    yesterday = store.today(now) - timedelta(days=1)
    day = asked or yesterday
    window = Window(store, day - timedelta(days=7), day)  # one read for the overview and its breakdowns
    pending = None
    # Between midnight and the nightly rollup (after 00:30 store time) yesterday has no numbers yet:
    # the page shows the last day of the week rolled up and says so, rather than an empty table.
    if not asked and not window.rolled_mask[-1] and (last := window.last_rolled_up()):
        day, pending = last, yesterday
        window = Window(store, day - timedelta(days=7), day)
    rows, more_rows = metric_rows(store, day, window)
    with_peer_notes(rows, store, day)
    return {
        "store": store, "day": day, "rows": rows, "more_rows": more_rows, "pending": pending,
        "before_rollup": now.astimezone(store.zone).time() < ROLLUP_AFTER,
        "named_day": day if asked or pending else None,  # the tables' column: a date, not "Yesterday"
        # What the changes are measured against when that was no usual day, and the day's own holiday or
        # activity: said once over their columns, as the morning email does.
        "vs": rows[0]["vs"],
        "breakdowns": day_breakdowns(window, day),
        "rolled_up": any(r["value"] is not None for r in rows),
        "chart": gmv_chart(store, day), "open_anomalies": open_anomalies,
        **_day_anomalies(store, day),
    }


DAY_ANOMALIES_SHOWN = 10  # on the daily page; "and N more" links to the list of the store's day


def _day_anomalies(store, day) -> dict:
    """The day's first incidents for a store's panel, and how many more the anomaly list has."""
    leads = Anomaly.objects.filter(store=store, day=day, part_of__isnull=True)
    shown = with_related(leads.with_value_now().select_related("store", "explained_by")[:DAY_ANOMALIES_SHOWN])
    # Counted only when the page is full: a day with fewer costs no query.
    more = leads.count() - len(shown) if len(shown) == DAY_ANOMALIES_SHOWN else 0
    return {"anomalies": shown, "more_anomalies": more}


def anomaly_list(request):
    # One row per incident: the anomalies with the same cause are listed under their lead.
    anomalies = scope(Anomaly.objects.filter(part_of__isnull=True).with_value_now()
                      .select_related("store", "owner", "explained_by"), request.user)
    status = request.GET.get("status", "open")
    if status not in ("all", *AnomalyStatus.values):
        status = "open"  # what the filter then shows as chosen
    if status == "open":
        anomalies = anomalies.exclude(status=AnomalyStatus.RESOLVED)
    elif status in AnomalyStatus.values:
        anomalies = anomalies.filter(status=status)
    slug = request.GET.get("store")
    stores = list(stores_for(request.user))
    if slug:
        anomalies = anomalies.filter(store=get_store(request.user, slug))
    day = _asked_day(request, "Showing every day.")  # the daily page's "and N more" link
    # Without a day, an incident that runs over days is one row, on its latest day ("since Wed 25 Nov, 3rd day").
    anomalies = anomalies.filter(day=day) if day else anomalies.filter(continued_by__isnull=True)
    overdue = request.GET.get("overdue") == "1"  # the desk's "action items overdue" link
    if overdue:
        anomalies = anomalies.filter(pk__in=ActionItem.objects.overdue(stores).values("anomaly"))
    # A GROUP BY drops the model's ordering: say it again.
    anomalies = anomalies.annotate(
        open_items=Count("action_items", filter=Q(action_items__done=False)),
        next_due=Min("action_items__due_date", filter=Q(action_items__done=False)),
    ).order_by(*Anomaly._meta.ordering)
    return render(request, "metrics/anomaly_list.html", {
        "anomalies": with_related(anomalies[:300]), "status": status, "statuses": AnomalyStatus.choices,
        "stores": stores, "store_slug": slug or "", "metrics": METRICS, "overdue": overdue, "day": day,
    })


PLAN_FORM_ID = "anomaly-plan"  # the new action item's fields belong to this form too


def anomaly_withdrawn(request, pk):
    """A link to an anomaly that late data withdrew (from an email sent before): the page says so, or
    leads to the anomaly flagged again since; for another store's id or an unknown one, the usual 404."""
    withdrawn = get_scoped_object(WithdrawnAnomaly.objects.select_related("store"), request.user, pk=pk)
    if (again := withdrawn.current()) is not None:
        return redirect("metrics:anomaly", pk=again.pk)
    return render(request, "metrics/anomaly_withdrawn.html", {"withdrawn": withdrawn, "store": withdrawn.store},
                  status=410)


def anomaly_detail(request, pk):
    anomaly = scope(Anomaly.objects.with_earlier_values()
                    .select_related("store", "owner", "explained_by", "part_of__owner"),
                    request.user).filter(pk=pk).first()
    if anomaly is None:
        return anomaly_withdrawn(request, pk)
    users = assignable_users([anomaly.store])
    today = anomaly.store.today()

    def item_form(data=None):
        return ActionItemForm(data, users=users, today=today, form_id=PLAN_FORM_ID)

    form, new_item = AnomalyForm(instance=anomaly), item_form()
    if request.method == "POST" and anomaly.part_of_id:
        # Its incident's status and plan live on the lead (a page opened before the grouping still
        # has the form): nothing is written here, and the reader is sent where the plan is.
        messages.warning(request, "This anomaly is part of an incident: its status and plan are kept on the "
                                  "incident's lead, shown here. Nothing was changed.")
        return redirect("metrics:anomaly", pk=anomaly.part_of_id)
    if request.method == "POST":
        # One form on the page: the plan, a new action item and ticking an item off are saved
        # together, so a plan typed before clicking "Add action item" or an item's box is kept, and
        # so is an item typed before "Save".
        if "status" in request.POST:
            form = AnomalyForm(request.POST, instance=anomaly)
        new_item = item_form(request.POST)
        toggled, mark_done = _toggled_item(anomaly, request.POST.get("toggle_item"))
        # "Save" with an item's text typed adds it too; an owner or date picked without any text is
        # no item, and does not stop the plan from being saved.
        adding = "add_item" in request.POST or bool(request.POST.get(new_item.add_prefix("text"), "").strip())
        if (not form.is_bound or form.is_valid()) and (not adding or new_item.is_valid()):
            with transaction.atomic():
                # Locked so that a double-clicked "Add action item" (two requests at once) adds it once.
                list(Anomaly.objects.select_for_update().filter(pk=anomaly.pk).values_list("pk"))
                changed, repeated = form.is_bound and form.has_changed(), False
                if changed:
                    form.save()
                    anomaly.share_status()
                    messages.success(request, f"Saved: status {anomaly.get_status_display().lower()}.")
                if adding:
                    item = new_item.save(commit=False)
                    if anomaly.action_items.filter(done=False, text=item.text, owner=item.owner,
                                                   due_date=item.due_date).exists():
                        messages.info(request, f"“{item.text}” is already on the list.")
                        adding, repeated = False, True
                    else:
                        item.anomaly = anomaly
                        item.save()
                        messages.success(request, "Action item added.")
                if toggled:
                    toggled.refresh_from_db(fields=["done"])
                    # The box says which way it goes: a double click or a page opened before somebody
                    # else ticked it does not flip it back.
                    done = not toggled.done if mark_done is None else mark_done
                    if done == toggled.done:
                        messages.info(request, f"“{toggled.text}” is already {'done' if done else 'not done'}.")
                        toggled, repeated = None, True
                    else:
                        toggled.done = done
                        toggled.save(update_fields=["done"])
                        messages.success(request, f"“{toggled.text}” marked {'done' if done else 'not done'}.")
                if not (changed or adding or toggled or repeated):
                    messages.info(request, "Nothing changed.")
                if changed and anomaly.status == AnomalyStatus.RESOLVED and (
                        left := anomaly.action_items.filter(done=False).count()):
                    messages.warning(request, f"Resolved with {left} action item{'s' * (left > 1)} not done yet.")
            return redirect("metrics:anomaly", pk=anomaly.pk)
        if form.is_bound:
            # Nothing was saved (a save redirects), but validating wrote the typed values onto the
            # instance: the header must show the record as it is, not a refused status.
            anomaly.refresh_from_db(fields=["status", "plan", "owner"])
        # The form is far down a long page that reloads at its top: the refusal is said up there too.
        refused = [*(form.errors.values() if form.is_bound else ()), *(new_item.errors.values() if adding else ())]
        messages.error(request, "Nothing was saved: " + " ".join(e for errors in refused for e in errors))
        if not adding:
            new_item = item_form()  # nothing was typed: no "required" errors under an empty item
    return render(request, "metrics/anomaly_detail.html", {
        "anomaly": anomaly, "related": label_values(list(anomaly.related.select_related("store"))),
        "lead": anomaly.part_of and label_values([anomaly.part_of])[0],
        "continued": None if anomaly.part_of_id else anomaly.continued_incident(),
        "store": anomaly.store, "form": form, "item_form": new_item, "today": today,
        "form_id": PLAN_FORM_ID, "items": anomaly.action_items.select_related("owner"),
        "chart": _figure_json(anomaly_figure(anomaly)), "info": anomaly.info,
        "dimensions": (anomaly.root_cause or {}).get("dimensions", []), "tree": (anomaly.root_cause or {}).get("tree"),
    })


@csrf_exempt  # the signed link is the credential; a mail app's one-click POST carries no CSRF token
@login_not_required
def email_opt_out(request, token):
    """The morning email's "stop these emails" link: a page with a button (a link opened by a mail
    scanner changes nothing), and the target of the mail app's RFC 8058 one-click POST. A forged or mangled link
    is refused with the same 400 page as the ad alerts' and changes nothing."""
    membership = opted_out_membership(token)
    if membership is None:
        return opt_out_link_broken(request, "morning_email")
    if request.method == "POST":
        membership.opt_out("morning_email")
    return render(request, "metrics/email_opt_out.html", {"membership": membership,
                                                          "done": not membership.morning_email})


def _toggled_item(anomaly, value: str | None) -> tuple[ActionItem | None, bool | None]:
    """The action item whose box was clicked (its button submits the plan form) and whether it is to be
    done ("12:done") or not ("12:open"); a bare id, from a page opened before boxes said so, flips it."""
    if not value:
        return None, None
    pk, _, state = value.partition(":")
    if (pk := parse_pk(pk)) is None or state not in ("", "done", "open"):
        raise Http404("No such action item.")
    item = get_object_or_404(ActionItem, anomaly=anomaly, pk=pk)
    return item, {"done": True, "open": False}.get(state)


def violation_entry(request, slug):
    """Record one penalty by hand or import a platform CSV (all or nothing) for one store.

    A day that is already rolled up is rolled up again, so its violation numbers count the new records. A
    refused file lists its first IMPORT_ERRORS_SHOWN errors and says how many there were.
    """
    store = get_store(request.user, slug)
    form = ViolationForm(store=store)
    upload = ViolationUploadForm()
    errors: list[str] = []
    if request.method == "POST" and "upload" in request.POST:
        upload = ViolationUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            try:
                text = upload.cleaned_data["file"].read().decode("utf-8-sig")
                result = import_violations(store, text, mark=upload.cleaned_data["mark"] or None)
            except UnicodeDecodeError:
                errors = ["The file is not UTF-8 text."]
            except ViolationImportError as exc:
                errors = [str(e) for e in exc.errors]
            else:
                messages.success(request, f"Imported {result.created} new and updated {result.updated} records."
                                 + refreshed_note(result.refreshed))
                return redirect("stores:violations", slug=store.slug)
    elif request.method == "POST":
        form = ViolationForm(request.POST, store=store)
        if form.is_valid():
            violation = form.save(commit=False)
            violation.store = store
            with transaction.atomic():
                violation.save()
                refreshed = refresh_days(store, [store.today(violation.occurred_at)])
            messages.success(request, f"Recorded {violation.kind}." + refreshed_note(refreshed))
            return redirect("stores:violations", slug=store.slug)
    return render(request, "metrics/violation_entry.html", {
        "store": store, "form": form, "upload": upload, "errors": errors[:settings.IMPORT_ERRORS_SHOWN],
        "error_count": len(errors)})
