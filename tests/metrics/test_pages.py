"""Anomaly pages: overview, list, detail with plan and action items, all scoped to the user's stores."""

import base64
import html
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.urls import reverse

from metrics.figures import brief
from metrics.models import ActionItem, Anomaly, DailyMetric
from metrics.rollup import rollup_day
from opsdesk.desk import open_items
from tests.factories import MembershipFactory, OrderFactory
from tests.metrics.conftest import holiday_and_sale_before_friday_8_may

pytestmark = pytest.mark.django_db


def make_anomaly(store, **kw):
    fields = dict(store=store, day=date(2026, 5, 4), metric="gmv", value=Decimal("60"), baseline=Decimal("100"),
                  band_low=Decimal("80"), band_high=Decimal("120"), change=-0.4, score=-6.0, direction="down",
                  explanation="GMV −40 % vs usual Monday: paid-search GMV −90 %.")
    fields.update(kw)
    return Anomaly.objects.create(**fields)


def test_other_stores_anomaly_is_a_404_everywhere(client_a, store_a, store_b):
    theirs = make_anomaly(store_b)
    assert client_a.get(reverse("metrics:anomaly", args=[theirs.pk])).status_code == 404
    item = ActionItem.objects.create(anomaly=theirs, text="x")
    assert client_a.post(reverse("metrics:anomaly", args=[theirs.pk]), {"toggle_item": item.pk}).status_code == 404
    mine = make_anomaly(store_a, explanation="Paid orders −40 %.")
    assert client_a.post(reverse("metrics:anomaly", args=[mine.pk]), {"toggle_item": "x"}).status_code == 404
    assert client_a.post(reverse("metrics:anomaly", args=[mine.pk]), {"toggle_item": "1:maybe"}).status_code == 404
    assert client_a.get(reverse("metrics:anomalies") + "?store=store-b").status_code == 404
    assert "paid-search" not in client_a.get(reverse("metrics:anomalies")).content.decode()


def test_list_shows_my_open_anomalies(client_a, store_a):
    make_anomaly(store_a)
    make_anomaly(store_a, metric="orders", status="resolved", plan="done")
    bogus = client_a.get(reverse("metrics:anomalies") + "?status=bogus").content.decode()
    assert ">Paid orders<" not in bogus  # an unknown filter is the default one, as the menu then shows
    page = client_a.get(reverse("metrics:anomalies")).content.decode()
    assert "paid-search GMV −90\u00a0%" in page
    assert ">Paid orders<" not in page


DEMO_WHY = ("GMV −28 % vs usual Saturday: paid-search GMV −100 % (sessions −100 %, ad spend 631.79 CNY, usually "
            "5,513.53 CNY). Metric tree: visitors −36 %, conversion +1 %, AOV +8 % — visitors moved most.")


def test_the_lists_why_is_cut_at_a_sentence_never_inside_a_figure_and_opens_in_full(client_a, store_a):
    # The demo's list cut it at 140 characters: "… Metric tree: visitors −36…", a figure the day never had.
    make_anomaly(store_a, explanation=DEMO_WHY)
    page = client_a.get(reverse("metrics:anomalies")).content.decode()
    cell = re.search(r'<td data-label="Why" class="why">(.*?)</td>', page, re.S)[1]
    cell = html.unescape(cell).replace("\u00a0", " ")
    assert "−36…" not in cell
    shown = re.search(r'<span class="cut">(.*?)</span>', cell)[1]
    assert shown == DEMO_WHY[:DEMO_WHY.index(" Metric tree")] + " …"
    assert f"<summary title=\"{DEMO_WHY}\">" in cell and f"</summary>{DEMO_WHY}</details>" in cell  # a click away


def test_a_cut_text_never_parts_a_figure_from_its_unit():
    text = "Paid-search GMV fell to 631.79 CNY against 5,513.53 CNY on a usual day while its sessions fell −98 % today"
    for limit in range(12, len(text)):
        cut = brief(text, limit)
        kept = cut.removesuffix("…").rstrip()
        assert len(cut) <= limit and text.startswith(kept), cut
        assert not re.match(r" (%|CNY)", text[len(kept):]), cut  # "fell to 631.79…" would quote no money at all


def test_money_on_the_anomaly_pages_says_its_stores_currency(client_a, operator_a, store_a, store_b):
    # One operator of a CNY store and a USD store: the list mixes them in one column.
    MembershipFactory(store=store_b, user=operator_a)
    cny = make_anomaly(store_a, value=Decimal("25978.89"), baseline=Decimal("44780.13"))
    make_anomaly(store_b, value=Decimal("289.26"), baseline=Decimal("1976.27"))
    make_anomaly(store_b, metric="orders", value=Decimal("56"), baseline=Decimal("93"))
    page = client_a.get(reverse("metrics:anomalies")).content.decode()
    for shown in ("25,978.89\u00a0CNY", "44,780.13\u00a0CNY", "289.26\u00a0USD", "1,976.27\u00a0USD"):
        assert shown in page
    assert ">56<" in page and ">93<" in page  # a count has no currency
    detail = client_a.get(reverse("metrics:anomaly", args=[cny.pk])).content.decode()
    assert "25,978.89\u00a0CNY" in detail and "44,780.13\u00a0CNY" in detail


