"""factory_boy factories for the objects most tests need."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from stores.models import Order, OrderLine, Payment, Product, Role, Store, StoreMembership, Violation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-123")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    platform = "shopify"
    country = "US"
    timezone = "America/Los_Angeles"
    currency = "USD"
    webhook_secret = factory.Sequence(lambda n: f"whsec-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    role = Role.OPERATOR


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    store = factory.SubFactory(StoreFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    title = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("25.00")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    external_id = factory.Sequence(lambda n: f"{1000 + n}")
    status = "paid"
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    paid_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(minutes=1))
    total = Decimal("50.00")
    traffic_source = "organic_search"
    buyer_ref = factory.Sequence(lambda n: f"buyer-{n}")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    quantity = 1
    unit_price = Decimal("50.00")
    amount = Decimal("50.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    type = "credit_card"
    amount = Decimal("50.00")


class ViolationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Violation

    store = factory.SubFactory(StoreFactory)
    external_id = factory.Sequence(lambda n: f"V{n}")
    kind = "Late shipment"
    points = 2
    occurred_at = factory.LazyFunction(timezone.now)
