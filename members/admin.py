from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin

from .models import Member


@admin.register(Member)
class MemberAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "store", "sms_consent", "opted_out_at", "joined_at"]
    list_filter = ["store", "sms_consent"]
