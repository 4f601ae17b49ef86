"""One incident, one entry: anomalies of a store-day with the same cause are grouped under their lead."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from metrics import incidents
from metrics.anomaly import detect_anomalies, detect_many
from metrics.desk import open_items
from metrics.email import send_due_morning_emails
from metrics.models import ActionItem, Anomaly, DailyMetric
from metrics.templatetags.daily import keep_pct
from tests.factories import MembershipFactory, UserFactory
from tests.metrics.test_anomaly import seed_breakdowns, seed_daily

DAY = date(2026, 5, 6)  # a Wednesday

pytestmark = pytest.mark.django_db


def leads(store):
    return list(Anomaly.objects.filter(store=store, day=DAY, part_of__isnull=True))


@pytest.fixture
def source_stop(store_a):
    """Paid search collapses on DAY: GMV, paid orders and the source's own GMV and orders are flagged."""
    seed_daily(store_a, DAY, 90, drop_source="paid_search")
    found = detect_anomalies(store_a, DAY)
    assert len(found) >= 3
    return {(a.metric, a.dimension_value): a for a in found}


def test_a_source_that_stops_is_one_incident_led_by_gmv(store_a, source_stop):
    [lead] = leads(store_a)
    assert (lead.metric, lead.dimension) == ("gmv", "")
    assert {(a.metric, a.dimension_value) for a in lead.related.all()} == set(source_stop) - {("gmv", "")}


def test_a_payment_outage_and_a_product_that_stops_the_same_day_are_two_incidents(store_a, teas):
    seed_breakdowns(store_a, DAY, 90, {teas[0].pk: 0.6, teas[1].pk: 0.4}, stop_payment="credit_card",
                    stop_product=teas[0].pk)
    detect_anomalies(store_a, DAY)
    grouped = {(a.metric, a.dimension): {(r.dimension, r.dimension_value) for r in a.related.all()}
               for a in leads(store_a)}
    assert grouped == {("orders", ""): {("payment_type", "credit_card")},
                       ("sub_payments", ""): {("product", str(teas[0].pk))}}


def test_detecting_again_keeps_the_incidents_as_they_are(store_a, source_stop):
    before = set(Anomaly.objects.values_list("pk", "part_of", "status"))
    detect_anomalies(store_a, DAY)
    assert set(Anomaly.objects.values_list("pk", "part_of", "status")) == before


def test_the_anomaly_list_shows_one_row_per_incident_with_its_related_ones_folded(client_a, store_a, source_stop):
    page = client_a.get(reverse("metrics:anomalies")).content.decode()
    lead = source_stop[("gmv", "")]
    assert page.count('data-label="Metric"') == 1
    assert f"{len(source_stop) - 1} related anomalies, same cause" in page
    for a in source_stop.values():
        assert reverse("metrics:anomaly", args=[a.pk]) in page
    assert page.index(reverse("metrics:anomaly", args=[lead.pk])) < page.index("related anomalies")


def test_resolving_the_lead_resolves_its_incident(client_a, store_a, source_stop):
    lead = source_stop[("gmv", "")]
    assert open_items(store_a, None)[0].count == 1  # the desk counts incidents, not nine lines
    client_a.post(reverse("metrics:anomaly", args=[lead.pk]), {"status": "resolved", "plan": "Ads resumed."})
    assert set(Anomaly.objects.filter(store=store_a).values_list("status", flat=True)) == {"resolved"}
    assert open_items(store_a, None)[0].count == 0
    assert "No anomalies." in client_a.get(reverse("metrics:anomalies")).content.decode()


