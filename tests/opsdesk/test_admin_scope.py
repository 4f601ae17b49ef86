"""The admin for staff of one store: its forms offer and accept only that store's objects.

A staff operator of store A must not link A's rows to store B's (a review to B's order would put B's
buyer's phone number on A's case page), nor see B's products or name in a select or a list filter.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import MembershipFactory, OrderFactory, ProductFactory, UserFactory
from tests.reviews.conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_a(store_a):
    staff = UserFactory(username="staff-a", is_staff=True)
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_review", "change_review", "view_order", "add_order", "change_order", "add_orderline"]))
    return staff


def review_form(review, **change):
    data = {"store": review.store_id, "external_id": review.external_id, "product": "", "order": "", "member": "",
            "rating": review.rating, "title": review.title, "body": review.body,
            "created_at_0": review.created_at.strftime("%Y-%m-%d"), "created_at_1": "10:00:00"}
    return {**data, **change}


def test_staff_of_store_a_cannot_link_a_review_to_store_bs_order(client, staff_a, store_a, store_b):
    order_b = OrderFactory(store=store_b, buyer_phone="+14155550123")
    case = make_case(store_a, rating=1)
    client.force_login(staff_a)

    response = client.post(reverse("admin:reviews_review_change", args=[case.review.pk]),
                           review_form(case.review, order=order_b.pk))

    assert response.status_code == 200  # the form again, with the error on the order
    assert "Select a valid choice" in response.content.decode()
    case.review.refresh_from_db()
    assert case.review.order_id is None
    assert "4155550123" not in client.get(case.get_absolute_url()).content.decode()


def test_staff_of_store_a_can_still_link_a_review_to_their_own_order(client, staff_a, store_a):
    order_a = OrderFactory(store=store_a)
    case = make_case(store_a, rating=1)
    client.force_login(staff_a)

    response = client.post(reverse("admin:reviews_review_change", args=[case.review.pk]),
                           review_form(case.review, order=order_a.pk))

    assert response.status_code == 302
    case.review.refresh_from_db()
    assert case.review.order_id == order_a.pk


def test_admin_selects_and_filters_name_only_my_stores_objects(client, staff_a, store_a, store_b):
    ProductFactory(store=store_a, title="Jade mug")
    ProductFactory(store=store_b, title="Secret parka")
    make_case(store_a, rating=1)
    client.force_login(staff_a)

    add_order = client.get(reverse("admin:stores_order_add")).content.decode()  # its line inline's product select
    assert "Jade mug" in add_order and "Secret parka" not in add_order
    reviews = client.get(reverse("admin:reviews_review_changelist")).content.decode()  # the store filter
    assert store_a.name in reviews and store_b.name not in reviews


def test_a_festival_cannot_use_another_stores_template(admin_client, store_a, store_b):
    from members.models import Festival, SmsTemplate

    theirs = SmsTemplate.objects.create(store=store_a, name="节日", flow="holiday", body="{store}周年庆！")
    response = admin_client.post(reverse("admin:members_festival_add"), {
        "store": store_b.pk, "name": "Store birthday", "date": "2020-03-14", "yearly": "on", "template": theirs.pk})
    assert response.status_code == 200
    assert "That template belongs to Store A" in response.content.decode()
    assert not Festival.objects.exists()