def test_list_puts_the_days_headline_first_then_what_explains_it_in_an_operators_words(client_a, store_a):
    make_anomaly(store_a, metric="orders", score=-3.1, value=Decimal("56"), baseline=Decimal("93"))
    make_anomaly(store_a, dimension="traffic_source", dimension_value="paid_search", score=-7.8,
                 value=Decimal("1853.01"), baseline=Decimal("14622.74"))
    make_anomaly(store_a, metric="refunds", score=4.2)
    make_anomaly(store_a, score=-2.9)  # GMV, flagged because the paid-search drop drove it
    make_anomaly(store_a, metric="aov", score=9.0, day=date(2026, 5, 3))  # an older day comes after
    page = client_a.get(reverse("metrics:anomalies")).content.decode()
    # GMV, the day's other overall metrics (most abnormal first), then the sources that explain them.
    order = [page.index(f">{title}<") for title in (
        "GMV (main payments)", "Refunds", "Paid orders", "GMV (main payments) · Paid search / through train",
        "Average order value")]
    assert order == sorted(order)
    assert "14,622.74" in page and ">56<" in page  # money with separators, counts whole


def test_product_anomalies_are_listed_by_product_name_in_a_fixed_number_of_queries(
        client_a, store_a, django_assert_max_num_queries):
    from tests.factories import ProductFactory

    def listed(n: int) -> str:
        for k in range(n):
            product = ProductFactory(store=store_a, title=f"Tea no. {k}")
            make_anomaly(store_a, metric="sub_payments", dimension="product", dimension_value=str(product.pk),
                         day=date(2026, 5, 4) - timedelta(days=k))
        with django_assert_max_num_queries(12):
            return client_a.get(reverse("metrics:anomalies")).content.decode()

    assert "Sub-order payments (lines) · Tea no. 0" in listed(1)
    page = listed(20)  # 21 product anomalies: still one title lookup
    assert "Sub-order payments (lines) · Tea no. 19" in page


def test_an_anomalys_page_names_its_day_as_every_page_does(client_a, store_a):
    this_year, last_year = make_anomaly(store_a), make_anomaly(store_a, day=date(2025, 12, 29))
    with time_machine.travel(datetime(2026, 5, 5, 9, tzinfo=store_a.zone), tick=False):
        page = client_a.get(reverse("metrics:anomaly", args=[this_year.pk])).content.decode()
        assert "<h1>GMV (main payments) on Mon 4 May</h1>" in page  # not "Monday 4 May 2026"
        page = client_a.get(reverse("metrics:anomaly", args=[last_year.pk])).content.decode()
        assert "<h1>GMV (main payments) on Mon 29 Dec 2025</h1>" in page


def test_status_needs_a_plan_then_moves_and_action_items_get_owner_and_due_date(client_a, store_a, operator_a):
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    assert client_a.get(url).status_code == 200
    response = client_a.post(url, {"status": "plan", "plan": "", "owner": ""})
    assert "Write the response plan" in response.content.decode()
    # The refused status is not shown as the anomaly's own.
    assert 'status <span class="badge">New</span>' in response.content.decode()
    client_a.post(url, {"status": "plan", "plan": "Resume the paused through-train plan.", "owner": operator_a.pk})
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.owner) == ("plan", operator_a)
    due = store_a.today() + timedelta(days=2)
    client_a.post(url, {"add_item": "1", "item-text": "Check ad budget", "item-owner": operator_a.pk,
                        "item-due_date": due.isoformat()})
    item = anomaly.action_items.get()
    assert (item.owner, item.due_date) == (operator_a, due)
    client_a.post(url, {"toggle_item": item.pk})
    item.refresh_from_db()
    assert item.done


def test_a_refused_save_says_so_at_the_top_of_the_page(client_a, store_a):
    # The form sits under the chart and the related anomalies: its error alone was out of sight of a reader who
    # clicked "Save" and got the page back from its top (seen in the demo).
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    page = client_a.post(url, {"status": "resolved", "plan": "", "owner": ""}).content.decode()
    top = page[page.index('<ul class="messages">'):page.index("<h1")]
    assert "Nothing was saved: Write the response plan before moving to “plan” or “resolved”." in html.unescape(top)
    yesterday = (store_a.today() - timedelta(days=1)).isoformat()
    page = client_a.post(url, {"add_item": "1", "item-text": "Call the agency", "item-due_date": yesterday})
    top = page.content.decode()[:page.content.decode().index("<h1")]
    assert "Nothing was saved: The due date is in the past" in top
    assert anomaly.action_items.count() == 0


