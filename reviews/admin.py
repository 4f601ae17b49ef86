from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin, StoreScopedChoicesMixin

from .models import CaseEvent, ContactAttempt, ProductTask, Review, ReviewCase, ReviewPolicy


@admin.register(Review)
class ReviewAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "store", "rating", "title", "created_at"]
    list_filter = ["store", "rating"]
    search_fields = ["external_id", "title", "body"]
    raw_id_fields = ["product", "order", "member"]


class CaseEventInline(StoreScopedChoicesMixin, admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "by", "at", "note"]
    can_delete = False


class ContactInline(StoreScopedChoicesMixin, admin.TabularInline):
    model = ContactAttempt
    extra = 0
    readonly_fields = ["by", "at", "outcome", "notes"]


@admin.register(ReviewCase)
class ReviewCaseAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "store", "status", "reason", "opened_at", "first_contact_due_at", "first_contact_at",
                    "root_cause", "resolution"]
    list_filter = ["store", "status", "root_cause", "resolution"]
    # Status moves go through the case page, which records who did what; the admin only reads it.
    readonly_fields = ["status", "review", "opened_at", "first_contact_at", "resolved_at", "closed_at"]
    raw_id_fields = ["listing_version", "assigned_to"]
    inlines = [ContactInline, CaseEventInline]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "first_contact_hours"]


@admin.register(ProductTask)
class ProductTaskAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["text", "store", "product", "owner", "due", "done"]
    list_filter = ["store", "done"]
    raw_id_fields = ["product", "case"]
