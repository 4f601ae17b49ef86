"""The shipping promise: paid orders not shipped by the store's promise (48 h unless a manager changes it) are late,
those within 6 hours of it due soon; the desk counts them, the store's order list shows them late first."""

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection
from django.urls import reverse

from stores.models import Store
from stores.shipping import shipping_due_by_store, waiting_to_ship
from tests.factories import MembershipFactory, OrderFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 on Wed 25 Nov in Shanghai (store A)
clock = time_machine.travel(NOW, tick=False)


def paid(store, hours_ago: float, **fields):
    at = NOW - timedelta(hours=hours_ago)
    return OrderFactory(store=store, placed_at=at - timedelta(minutes=5), paid_at=at, **fields)


@clock
def test_an_order_is_late_only_once_its_deadline_has_passed(store_a):
    at_deadline = paid(store_a, 48)
    assert shipping_due_by_store([store_a])[store_a.pk].late == 0
    assert list(waiting_to_ship(store_a)) == [at_deadline]  # due now, not late yet
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False):
        due = shipping_due_by_store([store_a])[store_a.pk]
    assert (due.late, due.oldest_paid_at, due.due_soon) == (1, at_deadline.paid_at, 0)


@clock
def test_due_soon_is_a_deadline_within_six_hours(store_a):
    paid(store_a, 42.01)  # deadline in 5 h 59 min
    paid(store_a, 42)  # deadline in exactly 6 h: not yet
    paid(store_a, 1)
    due = shipping_due_by_store([store_a])[store_a.pk]
    assert (due.late, due.due_soon) == (0, 1)


@clock
def test_cancelled_refunded_and_shipped_orders_are_not_waiting_to_ship(store_a):
    paid(store_a, 60, status="cancelled")
    paid(store_a, 60, status="refunded", refund_amount=Decimal("50.00"))
    paid(store_a, 60, status="shipped", shipped_at=NOW - timedelta(hours=30))
    paid(store_a, 60, status="delivered", shipped_at=NOW - timedelta(hours=30), delivered_at=NOW)
    paid(store_a, 60, status="paid", refund_amount=Decimal("50.00"))  # refunded in full, status not moved
    OrderFactory(store=store_a, status="pending", placed_at=NOW - timedelta(hours=60), paid_at=None)
    partly_refunded = paid(store_a, 60, refund_amount=Decimal("10.00"))
    assert list(waiting_to_ship(store_a)) == [partly_refunded]


@clock
def test_only_orders_paid_in_the_last_14_days_count(store_a):
    """History loaded without shipping data (the Olist sample, an old order file) would list every order."""
    paid(store_a, 14 * 24 + 1)
    recent = paid(store_a, 13 * 24)
    assert list(waiting_to_ship(store_a)) == [recent]


@clock
def test_each_store_is_judged_by_its_own_promise_in_one_query(store_a, store_b, django_assert_num_queries):
    store_b.ship_within_hours = 24
    store_b.save()
    for store in (store_a, store_b):
        paid(store, 30)
        paid(store, 50)
    with django_assert_num_queries(1):
        due = shipping_due_by_store([store_a, store_b])
    assert (due[store_a.pk].late, due[store_a.pk].due_soon) == (1, 0)
    assert (due[store_b.pk].late, due[store_b.pk].due_soon, due[store_b.pk].promise_hours) == (2, 0, 24)


@clock
def test_the_desk_says_how_many_are_late_since_when_and_how_many_are_due(client_a, store_a):
    paid(store_a, 61.5)
    paid(store_a, 50)
    paid(store_a, 44)
    panel = client_a.get(reverse("desk")).context["panels"][0]
    items = {item.label: item for item in panel["items"]}
    late = items["Orders past the 48 h shipping promise"]
    assert (late.count, late.detail, late.severity) == (2, "oldest paid 61 h ago", "danger")
    assert items["Orders due to ship within 6 h"].count == 1
    assert late.url == reverse("stores:orders", args=[store_a.slug]) + "?shipping=waiting"
    page = client_a.get(reverse("desk")).content.decode()
    assert "oldest paid 61 h ago" in page


@clock
def test_the_desk_says_nothing_of_shipping_when_nothing_is_late_or_due(client_a, store_a):
    paid(store_a, 2)
    labels = [item.label for item in client_a.get(reverse("desk")).context["panels"][0]["items"]]
    assert not [label for label in labels if "ship" in label]


@clock
def test_waiting_to_ship_lists_late_first_with_the_deadline_in_store_time(client_a, store_a):
    due = paid(store_a, 44, name="#due")
    newer_late = paid(store_a, 50, name="#late-2")
    oldest_late = paid(store_a, 61, name="#late-1")
    paid(store_a, 2, name="#fresh")
    response = client_a.get(reverse("stores:orders", args=[store_a.slug]) + "?shipping=waiting")
    assert [o.pk for o in response.context["orders"]] == [oldest_late.pk, newer_late.pk, due.pk]
    page = html.unescape(response.content.decode())
    # Paid 23:00 Sun 22 Nov in Shanghai: due 48 h later, 23:00 Tue 24 Nov, 13 h ago.
    assert "Sun 22 Nov 23:00" in page and "Tue 24 Nov 23:00" in page and "late by 13 h" in page
    assert "late by 2 h" in page and "due in 4 h" in page
    assert "#fresh" not in page


