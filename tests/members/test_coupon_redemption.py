"""Which texted coupons were used, and what they sold: a paid order carrying a member's coupon code (CSV import,
Shopify export and webhook, ingest API) redeems it once, and gives it back when it is cancelled or deleted; the
campaign page counts a template's coupons and lists the orders that used them."""

import copy
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Coupon, Message
from members.services import release_coupons
from metrics.ingest import BatchRejected, ingest_events
from stores.importers import ImportRejected, import_orders
from stores.models import ApiKey, Order, OrderStatus
from stores.orders import delete_order, record_refund
from tests.factories import MembershipFactory, OrderFactory, ProductFactory, StoreFactory, UserFactory
from tests.members.conftest import make_member
from tests.migrating import migrate_to, migrate_to_latest
from tests.stores.test_shopify_webhook import PAYLOAD, deliver

pytestmark = pytest.mark.django_db

# The webhook's order (tests/stores/fixtures/shopify_order_create.json) carries code BF26 and was paid at
# 18:42:09 on Tue 24 Nov in Los Angeles, already Wed 25 Nov in UTC.
PAID = datetime(2026, 11, 25, 2, 42, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shop(db):
    return StoreFactory(slug="linen-and-wax", timezone="America/Los_Angeles", currency="USD", country="US",
                        webhook_secret="shpss_4f0c2e7d9a1b")


@pytest.fixture
def member(shop):
    return make_member(shop, phone="+14155550142", name="Maria Gomez")


def coupon(store, member, code="BF26", occasion="benefit:2026-11", valid_until=date(2026, 11, 30), **fields):
    return Coupon.objects.create(store=store, member=member, occasion=occasion, code=code, value="10% off",
                                 valid_until=valid_until, **fields)


def fresh(c: Coupon) -> Coupon:
    c.refresh_from_db()
    return c


def payload(**changes):
    return copy.deepcopy(PAYLOAD) | changes


# --- Shopify webhook -------------------------------------------------------------------------------------------


def test_a_webhook_order_with_the_members_code_redeems_the_coupon(client, shop, member):
    bf26 = coupon(shop, member)
    assert deliver(client, shop).status_code == 201
    order = Order.objects.get(store=shop)
    assert order.discount_codes == ["BF26"]
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (PAID, order)


def test_the_code_matches_in_any_case_and_with_spaces_around_it(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop, payload(discount_codes=[{"code": "  bf26 ", "amount": "9.60", "type": "percentage"}]))
    assert fresh(bf26).redeemed_order == Order.objects.get(store=shop)


def test_a_coupon_is_valid_through_its_last_day_in_the_stores_time(client, shop, member):
    # Paid late on Tue 24 Nov in Los Angeles: a coupon valid until the 24th still counts (in UTC it is the 25th).
    last_day = coupon(shop, member, valid_until=date(2026, 11, 24))
    deliver(client, shop)
    assert fresh(last_day).redeemed_at == PAID


def test_a_redelivered_order_and_a_second_order_with_the_code_change_nothing(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    first = Order.objects.get(store=shop)
    assert deliver(client, shop, topic="orders/updated").status_code == 200
    later = payload(id=5827361949999, name="#1043", processed_at="2026-11-25T10:00:00-08:00",
                    created_at="2026-11-25T10:00:00-08:00", updated_at="2026-11-25T10:00:01-08:00")
    assert deliver(client, shop, later).status_code == 201
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (PAID, first)


def test_an_order_paid_later_redeems_when_it_is_paid(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop, payload(financial_status="pending", processed_at=None))
    assert fresh(bf26).redeemed_at is None  # not paid: not used yet
    deliver(client, shop, payload(updated_at="2026-11-24T19:00:00-08:00"), topic="orders/paid")
    assert fresh(bf26).redeemed_order == Order.objects.get(store=shop)


@pytest.mark.parametrize("case", ["withdrawn", "expired", "already redeemed", "another store"])
def test_a_coupon_that_cannot_be_used_is_not_redeemed(client, shop, member, case):
    other_store = StoreFactory(slug="other", timezone="America/Los_Angeles", currency="USD", country="US")
    earlier = OrderFactory(store=shop, external_id="earlier")
    bf26 = {
        "withdrawn": lambda: coupon(shop, member, withdrawn_at=PAID - timedelta(days=1)),
        "expired": lambda: coupon(shop, member, valid_until=date(2026, 11, 23)),
        "already redeemed": lambda: coupon(shop, member, redeemed_at=PAID - timedelta(days=1), redeemed_order=earlier),
        "another store": lambda: coupon(other_store, make_member(other_store)),
    }[case]()
    before = (bf26.redeemed_at, bf26.redeemed_order_id)
    assert deliver(client, shop).status_code == 201
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order_id) == before


def test_a_webhook_with_discount_codes_of_the_wrong_shape_is_refused_by_name(client, shop, member):
    response = deliver(client, shop, payload(discount_codes=[{"code": 26}]))
    assert response.status_code == 422
    assert "discount_codes.0.code: input should be a valid string" in response.content.decode()
    assert not Order.objects.exists()


# --- CSV imports ----------------------------------------------------------------------------------------------

OPSDESK = ("order_id,order_name,placed_at,paid_at,total,buyer_phone,discount_codes,sku,unit_price\n"
           "T-1,WEB-1,2026-11-24 10:00,2026-11-24 10:01:30,80.00,+14155550142,\"spring10, bf26\",MUG-1,80.00\n"
           "T-2,WEB-2,2026-11-24 11:00,2026-11-24 11:00:10,25.00,,,MUG-1,25.00\n")


def test_an_opsdesk_import_redeems_the_coupon_and_a_reimport_changes_nothing(shop, member):
    bf26 = coupon(shop, member)
    import_orders(shop, OPSDESK.encode())
    order = Order.objects.get(store=shop, external_id="T-1")
    assert order.discount_codes == ["spring10", "bf26"]
    assert Order.objects.get(store=shop, external_id="T-2").discount_codes == []
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (datetime(2026, 11, 24, 18, 1, 30, tzinfo=UTC), order)
    Coupon.objects.filter(pk=bf26.pk).update(redeemed_at=PAID)  # a re-import would have to write it to move it
    again = import_orders(shop, OPSDESK.encode())
    assert (again.created, again.duplicates) == (0, 2)
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (PAID, order)


def test_reimporting_with_the_column_redeems_for_orders_recorded_before_codes_were_kept(shop, member):
    bf26 = coupon(shop, member)
    import_orders(shop, OPSDESK.replace(',"spring10, bf26"', ",").encode())
    assert fresh(bf26).redeemed_at is None
    import_orders(shop, OPSDESK.encode())
    assert fresh(bf26).redeemed_order == Order.objects.get(store=shop, external_id="T-1")


def test_a_code_too_long_for_a_discount_code_is_refused_by_row():
    shop = StoreFactory(slug="s", timezone="UTC", currency="USD", country="US")
    with pytest.raises(ImportRejected) as refused:
        import_orders(shop, OPSDESK.replace("spring10", "X" * 101).encode())
    assert refused.value.errors == [(2, "discount_codes: 'XXXXXXXXXXXXXXXXXXXX'… is longer than 100 characters: "
                                        "not a discount code")]


def test_a_shopify_export_redeems_by_its_discount_code_column(shop, member):
    bf26 = coupon(shop, member)
    export = ("Name,Id,Financial Status,Paid at,Currency,Total,Discount Code,Created at,Lineitem quantity,"
              "Lineitem name,Lineitem price,Lineitem sku,Phone\n"
              "#1050,6000000000050,paid,2026-11-24 09:15:40 -0800,USD,43.20,BF26,2026-11-24 09:15:38 -0800,1,"
              "Apron,48.00,APRON,+14155550142\n")
    import_orders(shop, export.encode())
    order = Order.objects.get(store=shop)
    assert order.discount_codes == ["BF26"]
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (datetime(2026, 11, 24, 17, 15, 40, tzinfo=UTC), order)


def test_a_large_import_with_codes_stays_a_few_queries_per_batch(shop, django_assert_max_num_queries):
    members = [make_member(shop) for _ in range(3)]
    coupons = [coupon(shop, m, code=f"LIN-AAAA-{n:04d}") for n, m in enumerate(members)]
    rows = "".join(f"B-{n},2026-11-20 10:00,2026-11-20 10:05,30.00,LIN-AAAA-{n % 400:04d},MUG-1,30.00\n"
                   for n in range(600))
    with django_assert_max_num_queries(120):  # as many as the same file without codes may take
        import_orders(shop, ("order_id,placed_at,paid_at,total,discount_codes,sku,unit_price\n" + rows).encode())
    assert [fresh(c).redeemed_order.external_id for c in coupons] == ["B-0", "B-1", "B-2"]  # the first paid


# --- ingest API -----------------------------------------------------------------------------------------------


def order_paid(**changes):
    return {"id": "e-1", "type": "order_paid", "ts": "2026-11-24T18:42:09-08:00", "order_id": "A1001",
            "total": "25.00", "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"}],
            "discount_codes": ["Bf26"]} | changes


