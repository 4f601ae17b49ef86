from django.contrib import admin

from opsdesk.tenancy import ReadOnlyAdminMixin, StoreScopedAdminMixin

from .models import ActionItem, Anomaly, DailyMetric, MorningEmail, PeerBenchmark, StaleDay, TrafficEvent


@admin.register(TrafficEvent)
class TrafficEventAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["event_id", "store", "type", "ts", "source", "product"]
    list_filter = ["store", "type", "source"]
    raw_id_fields = ["product"]


@admin.register(DailyMetric)
class DailyMetricAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "day", "metric", "dimension", "dimension_value", "value"]
    list_filter = ["store", "metric", "dimension"]
    date_hierarchy = "day"


@admin.register(PeerBenchmark)
class PeerBenchmarkAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "day", "metric", "level", "value", "source"]
    list_filter = ["store", "metric", "level"]
    date_hierarchy = "day"


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0


@admin.register(Anomaly)
class AnomalyAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "day", "metric", "dimension_value", "change", "score", "status", "owner", "part_of"]
    list_filter = ["store", "status", "metric"]
    raw_id_fields = ["part_of"]  # a select would list every store's anomalies
    # Set by the nightly judgement only (metrics.incidents.link_days): always the day before, so a run never loops.
    readonly_fields = ["continues"]
    inlines = [ActionItemInline]


@admin.register(MorningEmail)
class MorningEmailAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "membership__store"
    list_display = ["membership", "day", "report_day", "sent_at"]


@admin.register(StaleDay)
class StaleDayAdmin(ReadOnlyAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only: rows are written by late facts and removed by the rebuild (metrics.stale_days)."""

    list_display = ["store", "day", "marks", "created_at", "updated_at"]
    list_filter = ["store"]
    date_hierarchy = "day"
