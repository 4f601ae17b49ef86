"""The member list's CSV download: the members its filters keep (every page, in its order), phones by the list's
rule, scoped to the user's stores, formulas neutralised."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models.signals import post_init
from django.urls import reverse

from members import exports
from members.models import Member
from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.members.conftest import make_member

pytestmark = pytest.mark.django_db

HEADER = ["name", "store", "phone", "tier", "segment", "orders", "spent", "currency", "texts", "joined"]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming  # written a row at a time, never the whole file in memory
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def listed_names(client, params: dict) -> list[str]:
    """The member names the list's pages show for `params`, page after page."""
    names, number = [], 1
    while True:
        page = client.get(reverse("members:index"), {**params, "page": number}).content.decode()
        names += re.findall(r'<td data-label="Member"><a href="[^"]+">([^<]+)</a>', page)
        if 'rel="next"' not in page:
            return names
        number += 1


def test_the_csv_holds_every_page_of_the_filtered_list_in_its_order(client, operator_b, store_b, monkeypatch):
    # Small reads and writes, so the file crosses many of their boundaries.
    monkeypatch.setattr(exports, "MEMBERS_CHUNK", 7)
    monkeypatch.setattr(exports, "LINES_PER_WRITE", 10)
    for n in range(130):  # more than a page
        make_member(store_b, name=f"Gold Champion {n}", tier="gold", segment="champions",
                    total_spent=Decimal(1000 + n % 7))
    make_member(store_b, name="Gold Lost", tier="gold", segment="lost")
    make_member(store_b, name="Standard Champion", segment="champions")
    client.force_login(operator_b)
    params = {"tier": "gold", "segment": "champions"}

    rows = csv_rows(client.get(reverse("members:index_csv"), params))

    assert rows[0] == HEADER
    names = [row[0] for row in rows[1:]]
    assert len(names) == 130 and names == listed_names(client, params)
    assert all(len(row) == len(HEADER) for row in rows)


def test_the_csv_keeps_the_lists_name_or_phone_search(client, operator_b, store_b):
    make_member(store_b, name="Grace Hopper", phone="+14155550100")
    make_member(store_b, name="Ada Byron")
    client.force_login(operator_b)
    by_name = csv_rows(client.get(reverse("members:index_csv"), {"q": "grace"}))
    by_number = csv_rows(client.get(reverse("members:index_csv"), {"q": "(415) 555-0100"}))
    assert [row[0] for row in by_name[1:]] == [row[0] for row in by_number[1:]] == ["Grace Hopper"]


def test_the_list_links_the_csv_of_its_filters(client, operator_b, store_b):
    make_member(store_b, name="Gold Champion", tier="gold", segment="champions")
    client.force_login(operator_b)
    page = client.get(reverse("members:index"), {"tier": "gold", "q": "gold", "page": 1}).content.decode()
    link = f'<a href="{reverse("members:index_csv")}?tier=gold&amp;q=gold" data-testid="members-csv" download>'
    assert link in page  # the filters, not the page number


@time_machine.travel(datetime(2026, 11, 25, 6, tzinfo=UTC), tick=False)  # 22:00 on 24 Nov in Los Angeles
def test_a_row_reads_as_the_list_shows_it_with_the_phone_masked_for_an_operator(client, operator_b, store_b):
    # Joined 19:30 on 24 Nov in Los Angeles, 25 Nov in UTC: the store's day.
    make_member(store_b, name="Grace Hopper", phone="+14155550100", tier="silver", segment="loyal", orders_count=3,
                total_spent=Decimal("1234.50"), joined_at=datetime(2026, 11, 25, 3, 30, tzinfo=UTC),
                opted_out_at=datetime(2026, 11, 24, tzinfo=UTC))
    make_member(store_b, name="No Segment", phone="+12125550142", sms_consent=False, total_spent=Decimal("0"),
                joined_at=datetime(2026, 11, 20, 18, tzinfo=UTC))
    client.force_login(operator_b)

    response = client.get(reverse("members:index_csv"), {"store": store_b.slug})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="members-store-b-2026-11-24.csv"'
    rows = csv_rows(response)
    # The masked phone starts with "+", which a spreadsheet would run as a formula: quoted, as every export's text.
    assert rows[1:] == [
        ["Grace Hopper", "Store B", "'+14*****0100", "Silver", "Loyal", "3", "1234.50", "USD", "opted out",
         "2026-11-24"],
        ["No Segment", "Store B", "'+12*****0142", "Standard", "", "0", "0.00", "USD", "no consent", "2026-11-20"],
    ]
    assert "+14155550100" not in b"".join(client.get(reverse("members:index_csv")).streaming_content).decode()


def test_a_manager_gets_whole_numbers_only_for_the_stores_they_manage(client, store_a, store_b):
    user = UserFactory(username="mgr-b-op-a")
    MembershipFactory(store=store_b, user=user, role="manager")
    MembershipFactory(store=store_a, user=user, role="operator")
    make_member(store_b, name="Grace Hopper", phone="+14155550100")
    make_member(store_a, name="Wang Fang", phone="+8615897660856")
    client.force_login(user)

    rows = csv_rows(client.get(reverse("members:index_csv")))

    phones = {row[0]: row[2] for row in rows[1:]}
    assert phones == {"Grace Hopper": "+14155550100", "Wang Fang": "'+86*******0856"}