def test_a_related_anomalys_page_points_to_its_lead_and_has_no_second_plan(client_a, operator_a, source_stop):
    lead, part = source_stop[("gmv", "")], source_stop[("gmv", "paid_search")]
    client_a.post(reverse("metrics:anomaly", args=[lead.pk]), {"status": "acknowledged", "owner": operator_a.pk})
    page = client_a.get(reverse("metrics:anomaly", args=[part.pk])).content.decode()
    assert "Part of an incident" in page and reverse("metrics:anomaly", args=[lead.pk]) in page
    assert f"kept there: acknowledged, owner {operator_a.username}." in page
    assert 'name="plan"' not in page
    lead_page = client_a.get(reverse("metrics:anomaly", args=[lead.pk])).content.decode()
    assert "Related anomalies, same cause" in lead_page and keep_pct(part.explanation) in lead_page
    assert 'name="plan"' in lead_page


def test_the_morning_email_counts_incidents_and_names_what_moved_with_each(store_a, source_stop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MembershipFactory(store=store_a, user=UserFactory(email="boss@example.com"), role="manager",
                      email_timezone="Europe/London")
    with time_machine.travel(datetime(2026, 5, 7, 8, 30, tzinfo=ZoneInfo("Europe/London")), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert "Wed 6 May: 1 open anomaly · " in message.subject
    part = source_stop[("gmv", "paid_search")]
    for body in (message.body, message.alternatives[0][0]):
        assert source_stop[("gmv", "")].explanation in body.replace("&#x27;", "'")
        assert "Moved with it: " in body and "Paid search / through train" in body
        # The anomaly's own numbers, so its "−29 % vs usual Wednesday" and the table's "vs Tue" both add up.
        lead = source_stop[("gmv", "")]
        assert re.search(rf"GMV \(main payments\): {float(lead.value):,.2f}(&nbsp;|\u00a0)CNY, "
                         rf"usually {float(lead.baseline):,.2f}(&nbsp;|\u00a0)CNY on a Wednesday", body)
        assert part.explanation not in body  # its words are on the lead's page, not repeated here


def test_a_plan_posted_to_a_related_anomaly_changes_nothing_and_leads_to_the_lead(client_a, source_stop):
    lead, part = source_stop[("gmv", "")], source_stop[("gmv", "paid_search")]
    response = client_a.post(reverse("metrics:anomaly", args=[part.pk]),
                             {"status": "plan", "plan": "A second plan", "add_item": "1", "item-text": "Stray"})
    assert response.status_code == 302 and response["Location"] == reverse("metrics:anomaly", args=[lead.pk])
    part.refresh_from_db()
    assert (part.status, part.plan, part.action_items.count()) == ("new", "", 0)


def test_an_anomaly_with_its_own_plan_stays_its_own_entry(store_a, source_stop):
    part = source_stop[("gmv", "paid_search")]
    Anomaly.objects.filter(pk=part.pk).update(part_of=None, plan="Call the agency about the plan.")
    ActionItem.objects.create(anomaly=part, text="Call")
    detect_anomalies(store_a, DAY)
    part.refresh_from_db()
    assert part.part_of is None and part.plan == "Call the agency about the plan."


def test_a_related_anomaly_that_splits_off_starts_as_new_not_with_its_old_leads_plan(client_a, store_a, source_stop):
    lead, orders = source_stop[("gmv", "")], source_stop[("orders", "")]
    client_a.post(reverse("metrics:anomaly", args=[lead.pk]), {"status": "plan", "plan": "Resume the paused plan."})
    orders.refresh_from_db()
    assert (orders.part_of_id, orders.status) == (lead.pk, "plan")  # follows its lead
    # A late order export: paid search sold as usual that day after all; it was direct that stopped.
    cells = DailyMetric.objects.filter(store=store_a, day=DAY, metric="orders", dimension="traffic_source")
    cells.filter(dimension_value="paid_search").update(value=70)
    cells.filter(dimension_value="direct").update(value=0)
    detect_anomalies(store_a, DAY)
    orders.refresh_from_db()
    assert orders.part_of_id is None and orders.plan == ""  # its own incident now, led by it
    assert orders.status == "new"  # nobody planned anything for it: not "Plan in place"
    assert set(orders.related.values_list("status", flat=True)) <= {"new"}
    page = client_a.get(reverse("metrics:anomalies") + "?status=plan").content.decode()
    assert page.count('data-label="Metric"') == 1 and reverse("metrics:anomaly", args=[lead.pk]) in page


def test_day_two_of_an_outage_points_to_the_incident_already_being_handled(client_a, store_a, source_stop, settings):
    today = source_stop[("gmv", "")]  # paid search stopped on DAY…
    common = dict(store=store_a, band_low=1, band_high=3, score=-6, direction="down")
    # …and the day before, when somebody already planned the response.
    earlier = Anomaly.objects.create(
        day=DAY - timedelta(days=1), metric="gmv", value=6000, baseline=9500, change=-0.37,
        explanation="GMV −37 % vs usual Tuesday.", root_cause={"top_dimension": "traffic_source",
                                                                "top_value": "paid_search"},
        status="plan", plan="Resume the paused plan.", **common)
    unrelated = Anomaly.objects.create(day=DAY, metric="refunds", value=900, baseline=100, change=8,
                                       explanation="Refunds +800 % vs usual Wednesday.", **common)
    page = client_a.get(reverse("metrics:anomaly", args=[today.pk])).content.decode()
    assert "Continues an open incident" in page and reverse("metrics:anomaly", args=[earlier.pk]) in page
    assert "plan in place" in page and "Resume the paused plan." in page
    assert "Continues" not in client_a.get(reverse("metrics:anomaly", args=[unrelated.pk])).content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MembershipFactory(store=store_a, user=UserFactory(email="boss@example.com"), role="manager",
                      email_timezone="Europe/London")
    with time_machine.travel(datetime(2026, 5, 7, 8, 30, tzinfo=ZoneInfo("Europe/London")), tick=False):
        assert send_due_morning_emails() == 1
    body = mail.outbox[0].body
    assert "Continues the open incident of Tue 5 May (plan in place: Resume the paused plan.)" in body
    assert body.count("Continues the open incident") == 1  # not the refunds

    Anomaly.objects.filter(pk=earlier.pk).update(status="resolved")  # handled and closed: today's is news again
    assert "Continues" not in client_a.get(reverse("metrics:anomaly", args=[today.pk])).content.decode()


# --- the rule itself, on plain objects ---------------------------------------------------------------------

def anomaly(pk, metric, dimension="", value="", top=None, score=-5.0, status="new", plan="", part_of=None,
            numbers=None):
    """`numbers` (that day, usually): a breakdown's default is a tenth of an overall metric's."""
    cause = {"top_dimension": top[0], "top_value": top[1]} if top else {}
    day_value, baseline = (Decimal(n) for n in numbers or ((10, 20) if dimension else (100, 200)))
    return SimpleNamespace(pk=pk, store_id=1, day=DAY, metric=metric, dimension=dimension, dimension_value=value,
                           value=day_value, baseline=baseline, score=score, direction="down" if score < 0 else "up",
                           root_cause=cause, status=status, plan=plan, part_of_id=part_of)


def test_gmv_leads_before_a_more_abnormal_breakdown_and_other_overall_metrics():
    paid = ("traffic_source", "paid_search")
    group = [anomaly(1, "sessions", "traffic_source", "paid_search", score=-20), anomaly(2, "orders", top=paid),
             anomaly(3, "gmv", top=paid, score=-3), anomaly(4, "units", "product", "7")]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [3, 3, None, None]


def test_a_lead_somebody_works_on_keeps_leading_when_gmv_joins_later():
    paid = ("traffic_source", "paid_search")
    group = [anomaly(1, "orders", top=paid, status="acknowledged"), anomaly(2, "gmv", top=paid)]
    changed = incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, 1] and group[1].status == "acknowledged"
    assert changed == [group[1]]
    assert incidents.group(group, {}) == []  # grouping is stable


def test_sub_order_payments_falling_with_gmv_are_the_same_news_whatever_their_causes_name():
    group = [anomaly(1, "gmv", top=("traffic_source", "paid_search"), score=-3.6),
             anomaly(2, "sub_payments", top=("product", "7"), score=-3.6)]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, 1]


