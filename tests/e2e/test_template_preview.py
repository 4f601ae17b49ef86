"""A manager writing a text template sees it with sample values and its SMS length as they type, before it
has a name, and a bad placeholder as soon as it is typed; nothing is saved until they press Save."""

import pytest
from django.urls import reverse

from members.models import SmsTemplate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_preview_follows_the_text_as_the_manager_types(page, live_server, login, screenshot, manager_a, store_a):
    login("mgr-a")
    page.goto(live_server.url + reverse("members:template_new", args=[store_a.slug]))
    preview = page.locator("#preview-card")
    assert "Type the text" in preview.inner_text()
    page.fill("#id_body", "Hi {first_name}, thanks for shopping at {store}!")
    page.get_by_test_id("preview").wait_for()
    assert f"Hi Mei, thanks for shopping at {store_a.name}!" in preview.inner_text()
    assert "1 SMS segment" in preview.inner_text() and "GSM-7" in preview.inner_text()
    page.fill("#id_body", "Hi {first_name} 🎄 " + "x" * 70)  # an emoji: UCS-2, 67 a segment
    page.locator("#preview-card", has_text="2 SMS segments").wait_for()
    assert "UCS-2" in preview.inner_text()
    page.fill("#id_body", "Hi {member.phone}")
    page.get_by_test_id("preview-error").wait_for()
    assert "Unknown placeholder" in preview.inner_text()
    screenshot("template-preview")
    assert not SmsTemplate.objects.exists()
