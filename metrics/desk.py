"""Open items daily tracking puts on the desk: anomalies nobody has looked at yet, and action items
of their plans that are overdue."""

from django.urls import reverse

from opsdesk.desk import DeskItem, counts_by_store

from .models import ActionItem, Anomaly, AnomalyStatus


def open_items_by_store(stores, user) -> dict[int, list[DeskItem]]:
    # Incidents, each counted on its latest day.
    new = counts_by_store(Anomaly.objects.filter(store__in=stores, status=AnomalyStatus.NEW, part_of__isnull=True,
                                                 continued_by__isnull=True))
    overdue = counts_by_store(ActionItem.objects.overdue(stores), via="anomaly__store")
    items = {}
    for store in stores:
        url = reverse("metrics:anomalies") + f"?store={store.slug}"
        items[store.pk] = [DeskItem("New anomalies", new.get(store.pk, 0), url + "&status=new", "warning"),
                           DeskItem("Anomaly action items overdue", overdue.get(store.pk, 0), url + "&overdue=1",
                                    "danger")]
    return items


def open_items(store, user) -> list[DeskItem]:
    return open_items_by_store([store], user)[store.pk]
