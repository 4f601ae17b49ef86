"""Morning email: 08:00 in each manager's zone, once per day even if beat fires twice, opt-out honoured."""

import io
import re
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from PIL import Image

from metrics.email import send_due_morning_emails
from metrics.models import Anomaly, MorningEmail
from metrics.peers import import_peer_benchmarks
from metrics.rollup import rollup_day
from tests.factories import MembershipFactory, OrderFactory, UserFactory, ViolationFactory
from tests.metrics.conftest import holiday_and_sale_before_friday_8_may
from tests.metrics.test_morning_email_browser import axis_text_height

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_to_outbox")]
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def manager(store_a):
    """Store A is in Asia/Shanghai; its manager reads email in London."""
    return MembershipFactory(store=store_a, user=UserFactory(username="boss", email="boss@example.com"),
                             role="manager", email_timezone="Europe/London")


def test_second_beat_run_sends_no_second_email(manager):
    at_eight = datetime(2026, 5, 5, 8, 2, tzinfo=LONDON)
    with time_machine.travel(at_eight, tick=False):
        assert send_due_morning_emails() == 1
        assert send_due_morning_emails() == 0
    with time_machine.travel(at_eight + timedelta(hours=1), tick=False):
        assert send_due_morning_emails() == 0
    assert len(mail.outbox) == 1
    assert MorningEmail.objects.get().day.isoformat() == "2026-05-05"


def test_a_row_written_by_a_racing_worker_stops_the_send(manager, store_a):
    MorningEmail.objects.create(membership=manager, day=datetime(2026, 5, 5).date(),
                                report_day=datetime(2026, 5, 4).date())
    with time_machine.travel(datetime(2026, 5, 5, 8, 2, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0
    assert mail.outbox == []


def test_sent_at_eight_in_the_managers_zone_not_the_stores(manager, store_a):
    # 08:00 in Shanghai is 01:00 in London: not yet.
    with time_machine.travel(datetime(2026, 5, 5, 8, 0, tzinfo=store_a.zone), tick=False):
        assert send_due_morning_emails() == 0
    with time_machine.travel(datetime(2026, 5, 5, 7, 59, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0
    with time_machine.travel(datetime(2026, 5, 5, 12, 0, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0  # too late for a "morning" email
    assert mail.outbox == []


def test_blank_email_zone_means_the_stores_zone(store_a):
    MembershipFactory(store=store_a, user=UserFactory(username="m2", email="m2@example.com"), role="manager")
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=store_a.zone), tick=False):
        assert send_due_morning_emails() == 1


def test_opted_out_managers_and_operators_get_nothing(manager, store_a, operator_a):
    manager.morning_email = False
    manager.save()
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=store_a.zone), tick=False):
        assert send_due_morning_emails() == 0
    assert mail.outbox == []


def test_email_has_headline_changes_anomalies_violations_and_links(manager, store_a):
    zone = store_a.zone
    # London 08:30 on 5 May is 15:30 in Shanghai: the report is about Shanghai's 4 May.
    for day, total in [(4, "150.00"), (3, "100.00")]:
        ts = datetime(2026, 5, day, 12, tzinfo=zone)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store_a, ts.date())
    anomaly = Anomaly.objects.create(
        store=store_a, day=datetime(2026, 5, 4).date(), metric="gmv", value=1, baseline=2, band_low=1, band_high=3,
        change=-0.32, score=-5, direction="down", explanation="GMV −32 %: paid-search sessions −71 %")
    ViolationFactory(store=store_a, kind="Late shipment", points=2)
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert message.to == ["boss@example.com"]
    # Dated as the body and the daily page write a day ("Mon 4 May"), not "Mon 04 May" above "Monday 4 May".
    assert message.subject == ("[opsdesk] Store A · Mon 4 May: 1 open anomaly · "
                               "GMV 150.00 CNY (+50 % vs Sun) · Labor Day (observed)")
    html = message.alternatives[0][0]
    assert "<title>Store A · Mon 4 May</title>" in html  # dated like the subject, not "May 4, 2026"
    for part in (message.body, html):
        assert "GMV −32 %: paid-search sessions −71 %" in part
        assert f"https://desk.example.com/metrics/daily/anomalies/{anomaly.pk}/" in part
        assert "Late shipment" in part and "Open violations" in part
        assert "https://desk.example.com/" in part
    assert "+50\u00a0%" in html  # never broken over two lines on a phone
    assert MorningEmail.objects.get().report_day.isoformat() == "2026-05-04"


def test_the_headline_table_says_the_peers_figures_of_the_day_reported_in_both_parts(manager, store_a):
    for day, total in [(4, "150.00"), (3, "100.00")]:
        ts = datetime(2026, 5, day, 12, tzinfo=store_a.zone)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store_a, ts.date())
    import_peer_benchmarks(store_a, "date,metric,level,value\n2026-05-04,支付金额,同行同层平均,120\n"
                                    "2026-05-04,支付转化率,同行同层平均,3.2%\n2026-05-04,支付转化率,同行同层优秀,5%\n"
                                    "2026-05-03,访客数,同行同层平均,999\n")
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0].replace("\u00a0", " ")
    body = message.body.replace("\u00a0", " ")
    # GMV 150 against the peers' 120: +25 %, green as a rise beside it; conversion has no own figure (no visitors
    # were tracked), so the peers' figures stand without a gap; the 3rd's visitors are no figure of the 4th.
    assert ('peers 120.00 CNY avg · <span style="white-space:nowrap;color:#067647">+25 %</span> vs avg'
            in html)
    assert "peers 3.20 % avg · 5.00 % top</span>" in html
    assert ("GMV (main payments): 150.00 CNY\n  vs day before: +50 % · vs last week: –\n"
            "  peers 120.00 CNY avg · +25 % vs avg\n") in body
    assert "  peers 3.20 % avg · 5.00 % top\n" in body
    assert "999" not in html and "999" not in body
    assert html.count("peers ") == body.count("peers ") == 2


