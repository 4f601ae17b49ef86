"""An operator creates an activity from a template in the browser and finds it on the calendar."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from campaigns.activity_templates import install_defaults
from campaigns.models import Activity
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_creates_an_activity_from_a_template_and_sees_it_on_the_calendar(
        page, live_server, login, screenshot, operator_a, store_a):
    install_defaults()  # the migration's rows do not survive other transactional tests' flushes
    start = timezone.localdate() + timedelta(days=3)
    login("op-a")
    page.click("nav.duties >> text=Activities")
    page.click("nav.subnav >> text=New activity")
    page.click("text=Use “Content post”")
    assert "steps become this activity's checklist" in page.inner_text("main")
    page.fill("#id_name", "Autumn tea tasting post")
    page.fill("#id_start_date", start.isoformat())
    page.fill("#id_end_date", start.isoformat())
    page.select_option("#id_d-channel", "weibo")
    page.fill("#id_d-publish_at", f"{start.isoformat()}T20:00")
    screenshot("form")
    page.click("button:has-text('Create activity')")
    page.wait_for_selector("h1:has-text('Autumn tea tasting post')")
    activity = Activity.objects.get(name="Autumn tea tasting post")
    assert activity.checklist.count() == 4 and activity.store == store_a
    assert page.locator("ul.checklist li").count() == 4
    page.locator("ul.checklist li").first.locator("button:has-text('Done')").click()
    page.wait_for_selector("[data-progress='25']")

    page.goto(f"{live_server.url}/campaigns/activities/calendar/?date={start.isoformat()}")
    cell = page.locator(f"td[data-date='{start.isoformat()}']")
    assert cell.locator("a.act", has_text="Autumn tea tasting post").is_visible()
    screenshot("calendar")
    page.select_option("select[name=view]", "week")
    page.click("button:has-text('Show')")
    assert page.locator(f"td[data-date='{start.isoformat()}'] a.act", has_text="Autumn tea tasting post").is_visible()
    cell = page.locator(f"td[data-date='{start.isoformat()}']")
    cell.locator("a.act").first.click()
    page.wait_for_selector("h1:has-text('Autumn tea tasting post')")


def _a_week_with_two_days(store):
    """A day three days off and another day of its week (the week view shows both)."""
    day = store.today() + timedelta(days=3)
    other = day - timedelta(days=day.weekday()) if day.weekday() else day + timedelta(days=1)
    return day, other


def test_operator_drags_an_activity_to_another_day_and_it_stays_there(page, live_server, login, operator_a, store_a):
    day, other = _a_week_with_two_days(store_a)
    Activity.objects.create(store=store_a, name="Hero bundle week", kind="related_sales", start_date=day,
                            end_date=day, details={"mode": "bundle"})
    login("op-a")
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?view=week&date={day.isoformat()}")
    assert page.get_by_text("Drag an activity to another day").is_visible()

    page.drag_and_drop(f"td[data-date='{day.isoformat()}'] a.act", f"td[data-date='{other.isoformat()}']")

    page.wait_for_selector("#cal-messages li:has-text('Moved “Hero bundle week”')")
    assert page.locator(f"td[data-date='{other.isoformat()}'] a.act", has_text="Hero bundle week").is_visible()
    page.reload()
    assert page.locator(f"td[data-date='{other.isoformat()}'] a.act", has_text="Hero bundle week").is_visible()
    assert page.locator(f"td[data-date='{day.isoformat()}'] a.act").count() == 0


def test_a_refused_drag_snaps_back_and_says_why(page, live_server, login, operator_a, store_a):
    day, other = _a_week_with_two_days(store_a)
    Activity.objects.create(store=store_a, name="Finished sale", kind="store_promotion", status="done",
                            start_date=day, end_date=day, details={"mechanism": "discount", "discount_percent": "10"})
    login("op-a")
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?view=week&date={day.isoformat()}")

    page.drag_and_drop(f"td[data-date='{day.isoformat()}'] a.act", f"td[data-date='{other.isoformat()}']")

    page.wait_for_selector("#cal-messages li.error:has-text('A finished (done) activity keeps its days')")
    assert page.locator(f"td[data-date='{day.isoformat()}'] a.act", has_text="Finished sale").is_visible()
    assert page.locator(f"td[data-date='{other.isoformat()}'] a.act").count() == 0



@pytest.fixture
def same_names_in_two_stores(store_a, store_b, operator_a):
    """Store A and Store B each run "Double 11 …" on 11 Nov, the day each one's Double 12 sign-up closes."""
    MembershipFactory(store=store_b, user=operator_a, role="operator")
    for store in (store_a, store_b):
        Activity.objects.create(store=store, name="Double 11 full-reduction weekend for the whole store",
                                kind="store_promotion", start_date=date(2026, 11, 11), end_date=date(2026, 11, 12))
        Activity.objects.create(store=store, name="Tmall Double 12 official platform event",
                                kind="platform_event", start_date=date(2026, 12, 12), end_date=date(2026, 12, 12),
                                signup_deadline=date(2026, 11, 11))