def test_ticking_an_item_off_keeps_the_plan_typed_meanwhile(client_a, store_a):
    anomaly = make_anomaly(store_a)
    item = ActionItem.objects.create(anomaly=anomaly, text="Call the agency")
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    # The box is a button of the plan form: the plan's fields come with it.
    response = client_a.post(url, {"status": "plan", "plan": "Resume the paused plan.", "owner": "",
                                   "toggle_item": item.pk}, follow=True)
    anomaly.refresh_from_db()
    item.refresh_from_db()
    assert (anomaly.status, anomaly.plan, item.done) == ("plan", "Resume the paused plan.", True)
    page = response.content.decode()
    assert "“Call the agency” marked done." in page
    assert 'aria-label="Mark not done: Call the agency"' in page


def test_resolving_with_items_left_says_so_and_saving_nothing_says_nothing_changed(client_a, store_a):
    anomaly = make_anomaly(store_a)
    ActionItem.objects.create(anomaly=anomaly, text="Call the agency")
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    page = client_a.post(url, {"status": "new", "plan": "", "owner": ""}, follow=True).content.decode()
    assert "Nothing changed." in page
    page = client_a.post(url, {"status": "resolved", "plan": "Spend is back.", "owner": ""},
                         follow=True).content.decode()
    assert "Resolved with 1 action item not done yet." in page


def test_roas_reads_as_a_multiple_and_conversion_as_a_percentage():
    from metrics.rollup import METRICS
    from metrics.templatetags.daily import metric_value

    assert metric_value(3.4846, METRICS["roas"].kind) == "3.48×"  # not "348.46 %"
    assert metric_value(0.0669, METRICS["conversion"].kind) == "6.69 %"


def test_changes_are_green_when_good_red_when_bad_and_plain_for_ad_spend():
    from metrics.rollup import METRICS
    from metrics.templatetags.daily import change_pct

    assert 'class="up"' in change_pct(0.2, METRICS["gmv"].higher_is_better)
    assert 'class="down"' in change_pct(0.2, METRICS["refunds"].higher_is_better)
    # Spend falling 68 % is as likely a stopped plan as a saving: shown, not judged.
    assert 'class="plain"' in change_pct(-0.68, METRICS["ad_spend"].higher_is_better)


def test_adding_an_action_item_keeps_the_plan_typed_before_it(client_a, store_a):
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    due = store_a.today() + timedelta(days=1)
    response = client_a.post(url, {"status": "plan", "plan": "Restart the through-train plan.", "owner": "",
                                   "item-text": "Check spend at 10:00", "item-due_date": due.isoformat(),
                                   "add_item": "1"}, follow=True)
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.plan) == ("plan", "Restart the through-train plan.")
    assert anomaly.action_items.get().text == "Check spend at 10:00"
    assert "Action item added." in response.content.decode()


def test_an_action_item_due_in_the_past_is_refused_and_nothing_typed_is_lost(client_a, store_a):
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    yesterday = store_a.today() - timedelta(days=1)
    response = client_a.post(url, {"status": "acknowledged", "plan": "Ask the agency why spend stopped.",
                                   "owner": "", "item-text": "Call the agency",
                                   "item-due_date": yesterday.isoformat(), "add_item": "1"})
    page = response.content.decode()
    assert "The due date is in the past" in page
    assert "Ask the agency why spend stopped." in page and 'value="Call the agency"' in page
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.plan, anomaly.action_items.count()) == ("new", "", 0)


def test_an_owner_picked_for_an_item_without_text_does_not_stop_the_plan(client_a, store_a, operator_a):
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    client_a.post(url, {"status": "plan", "plan": "Restart the plan.", "owner": "", "item-owner": operator_a.pk})
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.action_items.count()) == ("plan", 0)
    page = client_a.post(url, {"status": "plan", "plan": "Restart the plan.", "owner": "", "add_item": "1",
                               "item-owner": operator_a.pk}).content.decode()
    assert "Say what is to be done." in page


def test_a_double_clicked_add_action_item_adds_it_once(client_a, store_a, operator_a):
    anomaly = make_anomaly(store_a)
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    due = store_a.today() + timedelta(days=1)
    post = {"add_item": "1", "item-text": "Call the agency", "item-owner": operator_a.pk,
            "item-due_date": due.isoformat()}
    client_a.post(url, post)
    page = client_a.post(url, post, follow=True).content.decode()
    assert anomaly.action_items.count() == 1
    assert "“Call the agency” is already on the list." in page and "Nothing changed." not in page


def test_a_double_clicked_box_leaves_the_item_done_not_flipped_back(client_a, store_a):
    anomaly = make_anomaly(store_a)
    item = ActionItem.objects.create(anomaly=anomaly, text="Call the agency")
    url = reverse("metrics:anomaly", args=[anomaly.pk])
    assert f'value="{item.pk}:done"' in client_a.get(url).content.decode()
    client_a.post(url, {"toggle_item": f"{item.pk}:done"})
    page = client_a.post(url, {"toggle_item": f"{item.pk}:done"}, follow=True).content.decode()
    item.refresh_from_db()
    assert item.done
    assert "“Call the agency” is already done." in page and f'value="{item.pk}:open"' in page


