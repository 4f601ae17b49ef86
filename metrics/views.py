"""Metrics pages: today's numbers so far (live) and yesterday against the day before (daily)."""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from opsdesk.tenancy import stores_for
from stores.services import sales_summary


def live(request):
    now = timezone.now()
    rows = []
    for store in stores_for(request.user):
        start, _ = store.day_bounds(store.today(now))
        rows.append({"store": store, "today": sales_summary(store, start, now)})
    return render(request, "metrics/live.html", {"rows": rows, "now": now})


def daily(request):
    now = timezone.now()
    rows = []
    for store in stores_for(request.user):
        yesterday = store.today(now) - timedelta(days=1)
        rows.append({
            "store": store, "day": yesterday,
            "yesterday": sales_summary(store, *store.day_bounds(yesterday)),
            "day_before": sales_summary(store, *store.day_bounds(yesterday - timedelta(days=1))),
        })
    return render(request, "metrics/daily.html", {"rows": rows})