def test_a_change_against_a_holiday_or_a_sale_says_so_in_the_numbers(manager, store_a):
    # London 08:30 on Sat 9 May: the report is about Shanghai's Fri 8 May, against Thu 7 May (a sale ran)
    # and Fri 1 May (Labor Day in China).
    holiday_and_sale_before_friday_8_may(store_a)
    with time_machine.travel(datetime(2026, 5, 9, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert html.count("vs Thu 7 May (Spring sale)") == 1  # over the day-before changes, once
    assert html.count("vs Fri 1 May (Labor Day)") == 1
    assert ("vs day before: Thu 7 May (Spring sale), not a usual day\n"
            "vs last week: Fri 1 May (Labor Day), not a usual day\n") in message.body
    assert "Member week" not in message.body  # it ran on the day reported too: like against like


def test_the_subject_says_when_the_day_before_was_a_sale_so_a_fall_does_not_alarm(manager, store_a):
    # Fri 8 May's GMV 60 against 100 on Thu 7 May, when a sale ran: the phone's list of mail shows it.
    holiday_and_sale_before_friday_8_may(store_a)
    with time_machine.travel(datetime(2026, 5, 9, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    assert mail.outbox[0].subject == "[opsdesk] Store A · Fri 8 May: GMV 60.00 CNY (−40 % vs Thu, Spring sale)"


def test_a_day_that_was_itself_a_sale_or_a_holiday_says_so_by_the_day(manager, store_a):
    # Wed 11 Nov, Singles' Day, against an ordinary Tuesday: "+180 %" is the sale, not news.
    from campaigns.models import Activity

    for day, total in [(11, "280.00"), (10, "100.00")]:
        ts = datetime(2026, 11, day, 12, tzinfo=store_a.zone)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(total))
        rollup_day(store_a, ts.date())
    Activity.objects.create(store=store_a, name="Singles' Day", kind="store_promotion", status="done",
                            start_date=date(2026, 11, 11), end_date=date(2026, 11, 11))
    with time_machine.travel(datetime(2026, 11, 12, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert message.subject == "[opsdesk] Store A · Wed 11 Nov: GMV 280.00 CNY (+180 % vs Tue) · Singles' Day"
    html = message.alternatives[0][0].replace("&#x27;", "'")
    assert re.search(r"Wed 11 Nov<br><span [^>]*>Singles' Day</span></th>", html)  # over the day's numbers
    assert "Store A on Wed 11 Nov 2026 (Singles' Day)\n" in message.body


def test_a_holiday_the_day_before_was_too_still_says_so_while_a_week_before_was_not(manager, store_a):
    # Sat 2 May, Labor Day's second day in China: like Fri 1 May, unlike Sat 25 Apr its WoW is against.
    with time_machine.travel(datetime(2026, 5, 3, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    assert mail.outbox[0].subject.endswith(" · Labor Day")


def _rolled_up_with_gmv(store, total: str):
    """Mon 4 May rolled up with the GMV its anomaly is flagged at (else the email says late data changed it)."""
    paid = datetime(2026, 5, 4, 12, tzinfo=store.zone)
    OrderFactory(store=store, placed_at=paid, paid_at=paid, total=Decimal(total))
    rollup_day(store, paid.date())
    return paid.date()


def test_a_gmv_flagged_for_its_source_says_which_source_and_its_move_in_the_email(manager, store_a):
    day = _rolled_up_with_gmv(store_a, "86")
    Anomaly.objects.create(
        store=store_a, day=day, metric="gmv", value=86, baseline=100, band_low=80, band_high=120, change=-0.14,
        score=-2.6, direction="down", explanation="GMV −14 % vs usual Monday: paid-search GMV −60 %.",
        root_cause={"flagged_because": {"dimension": "traffic_source", "value": "paid_search", "change": -0.6}})
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0].replace("\u00a0", " ").replace("&nbsp;", " ")
    for part in (message.body.replace("\u00a0", " "), html):
        assert "usually 100.00 CNY on a Monday; flagged because of Paid search / through train (−60 %)" in part


def test_a_gmv_flagged_for_its_source_says_why_once_in_the_email(manager, store_a):
    day = _rolled_up_with_gmv(store_a, "86")
    # The explanation as the detector writes it: its sentence stays for the list, the page and the API.
    explanation = ("GMV −14 % vs usual Monday: paid-search GMV −60 %. (A move this size happens on some ordinary "
                   "days too; flagged because paid-search, which drove it, is abnormal.)")
    anomaly = Anomaly.objects.create(
        store=store_a, day=day, metric="gmv", value=86, baseline=100, band_low=80, band_high=120, change=-0.14,
        score=-2.6, direction="down", explanation=explanation,
        root_cause={"flagged_because": {"dimension": "traffic_source", "value": "paid_search", "change": -0.6}})
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0].replace("\u00a0", " ").replace("&nbsp;", " ")
    for part in (message.body, html):
        assert "GMV −14 % vs usual Monday: paid-search GMV −60 %." in part
        assert part.count("flagged because") == 1, part
        assert "ordinary days" not in part
        assert "on a Monday; flagged because of Paid search / through train (−60 %)" in part
    anomaly.refresh_from_db()
    assert anomaly.explanation == explanation


def test_the_activity_that_explains_a_rise_is_named_once_in_each_part(manager, store_a):
    from campaigns.models import Activity

    day = datetime(2026, 5, 4).date()
    rollup_day(store_a, day)
    promo = Activity.objects.create(store=store_a, name="Weekend full-reduction", kind="store_promotion",
                                    status="running", start_date=day, end_date=day)
    Anomaly.objects.create(  # the explanation as the detector writes it
        store=store_a, day=day, metric="gmv", value=180, baseline=100, band_low=80, band_high=120, change=0.8,
        score=6, direction="up", explained_by=promo,
        explanation="GMV +80 % vs usual Monday. Activity running that day: Weekend full-reduction.")
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    # Said once in the entry; the day's own activity is said once more by the day (its own test).
    html = message.alternatives[0][0].split("<h3>Anomalies</h3>", 1)[1]
    text = message.body.split("\nAnomalies (", 1)[1]
    assert text.count("Weekend full-reduction") == 1
    assert "Activity running that day: Weekend full-reduction" in text
    assert html.count("Weekend full-reduction") == 1 and "(activity: Weekend full-reduction)" in html


def test_a_flagged_gmv_stored_by_an_older_release_says_why_once_in_the_email(manager, store_a):
    day = datetime(2026, 5, 4).date()
    rollup_day(store_a, day)
    # The detector's words of an earlier release: the sentence was worded differently then.
    summary = "GMV −14 % vs usual Monday: paid-search GMV −60 %."
    Anomaly.objects.create(
        store=store_a, day=day, metric="gmv", value=86, baseline=100, band_low=80, band_high=120, change=-0.14,
        score=-2.6, direction="down", holiday="Labour Day",
        explanation=summary + " (GMV moves this much on some ordinary days too; flagged because paid-search, "
                              "which drove it, is abnormal.) Public holiday: Labour Day (downgraded).",
        root_cause={"summary": summary,
                    "flagged_because": {"dimension": "traffic_source", "value": "paid_search", "change": -0.6}})
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0].replace("\u00a0", " ").replace("&nbsp;", " ")
    for part in (message.body, html):
        assert part.count("flagged because") == 1, part
        assert "ordinary days" not in part
        assert summary + " Public holiday: Labour Day (downgraded)." in part


def test_an_activity_renamed_since_detection_is_named_once_by_its_name_now(manager, store_a):
    from campaigns.models import Activity

    day = datetime(2026, 5, 4).date()
    rollup_day(store_a, day)
    promo = Activity.objects.create(store=store_a, name="Weekend full-reduction", kind="store_promotion",
                                    status="running", start_date=day, end_date=day)
    Anomaly.objects.create(
        store=store_a, day=day, metric="gmv", value=180, baseline=100, band_low=80, band_high=120, change=0.8,
        score=6, direction="up", explained_by=promo,
        explanation="GMV +80 % vs usual Monday. Activity running that day: Weekend promo.",
        root_cause={"summary": "GMV +80 % vs usual Monday."})
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    # In the entry; the day's own activity is said by the day too (once, over its numbers).
    html = message.alternatives[0][0].split("<h3>Anomalies</h3>", 1)[1]
    for part in (message.body.split("\nAnomalies (", 1)[1], html):
        assert "Weekend promo" not in part
        assert part.count("Weekend full-reduction") == 1, part


def _flagged_rise_explained_by(store, activity_name: str, *, stored_summary: bool):
    """A GMV rise flagged for the paid-search jump that drove it while an activity ran, as the detector
    stores it (with its root cause's own summary, or without one, as an anomaly made by hand)."""
    from campaigns.models import Activity
    from metrics.anomaly import activity_note, corroboration_note

    day = datetime(2026, 5, 4).date()
    rollup_day(store, day)
    promo = Activity.objects.create(store=store, name=activity_name, kind="store_promotion", status="running",
                                    start_date=day, end_date=day)
    summary = "GMV +14 % vs usual Monday: paid-search GMV +60 %."
    cause = {"flagged_because": {"dimension": "traffic_source", "value": "paid_search", "change": 0.6}}
    anomaly = Anomaly.objects.create(
        store=store, day=day, metric="gmv", value=114, baseline=100, band_low=80, band_high=120, change=0.14,
        score=2.6, direction="up", explained_by=promo,
        explanation=summary + corroboration_note(store, "paid_search") + activity_note(promo),
        root_cause={"summary": summary, **cause} if stored_summary else cause)
    return anomaly, promo


@pytest.mark.parametrize("stored_summary", [True, False])
def test_an_activity_renamed_since_detection_leaves_the_reason_said_once_on_the_page_and_in_the_email(
        manager, store_a, client, stored_summary):
    anomaly, promo = _flagged_rise_explained_by(store_a, "Weekend promo", stored_summary=stored_summary)
    promo.name = "Weekend full-reduction"
    promo.save()
    client.force_login(manager.user)
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        detail = client.get(reverse("metrics:anomaly", args=[anomaly.pk])).content.decode()
        daily = client.get(reverse("metrics:daily") + "?day=2026-05-04").content.decode()
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    # In the entry; the day's own activity is said by the day too (once, over its numbers).
    html = message.alternatives[0][0].split("<h3>Anomalies</h3>", 1)[1]
    for part in (detail, daily.split("<h3>Anomalies", 1)[1], message.body.split("\nAnomalies (", 1)[1], html):
        assert "Weekend promo" not in part
        part = part.replace("\u00a0", " ").replace("&nbsp;", " ")
        assert "GMV +14 % vs usual Monday: paid-search GMV +60 %." in part
        assert "Weekend promo" not in part
        assert part.count("Weekend full-reduction") == 1, part
        # Said once: "flagged because …" in the email and the daily list, "Flagged for its source" on the page.
        assert part.lower().count("flagged because") + part.lower().count("flagged for its source") == 1, part


def test_email_speaks_store_time_and_tells_resolved_anomalies_from_open_ones(manager, store_a):
    day = datetime(2026, 5, 4).date()
    rollup_day(store_a, day)
    common = dict(store=store_a, day=day, value=1, baseline=2, band_low=1, band_high=3, change=-0.5, score=-5,
                  direction="down")
    Anomaly.objects.create(metric="gmv", explanation="GMV −50 %: paid-search GMV −90 %.", **common)
    Anomaly.objects.create(metric="orders", explanation="Paid orders −50 %.", status="resolved",
                           plan="Plan resumed at 07:00.", **common)
    Anomaly.objects.create(metric="gmv", dimension="traffic_source", dimension_value="paid_search",
                           explanation="Paid-search GMV −90 %.", **{**common, "score": -9})
    # 02:30 UTC is 10:30 in Shanghai, the store's zone: the day and hour a manager reads must be the store's.
    ViolationFactory(store=store_a, kind="Late shipment", points=1, amount=Decimal("1234.5"),
                     occurred_at=datetime(2026, 5, 4, 2, 30, tzinfo=ZoneInfo("UTC")))
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert "Mon 4 May: 2 open anomalies · " in message.subject
    html = message.alternatives[0][0].replace("\u00a0", " ")  # the HTML keeps each % with its number
    for part in (message.body, html):
        assert "Mon 4 May 10:30 Late shipment" in part
        assert "1 point," in part and "1,234.50 CNY deducted" in part
        assert "Paid orders −50 %." in part and "(resolved)" in part
        # The anomaly list's order (the headline, then the source that explains it), the resolved one last.
        assert part.index("GMV −50 %") < part.index("Paid-search GMV −90 %") < part.index("Paid orders −50 %.")
    assert "2 open, 3 in all" in message.body


def _inline_pngs(message) -> dict[str, Image.Image]:
    """The email's inline images by Content-ID, as a mail client resolves `cid:` links."""
    parts = message.message().walk()
    return {part["Content-ID"].strip("<>"): Image.open(io.BytesIO(part.get_payload(decode=True)))
            for part in parts if part.get_content_type() == "image/png"}


@pytest.mark.skipif(not shutil.which("chromium"), reason="the anomaly chart is exported by kaleido with Chromium")
def test_charts_are_inline_png_images_that_gmail_and_outlook_show(manager, store_a):
    zone = store_a.zone
    for day in range(28):  # 7 April to 4 May, the report day, when GMV fell to 20
        ts = datetime(2026, 4, 7, 12, tzinfo=zone) + timedelta(days=day)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 20))
        rollup_day(store_a, ts.date())
    anomaly = Anomaly.objects.create(
        store=store_a, day=datetime(2026, 5, 4).date(), metric="gmv", value=20, baseline=100, band_low=80,
        band_high=120, change=-0.8, score=-9, direction="down", explanation="GMV −80 %")
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "<svg" not in html  # Gmail and Outlook drop inline SVG
    images = _inline_pngs(message)
    linked = set(re.findall(r'src="cid:([^"]+)"', html))
    assert linked and linked == set(images)  # every image shown is in the email, none is left over
    assert images["spark-gmv@opsdesk"].size == (110, 26)
    # Each chart twice, both shown 600 px wide: the desktop's drawn at 2× for a high-density screen, the phone's
    # (shown about half as wide) at 1×.
    desktop, phone = (f"anomaly-{anomaly.pk}-{name}@opsdesk" for name in ("desktop", "phone"))
    assert images[desktop].size == (1200, 480) and images[phone].size == (600, 240)
    for cid in (desktop, phone):
        assert re.search(f'src="cid:{cid}"[^>]* width="600" height="240"', html)
        # The anomaly's day is marked in red on the chart.
        red = [px for px in images[cid].convert("RGB").get_flattened_data()
               if px[0] > 200 and px[1] < 80 and px[2] < 80]
        assert len(red) > 20
    assert "GMV −80 %" in message.body and "cid:" not in message.body


@pytest.mark.skipif(not shutil.which("chromium"), reason="the anomaly chart is exported by kaleido with Chromium")
def test_a_charts_dates_read_as_large_on_a_desktop_as_on_a_phone(manager, store_a):
    # One image drawn for a phone's half-size showed its dates twice as large in a desktop mail app's 600 px.
    for day in range(28):  # 7 April to 4 May, the report day, when GMV fell to 20
        ts = datetime(2026, 4, 7, 12, tzinfo=store_a.zone) + timedelta(days=day)
        OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal(100 if day < 27 else 20))
        rollup_day(store_a, ts.date())
    anomaly = Anomaly.objects.create(
        store=store_a, day=date(2026, 5, 4), metric="gmv", value=20, baseline=100, band_low=80, band_high=120,
        change=-0.8, score=-9, direction="down", explanation="GMV −80 %")
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    png = {part["Content-ID"]: part.get_payload(decode=True) for part in mail.outbox[0].message().walk()}
    on_a_desktop = axis_text_height(png[f"<anomaly-{anomaly.pk}-desktop@opsdesk>"], 600)
    on_a_phone = axis_text_height(png[f"<anomaly-{anomaly.pk}-phone@opsdesk>"], 300)
    assert 8 <= on_a_desktop <= 14  # the email's small print, not a heading
    assert on_a_desktop == pytest.approx(on_a_phone, rel=0.25)


@pytest.mark.skipif(not shutil.which("chromium"), reason="the anomaly chart is exported by kaleido with Chromium")
def test_a_chart_of_an_anomaly_late_data_changed_says_which_red_mark_is_which(manager, store_a):
    from metrics.rollup import refresh_days

    paid = datetime(2026, 5, 4, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("60"))
    rollup_day(store_a, paid.date())
    Anomaly.objects.create(  # GMV 60 against a usual 100, being worked on
        store=store_a, day=paid.date(), metric="gmv", value=60, baseline=100, band_low=80, band_high=120,
        change=-0.4, score=-6, direction="down", status="acknowledged", explanation="GMV −40 %")
    OrderFactory(store=store_a, placed_at=paid, paid_at=paid, total=Decimal("40"))  # the export came in late
    refresh_days(store_a, [paid.date()])
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0].replace("&nbsp;", " ")
    assert "red dot: flagged · red ring: the day now, after late data" in html and "red: the day" not in html
    for part in (message.body.replace("\u00a0", " "), html.replace("\u00a0", " ")):
        assert "GMV (main payments): 60.00 CNY, usually 100.00 CNY on a Monday; now 100.00 CNY after late data" in part


