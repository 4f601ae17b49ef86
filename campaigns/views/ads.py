"""Paid-promotion pages: ad plans of the user's stores, their performance, pacing, creatives and imports."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from opsdesk.images import CONTENT_TYPES, thumbnail_path
from opsdesk.money import to_money
from opsdesk.tenancy import get_scoped_object, scope, stores_for
from stores import import_jobs
from stores.models import ImportJob

from .. import ads_charts, ads_pacing
from ..ads_creatives import compare_creatives
from ..ads_forms import AdCreativeForm, AdPlanForm, AdReportUploadForm, StoreAdBudgetForm, budget_months
from ..models import AdChannel, AdCreative, AdPlan, AdPlanStatus
from .saving import save_new

LIST_DAYS = 30
HISTORY_SHOWN = 50  # status changes on the plan page, newest first


def ads(request):
    """All plans of the user's stores with the last 30 days' totals, spend today against the daily budget,
    pacing alerts and charts, and each shown store's month of spend against its ad budget (set here by POST)."""
    posted = StoreAdBudgetForm(request.POST, user=request.user) if request.method == "POST" else None
    if posted is not None and posted.is_valid():
        budget = posted.save()
        messages.success(request, f"Saved the ad budget of {budget.store.name} for {budget.month:%B %Y}.")
        return redirect(request.get_full_path())
    # By store, then name: a summing query drops the model's ordering, and one store's plans belong together.
    plans = scope(AdPlan.objects.select_related("store"), request.user).order_by("store__name", "name")
    store_slug = request.GET.get("store") or ""
    if store_slug:
        plans = plans.filter(store__slug=store_slug)
    channel = request.GET.get("channel") or ""
    if channel in AdChannel.values:
        plans = plans.filter(channel=channel)
    status = request.GET.get("status") or ""
    if status in AdPlanStatus.values:
        plans = plans.shown_as(status)
    stores = list(stores_for(request.user))
    shown_stores = [s for s in stores if not store_slug or s.slug == store_slug]
    rows = ads_pacing.plan_totals(plans, last_days=LIST_DAYS)
    # One currency: named once in the headers; several: each amount carries its store's.
    currencies = {r.plan.store.currency for r in rows}
    currency = next(iter(currencies)) if len(currencies) == 1 else ""
    pacings, alerts = ads_pacing.listed_pacing(shown_stores, [r.plan for r in rows])
    for r in rows:
        r.unit = "" if currency else r.plan.store.currency
        r.today = pacings[r.plan.pk]
    charts = {}
    if len(shown_stores) == 1:
        store = shown_stores[0]
        charts = ads_charts.store_charts(store, plans.filter(store=store))
    months = ads_pacing.stores_month_pacing(shown_stores)
    budgets = [_store_budget(store, months[store.pk], posted, request.user) for store in shown_stores]
    return render(request, "campaigns/ads.html", {
        "rows": rows, "stores": stores, "store_slug": store_slug, "channel": channel, "status": status,
        "channels": AdChannel.choices, "statuses": AdPlanStatus.choices, "alerts": alerts, "days": LIST_DAYS,
        "charts": charts, "currency": currency, "several_stores": len(shown_stores) > 1, "budgets": budgets,
        # A post for a store not shown (or not the user's) has no line to show its errors beside.
        "posted_errors": posted.errors if posted is not None and all(b["form"] is not posted for b in budgets)
        else None,
    }, status=400 if posted is not None else 200)


def _store_budget(store, month, posted, user) -> dict:
    """A store's month pacing and its budget form: the posted one, errors and all, for the store it was for."""
    mine = posted is not None and posted.data.get("store") == str(store.pk)
    form = posted if mine else StoreAdBudgetForm(user=user, initial={
        "store": store.pk, "month": f"{month.month_start:%Y-%m}", "amount": month.budget})
    return {"store": store, "month": month, "form": form, "months": budget_months(store)}


def ad_new(request):
    stores = stores_for(request.user)
    store = stores.filter(slug=request.GET.get("store") or "").first() or (stores.first() if stores.count() == 1
                                                                           else None)
    form = AdPlanForm(request.POST or None, user=request.user, initial={"store": store} if store else None)
    if request.method == "POST" and form.is_valid() and (plan := save_new(form)):
        messages.success(request, f"Created ad plan {plan.name}.")
        return redirect(plan)
    return render(request, "campaigns/ad_form.html", {"form": form})


