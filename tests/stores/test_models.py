"""Store facts: uniqueness and money rules held by the database, local days across DST, API keys."""

from datetime import date, timedelta
from decimal import Decimal

import numpy
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from opsdesk.money import to_money
from stores.models import ApiKey
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_same_order_id_twice_in_one_store_is_refused(store_a):
    OrderFactory(store=store_a, external_id="A1")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(store=store_a, external_id="A1")


def test_same_order_id_in_two_stores_is_fine(store_a, store_b):
    OrderFactory(store=store_a, external_id="A1")
    OrderFactory(store=store_b, external_id="A1")


def test_negative_money_is_refused_by_the_database(store_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(store=store_a, total=Decimal("-1"))
    order = OrderFactory(store=store_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(order=order, quantity=0)


def test_refund_cannot_exceed_the_order_total(store_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(store=store_a, total=Decimal("10"), refund_amount=Decimal("10.01"))


def test_store_validation_names_the_bad_fields():
    store = StoreFactory.build(timezone="Nowhere/City", country="usa", currency="dollars")
    with pytest.raises(ValidationError) as exc:
        store.full_clean()
    assert {"timezone", "country", "currency"} <= set(exc.value.message_dict)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 6, 1), 24)])
def test_local_day_lasts_23_or_25_hours_on_dst_days(day, hours):
    store = StoreFactory.build(timezone="America/Los_Angeles")
    start, end = store.day_bounds(day)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(store.zone).hour == 0 and end.astimezone(store.zone).hour == 0


def test_shanghai_day_starts_at_16_utc_the_evening_before():
    start, _ = StoreFactory.build(timezone="Asia/Shanghai").day_bounds(date(2026, 11, 11))
    assert start.isoformat() == "2026-11-10T16:00:00+00:00"


def test_api_key_is_stored_only_as_a_hash(store_a):
    key, raw = ApiKey.issue(store_a)
    assert raw.startswith("opk_") and raw not in (key.key_hash, key.key_prefix)
    assert ApiKey.objects.authenticate(raw) == key
    assert ApiKey.objects.authenticate(raw + "x") is None
    key.revoke()
    assert ApiKey.objects.authenticate(raw) is None


def test_money_is_rounded_half_up_to_cents():
    assert to_money("2.345") == Decimal("2.35")
    assert to_money(0.1 + 0.2) == Decimal("0.30")
    assert to_money(numpy.float64(19.999)) == Decimal("20.00")  # pandas hands back numpy floats
