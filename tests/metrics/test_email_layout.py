"""The morning email as a manager reads it on a phone: its HTML and text parts, and its anomaly charts."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from metrics.charts import email_figure
from metrics.models import Anomaly
from metrics.rollup import HEADLINE, METRICS, rollup_day
from stores.models import Store
from tests.factories import OrderFactory

DAY = date(2026, 5, 4)  # a Monday
SITE = "https://desk.example.com"


def row(label="GMV (main payments)", kind="money", value=150.0, before=100.0, week=150.0, good_when_up=True):
    """One line of the numbers table, as metrics.email.report_context builds it."""
    return {"label": label, "kind": kind, "value": value, "day_before": before, "week_before": week, "spark": "",
            "good_when_up": good_when_up,
            "dod": None if value is None or not before else value / before - 1,
            "wow": None if value is None or not week else value / week - 1}


def anomaly(explanation="GMV −34 %: paid-search sessions −71 %", day=DAY, **extra):
    fields = dict(url=f"{SITE}/metrics/daily/anomalies/7/", day=day, title="GMV (main payments)",
                  explanation=explanation, summary=explanation, status="new", get_status_display=lambda: "New",
                  is_open=True, chart="", explained_by=None, value=16350, baseline=24773.5,
                  info=SimpleNamespace(kind="money"), related_list=[],
                  store=SimpleNamespace(currency="CNY"))
    return SimpleNamespace(**{**fields, **extra})


def case():
    """A 1★ review's case whose first call was due at 17:00 Shanghai time on 3 May."""
    review = SimpleNamespace(rating=1, title="Arrived broken", product=SimpleNamespace(title="Blue kettle"))
    return SimpleNamespace(review=review, url=f"{SITE}/reviews/store-a/cases/5/",
                           first_contact_due_at=datetime.fromisoformat("2026-05-03T09:00Z"))


def render(**changes) -> tuple[str, str]:
    """(HTML, text) of a Shanghai store's email for Monday 4 May; by default a quiet day with one row."""
    context = {
        "store": Store(name="Store A", slug="store-a", timezone="Asia/Shanghai", currency="CNY"),
        "user": get_user_model()(username="boss", first_name="Ana"), "day": DAY, "rows": [row()],
        "anomalies": [], "open_anomaly_count": 0, "earlier_anomalies": [], "earlier_anomaly_count": 0,
        "open_violations": [], "open_violation_count": 0, "overdue_cases": [], "overdue_case_count": 0,
        "cases_url": f"{SITE}/reviews/store-a/", "desk_url": f"{SITE}/", "daily_url": f"{SITE}/metrics/daily/",
        "anomalies_url": f"{SITE}/metrics/daily/anomalies/?store=store-a", "violations_url": f"{SITE}/v/",
        "settings_url": f"{SITE}/stores/settings/", "preheader": "",
    }
    context.update(changes)
    return (render_to_string("metrics/email/morning.html", context),
            render_to_string("metrics/email/morning.txt", context))


def change_span(html: str, words: str) -> str:
    """The style of the span that shows a change, e.g. 'white-space:nowrap;color:#b42318'."""
    found = re.search(r'<span style="([^"]*)">' + re.escape(words) + "</span>", html)
    assert found, f"{words!r} not shown as a change"
    return found.group(1)


def test_phones_lay_the_email_out_at_their_own_width():
    html, _ = render()
    head = html.split("<body")[0]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in head


def test_a_change_never_wraps_between_its_number_and_its_percent_sign():
    html, text = render(rows=[row(value=66.0, before=100.0)])
    assert "white-space:nowrap" in change_span(html, "−34\u00a0%")
    assert "−34\u00a0%" in text