def test_an_open_action_item_past_its_due_date_is_marked_overdue(client_a, store_a):
    anomaly = make_anomaly(store_a)
    late = ActionItem.objects.create(anomaly=anomaly, text="Call the agency",
                                     due_date=store_a.today() - timedelta(days=2))
    page = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert page.count("overdue") == 1
    late.done = True
    late.save()
    assert "overdue" not in client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()


def test_owner_must_be_a_member_of_the_store(client_a, store_a, store_b):
    from tests.factories import MembershipFactory

    outsider = MembershipFactory(store=store_b).user
    anomaly = make_anomaly(store_a)
    client_a.post(reverse("metrics:anomaly", args=[anomaly.pk]), {"status": "acknowledged", "owner": outsider.pk})
    anomaly.refresh_from_db()
    assert anomaly.owner is None


def test_a_deactivated_member_is_not_offered_as_owner(client_a, store_a, manager_a):
    manager_a.is_active = False
    manager_a.save()
    anomaly = make_anomaly(store_a)
    context = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).context
    assert list(context["form"].fields["owner"].queryset.values_list("username", flat=True)) == ["op-a"]
    assert list(context["item_form"].fields["owner"].queryset.values_list("username", flat=True)) == ["op-a"]
    client_a.post(reverse("metrics:anomaly", args=[anomaly.pk]), {
        "status": "plan", "plan": "Restart the plan.", "owner": manager_a.pk,
        "add_item": "1", "item-text": "Call the agency", "item-owner": manager_a.pk})
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.owner, anomaly.action_items.count()) == ("new", None, 0)


def test_a_plan_whose_owner_was_deactivated_still_saves(client_a, store_a, manager_a):
    anomaly = make_anomaly(store_a, status="plan", plan="Restart the plan.", owner=manager_a)
    manager_a.is_active = False
    manager_a.save()
    form = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).context["form"]
    assert set(form.fields["owner"].queryset.values_list("username", flat=True)) == {"op-a", "mgr-a"}
    response = client_a.post(reverse("metrics:anomaly", args=[anomaly.pk]), {
        "status": "resolved", "plan": "Restarted; spend is back.", "owner": manager_a.pk})
    assert response.status_code == 302
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.plan, anomaly.owner) == ("resolved", "Restarted; spend is back.", manager_a)


