"""Playbook pages: the list, and one procedure rendered from markdown with what links to it."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.shortcuts import render

from opsdesk.tenancy import scope, stores_for

from ..models import ActivityReview, Playbook
from ..playbook_render import render_markdown


def _visible(user):
    return Playbook.objects.filter(Q(store=None) | Q(store__in=stores_for(user)))


def playbooks(request):
    return render(request, "campaigns/playbooks.html", {"playbooks": _visible(request.user)})


def playbook(request, slug):
    book = _visible(request.user).filter(slug=slug).first()
    if book is None:
        raise Http404("No such playbook.")
    reviews = scope(ActivityReview.objects.filter(playbook=book).select_related("activity__store"), request.user,
                    via="activity__store")
    return render(request, "campaigns/playbook.html", {
        "book": book, "html": render_markdown(book.body), "templates": book.templates.filter(
            Q(store=None) | Q(store__in=stores_for(request.user))), "reviews": reviews[:50]})