def test_explanations_never_wrap_before_a_percent_sign_either():
    related = [SimpleNamespace(title="Sessions · through train", change=-0.97)]
    html, _ = render(anomalies=[anomaly("GMV −39 %: visitors −34 %, AOV +1 % — visitors moved most",
                                        related_list=related)], open_anomaly_count=1,
                     earlier_anomalies=[anomaly("Refunds +80 %: one product", day=DAY)], earlier_anomaly_count=1)
    assert "GMV −39\u00a0%: visitors −34\u00a0%, AOV +1\u00a0% — visitors moved most" in html
    assert "Sessions · through train −97\u00a0%" in html
    assert "Refunds +80\u00a0%: one product" in html
    assert " %" not in html.split("<body")[1]


def test_changes_are_coloured_inline_because_gmail_drops_style_blocks():
    html, _ = render(rows=[row(value=66.0, before=100.0),  # GMV down: bad
                           row("Refunds", value=50.0, before=100.0, good_when_up=False)])  # refunds down: good
    assert change_span(html, "−34\u00a0%").endswith("color:#b42318")
    assert change_span(html, "−50\u00a0%").endswith("color:#067647")
    assert "<style" not in html.split("<body")[1]


def test_ad_spend_moving_is_shown_uncoloured():
    html, _ = render(rows=[row("Ad spend", value=120.0, before=100.0, good_when_up=None)])
    assert change_span(html, "+20\u00a0%") == "white-space:nowrap"


def test_a_huge_change_has_thousands_separators_like_the_figures_beside_it():
    # GMV of 370.97 after a day of 1.00: "+36997 %" read as a typo beside figures with thousands separated.
    html, text = render(rows=[row(value=370.97, before=1.0, week=4.0)],
                        anomalies=[anomaly("GMV +36,997 %", related_list=[
                            SimpleNamespace(title="Sessions · through train", change=12.5)])], open_anomaly_count=1)
    assert change_span(html, "+36,997\u00a0%") and change_span(html, "+9,174\u00a0%")
    assert "vs day before: +36,997\u00a0% · vs last week: +9,174\u00a0%" in text
    assert "Sessions · through train +1,250\u00a0%" in html and "Sessions · through train +1,250 %" in text


def test_a_count_up_from_zero_says_from_zero_not_a_dash():
    violations = row("New violations", kind="count", value=1.0, before=0.0, week=None, good_when_up=False)
    html, text = render(rows=[violations])
    assert change_span(html, "from 0").endswith("color:#b42318")  # one more violation is bad news
    assert change_span(html, "–").endswith("color:#667085")  # no number a week ago: no data
    assert "New violations: 1\n  vs day before: from 0 · vs last week: –\n" in text


def test_a_count_that_stays_at_zero_says_it_did_not_move():
    html, text = render(rows=[row("New violations", kind="count", value=0.0, before=0.0, week=0.0,
                                  good_when_up=False)])
    assert html.count(">±0</span>") == 2
    assert "New violations: 0\n  vs day before: ±0 · vs last week: ±0\n" in text


def test_the_text_parts_numbers_fit_a_phone_screen_one_metric_at_a_time():
    # The widest numbers each headline metric can show: a phone mail app wraps a wider line, and a table
    # of four columns wrapped on it reads as a jumble of numbers.
    widest = {"money": 12_345_678.9, "count": 1_234_567, "ratio": 0.1234, "multiple": 12.34}
    rows = [row(METRICS[m].label, METRICS[m].kind, value=widest[METRICS[m].kind],
                before=widest[METRICS[m].kind] / 1000, week=0.0, good_when_up=METRICS[m].higher_is_better)
            for m in HEADLINE]
    _, text = render(rows=rows, vs={"dod": "Sun 3 May (Labor Day)", "wow": "Mon 27 Apr (Spring sale)"})
    numbers = text.split("\n\nNo anomalies")[0]
    assert max(len(line) for line in numbers.splitlines()) <= 60, numbers
    assert ("GMV (main payments): 12,345,678.90 CNY\n"
            "  vs day before: +99,900\u00a0% · vs last week: from 0\n") in numbers
    # A rate's change in points (the figure house rule): 0.01 % → 12.34 % is +12.3 points, not +99,900 %.
    assert ("Conversion (orders / visitors): 12.34 %\n"
            "  vs day before: +12.3\u00a0pts · vs last week: +12.3\u00a0pts\n") in numbers
    assert "vs day before: Sun 3 May (Labor Day), not a usual day\n" in numbers


