"""Admin of the desk-wide records: who downloaded customer data, read only and scoped to the staff user's stores."""

from django.contrib import admin

from .models import DataExport
from .tenancy import ReadOnlyAdminMixin, parse_pk, stores_for


class StoreFilter(admin.SimpleListFilter):
    """By store, offering only the staff user's stores (a related filter would list every store named)."""

    title, parameter_name = "store", "store"

    def lookups(self, request, model_admin):
        return list(stores_for(request.user).order_by("name").values_list("pk", "name"))

    def queryset(self, request, queryset):
        return queryset.filter(stores=parse_pk(self.value())) if self.value() else queryset


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: every download of customer data; rows are written by the exports only (DataExport.record)."""

    list_display = ["created_at", "username", "kind", "stores_covered", "filters", "rows", "whole_phones"]
    list_filter = ["kind", StoreFilter, ("user", admin.RelatedOnlyFieldListFilter), "whole_phones"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return DataExport.objects.seen_by(request.user)

    @admin.display(description="stores")
    def stores_covered(self, export):
        return ", ".join(store.name for store in export.stores.all())
