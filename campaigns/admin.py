from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin

from .models import Activity, AdDailyPerformance, AdPlan


@admin.register(Activity)
class ActivityAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "kind", "status", "start_date", "end_date", "budget"]
    list_filter = ["store", "kind", "status"]


@admin.register(AdPlan)
class AdPlanAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "channel", "status", "daily_budget", "total_budget"]
    list_filter = ["store", "channel", "status"]


@admin.register(AdDailyPerformance)
class AdDailyPerformanceAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "plan__store"
    list_display = ["plan", "date", "impressions", "clicks", "spend", "orders", "sales"]
