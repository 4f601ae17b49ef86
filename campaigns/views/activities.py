"""Activity pages: list, create (from a template or blank), detail with checklist, status moves,
lottery draw and post-activity review. Every lookup goes through the user's stores."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.tenancy import MANAGER, get_scoped_object, has_role, parse_pk, scope, stores_for

from .. import activity_history, activity_lottery, activity_moves, activity_review, activity_series
from ..activity_forms import ActivityForm, ChecklistItemForm, LotteryForm, RepeatForm, ReviewForm, SeriesRuleForm
from ..activity_kinds import describe, details_form, is_lottery, next_event_day
from ..activity_templates import copy_checklist
from ..desk import upcoming_by_store
from ..models import (
    Activity,
    ActivityKind,
    ActivityReview,
    ActivityStatus,
    ActivityTemplate,
    ChecklistItem,
    LotteryDraw,
)


def visible_templates(user):
    return ActivityTemplate.objects.filter(Q(store=None) | Q(store__in=stores_for(user)))


ACTIVITIES_PER_PAGE = 50


def activities(request):
    """The user's activities, latest start first, a page at a time; the filters stay on the page links."""
    items = scope(Activity.objects.select_related("store", "owner"), request.user).prefetch_related("checklist")
    store_slug = request.GET.get("store", "")
    if store_slug:
        items = items.filter(store__slug=store_slug)
    status = request.GET.get("status", "")
    if status in ActivityStatus.values:
        items = items.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in ActivityKind.values:
        items = items.filter(kind=kind)
    soon = request.GET.get("soon") == "1"
    if soon:  # the same rule as the desk, each store by its own local today
        stores = list(stores_for(request.user).filter(slug=store_slug) if store_slug else stores_for(request.user))
        soon_by_store = upcoming_by_store(stores, {store.pk: store.today() for store in stores})
        ids = [a.pk for deadlines, starts in soon_by_store.values() for a in deadlines + starts]
        items = items.filter(pk__in=ids)
    page = Paginator(items.order_by("-start_date", "-pk"), ACTIVITIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "campaigns/activities.html", {
        "page": page, "stores": stores_for(request.user), "statuses": ActivityStatus.choices,
        "kinds": ActivityKind.choices, "filters": {"store": store_slug, "status": status, "kind": kind, "soon": soon},
    })


def activity_new(request):
    """Step 1 without ?kind or ?template: pick one. Step 2: the form for that kind, prefilled from the template."""
    template = None
    if request.GET.get("template"):
        if (template_pk := parse_pk(request.GET["template"])) is None:  # a mangled link: no such template, not a 500
            raise Http404("No such template.")
        template = get_object_or_404(visible_templates(request.user), pk=template_pk)
    kind = template.kind if template else request.GET.get("kind")
    if kind not in ActivityKind.values:
        return render(request, "campaigns/activity_pick.html", {
            "kinds": ActivityKind.choices,
            "templates": visible_templates(request.user).prefetch_related("steps").select_related("playbook",
                                                                                                "store")})
    initial = {}
    stores = stores_for(request.user)
    if request.GET.get("store"):
        initial["store"] = stores.filter(slug=request.GET["store"]).first()
    elif stores.count() == 1:
        initial["store"] = stores.first()
    if template:
        store = initial.get("store") or stores.first()
        today = store.today() if store else timezone.localdate()
        # A named event's template starts on the event's next day (Double 11 on 11 November), others in 2 weeks.
        start = next_event_day((template.default_details or {}).get("event", ""), today) or today + timedelta(days=14)
        end = start + timedelta(days=template.duration_days - 1)
        initial.update(name=template.name, start_date=start, end_date=end)
    details = details_form(kind, request.POST or None, initial=template.default_details if template else None)
    form = ActivityForm(request.POST or None, user=request.user, kind=kind, details=details, initial=initial)
    repeat = RepeatForm(request.POST or None, prefix="r")
    if request.method == "POST" and form.is_valid() and repeat.is_valid():
        activity = form.save(commit=False)
        activity.template = template
        activity.owner = activity.owner or request.user
        if repeat.cleaned_data["repeat"]:
            try:
                series = activity_series.create_series(
                    activity, repeat.cleaned_data["repeat"], repeat.cleaned_data["until"],
                    products=form.cleaned_data["products"], user=request.user)
            except ValidationError as exc:
                repeat.add_error(None, exc.messages[0])
            else:
                messages.success(request, f"Created “{activity.name}” {len(series)} times: "
                                          f"{series[0].series.describe()}.")
                return redirect(series[0])
        else:
            with transaction.atomic():
                activity.save()
                form.save_m2m()
                if template:
                    copy_checklist(activity, template)
                activity_history.record_created(activity, user=request.user)
            messages.success(request, f"Created “{activity.name}”.")
            return redirect(activity)
    return render(request, "campaigns/activity_form.html", {
        "form": form, "details": details, "repeat": repeat, "kind": ActivityKind(kind), "template": template})


