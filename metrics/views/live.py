"""Real-time pages: today's numbers so far."""


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

