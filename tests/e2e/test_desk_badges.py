"""The desk's counts stay readable beside a long label: "387" is one number, not three digits stacked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import Member, Message, MessageStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Badges whose text spans more than one line box.
WRAPPED_BADGES = """[...document.querySelectorAll('ul.items .badge')].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
    return tops.some((top, i) => i > 0 && top - tops[i - 1] > 4);
}).map(el => el.textContent.trim())"""


def test_a_three_digit_count_beside_a_long_label_stays_on_one_line(page, live_server, login, operator_a, store_a):
    member = Member.objects.create(store=store_a, phone="+14155550123", name="Ada", joined_at=timezone.now())
    later = timezone.now() + timedelta(hours=8)
    Message.objects.bulk_create([
        Message(store=store_a, member=member, flow="campaign", occasion=f"campaign:{n}", body="Hi",
                status=MessageStatus.QUEUED, scheduled_for=later) for n in range(387)
    ])
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    badge = page.locator("ul.items li", has_text="Texts waiting for 09:00").locator(".badge")
    assert badge.inner_text() == "387"
    assert page.evaluate(WRAPPED_BADGES) == []