def _activity(request, pk):
    return get_scoped_object(
        Activity.objects.select_related("store", "owner", "template__playbook", "series").prefetch_related(
            "products", Prefetch("checklist", queryset=ChecklistItem.objects.select_related("done_by"))),
        request.user, pk=pk)


def activity_detail(request, pk):
    activity = _activity(request, pk)
    draw = LotteryDraw.objects.filter(activity=activity).first()
    lottery_form = None
    if is_lottery(activity) and draw is None:
        lottery_form = LotteryForm(initial={
            "source": "orders", "window_start": activity.start_date, "window_end": activity.end_date,
            "winner_count": activity.details.get("prize_count", 1)})
    review = ActivityReview.objects.filter(activity=activity).select_related("playbook").first()
    return render(request, "campaigns/activity_detail.html", {
        "a": activity, "details": describe(activity), "moves": [ActivityStatus(s) for s in activity.allowed_moves()],
        "draw": draw, "lottery_form": lottery_form, "review": review,
        "checklist": list(activity.checklist.all()), "item_form": ChecklistItemForm(),
        "history": list(activity.history.select_related("by")),  # newest first, one query however long
        "today": activity.store.today(), "may_save_template": has_role(request.user, activity.store, MANAGER)})


def activity_edit(request, pk):
    activity = _activity(request, pk)
    details = details_form(activity.kind, request.POST or None, initial=activity.details)
    form = ActivityForm(request.POST or None, instance=activity, user=request.user, kind=activity.kind,
                        details=details)
    if request.method == "POST" and form.is_valid():
        _, steps = activity_moves.save_edited(form, user=request.user)
        messages.success(request, f"Saved.{activity_moves.steps_moved(steps)}")
        return redirect(activity)
    return render(request, "campaigns/activity_form.html", {
        "form": form, "details": details, "kind": ActivityKind(activity.kind), "activity": activity})


@require_POST
def activity_status(request, pk):
    activity = _activity(request, pk)
    try:
        activity.move_to(request.POST.get("status", ""), user=request.user)
    except (ValidationError, ValueError) as exc:
        messages.error(request, exc.messages[0] if isinstance(exc, ValidationError) else "Unknown status.")
    else:
        messages.success(request, f"Now {activity.get_status_display().lower()}.")
    return redirect(activity)


@require_POST
def series_delete_future(request, pk):
    """From any occurrence: delete its series' occurrences still to come (ideas and plans)."""
    activity = _activity(request, pk)
    if activity.series_id is None:
        raise Http404("Not part of a series.")
    deleted, kept = activity_series.delete_future(activity)
    note = f"; {kept} already under way stay" if kept else ""
    messages.success(request, f"Deleted {deleted} future activit{'y' if deleted == 1 else 'ies'} of the series{note}.")
    if Activity.objects.filter(pk=activity.pk).exists():
        return redirect(activity)
    return redirect("campaigns:activities")


def series_change(request, pk):
    """From any occurrence: the series' rule in force and its history; a POST previews a new rule for the
    occurrences still to come (the days that change, old → new), and its Confirm saves it."""
    activity = _activity(request, pk)
    if activity.series_id is None:
        raise Http404("Not part of a series.")
    series = activity.series
    form = SeriesRuleForm(request.POST or None, initial={"repeat": series.repeat, "until": series.until})
    preview = None
    if request.method == "POST" and form.is_valid():
        rule = (activity, form.cleaned_data["repeat"], form.cleaned_data["until"])
        first_day = form.cleaned_data["first_day"]
        try:
            if "confirm" not in request.POST:
                preview = activity_series.preview_rule(*rule, first_day)
            else:
                change = activity_series.change_rule(*rule, first_day=first_day, user=request.user,
                                                     expected=request.POST.get("plan", ""))
                series.refresh_from_db()
                messages.success(request, f"The series is now {series.describe()}: {change.counts()}.")
                if Activity.objects.filter(pk=activity.pk).exists():
                    return redirect(activity)
                return redirect("campaigns:activities")
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
            if exc.code == "stale":
                try:
                    preview = activity_series.preview_rule(*rule, first_day)
                except ValidationError as refused:  # it changed so that it can no longer be
                    form.add_error(None, refused.messages[0])
    return render(request, "campaigns/series_form.html", {
        "form": form, "a": activity, "series": series, "today": activity.store.today(), "preview": preview,
        "history": list(series.history.select_related("by"))})  # newest first, one query however long


