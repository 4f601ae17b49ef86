from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from opsdesk.tenancy import StoreScopedAdminMixin, StoreScopedChoicesMixin, scope

from .models import (
    ApiKey,
    DeletedOrder,
    ListingVersion,
    Order,
    OrderLine,
    Payment,
    Product,
    ShopifyRefund,
    Store,
    StoreMembership,
    Violation,
)


@admin.register(Store)
class StoreAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "pk"
    list_display = ["name", "slug", "platform", "country", "timezone", "currency", "ship_within_hours"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        return scope(admin.ModelAdmin.get_queryset(self, request), request.user, via="pk")


@admin.register(StoreMembership)
class StoreMembershipAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "store", "role", "email_timezone", "morning_email"]
    list_filter = ["role", "store"]


@admin.register(ApiKey)
class ApiKeyAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["store", "name", "key_prefix", "created_at", "revoked_at"]
    readonly_fields = ["key_prefix", "key_hash", "created_at"]

    def has_add_permission(self, request):
        return False  # keys are issued by `manage.py create_api_key`, which shows the secret once


@admin.register(Product)
class ProductAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "sku", "store", "category", "price", "is_active"]
    list_filter = ["store", "is_active"]
    search_fields = ["title", "sku"]


@admin.register(ListingVersion)
class ListingVersionAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "product__store"
    list_display = ["product", "title", "started_at"]


class OrderLineInline(StoreScopedChoicesMixin, admin.TabularInline):
    model = OrderLine
    extra = 0


class PaymentInline(StoreScopedChoicesMixin, admin.TabularInline):
    model = Payment
    extra = 0


class ShopifyRefundInline(admin.TabularInline):
    """The refunds Shopify reported, read only: they are what makes a refund sent twice count once."""

    model = ShopifyRefund
    extra = 0
    can_delete = False
    readonly_fields = ["external_id", "amount", "refunded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "name", "store", "status", "placed_at", "paid_at", "total", "traffic_source"]
    list_filter = ["store", "status", "traffic_source"]
    search_fields = ["external_id", "name", "buyer_name", "buyer_email"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, PaymentInline, ShopifyRefundInline]

    # Before the deletion, so an order's coupons pass on to another order with their code (the on_delete only
    # releases them).
    def delete_model(self, request, obj):
        from members.services import release_coupons

        with transaction.atomic():
            release_coupons([obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        from members.services import release_coupons

        with transaction.atomic():
            release_coupons(queryset.only("pk"))
            super().delete_queryset(request, queryset)


@admin.register(DeletedOrder)
class DeletedOrderAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Orders Shopify reported deleted: removing a row lets a later notification of that order record it again."""

    list_display = ["external_id", "store", "deleted_at"]
    list_filter = ["store"]
    search_fields = ["external_id"]
    readonly_fields = ["store", "external_id", "deleted_at"]

    def has_add_permission(self, request):
        return False


@admin.register(OrderLine)
class OrderLineAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "order__store"
    list_display = ["order", "line_no", "sku", "quantity", "amount", "refunded_quantity", "refund_amount"]


@admin.register(Payment)
class PaymentAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_lookup = "order__store"
    list_display = ["order", "sequence", "type", "amount", "installments"]
    list_filter = ["type"]


@admin.register(Violation)
class ViolationAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "kind",
        "store",
        "points",
        "amount",
        "occurred_at",
        "status",
        "status_changed_by",
        "status_changed_at",
    ]
    list_filter = ["store", "status"]
    readonly_fields = ["status_changed_by", "status_changed_at"]

    def save_model(self, request, obj, form, change):
        # A status edited here is recorded as one from the list page is, so the row never names the wrong person.
        if change and "status" in form.changed_data:
            obj.status_changed_at, obj.status_changed_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)