def test_daily_overview_compares_yesterday_day_before_and_last_week(client_a, store_a):
    now = datetime(2026, 5, 5, 9, tzinfo=store_a.zone)
    for days_ago, total in [(1, "150.00"), (2, "100.00"), (8, "300.00")]:
        ts = now - timedelta(days=days_ago)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store_a, ts.date())
    with time_machine.travel(now, tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    assert "150.00" in page and "+50\u00a0%" in page and "−50\u00a0%" in page  # never wrapped before its %
    assert "vendor/plotly/plotly.min.js" in page
    assert "money in CNY" in page
    assert 'role="img" aria-label="Chart: GMV and orders, last 60 days"' in page  # read out, not skipped
    layout = json.loads(re.search(r'<script id="store-a" type="application/json">(.*?)</script>', page)[1])["layout"]
    assert layout["yaxis2"]["rangemode"] == "tozero" and layout["yaxis2"]["tickformat"] == ",d"  # no 32.3 orders


def test_a_change_against_a_holiday_or_a_sale_is_said_once_over_its_column(client_a, store_a):
    holiday_and_sale_before_friday_8_may(store_a)
    with time_machine.travel(datetime(2026, 5, 9, 9, tzinfo=store_a.zone), tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    # Over the column of each of the two tables (headline, every other metric), not under each of their changes.
    assert page.count('<th class="num">DoD<br><small class="muted">vs Thu 7 May (Spring sale)</small></th>') == 2
    assert page.count('<th class="num">WoW<br><small class="muted">vs Fri 1 May (Labor Day)</small></th>') == 2
    # …and once over the breakdowns' changes (traffic sources, products, payment types), which it measures too.
    assert "DoD vs Thu 7 May (Spring sale) · WoW vs Fri 1 May (Labor Day)</p>" in page
    assert page.count("vs Thu 7 May") == 3 and page.count("vs Fri 1 May") == 3
    assert "−40\u00a0%</span></td>" in page
    assert "Member week" not in page


def test_a_change_against_a_usual_day_says_nothing_more(client_a, store_a):
    holiday_and_sale_before_friday_8_may(store_a)
    with time_machine.travel(datetime(2026, 5, 21, 9, tzinfo=store_a.zone), tick=False):
        page = client_a.get(reverse("metrics:daily") + "?day=2026-05-20").content.decode()
    assert "Wed 20 May" in page and "<small class=\"muted\">vs " not in page


def test_daily_page_names_the_days_own_holiday_beside_it(client_a, store_a):
    # Thu 1 Oct, National Day in China, against an ordinary Wednesday and Thursday.
    with time_machine.travel(datetime(2026, 10, 25, 12, tzinfo=store_a.zone), tick=False):
        page = client_a.get(reverse("metrics:daily") + "?day=2026-10-01").content.decode()
        assert re.search(r"Thu 1 Oct<br><small class=\"muted\">National Day</small></th>", page)
        ordinary = client_a.get(reverse("metrics:daily") + "?day=2026-10-21").content.decode()
        assert "National Day" not in ordinary


def test_daily_page_shows_the_day_asked_for_and_says_when_a_day_is_malformed(client_a, store_a):
    now = datetime(2026, 5, 5, 9, tzinfo=store_a.zone)
    ts = now - timedelta(days=3)
    OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal("432.10"))
    rollup_day(store_a, ts.date())
    with time_machine.travel(now, tick=False):
        page = client_a.get(reverse("metrics:daily") + "?day=2026-05-02").content.decode()
        assert "<h1>Daily tracking: Sat 2 May against" in page and "432.10" in page  # not "Saturday 2 May 2026"
        assert 'Sat 2 May<br><small class="muted">Labor Day</small></th>' in page  # Labor Day's second day
        page = client_a.get(reverse("metrics:daily") + "?day=2025-12-29").content.decode()
        assert "<h1>Daily tracking: Mon 29 Dec 2025 against" in page  # the year outside this one, as `day` does
        page = client_a.get(reverse("metrics:daily") + "?day=2026-02-30").content.decode()
    assert "“2026-02-30” is not a day: use YYYY-MM-DD" in page and "Yesterday, Mon 4 May, is not rolled" in page


def test_daily_page_after_midnight_shows_the_last_day_rolled_up_and_says_yesterday_is_pending(client_a, store_a):
    # 00:10 on Tuesday 5 May in Shanghai: Monday 4 May is rolled up after 00:30, Sunday 3 May is.
    now = datetime(2026, 5, 5, 0, 10, tzinfo=store_a.zone)
    ts = datetime(2026, 5, 3, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal("432.10"))
    rollup_day(store_a, ts.date())
    with time_machine.travel(now, tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    assert "Yesterday, Mon 4 May, is not rolled up yet (that happens after 00:30 store time)." in page
    assert "Showing Sun 3 May, the last day rolled up." in page
    assert "Sun 3 May (Asia/Shanghai" in page and "432.10" in page and "Sun 3 May</th>" in page
    assert "Yesterday</th>" not in page
    # Past 00:30 and still not rolled up (the job is behind): said so, not "after 00:30".
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    assert "Yesterday, Mon 4 May, is not rolled up yet (it was due at 00:30 store time)." in page
    assert "432.10" in page


def test_daily_overview_has_day_over_day_and_week_over_week_for_every_metric(client_a, store_a):
    from metrics.rollup import HEADLINE, METRICS
    from tests.factories import ViolationFactory

    now = datetime(2026, 5, 5, 9, tzinfo=store_a.zone)
    for days_ago, points in [(1, 6), (2, 3)]:
        ts = now - timedelta(days=days_ago)
        ViolationFactory(store=store_a, points=points, occurred_at=ts)
        rollup_day(store_a, ts.date())
    with time_machine.travel(now, tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    others = page[page.index("Every other metric"):]
    # A share exists per payment type only; refunded units per product only (from the channels naming the refunded
    # items: an overall count would say 0 for a store whose refunds come without them).
    for metric in set(METRICS) - set(HEADLINE) - {"payment_share", "refunded_units"}:
        assert f"<td>{METRICS[metric].label}</td>" in others, metric
    points = others[others.index("<td>Violation points</td>"):]
    assert re.match(r"<td>Violation points</td><td class=\"num\">6</td><td class=\"num wide-only\">3</td>"
                    r"<td class=\"num\"><span class=\"down\">\+100\u00a0%</span>", points)


def test_a_rise_from_zero_reads_from_0_not_a_dash_that_would_mean_no_data(client_a, store_a):
    from tests.factories import ViolationFactory

    now = datetime(2026, 5, 5, 9, tzinfo=store_a.zone)
    ViolationFactory(store=store_a, points=2, occurred_at=now - timedelta(days=1))
    for days_ago in (1, 2, 8):
        rollup_day(store_a, (now - timedelta(days=days_ago)).date())
    with time_machine.travel(now, tick=False):
        page = client_a.get(reverse("metrics:daily")).content.decode()
    row = page[page.index("<td>New violations</td>"):].split("</tr>")[0]
    assert re.findall(r'<td class="num">(.*?)</td>', row) == [
        "1", '<span class="down">from 0</span>', '<span class="down">from 0</span>']


def test_desk_lists_new_anomalies(store_a, operator_a):
    make_anomaly(store_a)
    items = {i.label: i.count for i in open_items(store_a, operator_a)}
    assert items["New anomalies"] == 1


def test_anomaly_during_an_activity_links_to_that_activity(client_a, store_a):
    from campaigns.models import Activity

    promo = Activity.objects.create(store=store_a, name="Weekend full-reduction", kind="store_promotion",
                                    status="running", start_date=date(2026, 5, 2), end_date=date(2026, 5, 4))
    anomaly = make_anomaly(store_a, explained_by=promo)
    page = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert "Explained by activity" in page
    assert f'href="{promo.get_absolute_url()}"' in page


def test_the_daily_page_and_the_anomaly_page_name_the_explaining_activity_once(client_a, store_a):
    from campaigns.models import Activity

    promo = Activity.objects.create(store=store_a, name="Weekend full-reduction", kind="store_promotion",
                                    status="running", start_date=date(2026, 5, 2), end_date=date(2026, 5, 4))
    anomaly = make_anomaly(store_a, direction="up", explained_by=promo,
                           explanation="GMV +80 % vs usual Monday. Activity running that day: Weekend full-reduction.")
    with time_machine.travel(datetime(2026, 5, 5, 9, tzinfo=store_a.zone), tick=False):
        daily = client_a.get(reverse("metrics:daily") + "?day=2026-05-04").content.decode()
    detail = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    # The daily page's table names the day's activity by its date; its entry once more.
    for page in (daily.split("<h3>Anomalies", 1)[1], detail):
        assert "GMV +80\u00a0% vs usual Monday." in page
        assert page.count("Weekend full-reduction") == 1
    # Renamed since it was detected: the old name's sentence is not left beside the new name.
    promo.name = "Weekend sale"
    promo.save()
    detail = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert "Weekend full-reduction" not in detail and detail.count("Weekend sale") == 1



def test_the_anomaly_page_names_the_public_holiday_once(client_a, store_a):
    from campaigns.models import Activity
    from metrics.anomaly import activity_note, holiday_note

    promo = Activity.objects.create(store=store_a, name="Labour Day sale", kind="store_promotion",
                                    status="running", start_date=date(2026, 5, 1), end_date=date(2026, 5, 5))
    anomaly = make_anomaly(store_a, direction="up", explained_by=promo, holiday="Labour Day",
                           explanation="GMV +80 % vs usual Monday." + holiday_note("Labour Day") + activity_note(promo))
    page = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert "GMV +80\u00a0% vs usual Monday." in page and "Public holiday" not in page
    assert page.count("Labour Day (downgraded)") == 1 and page.count("Labour Day sale") == 1


def test_a_traffic_source_anomaly_has_the_chart_of_that_source(client_a, store_a):
    zone = store_a.zone
    for day in range(28):  # paid search sells 100 a day, then 10 on 4 May; organic stays at 50
        ts = datetime(2026, 4, 7, 12, tzinfo=zone) + timedelta(days=day)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 10),
                     traffic_source="paid_search")
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(50), traffic_source="organic_search")
        rollup_day(store_a, ts.date())
    anomaly = make_anomaly(store_a, dimension="traffic_source", dimension_value="paid_search", value=Decimal("10"))
    chart = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).context["chart"]
    actual = next(trace for trace in chart["data"] if trace.get("name") == "actual")["y"]
    actual = np.frombuffer(base64.b64decode(actual["bdata"]), dtype=actual["dtype"])  # plotly's typed array
    assert actual[-1] == 10 and actual[-2] == 100  # the source's own series, not the store's 60 → 150
    assert "Paid search" in chart["layout"]["title"]["text"]