def _step(activity, item_pk):
    item = activity.checklist.filter(pk=item_pk).first()
    if item is None:
        raise Http404("No such checklist item.")
    return item


@require_POST
def checklist_toggle(request, pk, item_pk):
    activity = _activity(request, pk)
    activity.tick_step(_step(activity, item_pk), request.POST.get("done") == "1", user=request.user)
    return redirect(activity.get_absolute_url() + "#checklist")


@require_POST
def checklist_remove(request, pk, item_pk):
    activity = _activity(request, pk)
    item = _step(activity, item_pk)
    if not activity.remove_step(item, user=request.user):
        messages.error(request, f"“{item.title}” is done, so it stays on the checklist; undo it first to remove it.")
    return redirect(activity.get_absolute_url() + "#checklist")


@require_POST
def checklist_new(request, pk):
    activity = _activity(request, pk)
    form = ChecklistItemForm(request.POST)
    if form.is_valid():
        item = form.save(commit=False)
        if not activity.add_step(item, user=request.user):
            messages.error(request, f"“{item.title}” is already on the checklist and not done; it was not added again.")
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {'; '.join(errors)}")
    return redirect(activity.get_absolute_url() + "#checklist")


@require_POST
def lottery_draw(request, pk):
    activity = _activity(request, pk)
    form = LotteryForm(request.POST, today=activity.store.today())
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {'; '.join(errors)}")
        return redirect(activity)
    d = form.cleaned_data
    try:
        result = activity_lottery.draw(activity, d["source"], d["window_start"], d["window_end"], d["winner_count"],
                                       user=request.user)
    except activity_lottery.AlreadyDrawn as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"Drew {result.winner_count} winner(s) from {result.entrant_count} entrants.")
    return redirect(activity.get_absolute_url() + "#lottery")


def activity_review_page(request, pk):
    activity = _activity(request, pk)
    figures = activity_review.review(activity)
    measure = request.GET.get("measure") if request.GET.get("measure") in ("gmv", "orders", "new_members") else "gmv"
    chart = _bar_chart(activity_review.daily_pairs(activity, measure))
    base_first, base_last = activity_review.baseline_period(activity.start_date, activity.end_date)
    existing = ActivityReview.objects.filter(activity=activity).first()
    form = ReviewForm(request.POST or None, instance=existing, store=activity.store)
    if request.method == "POST":
        if activity.status not in (ActivityStatus.DONE, ActivityStatus.REVIEWED):
            messages.error(request, "Only a finished (done) activity can be reviewed.")
        elif form.is_valid():
            stored, conflict = activity_review.save_review(activity, form, figures, request.user, existing)
            if not conflict:
                messages.success(request, "Review saved.")
                return redirect(activity)
            messages.error(request, f"{stored.created_by or 'Someone'} saved a review of this activity meanwhile: "
                                    f"“{stored.summary}”. Yours, below, is not saved; "
                                    f"press Update review to replace theirs with it.")
            existing = stored
            form = ReviewForm(request.POST, instance=stored, store=activity.store)
    return render(request, "campaigns/activity_review.html", {
        "a": activity, "figures": figures, "baseline": (base_first, base_last), "form": form, "existing": existing,
        "chart": chart, "measure": measure})


def _bar_chart(pairs: list[dict], width: int = 720, height: int = 180) -> dict:
    """Bar geometry for an inline SVG: per day a grey baseline bar and a blue activity bar."""
    top = max([max(p["actual"], p["baseline"]) for p in pairs] + [1.0])
    slot = width / max(len(pairs), 1)
    bar = max(2.0, slot * 0.38)
    bars = []
    for i, p in enumerate(pairs):
        x = i * slot + slot * 0.1
        for offset, key, css in ((0, "baseline", "base"), (bar, "actual", "act")):
            h = round(height * p[key] / top, 1)
            bars.append({"x": round(x + offset, 1), "y": round(height - h, 1), "w": round(bar, 1), "h": h,
                         "css": css, "title": f"{p['day'] if key == 'actual' else p['baseline_day']}: {p[key]:,.2f}"})
    labels = [{"x": round(i * slot + slot / 2, 1), "text": f"{p['day']:%a} {p['day'].day}"}  # "Fri 8", as "Fri 8 May"
              for i, p in enumerate(pairs)]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "top": top}