def test_failed_send_is_retried_next_run(manager, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    def boom(self, *a, **kw):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", boom)
    with time_machine.travel(datetime(2026, 5, 5, 8, 2, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0
        monkeypatch.undo()
        assert send_due_morning_emails() == 1
    assert len(mail.outbox) == 1


def test_email_lists_bad_review_cases_past_their_first_call_deadline(manager, store_a):
    from reviews.models import Review
    from reviews.services import open_case_if_bad

    opened = datetime(2026, 5, 3, 9, tzinfo=LONDON)
    late = Review.objects.create(store=store_a, external_id="R-late", rating=1, body="broken", created_at=opened)
    fresh = Review.objects.create(store=store_a, external_id="R-fresh", rating=2, body="meh",
                                  created_at=opened + timedelta(days=2))
    open_case_if_bad(late, now=opened)
    open_case_if_bad(fresh, now=opened + timedelta(days=2))
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "past their first-call deadline: 1" in part
        assert "https://desk.example.com/reviews/store-a/" in part


SHANGHAI_STORE_LA_MANAGER = "America/Los_Angeles"


def test_a_manager_far_west_of_the_store_gets_its_last_complete_day(manager):
    manager.email_timezone = SHANGHAI_STORE_LA_MANAGER
    manager.save()
    # 08:02 in Los Angeles is 00:02 on 15 Jan in Shanghai: the 14th ended two minutes ago and the nightly
    # job has not rolled it up yet. The report is of the 13th, complete.
    with time_machine.travel(datetime(2026, 1, 14, 8, 2, tzinfo=ZoneInfo(SHANGHAI_STORE_LA_MANAGER)), tick=False):
        assert send_due_morning_emails() == 1
    assert MorningEmail.objects.get().report_day.isoformat() == "2026-01-13"
    message = mail.outbox[0]
    assert "Tue 13 Jan" in message.subject
    # Its numbers name that day, not "Yesterday" (it is two days back for this manager): the HTML table's
    # column, the line over the text part's numbers.
    assert "Tue 13 Jan" in message.alternatives[0][0]
    assert "on Tue 13 Jan 2026\n" in message.body
    for part in (message.body, message.alternatives[0][0]):
        assert "Yesterday" not in part


def test_the_emails_daily_tracking_link_opens_the_day_the_email_reports(manager, store_a, client):
    manager.email_timezone = SHANGHAI_STORE_LA_MANAGER
    manager.save()
    ts = datetime(2026, 1, 13, 12, tzinfo=store_a.zone)
    OrderFactory(store=store_a, placed_at=ts, paid_at=ts, total=Decimal("321.09"))
    # 08:02 in Los Angeles, 00:02 on 15 Jan in Shanghai: the email reports the 13th, and the 14th is not
    # rolled up until 00:30 there; the link must not open "the 14th is not rolled up yet".
    with time_machine.travel(datetime(2026, 1, 14, 8, 2, tzinfo=ZoneInfo(SHANGHAI_STORE_LA_MANAGER)), tick=False):
        assert send_due_morning_emails() == 1
        [link] = re.findall(r"Daily tracking: https://desk\.example\.com(\S+)", mail.outbox[0].body)
        assert link in mail.outbox[0].alternatives[0][0].replace("&amp;", "&")
        client.force_login(manager.user)
        page = client.get(link).content.decode()
    assert "Tue 13 Jan" in page and "321.09" in page
    assert "not rolled up yet" not in page


def test_a_clock_change_never_reports_the_same_day_twice(manager):
    manager.email_timezone = SHANGHAI_STORE_LA_MANAGER
    manager.save()
    # Los Angeles moves its clocks on Sunday 8 March 2026; Shanghai does not. 08:02 there is 00:02 in
    # Shanghai before the change and 23:02 after it.
    for day in (7, 8, 9):
        with time_machine.travel(datetime(2026, 3, day, 8, 2, tzinfo=ZoneInfo(SHANGHAI_STORE_LA_MANAGER)),
                                 tick=False):
            send_due_morning_emails()
    reported = [m.subject.split(": ")[0] for m in mail.outbox]
    assert len(reported) == len(set(reported)) == 3, reported


@pytest.mark.parametrize("manager_zone, store_zone, first_day", [
    # Los Angeles falls back on 1 November 2026: its 08:02 is 00:02 in Tokyo before, 01:02 after.
    ("America/Los_Angeles", "Asia/Tokyo", datetime(2026, 10, 28)),
    # Auckland springs forward on 27 September 2026: New York's 08:02 is 00:02 there before, 01:02 after.
    ("America/New_York", "Pacific/Auckland", datetime(2026, 9, 23)),
])
def test_a_clock_change_that_moves_the_report_on_two_days_names_the_day_in_between(
        manager, store_a, manager_zone, store_zone, first_day):
    store_a.timezone = store_zone
    store_a.save()
    manager.email_timezone = manager_zone
    manager.save()
    beat = first_day.replace(minute=2, tzinfo=ZoneInfo("UTC"))
    for _ in range(8 * 24):  # the hourly beat
        with time_machine.travel(beat, tick=False):
            send_due_morning_emails()
        beat += timedelta(hours=1)
    sent = list(MorningEmail.objects.order_by("day").values_list("day", "report_day"))
    assert [day for day, _ in sent] == [sent[0][0] + timedelta(days=k) for k in range(len(sent))]  # every morning
    jumps = [(before, after) for (_, before), (_, after) in zip(sent, sent[1:], strict=False) if after != before]
    gaps = [after for before, after in jumps if after - before == timedelta(days=2)]
    assert len(gaps) == 1 and all(after - before <= timedelta(days=2) for before, after in jumps)
    # Each morning reports the freshest day; the one morning after the clock change names the day between.
    [email] = [m for m in mail.outbox if "clock change" in m.body]
    between = gaps[0] - timedelta(days=1)
    assert f"{gaps[0]:%a} {gaps[0].day} {gaps[0]:%b}:" in email.subject
    assert f"past {between:%a} {between.day} {between:%b}, which no email reported" in email.body
    html = email.alternatives[0][0]
    assert f"/metrics/daily/{store_a.slug}/?day={between.isoformat()}" in html and "which no email reported" in html


def test_a_new_email_zone_does_not_send_a_day_again(manager, store_a):
    store_a.timezone = "America/Los_Angeles"
    store_a.save()
    manager.email_timezone = ""  # the store's zone
    manager.save()
    with time_machine.travel(datetime(2026, 11, 26, 8, 2, tzinfo=store_a.zone), tick=False):
        assert send_due_morning_emails() == 1  # Los Angeles' 25 Nov
    manager.email_timezone = "Asia/Shanghai"
    manager.save()
    # 08:02 the next morning in Shanghai is 16:02 on the 26th in Los Angeles: the 25th is still its last
    # complete day, and it was sent already.
    with time_machine.travel(datetime(2026, 11, 27, 8, 2, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert send_due_morning_emails() == 0
    assert len(mail.outbox) == 1


def test_a_quiet_day_still_lists_what_is_open_from_earlier_days(manager, store_a):
    day = datetime(2026, 5, 4).date()
    rollup_day(store_a, day)
    Anomaly.objects.create(store=store_a, day=day - timedelta(days=2), metric="units", dimension="",
                           value=0, baseline=30, band_low=10, band_high=50, change=-1, score=-6, direction="down",
                           explanation="Units sold −100 % vs usual Saturday.", status="plan",
                           plan="Restock the jasmine tea by Tuesday.", owner=manager.user)
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    for part in (message.body, message.alternatives[0][0].replace("\u00a0", " ")):
        assert "Units sold −100 % vs usual Saturday." in part
        assert "Still open from earlier days: 1" in part
        # What was agreed, and by whom: the manager need not click through to see it is handled.
        assert "Units sold: 0, usually 30" in part and "Plan (boss): Restock the jasmine tea by Tuesday." in part
    assert "1 still open from earlier days" in message.alternatives[0][0]  # the preview line


def test_one_click_opt_out_from_the_email_itself_stops_the_next_one(manager, client):
    from django.test import Client

    with time_machine.travel(datetime(2026, 5, 5, 8, 2, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<https://desk\.example\.com(/metrics/email/opt-out/[^/]+/)>",
                       message.extra_headers["List-Unsubscribe"])[1]
    assert f"https://desk.example.com{url}" in message.body
    # Opening the link (a mail scanner does) changes nothing: it asks.
    assert "Stop these emails" in client.get(url).content.decode()
    manager.refresh_from_db()
    assert manager.morning_email
    # The mail app's one-click POST: no login, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "no longer gets the morning email" in response.content.decode()
    manager.refresh_from_db()
    assert not manager.morning_email
    with time_machine.travel(datetime(2026, 5, 6, 8, 2, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 0


def test_a_forged_or_mangled_opt_out_link_changes_nothing(manager, client):
    from django.core import signing

    forged = signing.dumps(manager.pk, salt="some other purpose")
    for token in (forged, "not-a-token"):
        assert client.post(f"/metrics/email/opt-out/{token}/").status_code == 400
    manager.refresh_from_db()
    assert manager.morning_email


@pytest.mark.parametrize(("url", "setting"), [
    ("/metrics/email/opt-out/not-a-token/", "Send me the morning email"),
    ("/campaigns/ads/alerts/opt-out/not-a-token/", "Email me new ad pacing alerts"),
])
def test_a_broken_opt_out_link_of_either_email_answers_the_same_400_page(client, url, setting):
    """The morning email's and the ad alerts' links say the same: broken or old, and how to opt out on the desk."""
    response = client.get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This link is not valid" in page and "broken or old" in page
    assert f'untick "{setting}"' in page.replace("&quot;", '"') and 'href="/stores/settings/"' in page


def test_a_penalty_resolved_on_the_violations_page_is_not_in_the_emails_open_list(manager, store_a, client):
    ViolationFactory(store=store_a, kind="Late shipment", external_id="TM-1")
    resolved = ViolationFactory(store=store_a, kind="False advertising", external_id="TM-2")
    client.force_login(manager.user)
    client.post(reverse("stores:violation_status", args=[store_a.slug, resolved.pk]), {"status": "resolved"})
    with time_machine.travel(datetime(2026, 5, 5, 8, 30, tzinfo=LONDON), tick=False):
        assert send_due_morning_emails() == 1
    message = mail.outbox[0]
    for part in (message.body, message.alternatives[0][0]):
        assert "Open violations: 1" in part
        assert "Late shipment" in part
        assert "False advertising" not in part
