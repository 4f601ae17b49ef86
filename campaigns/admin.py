from django.contrib import admin

from opsdesk.tenancy import ReadOnlyAdminMixin, StoreScopedAdminMixin, StoreScopedChoicesMixin

from .models import (
    Activity,
    ActivityChange,
    ActivitySeries,
    AdDailyPerformance,
    AdPlan,
    AdPlanStatusChange,
    SeriesChange,
    StatusSource,
)


class ActivityChangeInline(admin.TabularInline):
    """The activity's history, read only, newest first: entries are written by whatever changed it."""

    model = ActivityChange
    fields = readonly_fields = ["at", "by_name", "summary"]
    extra = 0
    can_delete = False
    verbose_name, verbose_name_plural = "history entry", "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")  # its name, without a query per entry

    @admin.display(description="by")
    def by_name(self, entry):
        return entry.by_name

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Part of the activity: whoever may see the activity (already scoped to their stores) sees its history.
        return request.user.has_perm("campaigns.view_activity") or request.user.has_perm("campaigns.change_activity")


@admin.register(Activity)
class ActivityAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "kind", "status", "start_date", "end_date", "budget"]
    list_filter = ["store", "kind", "status"]
    inlines = [ActivityChangeInline]

    def save_model(self, request, obj, form, change):
        from . import activity_history

        # The stored row, before this save: the entry is written once the products are saved (save_related).
        stored = Activity.objects.filter(pk=obj.pk).prefetch_related("products").first() if change else None
        obj._history_before = activity_history.snapshot(stored) if stored else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        from . import activity_history

        super().save_related(request, form, formsets, change)
        # The admin's change view runs in one transaction: the activity and its entry are saved together.
        activity_history.record(form.instance, form.instance._history_before, user=request.user,
                                note="in the admin")


class SeriesChangeInline(ActivityChangeInline):
    """The series' own history (its rule changes), read only, as an activity's."""

    model = SeriesChange

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.view_activityseries")


@admin.register(ActivitySeries)
class ActivitySeriesAdmin(ReadOnlyAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    """Read only: a series is made and changed on the activity pages (`activity_series`), which move, copy or
    delete its occurrences with the rule; a rule edited here would leave them as they were."""

    list_display = ["__str__", "store", "first_day", "until", "created_at"]
    list_filter = ["store", "repeat"]
    inlines = [SeriesChangeInline]


class AdPlanStatusChangeInline(admin.TabularInline):
    """The plan's status history, read only: it is written by whatever changes the status."""

    model = AdPlanStatusChange
    fields = readonly_fields = ["status", "at", "by", "source"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AdPlan)
class AdPlanAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "channel", "status", "daily_budget", "total_budget"]
    list_filter = ["store", "channel", "status"]
    inlines = [AdPlanStatusChangeInline]

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in one transaction: the plan and its history row are saved together.
        super().save_model(request, obj, form, change)
        AdPlanStatusChange.record(obj, StatusSource.ADMIN, by=request.user,
                                  previous=form.initial.get("status") if change else None)


@admin.register(AdDailyPerformance)
class AdDailyPerformanceAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "plan__store"
    list_display = ["plan", "date", "impressions", "clicks", "spend", "orders", "sales"]


# --- activities side: templates, checklists, lottery draws, reviews, plans, playbooks ---------
from .models import (  # noqa: E402
    ActivityReview,
    ActivityTemplate,
    LotteryDraw,
    Plan,
    PlanGoal,
    PlanTask,
    Playbook,
    TemplateStep,
)


class SharedOrOwnStoreAdminMixin(StoreScopedChoicesMixin):
    """Rows without a store are shared by every store; rows with one only its members see.

    Staff who are not superusers pick one of their own stores (a shared row would reach every store) and
    only read the shared rows: a change there would show in stores they are no member of.
    """

    def get_queryset(self, request):
        from django.db.models import Q

        from opsdesk.tenancy import stores_for

        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(Q(store=None) | Q(store__in=stores_for(request.user)))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "store" and not request.user.is_superuser:
            field.required = True
        return field

    def _shared_for_staff(self, request, obj) -> bool:
        return obj is not None and obj.store_id is None and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return not self._shared_for_staff(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._shared_for_staff(request, obj) and super().has_delete_permission(request, obj)


class TemplateStepInline(admin.TabularInline):
    model = TemplateStep
    extra = 1


@admin.register(ActivityTemplate)
class ActivityTemplateAdmin(SharedOrOwnStoreAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "store", "duration_days", "playbook"]
    inlines = [TemplateStepInline]


@admin.register(LotteryDraw)
class LotteryDrawAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "activity__store"
    list_display = ["activity", "entrant_count", "winner_count", "seed", "drawn_at", "drawn_by"]
    readonly_fields = [f.name for f in LotteryDraw._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False  # a draw is evidence: it is never edited


@admin.register(ActivityReview)
class ActivityReviewAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "activity__store"
    list_display = ["activity", "root_cause", "playbook", "created_at"]


class PlanGoalInline(admin.TabularInline):
    model = PlanGoal
    extra = 0


class PlanTaskInline(admin.TabularInline):
    model = PlanTask
    extra = 0


@admin.register(Plan)
class PlanAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "store", "level", "period_start", "period_end"]
    list_filter = ["store", "level"]
    inlines = [PlanGoalInline, PlanTaskInline]


@admin.register(Playbook)
class PlaybookAdmin(SharedOrOwnStoreAdminMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "store", "anomaly_types"]
    prepopulated_fields = {"slug": ["title"]}
from . import ads_admin  # noqa: E402,F401  (paid-promotion admin pages)