def test_the_anomaly_pages_chart_starts_money_at_zero_and_shows_ratios_as_percentages(client_a, store_a):
    zone = store_a.zone
    for day in range(28):  # GMV 100 a day, 60 on 4 May: a 40 % fall, not a fall to nothing
        ts = datetime(2026, 4, 7, 12, tzinfo=zone) + timedelta(days=day)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 60))
        rollup_day(store_a, ts.date())
    gmv = make_anomaly(store_a)
    layout = client_a.get(reverse("metrics:anomaly", args=[gmv.pk])).context["chart"]["layout"]
    assert layout["yaxis"]["rangemode"] == "tozero"
    DailyMetric.objects.bulk_create(DailyMetric(store=store_a, day=date(2026, 4, 7) + timedelta(days=k),
                                                metric="conversion", value=Decimal("0.08")) for k in range(28))
    conversion = make_anomaly(store_a, metric="conversion", value=Decimal("0.08"), baseline=Decimal("0.08"))
    chart = client_a.get(reverse("metrics:anomaly", args=[conversion.pk])).context["chart"]
    assert chart["layout"]["yaxis"]["tickformat"] == ".1%"  # 8.0 %, as the page's numbers say, not 0.08


@pytest.mark.parametrize("asked", ["0001-01-01", "9999-12-31"])
def test_daily_page_asked_for_a_day_off_the_calendar_shows_yesterday_not_a_server_error(client_a, store_a, asked):
    now = datetime(2026, 5, 5, 9, tzinfo=store_a.zone)
    with time_machine.travel(now, tick=False):
        response = client_a.get(reverse("metrics:daily") + f"?day={asked}")
    page = response.content.decode()
    assert response.status_code == 200 and "Mon 4 May" in page and "is out of reach" in page