def test_sub_order_payments_moving_against_gmv_are_their_own_news():
    group = [anomaly(1, "gmv", top=("traffic_source", "paid_search"), score=-4),
             anomaly(2, "sub_payments", top=("product", "7"), score=3.8)]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, None]


def test_a_payment_type_that_is_all_of_the_orders_moves_with_them_and_is_not_news_of_its_own():
    """Black Friday in a store whose every order is paid one way: 31 orders, usually 7, by that way too."""
    group = [anomaly(1, "orders", score=4.2, numbers=(31, 7)),
             anomaly(2, "orders", "payment_type", "other", score=4.2, numbers=(31, 7))]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, 1]


@pytest.mark.parametrize("numbers", [(31, 5), (25, 7), (0, 7)])
def test_a_payment_type_that_is_only_part_of_the_orders_day_or_usually_is_its_own_news(numbers):
    group = [anomaly(1, "orders", score=4.2, numbers=(31, 7)),
             anomaly(2, "orders", "payment_type", "boleto", score=4.2, numbers=numbers)]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, None]


def test_overall_anomalies_without_a_named_cause_stay_apart():
    group = [anomaly(1, "gmv"), anomaly(2, "refunds")]
    incidents.group(group, {})
    assert [a.part_of_id for a in group] == [None, None]


