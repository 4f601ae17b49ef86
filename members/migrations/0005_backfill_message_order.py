"""Link the after-sales texts planned before Message.order existed to their order, found from the
occasion "after_sales:order <external id>" and the text's store. Only unlinked rows are touched, so
running it again changes nothing; a text whose order is gone stays unlinked (sending skips it,
"order not found")."""

from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

PREFIX = "after_sales:order "


def link_orders(apps, schema_editor):
    Message = apps.get_model("members", "Message")
    Order = apps.get_model("stores", "Order")
    order = Order.objects.filter(store=OuterRef("store_id"),
                                 external_id=Substr(OuterRef("occasion"), len(PREFIX) + 1)).values("pk")[:1]
    Message.objects.filter(flow="after_sales", occasion__startswith=PREFIX, order__isnull=True).update(
        order=Subquery(order))


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0004_message_order"),
        ("stores", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(link_orders, migrations.RunPython.noop),
    ]
