"""The morning email's "Late to ship" line beside the open violations: the store's paid orders past its shipping
promise as the email is sent, with a link to them; nothing when none is late."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from metrics.email import send_due_morning_emails
from tests.factories import MembershipFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_to_outbox")]
MORNING = datetime(2026, 11, 26, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # store A's zone and its manager's
LINK = "https://desk.example.com/stores/store-a/orders/?shipping=waiting"


@pytest.fixture
def manager(store_a):
    return MembershipFactory(store=store_a, user=UserFactory(username="boss", email="boss@example.com"),
                             role="manager")


def paid(store, hours_ago: float, **fields):
    at = MORNING - timedelta(hours=hours_ago)
    return OrderFactory(store=store, placed_at=at, paid_at=at, **fields)


def morning_email():
    with time_machine.travel(MORNING, tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    return message.body, message.alternatives[0][0]


def test_the_email_counts_the_orders_late_to_ship_in_both_parts(manager, store_a, store_b):
    for hours in (49, 60, 70):
        paid(store_a, hours)
    paid(store_a, 44)  # due within 6 h: not late yet
    paid(store_a, 60, status="shipped", shipped_at=MORNING - timedelta(hours=20))
    paid(store_b, 60)  # another store's
    text, html = morning_email()
    assert "Late to ship: 3 orders past the 48 h promise\n" + LINK in text
    assert f'<strong>Late to ship:</strong> <a href="{LINK}">3 orders past the 48 h promise</a>' in html
    # Beside the open violations.
    assert text.index("Open violations") < text.index("Late to ship") < text.index("Bad-review cases")
    assert html.index("Open violations") < html.index("Late to ship") < html.index("Bad-review cases")


def test_one_late_order_is_one_order_by_the_stores_own_promise(manager, store_a):
    store_a.ship_within_hours = 24
    store_a.save()
    paid(store_a, 30)
    text, html = morning_email()
    assert "Late to ship: 1 order past the 24 h promise" in text
    assert "1 order past the 24 h promise</a>" in html


def test_no_line_when_nothing_is_late(manager, store_a):
    paid(store_a, 47)
    text, html = morning_email()
    assert "Late to ship" not in text and "Late to ship" not in html
