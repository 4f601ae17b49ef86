"""The daily page's breakdowns: traffic sources, top products and the payment-type mix of yesterday,
each against the day before and the same weekday a week before, for the user's own stores only."""

import html
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from metrics.models import TrafficEvent
from metrics.rollup import rollup_day
from tests.factories import OrderFactory, OrderLineFactory, PaymentFactory, ProductFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 5, 4)  # a Monday: the day the page reports at 09:00 on 5 May
BEFORE, WEEK = DAY - timedelta(days=1), DAY - timedelta(days=7)
_ids = count()


def at(store, day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=store.zone)


def sell(store, day, total, source="organic_search", lines=(), payments=()):
    """One order paid on the store-local `day`: lines (product, quantity, amount), payments (type, amount)."""
    ts = at(store, day)
    order = OrderFactory(store=store, placed_at=ts, paid_at=ts, total=Decimal(total), traffic_source=source)
    for no, (product, quantity, amount) in enumerate(lines, start=1):
        OrderLineFactory(
            order=order,
            line_no=no,
            product=product,
            quantity=quantity,
            amount=Decimal(amount),
            unit_price=Decimal(amount) / quantity,
        )
    for seq, (kind, amount) in enumerate(payments, start=1):
        PaymentFactory(order=order, type=kind, amount=Decimal(amount), sequence=seq)
    return order


def visit(store, day, source, visitor, sessions=1):
    for _ in range(sessions):
        TrafficEvent.objects.create(
            store=store,
            event_id=f"e{next(_ids)}",
            type="session_start",
            ts=at(store, day, 10),
            session_id=f"s{next(_ids)}",
            visitor_id=visitor,
            source=source,
        )


def page_of(client) -> str:
    with time_machine.travel(at_nine(), tick=False):
        response = client.get(reverse("metrics:daily"))
    assert response.status_code == 200
    return response.content.decode()


def at_nine():
    return datetime(2026, 5, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai"))  # store A's zone


def table(page: str, table_id: str) -> dict[str, list[str]]:
    """A breakdown table as {row label: [cell text, …]}, tags dropped, spaces plain."""
    found = re.search(rf'<table class="breakdown stack" id="{table_id}">(.*?)</table>', page, re.S)
    assert found, f"no table {table_id}"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found[1], re.S):
        cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


