"""Open items daily tracking puts on the desk: anomalies nobody has looked at yet, and action items
of their plans that are overdue."""

from django.urls import reverse

from opsdesk.desk import DeskItem

from .models import ActionItem, Anomaly, AnomalyStatus


def open_items(store, user) -> list[DeskItem]:
    count = Anomaly.objects.filter(store=store, status=AnomalyStatus.NEW, part_of__isnull=True,
                                   continued_by__isnull=True).count()  # incidents, each counted on its latest day
    url = reverse("metrics:anomalies") + f"?store={store.slug}"
    return [DeskItem("New anomalies", count, url + "&status=new", "warning"),
            DeskItem("Anomaly action items overdue", ActionItem.objects.overdue([store]).count(),
                     url + "&overdue=1", "danger")]
