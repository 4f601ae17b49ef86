"""An operator creates an activity from a template in the browser and finds it on the calendar."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.activity_templates import install_defaults
from campaigns.models import Activity

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
