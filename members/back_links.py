"""How the members app's pages that link to an order name themselves on the order page's way back
(`stores.back_links`): a member's page by the member, a campaign's dry run by its template. Registered when Django
loads the app (`MembersConfig.ready`)."""

from __future__ import annotations

from stores.back_links import register
from stores.models import Order

from .models import Member, SmsTemplate


def member_page(order: Order, kwargs: dict, query: dict) -> str | None:
    member = Member.objects.filter(store=order.store_id, pk=kwargs["pk"]).first()
    return member and str(member)


def campaign_page(order: Order, kwargs: dict, query: dict) -> str | None:
    name = SmsTemplate.objects.filter(store=order.store_id, pk=kwargs["pk"]).values_list("name", flat=True).first()
    return name and f"Dry run: {name}"


register("members:detail", member_page)
register("members:campaign", campaign_page)