# --- one incident over several days --------------------------------------------------------------------------

def seed_outage(store, first: date, days: int):
    """Paid search collapses on `first` and stays down `days` days: the source's GMV and orders a tenth."""
    seed_daily(store, first + timedelta(days=days - 1), 90 + days - 1)
    for k in range(days):
        day = first + timedelta(days=k)
        for metric in ("gmv", "orders"):
            part = DailyMetric.objects.get(store=store, day=day, metric=metric, dimension_value="paid_search")
            total = DailyMetric.objects.get(store=store, day=day, metric=metric, dimension="")
            lost = part.value - (part.value / 10).quantize(part.value if metric == "orders" else Decimal("0.01"))
            part.value -= lost
            total.value -= lost
            part.save()
            total.save()


def gmv_lead(store, day):
    return Anomaly.objects.get(store=store, day=day, metric="gmv", dimension="", part_of__isnull=True)


@pytest.fixture
def outage(store_a):
    """Paid search down Wed 6, Thu 7 and Fri 8 May, judged night by night."""
    seed_outage(store_a, DAY, 3)
    for k in range(3):
        detect_anomalies(store_a, DAY + timedelta(days=k))
    return [gmv_lead(store_a, DAY + timedelta(days=k)) for k in range(3)]


def test_a_source_down_three_days_is_one_incident_on_its_third_day(outage):
    first, second, third = outage
    assert (first.continues_id, second.continues_id, third.continues_id) == (None, first.pk, second.pk)
    assert (third.run_since, third.run_day) == (DAY, 3)


def test_acknowledging_the_first_day_carries_over_to_the_days_it_continues(client_a, store_a):
    seed_outage(store_a, DAY, 3)
    detect_anomalies(store_a, DAY)
    client_a.post(reverse("metrics:anomaly", args=[gmv_lead(store_a, DAY).pk]), {"status": "acknowledged"})
    detect_anomalies(store_a, DAY + timedelta(days=1))
    second = gmv_lead(store_a, DAY + timedelta(days=1))
    assert second.status == "acknowledged"
    assert set(second.related.values_list("status", flat=True)) == {"acknowledged"}
    assert open_items(store_a, None)[0].count == 0  # nothing new on the desk: it is the same incident


