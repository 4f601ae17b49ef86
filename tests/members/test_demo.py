"""The members demo seed builds on the stores demo and leaves a usable picture."""

import pytest

from members import demo as members_demo
from members.models import Member, Message, SmsTemplate
from stores import demo as stores_demo
from stores.models import Order

pytestmark = pytest.mark.django_db


def test_demo_seed_enrols_buyers_with_segments_templates_and_texts():
    ctx = stores_demo.seed(days=20)
    members_demo.seed(ctx)
    for store in ctx.stores:
        members = Member.objects.filter(store=store)
        assert members.count() > 100
        assert members.filter(segment="").count() == 0
        assert members.filter(sms_consent=True).exists() and members.filter(sms_consent=False).exists()
        assert SmsTemplate.objects.filter(store=store).count() == 4
        assert Message.objects.filter(store=store, status="delivered").exists()


def test_every_demo_buyer_with_a_phone_becomes_a_member():
    ctx = stores_demo.seed(days=20)
    members_demo.seed(ctx)
    for store in ctx.stores:
        phones = set(Order.objects.filter(store=store).exclude(buyer_phone="").values_list("buyer_phone", flat=True))
        enrolled = set(Member.objects.filter(store=store).values_list("phone", flat=True))
        assert phones and phones <= enrolled, f"{len(phones - enrolled)} buyers of {store.slug} not enrolled"
