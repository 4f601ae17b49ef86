"""Member services other apps call: enrol the buyers of paid orders."""

from __future__ import annotations

import phonenumbers
from django.db import transaction

from stores.models import Order

from .models import Member


def normalise_phone(raw: str, country: str) -> str | None:
    """E.164 form of `raw` (read as a number of `country` when it has no +prefix), or None if invalid."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@transaction.atomic
def enrol_from_order(order: Order) -> Member | None:
    """Make the buyer of a paid order a member of its store (once per store and phone)."""
    if order.paid_at is None or not order.buyer_phone:
        return None
    phone = normalise_phone(order.buyer_phone, order.store.country)
    if phone is None:
        return None
    member, created = Member.objects.get_or_create(
        store=order.store, phone=phone,
        defaults={"name": order.buyer_name, "email": order.buyer_email, "joined_at": order.paid_at,
                  "sms_consent": order.marketing_consent, "consent_source": f"order {order.external_id}"},
    )
    return member