def test_nights_judged_together_carry_the_status_to_every_day(client_a, store_a):
    """Catch-up nights and a backfill judge several days of a store in one batch."""
    seed_outage(store_a, DAY, 3)
    detect_anomalies(store_a, DAY)
    client_a.post(reverse("metrics:anomaly", args=[gmv_lead(store_a, DAY).pk]), {"status": "acknowledged"})
    detect_many([(store_a, DAY + timedelta(days=2)), (store_a, DAY + timedelta(days=1))])
    second, third = (gmv_lead(store_a, DAY + timedelta(days=k)) for k in (1, 2))
    assert (second.status, third.status) == ("acknowledged", "acknowledged")
    assert third.continues_id == second.pk and third.run_day == 3


def test_resolving_the_incident_on_its_last_day_resolves_every_day_of_it(client_a, store_a, outage):
    client_a.post(reverse("metrics:anomaly", args=[outage[-1].pk]), {"status": "resolved", "plan": "Ads resumed."})
    assert set(Anomaly.objects.filter(store=store_a).values_list("status", flat=True)) == {"resolved"}


def test_a_resolved_incident_that_comes_back_the_next_day_is_a_new_one(client_a, store_a):
    seed_outage(store_a, DAY, 2)
    detect_anomalies(store_a, DAY)
    first = gmv_lead(store_a, DAY)
    client_a.post(reverse("metrics:anomaly", args=[first.pk]), {"status": "resolved", "plan": "Ads resumed."})
    detect_anomalies(store_a, DAY + timedelta(days=1))
    second = gmv_lead(store_a, DAY + timedelta(days=1))
    assert (second.continues_id, second.status, second.run_day) == (None, "new", 1)


def test_judging_the_nights_again_gives_the_same_incidents(client_a, store_a, outage):
    client_a.post(reverse("metrics:anomaly", args=[outage[0].pk]), {"status": "acknowledged"})
    before = set(Anomaly.objects.values_list("pk", "part_of", "continues", "status"))
    for k in (1, 2, 0, 2):
        detect_anomalies(store_a, DAY + timedelta(days=k))
    assert set(Anomaly.objects.values_list("pk", "part_of", "continues", "status")) == before
    # Resolved since: the days already linked stay one incident when judged again.
    client_a.post(reverse("metrics:anomaly", args=[outage[-1].pk]), {"status": "resolved", "plan": "Ads resumed."})
    before = set(Anomaly.objects.values_list("pk", "part_of", "continues", "status"))
    for k in (2, 1):
        detect_anomalies(store_a, DAY + timedelta(days=k))
    assert set(Anomaly.objects.values_list("pk", "part_of", "continues", "status")) == before


def test_the_anomaly_pages_say_since_when_the_incident_runs(client_a, outage):
    page = client_a.get(reverse("metrics:anomaly", args=[outage[-1].pk])).content.decode()
    assert "since Wed 6 May, 3rd day" in page
    listing = client_a.get(reverse("metrics:anomalies")).content.decode()
    assert "since Wed 6 May, 3rd day" in listing
    assert "since Wed 6 May, 2nd day" not in listing  # one row for the incident, on its latest day
    day_two = client_a.get(reverse("metrics:anomalies") + "?day=2026-05-07&status=all").content.decode()
    assert "since Wed 6 May, 2nd day" in day_two