def test_an_anomaly_kept_after_late_data_changed_its_day_says_what_the_day_reads_now(client_a, store_a):
    from metrics.rollup import refresh_days

    paid = datetime(2026, 5, 4, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("60"))
    rollup_day(store_a, date(2026, 5, 4))
    anomaly = make_anomaly(store_a, status="acknowledged")  # GMV 60 against a usual 100, being worked on
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("40"))  # the export came in late
    assert refresh_days(store_a, [date(2026, 5, 4)]) == [date(2026, 5, 4)]
    with time_machine.travel(datetime(2026, 5, 5, 9, tzinfo=store_a.zone), tick=False):
        daily = client_a.get(reverse("metrics:daily")).content.decode()
    listed = client_a.get(reverse("metrics:anomalies")).content.decode()
    detail = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    # The daily table says 100; the anomaly kept for its status says 60 and must not stand beside it unexplained.
    assert "flagged at 60.00\u00a0CNY, now 100.00\u00a0CNY" in daily
    assert "now 100.00\u00a0CNY" in listed
    assert "is now 100.00\u00a0CNY (flagged at 60.00\u00a0CNY)" in detail


def test_an_anomaly_whose_day_still_reads_as_flagged_has_no_late_data_note(client_a, store_a):
    paid = datetime(2026, 5, 4, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("60"))
    rollup_day(store_a, date(2026, 5, 4))
    anomaly = make_anomaly(store_a)
    for url in (reverse("metrics:anomalies"), reverse("metrics:anomaly", args=[anomaly.pk])):
        page = client_a.get(url).content.decode()
        assert "now 60.00" not in page and "Late data" not in page


def test_desk_counts_overdue_action_items_by_the_stores_day_until_the_anomaly_is_resolved(store_a, operator_a):
    anomaly = make_anomaly(store_a, status="plan", plan="Resume the paused plan.")
    ActionItem.objects.create(anomaly=anomaly, text="Call the agency", due_date=date(2026, 5, 4))
    ActionItem.objects.create(anomaly=anomaly, text="Check the budget", due_date=date(2026, 5, 5))
    ActionItem.objects.create(anomaly=anomaly, text="Done already", due_date=date(2026, 5, 1), done=True)

    def overdue(now):
        with time_machine.travel(now, tick=False):
            return {i.label: i.count for i in open_items(store_a, operator_a)}.get("Anomaly action items overdue", 0)

    # 01:00 on 5 May in Shanghai is still 4 May in UTC: the item due on 4 May is overdue in the store's day.
    assert overdue(datetime(2026, 5, 5, 1, tzinfo=store_a.zone)) == 1
    assert overdue(datetime(2026, 5, 4, 23, tzinfo=store_a.zone)) == 0
    anomaly.status = "resolved"
    anomaly.save()
    assert overdue(datetime(2026, 5, 5, 1, tzinfo=store_a.zone)) == 0  # a resolved anomaly's leftovers nag nobody


def test_anomaly_list_shows_overdue_items_and_filters_by_them_keeping_the_store(client_a, store_a, store_b):
    late = make_anomaly(store_a, status="acknowledged")
    ActionItem.objects.create(anomaly=late, text="Call the agency", due_date=date(2026, 5, 4))
    on_time = make_anomaly(store_a, metric="orders", status="acknowledged")
    ActionItem.objects.create(anomaly=on_time, text="Check the budget", due_date=date(2026, 5, 9))
    with time_machine.travel(datetime(2026, 5, 5, 9, tzinfo=store_a.zone), tick=False):
        everything = client_a.get(reverse("metrics:anomalies") + "?store=store-a").content.decode()
        only_late = client_a.get(reverse("metrics:anomalies") + "?store=store-a&status=all&overdue=1").content.decode()
    assert "overdue: due Mon 4 May" in everything and "next due Sat 9 May" in everything
    assert ">GMV (main payments)<" in only_late and ">Paid orders<" not in only_late
    assert 'name="overdue" value="1" checked' in only_late and 'value="store-a" selected' in only_late


def test_the_anomaly_page_says_from_0_where_the_day_before_and_the_week_before_had_none(client_a, store_a):
    # Bad reviews 0 → 3: the daily page says "from 0"; the anomaly page said "–", as if there were no data.
    for day in (date(2026, 5, 3), date(2026, 4, 27)):
        rollup_day(store_a, day)  # rolled up, no bad review: no cell, a real zero
    anomaly = make_anomaly(store_a, metric="bad_reviews", value=Decimal("3"), baseline=Decimal("0.5"), change=None,
                           change_dod=None, change_wow=None, score=8.0, direction="up")
    page = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    for kpi in ("Day over day", "Week over week"):
        shown = page[page.index(f'<div class="label">{kpi}</div>'):].split("</div></div>")[0]
        assert shown.endswith('<span class="down">from 0</span>'), kpi
    # A source that sold nothing the day before has no cell that day: a real 0 all the same.
    source = make_anomaly(store_a, dimension="traffic_source", dimension_value="paid_search", value=Decimal("80"),
                          direction="up")
    page = client_a.get(reverse("metrics:anomaly", args=[source.pk])).content.decode()
    assert page.count('<span class="up">from 0</span>') == 2


