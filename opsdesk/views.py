"""The desk home page, the managers' record of customer-data downloads and the health check."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from metrics.live import so_far_by_store

from .desk import open_items_by_store
from .http import refuse
from .models import DataExport, Heartbeat
from .tenancy import MANAGER, stores_for


def desk(request):
    """Per store: today so far against yesterday at the same time, and open items of every duty."""
    now = timezone.now()
    stores = list(stores_for(request.user))
    sales = so_far_by_store(stores, now)
    items = open_items_by_store(stores, request.user)  # the same few queries for any number of stores
    panels = [{"store": store, "today": sales[store.pk][0], "yesterday": sales[store.pk][1],
               "items": items[store.pk]} for store in stores]
    beat = Heartbeat.objects.filter(name="worker").first()
    jobs_stale = beat is None or now - beat.last_seen > timedelta(minutes=5)
    return render(request, "opsdesk/desk.html", {"panels": panels, "now": now, "heartbeat": beat,
                                                 "jobs_stale": jobs_stale})


def downloads(request):
    """Managers: who downloaded customer data of the stores they manage (members lists, redeeming orders, review
    cases), newest first, 100 a page."""
    if not stores_for(request.user, MANAGER).exists():
        raise PermissionDenied("Managers only.")
    exports = DataExport.objects.seen_by(request.user, role=MANAGER)
    page = Paginator(exports, 100).get_page(request.GET.get("page"))
    return render(request, "opsdesk/downloads.html", {"page": page})


@login_not_required
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def bad_request(request, exception):
    """Django's 400 (handler400): a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a host not allowed…, answered in
    the caller's format like the app's own 400s, so a webhook gets plain text rather than an HTML page."""
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return refuse(request, f"The body is larger than the server accepts (at most {limit}).")
    return refuse(request)
