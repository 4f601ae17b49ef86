"""Daily-tracking pages: yesterday against the day before."""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from opsdesk.tenancy import stores_for
from stores.services import sales_summary


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