def test_the_anomaly_page_leaves_a_dash_where_the_day_before_is_not_rolled_up(client_a, store_a):
    anomaly = make_anomaly(store_a, metric="bad_reviews", value=Decimal("3"), baseline=Decimal("0.5"), change=None,
                           change_dod=None, change_wow=None, score=8.0, direction="up")
    page = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
    assert "from 0" not in page


def _ys(trace) -> list[float]:
    y = trace["y"]
    return list(np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])) if isinstance(y, dict) else y


def test_the_anomaly_chart_after_late_data_marks_the_flagged_value_and_the_day_now(client_a, store_a):
    from metrics.rollup import refresh_days

    for day in range(28):  # GMV 100 a day, 60 on 4 May when it was flagged
        ts = datetime(2026, 4, 7, 12, tzinfo=store_a.zone) + timedelta(days=day)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 60))
        rollup_day(store_a, ts.date())
    anomaly = make_anomaly(store_a, status="acknowledged")
    chart = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).context["chart"]
    assert [(t["name"], _ys(t)) for t in chart["data"] if t.get("legendgroup") == "anomaly"] == [("anomaly", [60])]
    paid = datetime(2026, 5, 4, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("40"))  # the export came in late
    refresh_days(store_a, [date(2026, 5, 4)])
    chart = client_a.get(reverse("metrics:anomaly", args=[anomaly.pk])).context["chart"]
    actual = next(t for t in chart["data"] if t.get("name") == "actual")
    marks = {t["name"]: t for t in chart["data"] if t.get("legendgroup") == "anomaly"}
    # The line ends at 100; the red dot at 60 is said to be the flagged value, and the line's point is marked.
    assert _ys(actual)[-1] == 100 and set(marks) == {"flagged", "now, after late data"}
    assert (_ys(marks["flagged"]), marks["flagged"]["text"]) == ([60], ["flagged"])
    assert (_ys(marks["now, after late data"]), marks["now, after late data"]["text"]) == ([100], ["now"])


def test_daily_page_says_how_many_more_anomalies_the_day_has_and_links_to_them_in_the_list(client_a, store_a):
    metrics = ["gmv", "orders", "visitors", "sessions", "pv", "add_to_cart", "buyers", "units", "refunds",
               "ad_spend", "ad_clicks", "ad_sales"]
    for at, metric in enumerate(metrics):  # 12 anomalies on 4 May, one on 3 May, one of 4 May in store B
        make_anomaly(store_a, metric=metric, score=-9.0 + at / 10, status="resolved" if at == 11 else "new",
                     plan="Done." if at == 11 else "")
    make_anomaly(store_a, day=date(2026, 5, 3), metric="aov")
    with time_machine.travel(datetime(2026, 5, 5, 9, tzinfo=store_a.zone), tick=False):
        daily = client_a.get(reverse("metrics:daily")).content.decode()
        link = "/metrics/daily/anomalies/?store=store-a&amp;day=2026-05-04&amp;status=all"
        assert f'<a href="{link}">and 2 more</a>' in daily
        listed = client_a.get(link.replace("&amp;", "&")).content.decode()
    assert listed.count('<td class="nowrap" data-label="Day">Mon 4 May</td>') == 12  # the resolved one too
    assert "Sun 3 May" not in listed
    assert 'name="day" value="2026-05-04"' in listed and 'value="store-a" selected' in listed
    with time_machine.travel(datetime(2026, 5, 4, 9, tzinfo=store_a.zone), tick=False):
        daily = client_a.get(reverse("metrics:daily")).content.decode()  # 3 May: its one anomaly, nothing more
    assert "more</a>" not in daily


def test_anomaly_list_with_a_malformed_day_says_so_and_lists_every_day(client_a, store_a):
    make_anomaly(store_a)
    page = client_a.get(reverse("metrics:anomalies") + "?day=2026-02-30").content.decode()
    assert "“2026-02-30” is not a day" in page and "Mon 4 May" in page
def test_a_percentage_in_an_anomalys_words_stays_beside_its_number_on_a_phone(client_a, store_a):
    # Stored as written ("−34 %"); the page joins number and % with a no-break space so "−34 / %" cannot happen.
    lead = make_anomaly(store_a, explanation="GMV −42 % vs usual Thursday. Metric tree: visitors −34 %.")
    make_anomaly(store_a, metric="orders", part_of=lead, explanation="Paid orders −40 % vs usual Monday.")
    listed = client_a.get(reverse("metrics:anomalies")).content.decode()
    assert "visitors −34\u00a0%" in listed and "−34 %" not in listed
    detail = client_a.get(reverse("metrics:anomaly", args=[lead.pk])).content.decode()
    assert "Paid orders −40\u00a0% vs usual Monday" in detail and "−40 %" not in detail
    assert Anomaly.objects.get(pk=lead.pk).explanation.endswith("visitors −34 %.")