def test_the_text_part_names_the_activity_that_explains_an_anomaly():
    _, text = render(anomalies=[anomaly(explained_by="Spring sale")], open_anomaly_count=1)
    assert "Activity running that day: Spring sale" in text


def test_an_anomalys_value_names_its_currency_as_its_usual_value_does():
    # "16,350.00, usually 24,773.50 CNY" read as two amounts in two currencies, or one in none.
    units = anomaly("Units sold −100 %", title="Units sold", value=0, baseline=30, info=SimpleNamespace(kind="count"))
    html, text = render(anomalies=[anomaly(value_now=20000), units], open_anomaly_count=2,
                        earlier_anomalies=[anomaly(day=date(2026, 5, 2))], earlier_anomaly_count=1)
    for part in (html.replace("&nbsp;", " "), text):
        part = part.replace("\u00a0", " ")
        assert part.count("GMV (main payments): 16,350.00 CNY, usually 24,773.50 CNY") == 2
        assert "now 20,000.00 CNY after late data" in part
        assert "Units sold: 0, usually 30 on a Monday" in part  # a count has no currency


@time_machine.travel(datetime(2026, 5, 5, 1, tzinfo=UTC), tick=False)  # the morning after DAY: no year
def test_violation_and_case_times_name_the_stores_zone():
    violation = SimpleNamespace(occurred_at=datetime.fromisoformat("2026-05-04T02:30+00:00"), kind="Late shipment",
                                points=1, amount=Decimal("10"))
    html, text = render(open_violations=[violation], open_violation_count=1, overdue_cases=[case()],
                        overdue_case_count=1)
    for part in (html, text):
        assert re.search(r"Open violations: 1 .*\(times in Asia/Shanghai\)", part)
        assert re.search(r"first-call deadline: 1 .*\(times in Asia/Shanghai\)", part)
        assert "Mon 4 May 10:30 Late shipment" in part


@time_machine.travel(datetime(2026, 5, 5, 1, tzinfo=UTC), tick=False)  # the morning after DAY: no year
def test_an_overdue_case_names_its_product_and_links_to_its_own_page():
    html, text = render(overdue_cases=[case()], overdue_case_count=1)
    assert f'<a href="{SITE}/reviews/store-a/cases/5/">1★ review of Blue kettle</a>' in html
    assert ("1★ review of Blue kettle: “Arrived broken”, call was due Sun 3 May 17:00\n"
            f"  {SITE}/reviews/store-a/cases/5/") in text


def test_a_quiet_day_with_anomalies_still_open_from_earlier_days_does_not_read_as_all_clear():
    earlier = [anomaly("Units sold −100 % vs usual Saturday.", day=date(2026, 5, 2)),
               anomaly("Visitors −40 %.", day=date(2026, 4, 27), status="investigating",
                       get_status_display=lambda: "Investigating")]
    html, text = render(earlier_anomalies=earlier, earlier_anomaly_count=12)
    for part in (html, text):
        assert "within its usual range" not in part
        assert "on Monday, but 12 from earlier days are still open" in part
        assert "Still open from earlier days: 12" in part
        assert "Sat 2 May: Units sold −100 % vs usual Saturday." in part.replace("\u00a0", " ")
        assert "Mon 27 Apr: Visitors −40 %." in part.replace("\u00a0", " ") and "(investigating)" in part
        assert f"{SITE}/metrics/daily/anomalies/?store=store-a" in part  # the other ten


def test_the_preview_line_is_hidden_at_the_top_of_the_body():
    html, _ = render(preheader="No anomalies on Monday; 2 still open from earlier days.")
    body = html.split("<body", 1)[1].split(">", 1)[1].lstrip()
    assert body.startswith('<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
                           "No anomalies on Monday; 2 still open from earlier days.</div>")