@time_machine.travel(datetime(2026, 11, 25, 6, tzinfo=UTC), tick=False)
def test_another_stores_members_are_never_in_the_file(client, operator_b, store_b):
    elsewhere = StoreFactory(slug="elsewhere")
    make_member(store_b, name="Grace Hopper")
    make_member(elsewhere, name="Someone Else")
    client.force_login(operator_b)

    response = client.get(reverse("members:index_csv"))

    assert response["Content-Disposition"] == 'attachment; filename="members-all-stores-2026-11-25.csv"'
    assert [row[0] for row in csv_rows(response)[1:]] == ["Grace Hopper"]
    assert client.get(reverse("members:index_csv"), {"store": elsewhere.slug}).status_code == 404
    assert client.get(reverse("members:index_csv"), {"store": "no-such-store"}).status_code == 404


def test_a_name_like_a_formula_is_written_as_text(client, operator_b, store_b):
    make_member(store_b, name='=HYPERLINK("http://x.example","win")')
    client.force_login(operator_b)
    rows = csv_rows(client.get(reverse("members:index_csv")))
    assert rows[1][0] == '\'=HYPERLINK("http://x.example","win")'


@time_machine.travel(datetime(2026, 11, 25, 6, tzinfo=UTC), tick=False)
def test_each_consent_state_and_phone_rule_is_written_as_the_list_shows_it(client, store_a, store_b):
    """Every consent word, whole and masked phones, both stores' days and currencies: the same bytes as before the
    file read values instead of members, and the same words and phones as the list's page."""
    user = UserFactory(username="mgr-b-op-a")
    MembershipFactory(store=store_b, user=user, role="manager")
    MembershipFactory(store=store_a, user=user, role="operator")
    out, bad = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    # 03:30 UTC on 25 Nov: 24 Nov in Los Angeles, 25 Nov in Shanghai; 18:00 UTC on 20 Nov: 21 Nov in Shanghai.
    late, evening = datetime(2026, 11, 25, 3, 30, tzinfo=UTC), datetime(2026, 11, 20, 18, tzinfo=UTC)
    for store, phones in ((store_b, ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]),
                          (store_a, ["+8613800138001", "+8613800138002", "+8613800138003", "+8613800138004"])):
        make_member(store, name=f"{store.name} Opted Out", phone=phones[0], opted_out_at=out, phone_invalid_at=bad,
                    total_spent=Decimal("400"), tier="gold", segment="champions", orders_count=9, joined_at=late)
        make_member(store, name=f"{store.name} Invalid", phone=phones[1], phone_invalid_at=bad,
                    total_spent=Decimal("300.5"), tier="silver", segment="at_risk", orders_count=4, joined_at=evening)
        make_member(store, name=f"{store.name} Consented", phone=phones[2], total_spent=Decimal("200"),
                    segment="lost", orders_count=2, joined_at=late)
        make_member(store, name=f"=cmd {store.name}", phone=phones[3], sms_consent=False,
                    total_spent=Decimal("0"), joined_at=evening)
    client.force_login(user)

    body = b"".join(client.get(reverse("members:index_csv")).streaming_content).decode()

    assert body == (  # by store first (two currencies), then the biggest spenders
        "name,store,phone,tier,segment,orders,spent,currency,texts,joined\r\n"
        "Store A Opted Out,Store A,'+86*******8001,Gold,Champions,9,400.00,CNY,opted out,2026-11-25\r\n"
        "Store A Invalid,Store A,'+86*******8002,Silver,At risk,4,300.50,CNY,invalid number,2026-11-21\r\n"
        "Store A Consented,Store A,'+86*******8003,Standard,Lost,2,200.00,CNY,consented,2026-11-25\r\n"
        "'=cmd Store A,Store A,'+86*******8004,Standard,,0,0.00,CNY,no consent,2026-11-21\r\n"
        "Store B Opted Out,Store B,+14155550101,Gold,Champions,9,400.00,USD,opted out,2026-11-24\r\n"
        "Store B Invalid,Store B,+14155550102,Silver,At risk,4,300.50,USD,invalid number,2026-11-20\r\n"
        "Store B Consented,Store B,+14155550103,Standard,Lost,2,200.00,USD,consented,2026-11-24\r\n"
        "'=cmd Store B,Store B,+14155550104,Standard,,0,0.00,USD,no consent,2026-11-20\r\n")
    page = client.get(reverse("members:index")).content.decode()
    listed = re.findall(r'<td data-label="Phone">([^<]*)</td>.*?<td data-label="Texts">(?:<span[^>]*>)?([^<]*)<',
                        page)
    written = [(row[2].lstrip("'"), row[8]) for row in csv.reader(io.StringIO(body))][1:]
    assert listed == written


def test_the_csv_reads_values_not_a_member_a_row(client, operator_b, store_b):
    # A model instance a row made the file ~3x slower than reading the values (bench/members_csv.py).
    for n in range(5):
        make_member(store_b, name=f"Buyer {n}")
    client.force_login(operator_b)
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(count, sender=Member)
    try:
        rows = csv_rows(client.get(reverse("members:index_csv")))
    finally:
        post_init.disconnect(count, sender=Member)

    assert len(rows) == 6 and built == []
