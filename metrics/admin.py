from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin

from .models import TrafficEvent


@admin.register(TrafficEvent)
class TrafficEventAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["event_id", "store", "type", "ts", "source", "product"]
    list_filter = ["store", "type", "source"]
    raw_id_fields = ["product"]
