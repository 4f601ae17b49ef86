"""Plan pages: the year → month → week tree of a store, a plan with its goals' progress and its tasks."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsdesk.tenancy import get_scoped_object, parse_pk, scope, stores_for

from ..activity_forms import GoalForm, PlanForm, TaskForm
from ..models import Plan, PlanGoal, PlanLevel, PlanTask
from ..plan_progress import plan_progress
from .saving import save_new


def plans(request):
    items = scope(Plan.objects.select_related("store", "parent"), request.user).order_by(
        "store__name", "period_start", "level")
    store_slug = request.GET.get("store", "")
    if store_slug:
        items = items.filter(store__slug=store_slug)
    return render(request, "campaigns/plans.html", {"plans": items, "stores": stores_for(request.user),
                                                    "store_slug": store_slug})


def plan_new(request):
    initial = {}
    if (parent_pk := parse_pk(request.GET.get("parent"))) is not None:
        parent = get_scoped_object(Plan.objects.all(), request.user, pk=parent_pk)
        initial = {"store": parent.store, "parent": parent, "period_start": parent.period_start,
                   "level": PlanLevel.MONTH if parent.level == PlanLevel.YEAR else PlanLevel.WEEK}
    form = PlanForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid() and (plan := save_new(form)):
        messages.success(request, f"Created {plan}.")
        return redirect(plan)
    return render(request, "campaigns/plan_form.html", {"form": form})


def _plan(request, pk):
    return get_scoped_object(Plan.objects.select_related("store", "parent"), request.user, pk=pk)


def plan_detail(request, pk):
    plan = _plan(request, pk)
    goal_form = GoalForm(prefix="goal")
    task_form = TaskForm(prefix="task", store=plan.store)
    if request.method == "POST":
        if "goal-metric" in request.POST:
            goal_form = GoalForm(request.POST, prefix="goal")
            if goal_form.is_valid():
                PlanGoal.objects.update_or_create(plan=plan, metric=goal_form.cleaned_data["metric"],
                                                  defaults={"target": goal_form.cleaned_data["target"]})
                messages.success(request, "Goal saved.")
                return redirect(plan)
        else:
            task_form = TaskForm(request.POST, prefix="task", store=plan.store, instance=PlanTask(plan=plan))
            if task_form.is_valid():
                task_form.save()
                messages.success(request, "Task added.")
                return redirect(plan)
    tasks = plan.tasks.select_related("owner").order_by(F("done_at").asc(nulls_first=True), "due", "pk")
    return render(request, "campaigns/plan_detail.html", {
        "plan": plan, "progress": plan_progress(plan), "children": plan.children.all(),
        "tasks": tasks, "goal_form": goal_form, "task_form": task_form,
        "child_level": {PlanLevel.YEAR: "month", PlanLevel.MONTH: "week"}.get(plan.level)})


@require_POST
def plan_task_toggle(request, pk, task_pk):
    plan = _plan(request, pk)
    task = get_scoped_object(PlanTask.objects.filter(plan=plan), request.user, via="plan__store", pk=task_pk)
    # Said, not toggled: Done again keeps the first time (done tasks are listed in the order they were done).
    task.done_at = (task.done_at or timezone.now()) if request.POST.get("done") == "1" else None
    task.save(update_fields=["done_at"])
    return redirect(plan.get_absolute_url() + "#tasks")
