"""Open items daily tracking puts on the desk: anomalies nobody has looked at yet."""

from django.urls import reverse

from opsdesk.desk import DeskItem

from .models import Anomaly, AnomalyStatus


def open_items(store, user) -> list[DeskItem]:
    count = Anomaly.objects.filter(store=store, status=AnomalyStatus.NEW, part_of__isnull=True).count()  # incidents
    url = reverse("metrics:anomalies") + f"?store={store.slug}&status=new"
    return [DeskItem("New anomalies", count, url, "warning")]
