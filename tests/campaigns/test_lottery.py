"""Lottery: entrants from a window, reproducible winners from the stored seed, drawn once only."""

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from campaigns import activity_lottery
from campaigns.models import LotteryDraw
from members.models import Member
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lottery(make_activity):
    return make_activity(name="Lottery", kind="gift", details={"gift_type": "lottery", "gift_item": "Tea set",
                                                                 "prize_count": 3},
                         start_date=date(2026, 11, 1), end_date=date(2026, 11, 7))


@pytest.fixture
def buyers(store_a):
    """Ten buyers paying inside 1–7 Nov (Shanghai), one twice, one just outside on each side."""
    for n in range(10):
        OrderFactory(store=store_a, buyer_ref=f"b{n:02d}", placed_at=datetime(2026, 11, 1 + n % 7, 10, tzinfo=SH))
    OrderFactory(store=store_a, buyer_ref="b03", placed_at=datetime(2026, 11, 6, 10, tzinfo=SH))
    # 23:58 on 31 Oct in Shanghai, paid a minute later: still October there (though 1 Nov nowhere in UTC).
    OrderFactory(store=store_a, buyer_ref="early", placed_at=datetime(2026, 10, 31, 23, 58, tzinfo=SH))
    OrderFactory(store=store_a, buyer_ref="late", placed_at=datetime(2026, 11, 8, 0, 0, tzinfo=SH))
    OrderFactory(store=store_a, buyer_ref="unpaid", placed_at=datetime(2026, 11, 2, tzinfo=SH), paid_at=None,
                 status="pending")


def test_entrants_are_distinct_paid_buyers_of_the_window_sorted(lottery, buyers):
    keys = [e.key for e in activity_lottery.entrants(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7))]
    assert keys == [f"buyer:b{n:02d}" for n in range(10)]


def test_draw_is_reproducible_from_the_stored_seed(lottery, buyers, operator_a):
    draw = activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3, user=operator_a)
    keys = [f"buyer:b{n:02d}" for n in range(10)]
    assert [w["key"] for w in draw.winners] == random.Random(draw.seed).sample(keys, 3)
    assert draw.entrant_count == 10 and draw.winner_count == 3 and len(draw.seed) == 32
    assert draw.entrants_sha256 == activity_lottery.entrants_hash(keys)
    assert activity_lottery.verify_draw(draw) == {"same_entrants": True, "entrant_count": 10, "same_winners": True}


def test_same_seed_same_winners_different_seed_different_list():
    keys = [f"buyer:{n}" for n in range(200)]
    assert activity_lottery.pick_winners(keys, "abc", 5) == activity_lottery.pick_winners(list(keys), "abc", 5)
    assert activity_lottery.pick_winners(keys, "abc", 5) != activity_lottery.pick_winners(keys, "abd", 5)


def test_a_second_draw_is_refused_and_the_first_stands(lottery, buyers):
    first = activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    with pytest.raises(activity_lottery.AlreadyDrawn, match="already drawn"):
        activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    assert LotteryDraw.objects.get() == first


def test_the_database_holds_one_draw_per_activity(lottery):
    values = dict(activity=lottery, source="orders", window_start=date(2026, 11, 1), window_end=date(2026, 11, 7),
                  entrant_count=1, entrants_sha256="x", seed="s", winner_count=1, winners=["a"])
    LotteryDraw.objects.create(**values)
    with pytest.raises(IntegrityError):
        LotteryDraw.objects.create(**values)


def test_second_draw_via_the_page_shows_a_clear_message(client_a, lottery, buyers):
    url = reverse("campaigns:lottery_draw", args=[lottery.pk])
    data = {"source": "orders", "window_start": "2026-11-01", "window_end": "2026-11-07", "winner_count": "3"}
    client_a.post(url, data)
    response = client_a.post(url, data, follow=True)
    assert "This lottery was already drawn; the stored result stands" in response.content.decode()
    assert LotteryDraw.objects.count() == 1


def test_members_who_joined_in_the_window_enter(lottery, store_a):
    for n, day in enumerate([1, 3, 7, 8]):
        Member.objects.create(store=store_a, phone=f"+86138001380{n:02d}", name=f"M{n}",
                              joined_at=datetime(2026, 11, day, 9, tzinfo=SH))
    people = activity_lottery.entrants(lottery, "members", date(2026, 11, 1), date(2026, 11, 7))
    assert len(people) == 3 and all("*" in p.label for p in people)  # phones masked


