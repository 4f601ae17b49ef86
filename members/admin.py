from copy import copy

from django.contrib import admin

from opsdesk.tenancy import StoreScopedAdminMixin, stores_for

from .conversation import answer_bodies_seen
from .models import ANSWER, Coupon, Festival, InboundReply, Member, Message, SavedAnswer, SmsTemplate


@admin.register(Member)
class MemberAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "store", "tier", "segment", "orders_count", "sms_consent", "opted_out_at", "joined_at"]
    list_filter = ["store", "tier", "segment", "sms_consent"]
    search_fields = ["name"]
    exclude = ["phone"]  # the list and form never show a whole number; managers see it on the member page
    readonly_fields = ["masked_phone", "opted_out_by", "orders_count", "total_spent", "first_order_at", "last_order_at",
                       "rfm"]

    def has_add_permission(self, request):
        return False  # members come from paid orders (members.services.enrol_from_order)


@admin.register(SmsTemplate)
class SmsTemplateAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "flow", "is_active"]
    list_filter = ["store", "flow", "is_active"]


@admin.register(SavedAnswer)
class SavedAnswerAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "store", "updated_at", "updated_by"]
    list_filter = ["store"]
    search_fields = ["title", "body"]
    readonly_fields = ["created_at", "created_by", "updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Festival)
class FestivalAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "date", "yearly"]
    list_filter = ["store"]


@admin.register(Message)
class MessageAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "store", "flow", "occasion", "status", "attempts", "error_code", "sent_at"]
    list_filter = ["store", "flow", "status"]
    # The body as the staff user may see it: our answer to a reply names every store of the number.
    exclude = ["body"]
    readonly_fields = ["text" if f.name == "body" else f.name for f in Message._meta.fields]

    def get_object(self, request, object_id, from_field=None):
        message = super().get_object(request, object_id, from_field)
        if message is not None:
            shown = copy(message)  # the row itself keeps its whole body, should the form be saved
            if message.flow == ANSWER:
                answer_bodies_seen([shown], set(stores_for(request.user).values_list("pk", flat=True)))
            message.body_seen = shown.body
        return message

    @admin.display(description="Body")
    def text(self, message):
        return getattr(message, "body_seen", "")


@admin.register(Coupon)
class CouponAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "store", "occasion", "value", "valid_until", "redeemed_at", "withdrawn_at"]
    list_filter = ["store"]
    search_fields = ["code"]
    raw_id_fields = ["member"]


@admin.register(InboundReply)
class InboundReplyAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "store", "member", "kind", "body", "answered_at"]
    list_filter = ["store", "kind"]
    readonly_fields = [f.name for f in InboundReply._meta.fields]

    def has_add_permission(self, request):
        return False  # replies come from Twilio's inbound webhook (members.replies.receive)
