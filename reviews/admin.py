from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin

from .models import Review


@admin.register(Review)
class ReviewAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "store", "rating", "title", "created_at"]
    list_filter = ["store", "rating"]