def test_only_lotteries_draw_and_an_empty_window_is_refused(make_activity, lottery):
    with pytest.raises(ValidationError, match="Only a gift activity of type lottery"):
        activity_lottery.draw(make_activity(), "orders", date(2026, 11, 1), date(2026, 11, 7), 1)
    with pytest.raises(ValidationError, match="Nobody entered"):
        activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 1)
    assert not LotteryDraw.objects.exists()


def test_more_prizes_than_entrants_everybody_wins(lottery, store_a):
    OrderFactory(store=store_a, buyer_ref="only", placed_at=datetime(2026, 11, 2, 10, tzinfo=SH))
    draw = activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    assert draw.winner_count == 1 and [w["key"] for w in draw.winners] == ["buyer:only"]


def test_verify_lottery_command_reports_a_match_and_a_changed_list(lottery, buyers, store_a):
    from io import StringIO

    from django.core.management import CommandError, call_command

    activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    out = StringIO()
    call_command("verify_lottery", lottery.pk, stdout=out)
    assert "match the stored draw" in out.getvalue()
    OrderFactory(store=store_a, buyer_ref="b99", placed_at=datetime(2026, 11, 3, 10, tzinfo=SH))  # late edit
    with pytest.raises(CommandError, match="entrant list changed"):
        call_command("verify_lottery", lottery.pk, stdout=StringIO())


def test_deleting_the_store_takes_its_draws_with_it(lottery, buyers, store_a):
    activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    store_a.delete()  # e.g. seed_demo --reset
    assert not LotteryDraw.objects.exists()


def test_activity_page_shows_when_it_was_drawn_in_the_stores_time(client_a, lottery, buyers):
    with time_machine.travel(datetime(2026, 11, 26, 7, 0, tzinfo=SH), tick=False):  # 23:00 UTC the day before
        client_a.post(reverse("campaigns:lottery_draw", args=[lottery.pk]), {
            "source": "orders", "window_start": "2026-11-01", "window_end": "2026-11-07", "winner_count": 3})

        body = client_a.get(lottery.get_absolute_url()).content.decode()

    assert 'Drawn <span class="nowrap">Thu 26 Nov 07:00</span> <span class="muted">(Asia/Shanghai time)</span>' in body


def test_a_window_not_over_yet_cannot_be_drawn_and_late_entrants_still_win_a_place(lottery, store_a):
    OrderFactory(store=store_a, buyer_ref="morning", placed_at=datetime(2026, 11, 7, 9, tzinfo=SH))
    with time_machine.travel(datetime(2026, 11, 7, 20, 0, tzinfo=SH), tick=False):  # the window's last evening
        with pytest.raises(ValidationError, match="not over yet"):
            activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
        assert not LotteryDraw.objects.exists()
    OrderFactory(store=store_a, buyer_ref="evening", placed_at=datetime(2026, 11, 7, 21, 30, tzinfo=SH))
    # 00:30 on the 8th in Shanghai (still the 7th in UTC): the store's day decides.
    with time_machine.travel(datetime(2026, 11, 8, 0, 30, tzinfo=SH), tick=False):
        draw = activity_lottery.draw(lottery, "orders", date(2026, 11, 1), date(2026, 11, 7), 3)
    assert draw.entrant_count == 2 and activity_lottery.verify_draw(draw)["same_entrants"]


def test_drawing_before_the_window_ends_says_so_on_the_page(client_a, lottery, buyers):
    with time_machine.travel(datetime(2026, 11, 7, 20, 0, tzinfo=SH), tick=False):
        response = client_a.post(reverse("campaigns:lottery_draw", args=[lottery.pk]), {
            "source": "orders", "window_start": "2026-11-01", "window_end": "2026-11-07", "winner_count": 3},
            follow=True)
    assert "which is not over yet" in response.content.decode()
    assert not LotteryDraw.objects.exists()


def test_a_big_draws_winner_and_entrant_counts_are_written_with_thousands_separated(client_a, lottery, store_a):
    Member.objects.bulk_create(Member(store=store_a, phone=f"+8613800{n:06d}", name=f"M{n}",
                                      joined_at=datetime(2026, 11, 2, 9, tzinfo=SH)) for n in range(1002))
    with time_machine.travel(datetime(2026, 11, 26, 7, 0, tzinfo=SH), tick=False):
        activity_lottery.draw(lottery, "members", date(2026, 11, 1), date(2026, 11, 7), 1001)
        body = client_a.get(lottery.get_absolute_url()).content.decode()
    assert "<strong>1,001</strong> winners from <strong>1,002</strong> entrants" in body
    assert "Lottery drawn: 1,001 winners from 1,002 entrants" in body  # its history line too
