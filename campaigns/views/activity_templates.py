"""Activity templates: the list (shared and the user's stores' own), a store template's editor and delete, and
Save as template from an activity. Store templates are changed by their store's managers only (an operator's
request is 403, another store's template 404); the shared ones stay read-only outside the admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsdesk.tenancy import MANAGER, get_scoped_object, stores_for

from .. import activity_templates
from ..activity_forms import SaveAsTemplateForm, TemplateForm, TemplateStepForm, TemplateStepFormSet, step_rows
from ..models import Activity, ActivityTemplate
from .activities import visible_templates


def templates_list(request):
    """Every template the user may use, each store template with its store named and, for its managers, Edit."""
    return render(request, "campaigns/templates.html", {
        "templates": visible_templates(request.user).prefetch_related("steps").select_related("playbook", "store"),
        "managed": set(stores_for(request.user, MANAGER).values_list("pk", flat=True))})


def _store_template(request, pk) -> ActivityTemplate:
    """One of the user's stores' own templates for its managers: 404 for a shared or another store's one."""
    return get_scoped_object(ActivityTemplate.objects.select_related("store").filter(store__isnull=False),
                             request.user, role=MANAGER, pk=pk)


def template_url(template: ActivityTemplate) -> str:
    return f"{reverse('campaigns:activity_templates')}#template-{template.pk}"


def template_edit(request, pk):
    """Name, description, duration and the steps (add, remove, reorder, edit) of a store template; refused
    input comes back as typed, with the reason beside it."""
    template = _store_template(request, pk)
    name = template.name  # the heading, before the form writes what was typed into `template`
    form = TemplateForm(request.POST or None, instance=template)
    steps = TemplateStepFormSet(request.POST or None, prefix="s", initial=[
        model_to_dict(step, fields=TemplateStepForm._meta.fields) for step in template.steps.all()])
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        try:
            activity_templates.save_template(form, step_rows(steps))
        except ValidationError as exc:
            form.add_error("name", exc.messages[0])
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect(template_url(template))
    return render(request, "campaigns/template_form.html", {"template": template, "name": name, "form": form,
                                                            "steps": steps},
                  status=400 if request.method == "POST" else 200)


@require_POST
def template_delete(request, pk):
    """Delete a store template; activities made from it keep their checklists."""
    template = _store_template(request, pk)
    template.delete()
    messages.success(request, f"Template “{template.name}” deleted; activities made from it keep their checklists.")
    return redirect("campaigns:activity_templates")


def activity_save_template(request, pk):
    """Save an activity as a template of its store (its managers): the page shows what it keeps, the POST saves
    it; a name the store already uses is refused and the typed name stays."""
    activity = get_scoped_object(Activity.objects.select_related("store", "template__playbook"), request.user,
                                 role=MANAGER, pk=pk)
    form = SaveAsTemplateForm(request.POST or None, initial={"name": activity.name})
    if request.method == "POST" and form.is_valid():
        try:
            template = activity_templates.template_from_activity(activity, form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc.messages[0])
        else:
            messages.success(request, f"Saved “{template.name}” as a template of {activity.store.name}.")
            return redirect(template_url(template))
    return render(request, "campaigns/template_save.html", {
        "a": activity, "form": form, "steps": activity_templates.steps_from_activity(activity)},
        status=400 if request.method == "POST" else 200)