def _text(fragment: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", " ")))
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def change(value, before) -> str:
    """What the page shows for a change, computed here from the numbers themselves."""
    if before == 0:
        return "±0" if value == 0 else "from 0"
    number = round((value / before - 1) * 100)
    return "±0" if number == 0 else f"{'+' if number > 0 else '−'}{abs(number)} %"


def points(value, before) -> str:
    """A rate's change (conversion, a share), as the page writes it: in points."""
    number = round((value - before) * 100, 1)
    return "±0 pts" if number == 0 else f"{'+' if number > 0 else '−'}{abs(number):.1f} pts"


def cell(value: str, now, day_before, week_before, in_points=False) -> str:
    moved = points if in_points else change
    return f"{value} DoD {moved(now, day_before)} · WoW {moved(now, week_before)}"


# Orders (count, each order's total) and visitors (count, sessions each) per source and day.
TRAFFIC = {
    DAY: {"paid_search": ((3, 100), (10, 2)), "organic_search": ((1, 50), (5, 1))},
    BEFORE: {"paid_search": ((2, 100), (8, 1)), "organic_search": ((2, 50), (5, 1))},
    WEEK: {"paid_search": ((4, 100), (20, 1)), "organic_search": ((1, 50), (4, 1))},
}


def seed_traffic(store):
    for day, sources in TRAFFIC.items():
        for source, ((orders, total), (visitors, sessions)) in sources.items():
            for _ in range(orders):
                sell(store, day, total, source=source)
            for v in range(visitors):
                visit(store, day, source, f"{source}-{day}-{v}", sessions=sessions)
        rollup_day(store, day)


def expected_sources() -> dict[str, dict[date, dict[str, float]]]:
    """Visitors, sessions, orders, GMV and conversion per source and day, from TRAFFIC alone."""
    out: dict = defaultdict(dict)
    for day, sources in TRAFFIC.items():
        for source, ((orders, total), (visitors, sessions)) in sources.items():
            out[source][day] = {
                "visitors": visitors,
                "sessions": visitors * sessions,
                "orders": orders,
                "gmv": orders * total,
                "conversion": orders / visitors,
            }
    return out


def test_traffic_sources_show_visitors_sessions_orders_gmv_and_conversion_with_their_changes(client_a, store_a):
    seed_traffic(store_a)
    rows = table(page_of(client_a), "sources-store-a")
    assert list(rows) == ["Paid search / through train", "Organic search"]  # the biggest GMV first
    labels = {"paid_search": "Paid search / through train", "organic_search": "Organic search"}
    formats = {
        "visitors": "{:,.0f}",
        "sessions": "{:,.0f}",
        "orders": "{:,.0f}",
        "gmv": "{:,.2f}",
        "conversion": "{:.2%}",
    }
    for source, days in expected_sources().items():
        want = [
            cell(formats[m].format(days[DAY][m]).replace("%", " %"), days[DAY][m], days[BEFORE][m], days[WEEK][m],
                 in_points=m == "conversion")
            for m in formats
        ]
        assert rows[labels[source]] == want, source
    # Spelled out once, so the arithmetic above cannot hide a mistake of its own.
    assert rows["Paid search / through train"][3] == "300.00 DoD +50 % · WoW −25 %"
    # Conversion is a rate: its change in points (40 % → 20 % is −20 points, not −50 %), as the live view says it.
    assert rows["Organic search"][4] == "20.00 % DoD −20.0 pts · WoW −5.0 pts"


def test_the_overviews_conversion_moves_in_points_coloured_by_its_direction(client_a, store_a):
    seed_traffic(store_a)
    page = page_of(client_a)
    overview = re.search(r'<div class="table-wrap"><table>(.*?)</table>', page, re.S)[1]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", overview, re.S) if "Conversion" in r)
    # 4 orders of 15 visitors (26.67 %) against 4 of 13 (30.77 %) the day before and 5 of 24 (20.83 %) a week before.
    assert [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)][3::2] == ["−4.1 pts", "+5.8 pts"]
    assert '<span class="down">−4.1\u00a0pts</span>' in row and '<span class="up">+5.8\u00a0pts</span>' in row


def test_top_ten_products_by_sub_order_payments_with_units_and_the_rest_counted(client_a, store_a):
    teas = [ProductFactory(store=store_a, title=f"Tea no. {k}") for k in range(12)]
    for k, tea in enumerate(teas):  # tea k sells k + 1 units of 10.00 each
        sell(store_a, DAY, 10 * (k + 1), lines=[(tea, k + 1, 10 * (k + 1))])
    sell(store_a, BEFORE, 60, lines=[(teas[11], 6, 60)])
    sell(store_a, WEEK, 240, lines=[(teas[11], 12, 120), (teas[10], 11, 120)])
    for day in (WEEK, BEFORE, DAY):
        rollup_day(store_a, day)
    page = page_of(client_a)
    rows = table(page, "products-store-a")
    assert list(rows) == [f"Tea no. {k}" for k in range(11, 1, -1)]
    assert rows["Tea no. 11"] == [cell("120.00", 120, 60, 120), cell("12", 12, 6, 12)]
    assert rows["Tea no. 11"][0] == "120.00 DoD +100 % · WoW ±0"
    assert rows["Tea no. 10"] == [cell("110.00", 110, 0, 120), cell("11", 11, 0, 11)]  # nothing the day before
    assert "and 2 other products with 30.00 of sub-order payments." in page  # teas 0 and 1: 10 + 20


def test_products_show_their_refunds_when_the_channel_named_the_refunded_items(client_a, store_a):
    green, oolong = ProductFactory(store=store_a, title="Green tea"), ProductFactory(store=store_a, title="Oolong")
    sell(store_a, DAY, 40, lines=[(green, 2, 40)])
    returned = sell(store_a, WEEK, 90, lines=[(oolong, 3, 90)])
    # Oolong sold a week ago; one of its three units comes back on the day: it sold nothing that day.
    returned.refunded_at, returned.refund_amount = at(store_a, DAY, 15), Decimal("30")
    returned.save()
    returned.lines.update(refunded_quantity=1, refund_amount=Decimal("30"))
    for day in (WEEK, BEFORE, DAY):
        rollup_day(store_a, day)
    page = page_of(client_a)
    assert "Top products by sub-order payments, with their refunds" in page
    assert table(page, "products-store-a") == {
        # sub-order payments, units, refunds, units refunded
        "Green tea": [cell("40.00", 40, 0, 0), cell("2", 2, 0, 0), cell("0.00", 0, 0, 0), cell("0", 0, 0, 0)],
        "Oolong": [cell("0.00", 0, 0, 90), cell("0", 0, 0, 3), cell("30.00", 30, 0, 0), cell("1", 1, 0, 0)],
    }