@clock
def test_another_stores_orders_are_never_waiting_in_yours(client_a, store_a, store_b):
    paid(store_b, 61, name="#theirs")
    response = client_a.get(reverse("stores:orders", args=[store_a.slug]) + "?shipping=waiting")
    assert list(response.context["orders"]) == []
    assert "#theirs" not in response.content.decode()
    assert client_a.get(reverse("stores:orders", args=[store_b.slug]) + "?shipping=waiting").status_code == 404


def test_the_order_list_without_a_filter_shows_all_orders_newest_first(client_a, store_a):
    older = OrderFactory(store=store_a, status="delivered", placed_at=NOW - timedelta(days=3))
    newer = OrderFactory(store=store_a, placed_at=NOW - timedelta(days=1))
    response = client_a.get(reverse("stores:orders", args=[store_a.slug]))
    assert list(response.context["orders"]) == [newer, older]


def test_a_store_promises_48_hours_unless_told_otherwise_even_inserted_without_the_field(db):
    """The column has a database default, so code from before the field (a rolling deploy) still adds stores."""
    assert StoreFactory().ship_within_hours == 48
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO stores_store (name, slug, platform, country, timezone, currency, "
                       "webhook_secret, created_at) "
                       "VALUES ('Old', 'old', 'other', 'CN', 'Asia/Shanghai', 'CNY', '', CURRENT_TIMESTAMP)")
    assert Store.objects.get(slug="old").ship_within_hours == 48


def test_the_database_refuses_a_promise_of_no_hours(store_a):
    with pytest.raises(IntegrityError):
        Store.objects.filter(pk=store_a.pk).update(ship_within_hours=0)


def settings_post(membership, hours: str) -> dict:
    prefix = str(membership.pk)
    return {"membership": membership.pk, f"{prefix}-morning_email": "on", f"{prefix}-email_timezone": "",
            f"{prefix}-ship_within_hours": hours}


def test_a_manager_sets_the_stores_shipping_promise_on_their_settings(client, store_a, manager_a):
    client.force_login(manager_a)
    page = client.get(reverse("stores:my_settings")).content.decode()
    assert f'name="{manager_a.memberships.get().pk}-ship_within_hours" value="48"' in page
    response = client.post(reverse("stores:my_settings"), settings_post(manager_a.memberships.get(), "24"))
    assert response.status_code == 302
    store_a.refresh_from_db()
    assert store_a.ship_within_hours == 24


@pytest.mark.parametrize("hours, error", [("0", "Promise to ship within at least 1 hour."),
                                          ("241", "Promise to ship within at most 240 hours (10 days)."),
                                          ("two days", "Enter a whole number.")])
def test_a_promise_that_is_no_whole_number_of_hours_from_1_to_240_is_refused(client, store_a, manager_a, hours,
                                                                             error):
    client.force_login(manager_a)
    response = client.post(reverse("stores:my_settings"), settings_post(manager_a.memberships.get(), hours))
    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    store_a.refresh_from_db()
    assert store_a.ship_within_hours == 48


def test_an_operator_cannot_change_the_promise(client, store_a, operator_a):
    client.force_login(operator_a)
    assert "ship_within_hours" not in client.get(reverse("stores:my_settings")).content.decode()
    client.post(reverse("stores:my_settings"), settings_post(operator_a.memberships.get(), "2"))
    store_a.refresh_from_db()
    assert store_a.ship_within_hours == 48


def test_a_settings_form_without_the_promise_keeps_it(client, store_a, manager_a):
    """A page opened before the field was there posts no promise: the store keeps its own."""
    store_a.ship_within_hours = 72
    store_a.save()
    client.force_login(manager_a)
    membership = manager_a.memberships.get()
    client.post(reverse("stores:my_settings"), {"membership": membership.pk, f"{membership.pk}-morning_email": "on"})
    store_a.refresh_from_db()
    assert store_a.ship_within_hours == 72


def test_a_manager_of_another_store_cannot_change_yours(client, store_a, store_b):
    other = MembershipFactory(store=store_b, user=UserFactory(username="mgr-b"), role="manager")
    client.force_login(other.user)
    mine = MembershipFactory(store=store_a, role="manager")
    response = client.post(reverse("stores:my_settings"), settings_post(mine, "2"))
    assert response.status_code == 404
    store_a.refresh_from_db()
    assert store_a.ship_within_hours == 48


@pytest.mark.parametrize("query, shown, other", [("", "all", "waiting to ship"),
                                                 ("?shipping=waiting", "waiting to ship", "all")])
def test_the_orders_list_names_which_orders_it_shows(client_a, store_a, query, shown, other):
    # Both choices were links alike, so the page did not say which list was on it (seen in the demo).
    page = client_a.get(reverse("stores:orders", args=[store_a.slug]) + query).content.decode()
    assert f'<strong aria-current="page">{shown}</strong>' in page
    assert f">{other}</a>" in page and f">{shown}</a>" not in page
