"""One sending number texts for every store: a customer who bought in several stores (one Member row each)
gets one text a day and at most SMS_FREQUENCY_CAP texts in SMS_FREQUENCY_DAYS days, counted over the
number, whichever stores the texts come from."""

import threading
import time
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from members import compliance, flows, sending
from members.models import Message, MessageStatus, SmsTemplate
from tests.factories import MembershipFactory, StoreFactory, UserFactory
from tests.marks import concurrent_transactions
from tests.members.conftest import make_member

PHONE = "+14155550177"
UK_PHONE = "+447700900177"
DAY = date(2026, 12, 2)  # a Wednesday, no holiday


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch):
    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)


def la(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=compliance.ZoneInfo("America/Los_Angeles"))


def store_with_campaign(name: str):
    store = StoreFactory(name=name, slug=name.lower().replace(" ", "-"), timezone="America/Los_Angeles")
    template = SmsTemplate.objects.create(store=store, name="Thanks", flow="campaign",
                                          body="Hi {first_name}, thanks for shopping at {store}!")
    return store, template


def queued_days(phone: str) -> list[date]:
    zone = compliance.ZoneInfo("America/Los_Angeles")
    return sorted(t.astimezone(zone).date() for t in Message.objects.filter(
        member__phone=phone, status=MessageStatus.QUEUED).values_list("scheduled_for", flat=True))


@pytest.mark.django_db
def test_two_stores_texting_one_number_the_same_morning_send_one_that_day_the_other_the_next():
    (north, north_thanks), (south, south_thanks) = store_with_campaign("North"), store_with_campaign("South")
    make_member(north, phone=PHONE)
    make_member(south, phone=PHONE)
    with time_machine.travel(la(DAY, 7, 0), tick=False):  # both before 09:00: both want the 09:00 slot
        assert flows.start_campaign(north, north_thanks).created == 1
        result = flows.start_campaign(south, south_thanks)
    assert (result.created, result.waiting) == (1, 1)
    assert queued_days(PHONE) == [DAY, DAY + timedelta(days=1)]
    later = Message.objects.get(store=south)
    assert later.scheduled_for == la(DAY + timedelta(days=1), 9)