def test_products_have_no_refund_columns_where_no_refunded_items_were_named(client_a, store_a):
    green = ProductFactory(store=store_a, title="Green tea")
    order = sell(store_a, DAY, 40, lines=[(green, 2, 40)])
    order.refunded_at, order.refund_amount = at(store_a, DAY, 15), Decimal("40")  # order-level money only
    order.save()
    for day in (WEEK, BEFORE, DAY):
        rollup_day(store_a, day)
    page = page_of(client_a)
    assert table(page, "products-store-a") == {"Green tea": [cell("40.00", 40, 0, 0), cell("2", 2, 0, 0)]}
    assert "with their refunds" not in page


def test_payment_type_mix_shows_each_types_share_and_its_change_in_points(client_a, store_a):
    sell(store_a, DAY, 100, payments=[("credit_card", 60), ("voucher", 40)])
    sell(store_a, BEFORE, 50, payments=[("credit_card", 50)])
    sell(store_a, BEFORE, 50, payments=[("voucher", 50)])
    sell(store_a, WEEK, 100, payments=[("credit_card", 100)])
    for day in (WEEK, BEFORE, DAY):
        rollup_day(store_a, day)
    rows = table(page_of(client_a), "payments-store-a")
    assert rows == {
        # payments with DoD / WoW; share of the day's payments with its change in points
        "Credit card": ["60.00 DoD +20 % · WoW −40 %", "60.00 % DoD +10.0 pts · WoW −40.0 pts"],
        "Voucher": ["40.00 DoD −20 % · WoW from 0", "40.00 % DoD −10.0 pts · WoW +40.0 pts"],
    }


def test_another_stores_breakdowns_are_never_shown(client_a, store_a, store_b):
    secret = ProductFactory(store=store_b, title="Store B house blend")
    sell(store_b, DAY, 90, source="social", lines=[(secret, 1, 90)], payments=[("boleto", 90)])
    visit(store_b, DAY, "social", "b-visitor")
    rollup_day(store_b, DAY)
    sell(
        store_a, DAY, 50, lines=[(ProductFactory(store=store_a, title="Jasmine tea"), 1, 50)], payments=[("alipay", 50)]
    )
    rollup_day(store_a, DAY)
    page = page_of(client_a)
    assert "Jasmine tea" in page and "Alipay" in page
    for theirs in ("Store B house blend", "Social / content", "Boleto", "sources-store-b", "90.00"):
        assert theirs not in page


@pytest.mark.parametrize("rolled_up", [False, True], ids=["not-rolled-up", "rolled-up-without-facts"])
def test_a_day_without_data_says_so_instead_of_failing(client_a, store_a, rolled_up):
    if rolled_up:
        rollup_day(store_a, DAY)
    page = page_of(client_a)
    assert "No data for Mon 4 May: nothing by traffic source, product or payment type." in page
    assert 'class="breakdown stack"' not in page


def test_breakdowns_cost_the_same_few_queries_however_many_products_and_sources(
    client_a, store_a, django_assert_max_num_queries
):
    def page_with(products: int) -> str:
        for k in range(products):
            tea = ProductFactory(store=store_a, title=f"Tea no. {k}")
            for day, source in ((DAY, "paid_search"), (BEFORE, "direct"), (WEEK, "social")):
                sell(store_a, day, 10, source=source, lines=[(tea, 1, 10)], payments=[("alipay", 10)])
                visit(store_a, day, source, f"v{k}")
        for day in (WEEK, BEFORE, DAY):
            rollup_day(store_a, day)
        # 12: scope() reads the user's store ids once, as a list; one read of the activities that make the
        # day before or last week no usual day; one of the day's peer figures; one of the stores the user
        # manages (their morning email is linked).
        with django_assert_max_num_queries(12):
            return page_of(client_a)

    assert "Tea no. 0" in page_with(2)
    page = page_with(30)  # 32 products, three sources: still one read of the days and one title lookup
    assert "and 22 other products" in page
