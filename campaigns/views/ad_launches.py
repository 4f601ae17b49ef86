"""Product launch pages: launch plans of the user's stores, their checklist and launch-week report."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.tenancy import get_scoped_object, scope

from .. import ads_charts
from ..ads_forms import LaunchPlanForm
from ..ads_launches import launch_week_report, week_totals
from ..models import LaunchPlan
from .saving import save_new


def launches(request):
    items = scope(LaunchPlan.objects.select_related("store", "product"), request.user).prefetch_related("checklist")
    return render(request, "campaigns/launch_list.html", {"launches": items[:200]})


def launch_new(request):
    form = LaunchPlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (
            launch := save_new(form, then=lambda launch: launch.add_default_checklist())):
        messages.success(request, f"Created launch plan {launch.name} with the standard checklist.")
        return redirect(launch)
    return render(request, "campaigns/launch_form.html", {"form": form})


def launch_edit(request, pk):
    launch = get_scoped_object(LaunchPlan.objects.select_related("store"), request.user, pk=pk)
    form = LaunchPlanForm(request.POST or None, instance=launch, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved launch plan {launch.name}.")
        return redirect(launch)
    return render(request, "campaigns/launch_form.html", {"form": form, "launch": launch})


def launch_detail(request, pk):
    launch = get_scoped_object(LaunchPlan.objects.select_related("store", "product"), request.user, pk=pk)
    days = launch_week_report(launch, launch.store.today())
    chart = ads_charts.spend_vs_sales([d.day for d in days], [float(d.ad_spend) for d in days],
                                      [float(d.gmv) for d in days], "Launch week: ad spend vs GMV",
                                      names=("Ad spend", "GMV"))
    return render(request, "campaigns/launch_detail.html", {
        "launch": launch, "days": days, "total": week_totals(days), "chart": chart if days else "",
        "checklist": launch.checklist.all(), "versions": launch.listing_versions.all(),
        "ad_plans": launch.ad_plans.all(), "activities": launch.activities.all(),
    })


@require_POST
def launch_check(request, pk, item):
    """Tick (done=1) or untick (done=0) one checklist item: said, not toggled, so a form sent twice changes nothing."""
    launch = get_scoped_object(LaunchPlan.objects.all(), request.user, pk=pk)
    entry = get_object_or_404(launch.checklist, pk=item)
    entry.done_at = (entry.done_at or timezone.now()) if request.POST.get("done") == "1" else None
    entry.save(update_fields=["done_at"])
    return redirect(launch)