@pytest.mark.django_db
def test_a_greeting_after_another_stores_text_that_day_is_skipped_saying_so_without_naming_it(client):
    (north, north_thanks), (south, _) = store_with_campaign("North Outfitters"), store_with_campaign("South Gear")
    make_member(north, phone=PHONE)
    greeted = make_member(south, phone=PHONE)
    SmsTemplate.objects.create(store=south, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    christmas = date(2026, 12, 25)
    with time_machine.travel(la(christmas, 10, 0), tick=False):
        flows.start_campaign(north, north_thanks)
    Message.objects.update(status=MessageStatus.SENT, attempts=1, sent_at=la(christmas, 10, 0))
    with time_machine.travel(la(christmas, 11, 5), tick=False):
        assert flows.holiday_care().same_day == 1
    greeting = Message.objects.get(store=south)
    assert greeting.status == MessageStatus.SKIPPED
    assert greeting.skip_reason == "one text a day: the number already has another store's text on 2026-12-25"

    user = UserFactory(username="south-only")
    MembershipFactory(store=south, user=user, role="operator")
    for page in pages_of(greeted):
        with time_machine.travel(la(christmas, 12, 0), tick=False):
            client.force_login(user)
            html = client.get(page).content.decode()
        assert "already has another store&#x27;s text on Fri 25 Dec" in html
        assert "North Outfitters" not in html


def pages_of(member) -> list[str]:
    return [reverse("members:detail", args=[member.pk]), reverse("members:texts"),
            reverse("members:conversation", args=[member.pk])]


@pytest.mark.django_db
def test_a_holiday_greeting_after_another_stores_greeting_in_the_period_is_skipped_without_naming_it(client):
    # Christmas from one store, then Boxing Day from the other: two greetings to one customer in two days.
    north = StoreFactory(name="North Outfitters", slug="north", country="GB", timezone="Europe/London")
    south = StoreFactory(name="South Gear", slug="south", country="GB", timezone="Europe/London")
    london = compliance.ZoneInfo("Europe/London")
    make_member(north, phone=UK_PHONE)
    SmsTemplate.objects.create(store=north, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    with time_machine.travel(datetime(2026, 12, 25, 10, 5, tzinfo=london), tick=False):
        assert flows.holiday_care().created == 1  # Christmas Day, from North (South greets no holiday yet)
    shared = make_member(south, phone=UK_PHONE)
    make_member(south, phone="+447700900178")  # another number, greeted by nobody
    SmsTemplate.objects.create(store=south, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    with time_machine.travel(datetime(2026, 12, 26, 10, 5, tzinfo=london), tick=False):  # Boxing Day
        result = flows.holiday_care()
    assert (result.created, result.flow_skipped) == (1, 2)
    assert Message.objects.get(member=shared).skip_reason == (
        "holiday period: the number has another store's greeting for 2026-12-25")
    assert Message.objects.get(store=north, occasion="holiday:2026-12-26").skip_reason == (
        "holiday period: greeted for 2026-12-25")  # its own greeting: said as before
    assert sorted(Message.objects.values_list("occasion", flat=True).distinct()) == [
        "holiday:2026-12-25", "holiday:2026-12-26"]  # the exactly-once keys stay ISO

    user = UserFactory(username="south-only")
    MembershipFactory(store=south, user=user, role="operator")
    for page in pages_of(shared):
        with time_machine.travel(datetime(2026, 12, 28, 12, tzinfo=london), tick=False):
            client.force_login(user)
            html = client.get(page).content.decode()
        assert "the number has another store&#x27;s greeting for Fri 25 Dec" in html
        assert "Holiday · Sat 26 Dec" in html
        assert "North Outfitters" not in html


@pytest.mark.django_db
def test_the_frequency_cap_counts_every_stores_texts_to_the_number(settings):
    settings.SMS_FREQUENCY_CAP, settings.SMS_FREQUENCY_DAYS = 3, 7
    stores = [store_with_campaign(name) for name in ("North", "South", "East", "West")]
    for store, _ in stores:
        make_member(store, phone=PHONE)
    for n, (store, template) in enumerate(stores[:3]):  # three texts on three days from three stores
        with time_machine.travel(la(DAY + timedelta(days=n), 10), tick=False):
            assert flows.start_campaign(store, template).created == 1
    west, west_thanks = stores[3]
    with time_machine.travel(la(DAY + timedelta(days=3), 10), tick=False):
        assert flows.dry_run(west, west_thanks).excluded.get("frequency cap") == 1
        result = flows.start_campaign(west, west_thanks)
    assert (result.created, result.capped) == (0, 1)
    capped = Message.objects.get(store=west)
    assert capped.status == MessageStatus.SKIPPED
    assert capped.skip_reason == "frequency cap: 3 texts in 7 days to this number, other stores' included"


@pytest.mark.django_db
def test_our_answers_to_replies_count_for_neither_rule_across_stores(settings):
    settings.SMS_FREQUENCY_CAP = 1
    (north, _), (south, south_thanks) = store_with_campaign("North"), store_with_campaign("South")
    member = make_member(north, phone=PHONE)
    make_member(south, phone=PHONE)
    Message.objects.create(store=north, member=member, flow="answer", occasion="reply:SM1", body="Thanks, we will",
                           status=MessageStatus.SENT, sent_at=la(DAY, 10), scheduled_for=la(DAY, 10))
    with time_machine.travel(la(DAY, 11), tick=False):
        result = flows.start_campaign(south, south_thanks)
    assert (result.created, result.waiting, result.capped) == (1, 0, 0)


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_two_stores_planning_the_same_numbers_at_the_same_moment_never_text_one_twice_a_day(monkeypatch):
    """Store North's plan is held after it has read which days are taken; South's plan runs meanwhile. South must
    wait for North to commit (then see its texts), not plan the same morning from the same stale view."""
    (north, north_thanks), (south, south_thanks) = store_with_campaign("North"), store_with_campaign("South")
    phones = [f"+1415666{n:04d}" for n in range(20)]
    for phone in phones:
        make_member(north, phone=phone)
        make_member(south, phone=phone)
    read, release = threading.Event(), threading.Event()
    real_texted_days = compliance.texted_days

    def texted_days(store, now):
        days = real_texted_days(store, now)
        if threading.current_thread() is first:
            read.set()
            release.wait(30)
        return days

    monkeypatch.setattr(compliance, "texted_days", texted_days)
    results = {}

    def start(store, template):
        try:
            results[store.name] = flows.start_campaign(store, template, la(DAY, 7))
        finally:
            connection.close()

    first = threading.Thread(target=start, args=(north, north_thanks))
    second = threading.Thread(target=start, args=(south, south_thanks))
    first.start()
    try:
        assert read.wait(30)
        second.start()
        # Let North go on once South has either finished (the race) or is waiting for North's lock.
        deadline = time.monotonic() + 30
        while second.is_alive() and not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        release.set()
        first.join(30)
    second.join(30)
    assert (results["North"].created, results["South"].created, results["South"].waiting) == (20, 20, 20)
    for phone in phones:
        assert queued_days(phone) == [DAY, DAY + timedelta(days=1)]


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite splits a bulk insert of many rows into several (its limit of bound variables)")
@pytest.mark.django_db
def test_planning_costs_the_same_queries_for_five_shared_numbers_as_for_fifty():
    from django.test.utils import CaptureQueriesContext

    def queries_to_plan(count: int, first: int) -> int:
        (north, north_thanks), (south, south_thanks) = (store_with_campaign(f"North {first}"),
                                                        store_with_campaign(f"South {first}"))
        for n in range(first, first + count):
            make_member(north, phone=f"+1415777{n:04d}")
            make_member(south, phone=f"+1415777{n:04d}")
        with time_machine.travel(la(DAY, 10), tick=False):
            flows.start_campaign(north, north_thanks)
            with CaptureQueriesContext(connection) as queries:
                result = flows.start_campaign(south, south_thanks)
        assert (result.created, result.waiting) == (count, count)
        return len(queries)

    assert queries_to_plan(5, 0) == queries_to_plan(50, 100)


@concurrent_transactions
@pytest.mark.django_db(transaction=True)
def test_a_greeting_planned_while_another_stores_greeting_commits_sees_it_in_the_holiday_period(monkeypatch):
    """North's Christmas greeting is being planned (its numbers locked, not committed yet) when South's beat tick
    greets the same number for Boxing Day. South must read the holiday period after North commits, not before
    it waits for the lock: both greetings would go otherwise (they fall on two days, so one a day lets both)."""
    london = compliance.ZoneInfo("Europe/London")
    north = StoreFactory(name="North", slug="north", country="GB", timezone="Europe/London")
    south = StoreFactory(name="South", slug="south", country="GB", timezone="Europe/London")
    christmas = SmsTemplate.objects.create(store=north, name="Holiday", flow="holiday", is_active=False,
                                           body="Happy {holiday}, {first_name}!")
    SmsTemplate.objects.create(store=south, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    north_member = make_member(north, phone=UK_PHONE)
    make_member(south, phone=UK_PHONE)
    north_holds, north_may_commit, south_locks = threading.Event(), threading.Event(), threading.Event()
    real_texted_days, real_lock_numbers = compliance.texted_days, compliance.lock_numbers

    def texted_days(store, now):  # North, inside its locked section: wait until South reaches the locks
        days = real_texted_days(store, now)
        if store == north:
            north_holds.set()
            assert north_may_commit.wait(30)
        return days

    def lock_numbers(phones):
        if threading.current_thread() is south_thread:
            south_locks.set()
        real_lock_numbers(phones)

    monkeypatch.setattr(compliance, "texted_days", texted_days)
    monkeypatch.setattr(compliance, "lock_numbers", lock_numbers)
    results = {}

    def run(name, work):
        try:
            results[name] = work()
        finally:
            connection.close()

    north_thread = threading.Thread(target=run, args=("North", lambda: sending.plan(
        north, "holiday", christmas, [sending.Planned(north_member, "holiday:2026-12-25", {"holiday": "Christmas"})],
        datetime(2026, 12, 25, 20, 50, tzinfo=london))))
    south_thread = threading.Thread(target=run, args=("South", lambda: flows.holiday_care(
        datetime(2026, 12, 26, 0, 5, tzinfo=london))))
    north_thread.start()
    try:
        assert north_holds.wait(30)
        south_thread.start()
        assert south_locks.wait(30)  # South is at the locks North holds: whatever it read before is stale
    finally:
        north_may_commit.set()
        north_thread.join(30)
        south_thread.join(30)
    assert (results["North"].created, results["South"].created, results["South"].flow_skipped) == (1, 0, 1)
    assert Message.objects.get(store=south).skip_reason == (
        "holiday period: the number has another store's greeting for 2026-12-25")


WAITS_ELSEWHERE = "waits: another store&#x27;s text to this number that day"


@pytest.mark.django_db
def test_a_text_waiting_a_day_for_another_stores_text_says_why_without_naming_it(client):
    (north, north_thanks), (south, south_thanks) = (store_with_campaign("North Outfitters"),
                                                    store_with_campaign("South Gear"))
    make_member(north, phone=PHONE)
    waiting = make_member(south, phone=PHONE)
    with time_machine.travel(la(DAY, 7, 0), tick=False):
        flows.start_campaign(north, north_thanks)
        assert flows.start_campaign(south, south_thanks).waiting == 1

    user = UserFactory(username="south-only")
    MembershipFactory(store=south, user=user, role="operator")
    for page in pages_of(waiting):
        with time_machine.travel(la(DAY, 8, 0), tick=False):
            client.force_login(user)
            html = client.get(page).content.decode()
        assert WAITS_ELSEWHERE in html, page
        assert "North Outfitters" not in html


@pytest.mark.django_db
def test_a_text_a_holiday_greeting_moves_to_the_next_day_says_why(client):
    # North's campaign is queued for 09:00 on Christmas morning; South's Christmas greeting takes that day.
    (north, north_thanks), (south, _) = store_with_campaign("North Outfitters"), store_with_campaign("South Gear")
    moved = make_member(north, phone=PHONE)
    make_member(south, phone=PHONE)
    SmsTemplate.objects.create(store=south, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    christmas = date(2026, 12, 25)
    with time_machine.travel(la(christmas, 7, 0), tick=False):
        flows.start_campaign(north, north_thanks)
        assert flows.holiday_care().created == 1
    assert Message.objects.get(store=north).scheduled_for == la(christmas + timedelta(days=1), 9)

    user = UserFactory(username="north-only")
    MembershipFactory(store=north, user=user, role="operator")
    with time_machine.travel(la(christmas, 8, 0), tick=False):
        client.force_login(user)
        html = client.get(reverse("members:detail", args=[moved.pk])).content.decode()
    assert WAITS_ELSEWHERE in html
    assert "South Gear" not in html


@pytest.mark.django_db
def test_the_campaign_dry_run_counts_the_texts_that_would_wait_a_day_and_why(client):
    (north, north_thanks), (south, south_thanks) = (store_with_campaign("North Outfitters"),
                                                    store_with_campaign("South Gear"))
    make_member(north, phone=PHONE)
    make_member(south, phone=PHONE)  # North texts this number today
    make_member(south, phone="+14155550178")  # South's own first campaign texts it today
    spring = SmsTemplate.objects.create(store=south, name="Spring", flow="campaign", body="Spring sale at {store}!")
    with time_machine.travel(la(DAY, 7, 0), tick=False):
        flows.start_campaign(north, north_thanks)
        flows.start_campaign(south, south_thanks)
        make_member(south, phone="+14155550180")  # joined since: nothing today
        run = flows.dry_run(south, spring)
        user = UserFactory(username="south-manager")
        MembershipFactory(store=south, user=user, role="manager")
        client.force_login(user)
        html = client.get(reverse("members:campaign", args=[spring.pk])).content.decode()
        started = flows.start_campaign(south, spring)
    assert run.audience == 3
    assert run.waiting == {"waits: another store's text to this number that day": 1,
                           "waits: another text to this number that day": 1}
    assert started.waiting == run.waiting_total == 2
    assert 'data-testid="waiting">2<' in html
    assert WAITS_ELSEWHERE in html
    assert "North Outfitters" not in html