def test_two_stores_same_named_activities_each_show_their_store(page, live_server, login, same_names_in_two_stores):
    login("op-a")
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?date=2026-11-11")
    for entry in ("a.act", "a.deadline"):
        stores = page.locator(f"td[data-date='2026-11-11'] {entry} .store")
        assert stores.all_inner_texts() == ["Store A", "Store B"]
        # Not cut off behind the long name's ellipsis, where it was before.
        assert not any(stores.evaluate_all("els => els.map(e => e.scrollWidth > e.clientWidth)"))
        assert all(s.is_visible() for s in stores.all())


def test_on_a_phone_a_sign_up_deadline_is_one_line_like_other_entries(
        page, live_server, login, same_names_in_two_stores):
    login("op-a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?date=2026-11-11")
    cell = page.locator("td[data-date='2026-11-11']")
    activity = cell.locator("a.act").first.bounding_box()["height"]
    deadline = cell.locator("a.deadline").first.bounding_box()["height"]
    assert deadline == pytest.approx(activity, abs=2)  # was ~190 px: the name wrapped a word a line


def test_on_a_phone_the_month_is_a_list_of_days_with_their_activities_readable(
        page, live_server, login, operator_a, store_a):
    # Seven columns on 390 px cut every entry to "Lo…" / "Bu…".
    Activity.objects.create(store=store_a, name="Lottery for last week's buyers", kind="gift",
                            start_date=date(2026, 11, 14), end_date=date(2026, 11, 20))
    Activity.objects.create(store=store_a, name="Bundle: Camp mug + Daypack 22L", kind="related_sales",
                            start_date=date(2026, 11, 20), end_date=date(2026, 12, 3))
    login("op-a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?date=2026-11-11")
    day = page.locator("td[data-date='2026-11-20']")
    assert day.locator(".day:visible").inner_text() == "Fri 20 Nov"  # a day of a list names its weekday
    entries = day.locator("a.act")
    assert entries.all_inner_texts() == ["Lottery for last week's buyers", "Bundle: Camp mug + Daypack 22L"]
    assert not any(entries.evaluate_all("els => els.map(e => e.scrollWidth > e.clientWidth)"))  # none cut short
    # The month's days with something on, in order, one under the other; the rest are left out.
    shown = page.locator("td[data-date]:visible").evaluate_all("tds => tds.map(td => td.dataset.date)")
    assert shown == [f"2026-11-{d}" for d in range(14, 31)]
    tops = [page.locator(f"td[data-date='{d}']").bounding_box()["y"] for d in shown[:3]]
    assert tops == sorted(tops) and len(set(tops)) == 3
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2
    assert not page.get_by_text("Nothing on the calendar").is_visible()
    page.goto(f"{live_server.url}/campaigns/activities/calendar/?date=2027-01-11")  # a month with nothing on
    assert page.get_by_text("Nothing on the calendar in these days.").is_visible()
    page.go_back()
    # A laptop keeps the month's grid.
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.locator("td[data-date]:visible").count() == 42  # 26 Oct – 6 Dec
    assert day.locator(".day:visible").inner_text() == "20"


def _luminance(css_colour: str) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(v)) for v in re.findall(r"[\d.]+", css_colour)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_legend_colours_meet_wcag_aa_contrast(page, live_server, login, operator_a):
    login("op-a")
    page.goto(f"{live_server.url}/campaigns/activities/calendar/")
    page_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    swatches = page.locator(".legend .swatch").evaluate_all("""els => els.map(e => {
        const s = getComputedStyle(e);
        return {kind: e.textContent, border: s.borderTopStyle === 'none' ? null : s.borderLeftColor,
                fill: s.backgroundColor, text: s.color};
    })""")
    assert [s["kind"] for s in swatches] == ["store promotion", "official platform event", "gift / lottery",
                                             "related sales / bundle", "content post"]
    for swatch in swatches:
        assert swatch["border"] and _contrast(swatch["border"], page_bg) >= 3, swatch  # WCAG 1.4.11, non-text
        assert _contrast(swatch["text"], swatch["fill"]) >= 4.5, swatch  # WCAG 1.4.3, text
