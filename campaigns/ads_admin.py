"""Admin for paid promotion's newer models (imported from campaigns/admin.py), scoped to the staff's stores."""

from django.contrib import admin

from opsdesk.tenancy import ReadOnlyAdminMixin, StoreScopedAdminMixin

from .ads_forms import AdCreativeAdminForm
from .models import (
    AdCreative,
    AdCreativePerformance,
    AdPacingAlertSent,
    AdSpendSnapshot,
    LaunchChecklistItem,
    LaunchPlan,
    StoreAdBudget,
)


@admin.register(AdCreative)
class AdCreativeAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "plan__store"
    form = AdCreativeAdminForm  # the same checks and re-encoding as the plan page's upload
    list_display = ["name", "plan", "headline", "width", "height", "is_active"]
    list_filter = ["is_active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        form.store_thumbnail(obj)


@admin.register(AdCreativePerformance)
class AdCreativePerformanceAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "creative__plan__store"
    list_display = ["creative", "date", "impressions", "clicks", "spend", "orders", "sales"]


@admin.register(AdSpendSnapshot)
class AdSpendSnapshotAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "plan__store"
    list_display = ["plan", "ts", "spend_today"]


@admin.register(StoreAdBudget)
class StoreAdBudgetAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "month", "amount", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class LaunchChecklistInline(admin.TabularInline):
    model = LaunchChecklistItem
    extra = 0


@admin.register(LaunchPlan)
class LaunchPlanAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "product", "launch_date", "status"]
    list_filter = ["status"]
    inlines = [LaunchChecklistInline]


@admin.register(AdPacingAlertSent)
class AdPacingAlertSentAdmin(ReadOnlyAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only: which pacing alert episodes were emailed, and when. Rows are written by the hourly task only
    (campaigns.ads_alerts); deleting one would email its episode again."""

    store_lookup = "plan__store"
    list_display = ["plan", "store", "kind", "episode_start", "budget", "created_at", "sent_at", "ended_at"]
    list_filter = ["kind"]
    list_select_related = ["plan__store"]
    date_hierarchy = "created_at"
    search_fields = ["plan__name"]

    @admin.display(description="store", ordering="plan__store__name")
    def store(self, alert):
        return alert.plan.store