def test_the_heading_writes_the_day_as_the_app_does_with_its_year():
    html, text = render()
    assert "<h2 style=\"margin:0 0 4px\">Store A: Mon 4 May 2026</h2>" in html  # not "Monday 4 May 2026"
    assert "Store A on Mon 4 May 2026\n" in text


def test_the_clock_change_note_writes_the_day_it_skipped_as_the_app_does():
    html, text = render(skipped=[{"day": date(2026, 5, 3), "url": f"{SITE}/metrics/daily/store-a/?day=2026-05-03"}])
    assert ">Sun 3 May</a>, which no email reported" in html
    assert "past Sun 3 May, which no email reported" in text


def charted(**extra):
    return anomaly(chart="anomaly-7-desktop@opsdesk", phone_chart="anomaly-7-phone@opsdesk", **extra)


def test_a_chart_says_what_its_lines_are_now_that_it_has_no_legend():
    html, _ = render(anomalies=[charted()], open_anomaly_count=1)
    assert "Black: actual · dotted: usual · shaded: normal range · red: the day" in html


def test_a_chart_shows_its_desktop_image_unless_a_narrow_screen_swaps_in_the_phones():
    html, _ = render(anomalies=[charted()], open_anomaly_count=1)
    body = html.split("<body")[1]
    desktop = re.search(r'<img src="cid:anomaly-7-desktop@opsdesk" width="600" height="240" class="chart-desktop" '
                        r'style="([^"]*)"', body)
    assert desktop and "display:none" not in desktop[1]  # shown where no <style> is read (Outlook for Windows)
    # The phone's is hidden inline, from Outlook for Windows too, until the head's media query shows it.
    assert re.search(r'<div class="chart-phone" style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
                     r'<img src="cid:anomaly-7-phone@opsdesk" width="600" height="240"', body)
    query = re.search(r"<style>@media screen and \(max-width:480px\)\{(.*)\}</style></head>", html)[1]
    assert ".chart-desktop{display:none !important}" in query
    assert ".chart-phone{display:block !important;max-height:none !important" in query


@pytest.mark.django_db
def test_the_email_chart_is_readable_at_half_size(store_a):
    for n in range(28):  # 7 April to 4 May, when GMV fell from 90 to 56
        ts = datetime(2026, 4, 7, 12, tzinfo=store_a.zone) + timedelta(days=n)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(90 if n < 27 else 56))
        rollup_day(store_a, ts.date())
    fell = Anomaly.objects.create(store=store_a, day=DAY, metric="gmv", value=56, baseline=90, band_low=80,
                                  band_high=100, change=-0.38, score=-6, direction="down")
    layout = email_figure(fell, days=28).layout
    assert layout.showlegend is False
    assert layout.font.size >= 22 and layout.title.font.size >= 22
    assert layout.title.text == "GMV"
    assert layout.yaxis.rangemode == "tozero"  # 56 against 90, not against nothing
    assert "%Y" not in layout.xaxis.tickformat  # no year line under the dates to collide with


def test_a_violation_that_cost_no_money_says_so_rather_than_zero_deducted():
    free = SimpleNamespace(occurred_at=datetime.fromisoformat("2026-05-04T02:30+00:00"), kind="Late shipment",
                           points=1, amount=Decimal("0"))
    fined = SimpleNamespace(occurred_at=datetime.fromisoformat("2026-05-04T03:30+00:00"), kind="Fake shipment",
                            points=2, amount=Decimal("1234.5"))
    html, text = render(open_violations=[free, fined], open_violation_count=2)
    for part in (html.replace("\u00a0", " "), text):
        assert "1 point, no money deducted" in part
        assert "2 points, 1,234.50 CNY deducted" in part
        assert " 0.00 CNY" not in part


def test_the_bad_reviews_label_keeps_its_rating_on_one_line():
    # At 600 px the label wrapped as "(≤ / 2★)": the sign and the stars stay together.
    html, text = render(rows=[row(label=METRICS["bad_reviews"].label, kind="count", value=3, before=1, week=2)])
    assert "New bad reviews (≤\u00a02★)" in html and "(≤ 2★)" not in html
    assert "New bad reviews (≤" in text
