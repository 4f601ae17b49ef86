"""Real-time pages: today's numbers so far, per store, refreshed in place from a JSON endpoint."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from opsdesk.tenancy import get_store, stores_for

from .. import live as live_service
from .. import live_cache
from ..rollup import METRICS


def live(request):
    """Every store of the user with today's sales so far against yesterday at the same local time (as the
    desk); each links to its live view."""
    now = timezone.now()
    stores = list(stores_for(request.user))
    sales = live_service.so_far_by_store(stores, now)
    rows = [{"store": store, "today": sales[store.pk][0], "yesterday": sales[store.pk][1],
             "clock": f"{now.astimezone(store.zone):%H:%M}"} for store in stores]
    return render(request, "metrics/live_index.html", {"rows": rows, "now": now})


def store_live(request, slug):
    store = get_store(request.user, slug)
    return render(request, "metrics/live.html", {
        "store": store, "data": live_service.snapshot(store), "refresh_seconds": REFRESH_SECONDS,
        "kpi_rows": KPI_ROWS,
    })


@never_cache
def store_live_json(request, slug):
    store = get_store(request.user, slug)
    # Every open page polls this: its viewers share one snapshot per interval (its as_of says when it was computed).
    return JsonResponse(live_cache.shared_snapshot(store))


REFRESH_SECONDS = 5
# (name, label, is money): a money row names the store's currency once, as every other table does.
KPI_ROWS = [("visitors", "Visitors", False), ("sessions", "Sessions", False), ("orders", "Orders", False),
            ("buyers", "Buyers", False), ("gmv", "GMV", True), ("conversion", METRICS["conversion"].label, False),
            ("aov", "Average order value", True)]
