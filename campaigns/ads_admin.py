"""Admin for paid promotion's newer models (imported from campaigns/admin.py), scoped to the staff's stores."""

from django.contrib import admin

from opsdesk.tenancy import ReadOnlyAdminMixin, StoreScopedAdminMixin

from .ads_forms import AdCreativeAdminForm
from .models import (
    AdCreative,
    AdCreativePerformance,
    AdPacingAlertDelivery,
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


class AdPacingAlertDeliveryInline(ReadOnlyAdminMixin, StoreScopedAdminMixin, admin.TabularInline):
    """Who the episode's email went to (each person's delivery), read only: rows are written by the hourly task."""

    model = AdPacingAlertDelivery
    store_lookup = "alert__plan__store"  # the episode's store; the page itself is scoped already
    fields = readonly_fields = ["person", "sent_at", "attempts", "gave_up_at"]
    extra = 0
    can_delete = False
    verbose_name, verbose_name_plural = "email to a person", "emailed to"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user").order_by("pk")

    def has_view_permission(self, request, obj=None):
        # Part of the episode: whoever may see the episode (already scoped to their stores) sees who it went to.
        return request.user.has_perm("campaigns.view_adpacingalertsent")

    @admin.display(description="person")
    def person(self, delivery):
        user = delivery.membership.user
        return f"{user.get_full_name() or user.username} <{user.email}>" if user.email else user.username

    @admin.display(description="attempts")
    def attempts(self, delivery):
        # Each failed send was an attempt, and so was the one that went (sent_at set).
        return delivery.failures + (delivery.sent_at is not None)


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
    inlines = [AdPacingAlertDeliveryInline]

    @admin.display(description="store", ordering="plan__store__name")
    def store(self, alert):
        return alert.plan.store
