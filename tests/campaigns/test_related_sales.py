"""Related sales: support, confidence and lift checked by hand on a tiny basket set; the bundle button."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.urls import reverse

from campaigns.activity_related import pair_table, suggestions
from campaigns.models import Activity
from metrics.models import StaleDay, TrafficEvent
from metrics.rollup import product_views, rollup_days
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_pair_numbers_by_hand():
    # 5 orders: {A,B} {A,B} {A,C} {B} {C}. A in 3, B in 3, C in 2.
    baskets = pd.DataFrame([(1, "A"), (1, "B"), (2, "A"), (2, "B"), (3, "A"), (3, "C"), (4, "B"), (5, "C")],
                           columns=["order", "product"])
    table = pair_table(baskets).set_index(["anchor", "partner"])
    ab = table.loc[("A", "B")]
    assert ab["both"] == 2
    assert ab["support"] == pytest.approx(2 / 5)
    assert ab["confidence"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx((2 / 3) / (3 / 5))  # 1.111
    ac = table.loc[("A", "C")]
    assert ac["confidence"] == pytest.approx(1 / 3) and ac["lift"] == pytest.approx((1 / 3) / (2 / 5))
    ca = table.loc[("C", "A")]
    assert ca["confidence"] == pytest.approx(1 / 2) and ca["lift"] == pytest.approx((1 / 2) / (3 / 5))
    assert ("B", "C") not in table.index


@pytest.fixture
def tiny_shop(store_a):
    kettle, cups, tray, tea = (ProductFactory(store=store_a, title=t) for t in ["Kettle", "Cups", "Tray", "Tea"])
    baskets = [[kettle, cups], [kettle, cups], [kettle, tray], [kettle, cups, tray], [tea], [tea, tray]]
    for n, basket in enumerate(baskets):
        order = OrderFactory(store=store_a, placed_at=datetime(2026, 11, 2 + n, 12, tzinfo=SH))
        for line_no, product in enumerate(basket, start=1):
            OrderLineFactory(order=order, line_no=line_no, product=product)
    # Tea is the most viewed product, the kettle second.
    for n in range(5):
        TrafficEvent.objects.create(store=store_a, event_id=f"t{n}", type="product_view", product=tea,
                                    ts=datetime(2026, 11, 3, tzinfo=SH))
    for n in range(3):
        TrafficEvent.objects.create(store=store_a, event_id=f"k{n}", type="product_view", product=kettle,
                                    ts=datetime(2026, 11, 3, tzinfo=SH))
    return kettle, cups, tray, tea


def test_suggestions_start_from_the_most_viewed_products(store_a, tiny_shop):
    kettle, cups, tray, tea = tiny_shop
    pairs = suggestions(store_a, date(2026, 11, 1), date(2026, 11, 30), anchors=2, min_both=2)
    # Tea's only partner (tray) was bought with it once: below min_both, so the kettle's pairs come out.
    assert [(p.anchor, p.partner) for p in pairs] == [(kettle, cups), (kettle, tray)]
    first = pairs[0]
    assert first.anchor_views == 3 and first.anchor_orders == 4 and first.both == 3
    assert first.support == pytest.approx(3 / 6) and first.confidence == pytest.approx(3 / 4)
    assert first.lift == pytest.approx((3 / 4) / (3 / 6))


def test_views_read_from_the_rollup_count_what_the_events_count(store_a):
    """The rolled-up days come from the rollup; a day not rolled up yet and a rolled-up day that a late
    event changed (stale) from the events; a product deleted since counts no more."""
    kettle, tea, gone = (ProductFactory(store=store_a) for _ in range(3))

    def view(product, day, n):
        for _ in range(n):
            TrafficEvent.objects.create(store=store_a, event_id=f"e{TrafficEvent.objects.count()}",
                                        type="product_view", product=product, ts=datetime(2026, 11, day, 12, tzinfo=SH))

    view(kettle, 2, 3), view(tea, 2, 1), view(gone, 2, 2), view(kettle, 3, 2), view(tea, 4, 5)
    rollup_days([(store_a, date(2026, 11, 2)), (store_a, date(2026, 11, 3))])
    view(tea, 3, 4)  # late: the 3rd's rollup no longer holds
    StaleDay.mark(store_a.pk, [date(2026, 11, 3)])
    gone.delete()

    assert product_views(store_a, date(2026, 11, 1), date(2026, 11, 4)) == {kettle.pk: 5, tea.pk: 10}


def test_one_click_creates_a_bundle_idea(client_a, store_a, tiny_shop):
    kettle, cups, _, _ = tiny_shop
    response = client_a.post(reverse("campaigns:related_sales_bundle"),
                             {"store": store_a.slug, "anchor": kettle.pk, "partner": cups.pk, "note": "lift 1.5"})
    activity = Activity.objects.get()
    assert response.url == activity.get_absolute_url()
    assert activity.kind == "related_sales" and activity.status == "idea"
    assert set(activity.products.all()) == {kettle, cups}
    assert activity.details == {"mode": "bundle", "source": "lift 1.5"}


def test_a_bundle_note_too_long_to_keep_is_refused_not_cut(client_a, store_a, tiny_shop):
    kettle, cups, _, _ = tiny_shop
    note = "Suggested: " + "x" * 300

    response = client_a.post(reverse("campaigns:related_sales_bundle"),
                             {"store": store_a.slug, "anchor": kettle.pk, "partner": cups.pk, "note": note},
                             follow=True)

    assert not Activity.objects.exists()
    assert "Nothing was created" in response.content.decode()
    assert "at most 300 characters" in response.content.decode()


def test_bundle_with_another_stores_product_is_a_404(client_a, store_a, store_b, tiny_shop):
    kettle = tiny_shop[0]
    foreign = ProductFactory(store=store_b)
    response = client_a.post(reverse("campaigns:related_sales_bundle"),
                             {"store": store_a.slug, "anchor": kettle.pk, "partner": foreign.pk})
    assert response.status_code == 404
    assert client_a.post(reverse("campaigns:related_sales_bundle"),
                         {"store": store_b.slug, "anchor": foreign.pk, "partner": foreign.pk}).status_code == 404
    assert not Activity.objects.exists()


def test_suggestion_page_lists_pairs(client_a, store_a, tiny_shop):
    import time_machine

    with time_machine.travel(datetime(2026, 11, 20, tzinfo=SH)):
        page = client_a.get(reverse("campaigns:related_sales"), {"store": store_a.slug}).content.decode()
    assert "Create bundle" in page and "Cups" in page


def test_pair_table_on_real_olist_baskets(olist_dir):
    """Real order items: mostly single-item orders, repeated lines of one product; the numbers stay consistent."""
    items = pd.read_csv(olist_dir / "olist_order_items_dataset.csv", usecols=["order_id", "product_id"])
    baskets = items.rename(columns={"order_id": "order", "product_id": "product"}).drop_duplicates()
    table = pair_table(baskets)
    n_orders = baskets["order"].nunique()
    per_product = baskets.groupby("product")["order"].nunique()
    assert len(table) > 0
    assert (table["both"] >= 1).all() and (table["support"] <= table["confidence"]).all()
    row = table.sort_values("both", ascending=False).iloc[0]
    n_a, n_b = per_product[row["anchor"]], per_product[row["partner"]]
    assert row["lift"] == pytest.approx(row["both"] * n_orders / (n_a * n_b))
    mirrored = table.set_index(["anchor", "partner"])["both"]
    assert mirrored[(row["partner"], row["anchor"])] == row["both"]  # A with B is B with A


def test_suggestion_page_writes_shares_as_percentages_and_lift_as_a_multiple(client_a, store_a, tiny_shop):
    # It wrote 0.0279 / 0.133 and "0.64 below chance", which read as a difference, not as a multiple.
    import re

    import time_machine

    tray = tiny_shop[2]
    for n in range(6):  # the tray alone, often: bought with the kettle less often than chance would give
        order = OrderFactory(store=store_a, placed_at=datetime(2026, 11, 10, 12 + n, tzinfo=SH))
        OrderLineFactory(order=order, line_no=1, product=tray)
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=SH)):
        page = client_a.get(reverse("campaigns:related_sales"), {"store": store_a.slug}).content.decode()
    rows = {re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S) if "Create bundle" in row}
    # 12 orders: kettle in 4, cups in 3 (all with the kettle), tray in 9 (2 with the kettle).
    assert {"Kettle 3 4 Cups 3 25.00 % 75.00 % 3.00× Create bundle",
            "Kettle 3 4 Tray 2 16.67 % 50.00 % 0.67× less often than chance Create bundle"} <= rows
    assert "confidence 75.00 %, lift 3.00×" in page  # the bundle's source note