def test_an_ingest_api_order_paid_redeems_the_coupon(client, shop, member):
    ProductFactory(store=shop, sku="MUG-1")
    bf26 = coupon(shop, member)
    key = ApiKey.issue(shop)[1]
    response = client.post("/api/v1/events", json.dumps({"events": [order_paid()]}), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 202, response.content
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (PAID, Order.objects.get(store=shop))
    ingest_events(shop, [order_paid(id="e-2", order_id="A1002", ts="2026-11-25T09:00:00-08:00")])
    assert fresh(bf26).redeemed_order.external_id == "A1001"


def test_the_ingest_api_refuses_discount_codes_that_are_not_a_list_of_text(shop):
    ProductFactory(store=shop, sku="MUG-1")
    for bad in ("BF26", [26], [""]):
        with pytest.raises(BatchRejected) as refused:
            ingest_events(shop, [order_paid(discount_codes=bad)])
        assert refused.value.errors[0]["field"].startswith("discount_codes")
    ingest_events(shop, [{key: value for key, value in order_paid().items() if key != "discount_codes"}])
    assert Order.objects.get(store=shop).discount_codes == []


# --- cancelled and deleted orders give their coupon back ------------------------------------------------------


def cancelled(updated_at="2026-11-26T09:05:00-08:00"):
    return payload(cancelled_at=updated_at, updated_at=updated_at, financial_status="voided")


def test_a_cancelled_order_gives_its_coupon_back_and_a_redelivered_cancellation_changes_nothing(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    assert deliver(client, shop, cancelled(), topic="orders/cancelled").status_code == 200
    assert Order.objects.get(store=shop).status == OrderStatus.CANCELLED
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (None, None)
    assert deliver(client, shop, cancelled(), topic="orders/cancelled").status_code == 200
    assert deliver(client, shop, cancelled("2026-11-26T10:00:00-08:00"), topic="orders/updated").status_code == 200
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (None, None)


def test_the_member_uses_a_given_back_coupon_on_a_later_order(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    deliver(client, shop, cancelled(), topic="orders/cancelled")
    again = payload(id=5827361949999, name="#1043", processed_at="2026-11-26T10:00:00-08:00",
                    created_at="2026-11-26T10:00:00-08:00", updated_at="2026-11-26T10:00:01-08:00")
    assert deliver(client, shop, again).status_code == 201
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order.name) == (datetime(2026, 11, 26, 18, tzinfo=UTC), "#1043")


def later_order(external_id, paid="2026-11-25T10:00:00-08:00", name="#1043"):
    """Another order of the webhook's buyer with code BF26, paid at `paid` (after #1042, so it lost the code)."""
    return payload(id=external_id, name=name, processed_at=paid, created_at=paid, updated_at=paid)


def test_a_cancelled_orders_coupon_passes_to_the_earliest_other_order_with_its_code(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    deliver(client, shop, later_order(5827361949998, "2026-11-26T08:00:00-08:00", "#1044"))
    deliver(client, shop, later_order(5827361949999))  # recorded last, paid before #1044
    assert fresh(bf26).redeemed_order.name == "#1042"
    deliver(client, shop, cancelled(), topic="orders/cancelled")
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order.name) == (datetime(2026, 11, 25, 18, tzinfo=UTC), "#1043")
    # Delivered again, or a later change to an order: the coupon keeps #1043.
    deliver(client, shop, cancelled(), topic="orders/cancelled")
    deliver(client, shop, cancelled("2026-11-26T10:00:00-08:00"), topic="orders/updated")
    record_refund(shop, "5827361949998", Decimal("5.00"), NOW)
    assert release_coupons([Order.objects.get(name="#1042")]) == 0
    assert fresh(bf26).redeemed_order.name == "#1043"


def test_a_given_back_coupon_passes_on_only_to_an_order_that_could_have_redeemed_it(client, shop, member):
    bf26 = coupon(shop, member, valid_until=date(2026, 11, 25))  # the last valid day, in Los Angeles
    other_shop = StoreFactory(slug="wax-and-linen", webhook_secret="shpss_other")
    deliver(client, shop)
    others = [(other_shop, later_order(5827361949997, "2026-11-24T20:00:00-08:00")),  # another store's order
              (shop, later_order(5827361949998, "2026-11-25T09:00:00-08:00")  # cancelled too
               | {"cancelled_at": "2026-11-25T09:30:00-08:00", "financial_status": "voided"}),
              (shop, later_order(5827361949999, "2026-11-26T08:00:00-08:00"))]  # paid after its last day
    assert [deliver(client, store, order).status_code for store, order in others] == [201] * 3
    deliver(client, shop, cancelled(), topic="orders/cancelled")
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (None, None)
    assert Order.objects.get(external_id="5827361949998").status == OrderStatus.CANCELLED


def test_a_deleted_orders_coupon_passes_to_another_order_with_its_code(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    deliver(client, shop, later_order(5827361949999))
    assert deliver(client, shop, {"id": PAYLOAD["id"]}, topic="orders/delete").status_code == 200
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order.name) == (datetime(2026, 11, 25, 18, tzinfo=UTC), "#1043")
    assert deliver(client, shop, {"id": PAYLOAD["id"]}, topic="orders/delete").status_code == 200
    assert fresh(bf26).redeemed_order.name == "#1043"


@pytest.mark.parametrize("bulk", [False, True], ids=["delete-page", "delete-selected"])
def test_an_order_deleted_in_the_admin_passes_its_coupon_on(admin_client, client, shop, member, bulk):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    deliver(client, shop, later_order(5827361949999))
    deliver(client, shop, later_order(5827361949998, "2026-11-26T08:00:00-08:00", "#1044"))
    first, second, _ = Order.objects.filter(store=shop).order_by("paid_at")
    if bulk:  # the first two at once: the coupon passes to the third
        response = admin_client.post(reverse("admin:stores_order_changelist"), {
            "action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"})
    else:
        response = admin_client.post(reverse("admin:stores_order_delete", args=[first.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert fresh(bf26).redeemed_order.name == ("#1044" if bulk else "#1043")


def test_an_order_recorded_already_cancelled_redeems_nothing(shop, member):
    bf26 = coupon(shop, member)
    import_orders(shop, OPSDESK.replace("total,", "total,status,").replace("80.00,+1", "80.00,cancelled,+1")
                  .replace("25.00,,", "25.00,paid,,").encode())
    assert Order.objects.get(store=shop, external_id="T-1").status == OrderStatus.CANCELLED
    assert fresh(bf26).redeemed_at is None


def test_an_import_that_cancels_the_order_gives_the_coupon_back_all_or_nothing(shop, member):
    bf26 = coupon(shop, member)
    import_orders(shop, OPSDESK.encode())
    cancelling = OPSDESK.replace("total,", "total,status,").replace("80.00,+1", "80.00,cancelled,+1")
    with pytest.raises(ImportRejected):  # its second row is bad: nothing of the file is kept, the coupon neither
        import_orders(shop, cancelling.replace("25.00,,", "-25.00,paid,,").encode())
    assert fresh(bf26).redeemed_order.external_id == "T-1"
    import_orders(shop, cancelling.replace("25.00,,", "25.00,paid,,").encode())
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (None, None)


def test_a_refund_even_in_full_keeps_the_redemption(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    order = record_refund(shop, "5827361940321", Decimal("114.80"), NOW)
    assert order.status == OrderStatus.REFUNDED
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (PAID, order)


def test_a_deleted_order_gives_its_coupon_back(client, shop, member):
    bf26 = coupon(shop, member)
    deliver(client, shop)
    assert deliver(client, shop, {"id": PAYLOAD["id"]}, topic="orders/delete").status_code == 200
    assert not Order.objects.filter(store=shop).exists()
    assert (fresh(bf26).redeemed_at, bf26.redeemed_order) == (None, None)
    assert delete_order(shop, str(PAYLOAD["id"])) is False  # delivered again: nothing left to do


def test_an_order_deleted_any_other_way_gives_its_coupons_back(shop, member):
    orders = [OrderFactory(store=shop, external_id=f"o-{n}") for n in range(2)]
    coupons = [coupon(shop, make_member(shop), code=f"LIN-000{n}", redeemed_at=PAID,
                      redeemed_order=orders[n % 2]) for n in range(4)]
    kept = coupon(shop, member, code="LIN-0009", redeemed_at=PAID, redeemed_order=OrderFactory(store=shop))
    Order.objects.filter(pk__in=[o.pk for o in orders]).delete()  # the admin's bulk delete does this
    assert [(fresh(c).redeemed_at, c.redeemed_order_id) for c in coupons] == [(None, None)] * 4
    assert fresh(kept).redeemed_at == PAID


@pytest.fixture
def at_0017(transactional_db):
    """The schema before a cancelled or deleted order gave its coupon back; the latest one again afterwards."""
    apps = migrate_to(("members", "0017_coupon_redeemed_order"))
    yield apps
    migrate_to_latest()


def test_the_migration_gives_back_coupons_of_orders_already_deleted_or_cancelled(at_0017):
    shop = StoreFactory(slug="linen-and-wax", timezone="America/Los_Angeles", currency="USD", country="US")
    orders = {status: OrderFactory(store=shop, external_id=status, status=status)
              for status in (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.CANCELLED)}
    Coupon_ = at_0017.get_model("members", "Coupon")
    for n, order in enumerate([*orders.values(), None]):
        Coupon_.objects.create(store_id=shop.pk, member_id=make_member(shop).pk, occasion="benefit:2026-11",
                               code=f"LIN-000{n}", redeemed_at=PAID, redeemed_order_id=order and order.pk)
    Coupon_.objects.create(store_id=shop.pk, member_id=make_member(shop).pk, occasion="benefit:2026-11",
                           code="LIN-0009")

    migrate_to_latest()

    assert dict(Coupon.objects.values_list("code", "redeemed_order__external_id")) == {
        "LIN-0000": "paid", "LIN-0001": "refunded", "LIN-0002": None, "LIN-0003": None, "LIN-0009": None}
    assert Coupon.objects.filter(redeemed_at__isnull=False).count() == 2


# --- pages ----------------------------------------------------------------------------------------------------


@pytest.fixture
def benefit(shop):
    from members.models import SmsTemplate

    return SmsTemplate.objects.create(store=shop, name="November benefit", flow="benefit", coupon_value="10% off",
                                      body="Hi {first_name}, your coupon {coupon} is good until {valid_until}.")


def texted(template, member, code, **fields):
    Message.objects.create(store=template.store, member=member, flow=template.flow, occasion="benefit:2026-11",
                           template=template, body="…", scheduled_for=NOW)
    return coupon(template.store, member, code=code, **fields)


def test_the_campaign_page_counts_the_templates_coupons_and_their_sales(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop"), role="operator").user)
    url = reverse("members:campaign", args=[benefit.pk])
    none_yet = client.get(url).content.decode()
    assert "Coupons: 0 issued, 0 redeemed (0&nbsp;%), sales of those orders 0.00\u00a0USD" in none_yet
    big = OrderFactory(store=shop, external_id="big", total=Decimal("3000.00"))
    small = OrderFactory(store=shop, external_id="small", total=Decimal("456.00"))
    texted(benefit, make_member(shop), "LIN-0001", redeemed_at=PAID, redeemed_order=big)
    texted(benefit, make_member(shop), "LIN-0002", redeemed_at=PAID, redeemed_order=small)
    texted(benefit, make_member(shop), "LIN-0003")
    texted(benefit, make_member(shop), "LIN-0004", withdrawn_at=PAID)  # its text never reached the member
    coupon(shop, make_member(shop), code="LIN-0005", redeemed_at=PAID, redeemed_order=big)  # no text of this template
    page = client.get(url).content.decode()
    assert "Coupons: 3 issued, 2 redeemed (67&nbsp;%), sales of those orders 3,456.00\u00a0USD" in page


def test_the_campaigns_sales_are_net_of_refunds_and_cancellations_as_a_members_spend_is(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop"), role="operator").user)
    refunded = OrderFactory(store=shop, external_id="part", total=Decimal("300.00"), refund_amount=Decimal("45.50"))
    cancelled = OrderFactory(store=shop, external_id="gone", total=Decimal("99.00"), status=OrderStatus.CANCELLED)
    texted(benefit, make_member(shop), "LIN-0001", redeemed_at=PAID, redeemed_order=refunded)
    texted(benefit, make_member(shop), "LIN-0002", redeemed_at=PAID, redeemed_order=cancelled)
    page = client.get(reverse("members:campaign", args=[benefit.pk])).content.decode()
    assert "Coupons: 2 issued, 2 redeemed (100&nbsp;%), sales of those orders 254.50\u00a0USD" in page


def test_the_campaign_page_reads_its_coupon_figures_in_one_query(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    url = reverse("members:campaign", args=[benefit.pk])
    texted(benefit, make_member(shop), "LIN-0001")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    order = OrderFactory(store=shop, external_id="o")
    for n in range(2, 7):
        texted(benefit, make_member(shop), f"LIN-000{n}", redeemed_at=PAID, redeemed_order=order)
    with CaptureQueriesContext(connection) as six:
        assert "Coupons: 6 issued, 5 redeemed (83&nbsp;%)" in client.get(url).content.decode()
    assert len(six) == len(one)


def test_another_stores_operator_gets_404_for_the_campaign_page(client, shop, benefit):
    elsewhere = StoreFactory(slug="elsewhere")
    client.force_login(MembershipFactory(store=elsewhere, user=UserFactory(username="op-else")).user)
    assert client.get(reverse("members:campaign", args=[benefit.pk])).status_code == 404


def test_the_member_page_says_which_order_used_a_coupon(client, shop, member):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    bf26 = coupon(shop, member)
    coupon(shop, member, code="LIN-0009", occasion="benefit:2026-10")
    order = OrderFactory(store=shop, external_id="5827361940321", name="#1042")
    Coupon.objects.filter(pk=bf26.pk).update(redeemed_at=PAID, redeemed_order=order)
    page = client.get(member.get_absolute_url()).content.decode()
    back = f"?next={member.get_absolute_url()}".replace("/", "%2F")  # its page links back here
    assert f'redeemed Tue 24 Nov 18:42 · order <a href="{order.get_absolute_url()}{back}">#1042</a>' in page
    assert "LIN-0009 · 10% off · Benefit · Oct 2026<span>valid until" in page


def test_the_campaign_page_lists_the_orders_that_used_its_coupons(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop"), role="operator").user)
    maria, li = make_member(shop, name="Maria Gomez"), make_member(shop, name="Li Wei")
    first = OrderFactory(store=shop, external_id="5827361940321", name="#1042", total=Decimal("114.80"),
                         paid_at=PAID, refund_amount=Decimal("14.80"))
    later = OrderFactory(store=shop, external_id="A1002", name="", total=Decimal("25.00"),
                         paid_at=PAID + timedelta(days=1))
    texted(benefit, maria, "LIN-0001", redeemed_at=PAID, redeemed_order=first)
    texted(benefit, li, "LIN-0002", redeemed_at=PAID + timedelta(days=1), redeemed_order=later)
    coupon(shop, make_member(shop), code="LIN-0005", redeemed_at=PAID, redeemed_order=later)  # another template's
    page = client.get(reverse("members:campaign", args=[benefit.pk])).content.decode()
    rows = page.split('data-testid="redeeming-orders"')[1].split("</table>")[0].split("<tr>")[2:]
    assert len(rows) == 2
    back = f"?next={reverse('members:campaign', args=[benefit.pk])}".replace("/", "%2F")
    assert f'<a href="{later.get_absolute_url()}{back}">#A1002</a>' in rows[0]  # newest paid first
    assert f'<a href="{li.get_absolute_url()}">Li Wei</a>' in rows[0] and "LIN-0002" in rows[0]
    # Paid 18:42 on Tue 24 Nov in Los Angeles (Wed 25 Nov in UTC); 114.80 less 14.80 refunded.
    assert ">Tue 24 Nov<" in rows[1] and ">100.00<" in rows[1] and "Maria Gomez" in rows[1]
    assert "older order" not in page


def test_the_campaign_page_lists_the_newest_fifty_and_counts_the_rest(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    for n in range(53):
        order = OrderFactory(store=shop, external_id=f"o-{n:02d}", name="", paid_at=PAID + timedelta(minutes=n))
        texted(benefit, make_member(shop), f"LIN-{n:04d}", redeemed_at=order.paid_at, redeemed_order=order)
    page = client.get(reverse("members:campaign", args=[benefit.pk])).content.decode()
    table = page.split('data-testid="redeeming-orders"')[1].split("</table>")[0]
    assert table.count("<tr>") == 51 and "#o-52<" in table and "#o-03<" in table and "#o-02<" not in table
    assert "3 older orders not shown." in page


def csv_rows(response) -> list[list[str]]:
    assert response.streaming  # written a row at a time, never the whole file in memory
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_campaign_csv_has_every_redeeming_order_with_the_phone_masked_even_for_a_manager(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="mgr-shop"), role="manager").user)
    maria = make_member(shop, phone="+12125550142", name="Maria Gomez")  # outside make_member's numbers
    first = OrderFactory(store=shop, external_id="5827361940321", name="#1042", total=Decimal("114.80"),
                         paid_at=PAID, refund_amount=Decimal("14.80"))
    texted(benefit, maria, "LIN-0001", redeemed_at=PAID, redeemed_order=first)
    for n in range(2, 54):  # more than the page lists
        order = OrderFactory(store=shop, external_id=f"o-{n:02d}", name="", total=Decimal("25.00"),
                             paid_at=PAID + timedelta(minutes=n))
        texted(benefit, make_member(shop), f"LIN-{n:04d}", redeemed_at=order.paid_at, redeemed_order=order)
    coupon(shop, make_member(shop), code="LIN-0099", redeemed_at=PAID, redeemed_order=first)  # another template's

    page = client.get(reverse("members:campaign", args=[benefit.pk])).content.decode()
    url = reverse("members:campaign_orders_csv", args=[benefit.pk])
    assert f'<a href="{url}" data-testid="redeeming-csv" download>Download all 53 as CSV</a>' in page
    response = client.get(url)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="linen-and-wax-template-{benefit.pk}-redeeming-orders.csv"')
    rows = csv_rows(response)
    assert rows[0] == ["order", "order_id", "member", "phone", "code", "paid_day", "currency", "total", "refunded",
                       "net"]
    assert len(rows) == 1 + 53
    assert rows[1][:2] == ["#o-53", "o-53"]  # newest paid first, as on the page
    # Paid 18:42 on Tue 24 Nov in Los Angeles (Wed 25 Nov in UTC); 114.80 less 14.80 refunded. The masked phone
    # starts with "+", which a spreadsheet would run as a formula: quoted, as every export's text.
    assert rows[-1] == ["#1042", "5827361940321", "Maria Gomez", "'+12*****0142", "LIN-0001", "2026-11-24", "USD",
                        "114.80", "14.80", "100.00"]
    assert "+12125550142" not in b"".join(client.get(url).streaming_content).decode()


def test_the_campaign_csv_of_a_template_nobody_redeemed_is_its_header_only(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    texted(benefit, make_member(shop), "LIN-0001")
    assert csv_rows(client.get(reverse("members:campaign_orders_csv", args=[benefit.pk]))) == [
        ["order", "order_id", "member", "phone", "code", "paid_day", "currency", "total", "refunded", "net"]]


def test_the_campaign_csv_writes_a_name_like_a_formula_as_text(client, shop, benefit):
    client.force_login(MembershipFactory(store=shop, user=UserFactory(username="op-shop")).user)
    order = OrderFactory(store=shop, external_id="o-1", paid_at=PAID)
    texted(benefit, make_member(shop, name='=HYPERLINK("http://x.example","win")'), "LIN-0001", redeemed_at=PAID,
           redeemed_order=order)
    rows = csv_rows(client.get(reverse("members:campaign_orders_csv", args=[benefit.pk])))
    assert rows[1][2] == '\'=HYPERLINK("http://x.example","win")'


def test_another_stores_operator_gets_404_for_the_campaign_csv(client, shop, benefit):
    order = OrderFactory(store=shop, external_id="o-1", paid_at=PAID)
    texted(benefit, make_member(shop), "LIN-0001", redeemed_at=PAID, redeemed_order=order)
    elsewhere = StoreFactory(slug="elsewhere")
    client.force_login(MembershipFactory(store=elsewhere, user=UserFactory(username="op-else")).user)
    assert client.get(reverse("members:campaign_orders_csv", args=[benefit.pk])).status_code == 404
