"""The desk's counts stay readable beside a long label: "387" is one number, not three digits stacked, and a
count beside a label of two lines is a round badge, not a pill stretched to the label's height. The stores'
cards share the screen's width."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Activity
from members.models import Member, Message, MessageStatus
from tests.factories import MembershipFactory, OrderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Badges whose text spans more than one line box.
WRAPPED_BADGES = """[...document.querySelectorAll('ul.items .badge')].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
    return tops.some((top, i) => i > 0 && top - tops[i - 1] > 4);
}).map(el => el.textContent.trim())"""

# Badges taller than one line of their text (stretched to the height of the label beside them).
STRETCHED_BADGES = """[...document.querySelectorAll('ul.items .badge')].filter(el => {
    const style = getComputedStyle(el);
    const oneLine = parseFloat(style.lineHeight) + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    return el.getBoundingClientRect().height > oneLine + 1;
}).map(el => el.closest('li').textContent.trim())"""


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


def test_a_count_beside_a_two_line_label_stays_one_line_high(page, live_server, login, operator_a, store_a):
    deadline = store_a.today() + timedelta(days=3)
    Activity.objects.create(store=store_a, name="Double 12", kind="platform_event", signup_deadline=deadline,
                            start_date=deadline + timedelta(days=9), end_date=deadline + timedelta(days=10),
                            details={"event": "double_12", "signup_status": "not_started"})
    login("op-a")
    page.set_viewport_size({"width": 320, "height": 640})
    label = page.locator("ul.items li", has_text="sign-up deadlines").locator("a")
    assert label.bounding_box()["height"] > 30  # the label takes two lines on this screen
    assert page.evaluate(STRETCHED_BADGES) == []


def test_two_stores_cards_share_the_laptop_screen(page, live_server, login, operator_a, store_a, store_b):
    MembershipFactory(store=store_b, user=operator_a, role="operator")
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    grid = page.locator(".grid").bounding_box()
    cards = [page.locator(".card[data-store]").nth(i).bounding_box() for i in range(2)]
    assert cards[0]["y"] == cards[1]["y"]
    assert cards[1]["x"] + cards[1]["width"] >= grid["x"] + grid["width"] - 1, "an empty column beside the stores"


def test_an_items_note_sits_under_its_label_and_its_count_lines_up_with_the_others(page, live_server, login,
                                                                                   operator_a, store_a):
    """'oldest paid 61 h ago' beside the count pushed the count to the middle of the card (seen in the demo)."""
    now = timezone.now()
    for hours in (61, 44):  # one late, one due within 6 h
        paid_at = now - timedelta(hours=hours)
        OrderFactory(store=store_a, placed_at=paid_at - timedelta(minutes=5), paid_at=paid_at)
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    late = page.locator("ul.items li", has_text="shipping promise")
    due = page.locator("ul.items li", has_text="due to ship")
    label, note = late.locator("a").bounding_box(), late.get_by_text("oldest paid 61 h ago").bounding_box()
    assert note["y"] >= label["y"] + label["height"] - 1, "the note is under the label"
    badges = [row.locator(".badge").bounding_box() for row in (late, due)]
    assert abs((badges[0]["x"] + badges[0]["width"]) - (badges[1]["x"] + badges[1]["width"])) < 1