def test_the_morning_email_says_which_day_of_the_incident_it_is(store_a, outage, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MembershipFactory(store=store_a, user=UserFactory(email="boss@example.com"), role="manager",
                      email_timezone="Europe/London")
    with time_machine.travel(datetime(2026, 5, 9, 8, 30, tzinfo=ZoneInfo("Europe/London")), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert "Fri 8 May: 1 open anomaly, 3rd day · GMV" in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert "GMV (main payments) since Wed 6 May, 3rd day" in body


# --- one incident over several days, whichever metric leads each day ------------------------------------------

NIGHT = datetime(2026, 5, 8, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Thu 7 May rolled up, before the email


def cut_source(store, day: date, metrics=("gmv", "orders"), source="paid_search"):
    """`source` brings a tenth of its usual on `day`, and the day's totals lose the rest."""
    for metric in metrics:
        part = DailyMetric.objects.get(store=store, day=day, metric=metric, dimension_value=source)
        total = DailyMetric.objects.get(store=store, day=day, metric=metric, dimension="")
        lost = part.value - (part.value / 10).quantize(Decimal("0.01") if metric == "gmv" else part.value)
        part.value -= lost
        total.value -= lost
        part.save()
        total.save()


def seed_visitors(store, end: date, days: int):
    """Visitors overall and by source, ~2,000 a day with the weekly rhythm of `seed_daily`'s GMV."""
    from tests.metrics.test_anomaly import WEEKDAY

    rng = np.random.default_rng(7)
    shares = {"organic_search": 0.4, "paid_search": 0.35, "direct": 0.25}
    rows = []
    for k in range(days):
        day = end - timedelta(days=days - 1 - k)
        parts = {s: round(2000 * w * WEEKDAY[day.weekday()] * rng.lognormal(0, 0.03)) for s, w in shares.items()}
        rows.append(DailyMetric(store=store, day=day, metric="visitors", value=sum(parts.values())))
        rows += [DailyMetric(store=store, day=day, metric="visitors", dimension="traffic_source", dimension_value=s,
                             value=n) for s, n in parts.items()]
    DailyMetric.objects.bulk_create(rows)


def lead_of(store, day):
    return Anomaly.objects.get(store=store, day=day, part_of__isnull=True)


@pytest.fixture
def frozen():
    with time_machine.travel(NIGHT, tick=False):
        yield


def seed_gmv_then_visitors(store, day_two_source="paid_search"):
    """Paid search's plan pauses on Wed 6 May (GMV and visitors down); on Thu 7 May other sources make up the
    sales but `day_two_source`'s visitors are still a tenth: the day's lead is visitors, not GMV."""
    seed_daily(store, DAY + timedelta(days=1), 91)
    seed_visitors(store, DAY + timedelta(days=1), 91)
    cut_source(store, DAY, ("gmv", "orders", "visitors"))
    cut_source(store, DAY + timedelta(days=1), ("visitors",), day_two_source)


@pytest.fixture
def gmv_then_visitors(store_a, client_a, frozen):
    seed_gmv_then_visitors(store_a)
    detect_anomalies(store_a, DAY)
    first = lead_of(store_a, DAY)
    client_a.post(reverse("metrics:anomaly", args=[first.pk]), {"status": "acknowledged"})
    detect_anomalies(store_a, DAY + timedelta(days=1))
    return first, lead_of(store_a, DAY + timedelta(days=1))


def test_an_outage_led_by_gmv_then_by_visitors_with_the_same_cause_is_one_incident(store_a, gmv_then_visitors):
    first, second = gmv_then_visitors
    assert (first.metric, second.metric, second.dimension) == ("gmv", "visitors", "")
    assert incidents.driver(first) == incidents.driver(second) == ("traffic_source", "paid_search")
    assert second.continues_id == first.pk and second.run_day == 2
    assert second.status == "acknowledged"  # one status: acknowledged once is acknowledged the next morning
    assert set(second.related.values_list("status", flat=True)) == {"acknowledged"}
    assert open_items(store_a, None)[0].count == 0


def test_the_anomaly_page_and_the_morning_email_say_2nd_day(store_a, client_a, gmv_then_visitors, settings):
    second = gmv_then_visitors[1]
    assert "since Wed 6 May, 2nd day" in client_a.get(reverse("metrics:anomaly", args=[second.pk])).content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MembershipFactory(store=store_a, user=UserFactory(email="boss@example.com"), role="manager",
                      email_timezone="Europe/London")
    with time_machine.travel(datetime(2026, 5, 8, 8, 30, tzinfo=ZoneInfo("Europe/London")), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert "Thu 7 May: 1 open anomaly, 2nd day · " in message.subject
    assert "since Wed 6 May, 2nd day" in message.body


def test_a_next_day_lead_with_another_cause_is_its_own_incident(store_a, frozen):
    seed_gmv_then_visitors(store_a, day_two_source="organic_search")
    detect_anomalies(store_a, DAY)
    detect_anomalies(store_a, DAY + timedelta(days=1))
    second = lead_of(store_a, DAY + timedelta(days=1))
    assert incidents.driver(second) == ("traffic_source", "organic_search")
    assert (second.continues_id, second.run_day) == (None, 1)


def test_a_resolved_incident_is_not_continued_by_the_next_days_lead_of_the_same_cause(store_a, client_a, frozen):
    seed_gmv_then_visitors(store_a)
    detect_anomalies(store_a, DAY)
    client_a.post(reverse("metrics:anomaly", args=[lead_of(store_a, DAY).pk]),
                  {"status": "resolved", "plan": "Ads resumed."})
    detect_anomalies(store_a, DAY + timedelta(days=1))
    second = lead_of(store_a, DAY + timedelta(days=1))
    assert (second.continues_id, second.status, second.run_day) == (None, "new", 1)


def test_late_data_that_flags_the_day_before_links_the_day_already_judged(store_a, client_a, frozen):
    seed_daily(store_a, DAY + timedelta(days=1), 91)
    cut_source(store_a, DAY + timedelta(days=1))
    assert detect_anomalies(store_a, DAY) == []  # Wednesday looked ordinary that night…
    detect_anomalies(store_a, DAY + timedelta(days=1))
    second = gmv_lead(store_a, DAY + timedelta(days=1))
    assert second.continues_id is None
    thursday = Anomaly.objects.filter(day=DAY + timedelta(days=1))
    judged = set(thursday.values_list("pk", "explanation", "score", "change_dod", "updated_at"))
    # …until Wednesday's order export, imported late, shows paid search already stopped then.
    cut_source(store_a, DAY)
    detect_anomalies(store_a, DAY)
    first = gmv_lead(store_a, DAY)
    second.refresh_from_db()
    assert second.continues_id == first.pk and second.run_note == "since Wed 6 May, 2nd day"
    assert set(thursday.values_list("pk", "explanation", "score", "change_dod", "updated_at")) == judged
    listing = client_a.get(reverse("metrics:anomalies")).content.decode()
    assert "since Wed 6 May, 2nd day" in listing and listing.count('data-label="Metric"') == 1


def test_judging_the_late_day_again_changes_nothing_more(store_a, frozen):
    seed_daily(store_a, DAY + timedelta(days=1), 91)
    cut_source(store_a, DAY + timedelta(days=1))
    detect_anomalies(store_a, DAY + timedelta(days=1))
    cut_source(store_a, DAY)
    detect_anomalies(store_a, DAY)
    before = set(Anomaly.objects.values_list("pk", "part_of", "continues", "status"))
    assert gmv_lead(store_a, DAY + timedelta(days=1)).continues_id == gmv_lead(store_a, DAY).pk
    detect_anomalies(store_a, DAY)
    assert set(Anomaly.objects.values_list("pk", "part_of", "continues", "status")) == before


def test_a_day_before_is_continued_once_the_same_series_first_and_never_against_its_direction():
    paid = ("traffic_source", "paid_search")
    before = [anomaly(1, "gmv", top=paid)]
    for a in before:
        a.day = DAY - timedelta(days=1)
    today = [anomaly(2, "visitors", top=paid), anomaly(3, "gmv", top=paid, score=-3),
             anomaly(4, "orders", top=paid, score=4)]
    for a in today:
        a.continues_id = None
    incidents.link_days(today, before)
    assert [a.continues_id for a in today] == [None, 1, None]