def ad_edit(request, pk):
    plan = get_scoped_object(AdPlan.objects.select_related("store"), request.user, pk=pk)
    form = AdPlanForm(request.POST or None, instance=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()  # its status change, if any, is recorded in the same transaction
        messages.success(request, f"Saved ad plan {plan.name}.")
        return redirect(plan)
    return render(request, "campaigns/ad_form.html", {"form": form, "plan": plan})


def ad_detail(request, pk):
    plan = get_scoped_object(AdPlan.objects.select_related("store"), request.user, pk=pk)
    today = plan.store.today()
    daily = list(plan.daily.filter(date__gt=today - timedelta(days=60)).order_by("-date"))
    totals = {k: to_money(v or 0) for k, v in plan.daily.aggregate(spend=Sum("spend"), sales=Sum("sales")).items()}
    pacing, month = ads_pacing.plan_pacing(plan), ads_pacing.month_pacing(plan, today)
    return render(request, "campaigns/ad_detail.html", {
        "plan": plan, "daily": daily, "totals": totals, "pacing": pacing, "month": month,
        "creatives": compare_creatives(plan), "creative_form": AdCreativeForm(plan=plan),
        "charts": ads_charts.plan_charts(plan, daily, pacing, month),
        "products": plan.products.all(),
        "history": plan.status_changes.select_related("by")[:HISTORY_SHOWN],
    })


def ad_creative_new(request, pk):
    plan = get_scoped_object(AdPlan.objects.select_related("store"), request.user, pk=pk)
    form = AdCreativeForm(request.POST or None, request.FILES or None, plan=plan)
    if request.method == "POST" and form.is_valid() and (creative := save_new(form)):
        messages.success(request, f"Uploaded creative {creative.name}.")
        return redirect(plan)
    return render(request, "campaigns/ad_creative_form.html", {"form": form, "plan": plan}, status=(
        400 if request.method == "POST" else 200))


def ad_creative_edit(request, pk):
    creative = get_scoped_object(AdCreative.objects.select_related("plan__store"), request.user,
                                 via="plan__store", pk=pk)
    form = AdCreativeForm(request.POST or None, request.FILES or None, instance=creative, plan=creative.plan)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved creative {creative.name}.")
        return redirect(creative.plan)
    return render(request, "campaigns/ad_creative_form.html", {"form": form, "plan": creative.plan,
                                                                 "creative": creative})


def ad_creative_image(request, pk):
    """A creative's picture, served only to members of its store (media are not public)."""
    return _serve_creative(request, pk, thumbnail=False)


def ad_creative_thumbnail(request, pk):
    """The creative's thumbnail (at most 480 px a side) for the plan page; a creative stored before thumbnails
    were made has none, and its whole picture is served instead."""
    return _serve_creative(request, pk, thumbnail=True)


def _serve_creative(request, pk, *, thumbnail: bool):
    creative = get_scoped_object(AdCreative.objects.select_related("plan"), request.user, via="plan__store", pk=pk)
    name = creative.image.name
    if thumbnail and creative.image.storage.exists(thumbnail_path(name)):
        name = thumbnail_path(name)
    try:
        handle = creative.image.storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("The image file is missing.") from exc
    ext = name.rsplit(".", 1)[-1].lower()
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(ext, "application/octet-stream"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def ad_import(request):
    """Upload a Google Ads or through-train report into one of the user's stores. The file is stored and imported
    by a worker (`stores.import_jobs`, kind "ad_report"): the page answers at once with the job's status page,
    which shows the summary, or every bad line (nothing is saved unless every row is good)."""
    stores = stores_for(request.user)
    initial = {"store": stores.filter(slug=request.GET.get("store") or "").first()}
    form = AdReportUploadForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        job = import_jobs.start(form.cleaned_data["store"], request.user, "ad_report", form.cleaned_data["file"],
                                options={"format": form.cleaned_data["format"] or None, **form.options()})
        return redirect(job)
    jobs = scope(ImportJob.objects.filter(kind="ad_report").select_related("store", "created_by"), request.user)
    return render(request, "campaigns/ad_import.html", {"form": form, "jobs": jobs[:10]},
                  status=400 if request.method == "POST" else 200)
