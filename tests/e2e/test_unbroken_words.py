"""Short words stay whole: a checklist's "Undo" button is not "U/n/d/o", a member's phone number is one line
and does not run into the next figure, a column heading is not "Requiremen/ts"."""

import re
from datetime import date

import pytest
from django.utils import timezone

from campaigns.models import Activity, ChecklistItem
from members.models import Member
from tests.ads.conftest import AdPlanFactory
from tests.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Elements matching the selector with a word split over two lines (a break at a space or after a hyphen is fine).
BROKEN = """selector => [...document.querySelectorAll(selector)].filter(el => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent;
        let previous = null;
        for (let i = 0; i < text.length; i++) {
            const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
            const box = range.getClientRects()[0];
            if (/\\s/.test(text[i]) || !box) { previous = null; continue; }
            if (previous !== null && box.top - previous > 4) return true;
            previous = text[i] === "-" ? null : box.top;
        }
    }
    return false;
}).map(el => el.textContent.trim())"""


def test_checklist_buttons_and_headings_keep_their_words_whole(page, live_server, login, operator_a, store_a):
    activity = Activity.objects.create(
        store=store_a, name="Year-end sale sign-up", kind="platform_event", start_date=date(2026, 12, 18),
        end_date=date(2026, 12, 20), signup_deadline=date(2026, 12, 2),
        details={"event": "other", "event_name": "Year-end sale", "signup_status": "not_started",
                 "requirements": "At least 15 % off the lowest price of the last 30 days; stock for 500 orders."})
    ChecklistItem.objects.create(activity=activity, position=1, title="Read the event's entry rules",
                                 resource="Rules PDF", due_date=date(2026, 11, 27), done_at=timezone.now(),
                                 done_by=operator_a)
    ChecklistItem.objects.create(activity=activity, position=2,
                                 title="Choose products and check margins after the event discount", link="/stores/",
                                 resource="Product list, cost sheet", data_to_watch="Last 30 days orders per product",
                                 due_date=date(2026, 11, 27), done_at=timezone.now(), done_by=operator_a)
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + activity.get_absolute_url())
    assert page.locator("button", has_text="Undo").count() == 2
    assert page.evaluate(BROKEN, "button") == []
    assert page.evaluate(BROKEN, "th") == []


@pytest.mark.parametrize("width", [1366, 390])
def test_a_members_phone_is_one_line_clear_of_the_next_figure(page, live_server, login, operator_a, store_a, width):
    member = Member.objects.create(store=store_a, phone="+8615897660856", name="Buyer 59", sms_consent=True,
                                   joined_at=timezone.now())
    login("op-a")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + member.get_absolute_url())
    phone = page.locator(".kpi .value").first
    assert phone.inner_text() == "+86*******0856"
    assert page.evaluate(BROKEN, ".kpi .value") == []
    boxes = [page.locator(".kpi").nth(i).bounding_box() for i in range(2)]
    value = phone.bounding_box()
    same_row = abs(boxes[0]["y"] - boxes[1]["y"]) < 1
    assert not same_row or value["x"] + value["width"] <= boxes[1]["x"]


# Texts with a "%" on another line than the number before it ("3.08 / %"): a space, even a no-break one, does not
# keep them together where main's break-anywhere squeezes a value to its narrowest.
SPLIT_PERCENT = """() => {
    const split = [];
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent;
        const top = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                           const box = r.getClientRects()[0]; return box ? box.top : null; };
        for (let i = text.indexOf("%"); i > 0; i = text.indexOf("%", i + 1)) {
            let j = i - 1;
            while (j >= 0 && /\\s/.test(text[j])) j--;
            if (j >= 0 && /[0-9]/.test(text[j]) && Math.abs(top(i) - top(j)) > 4) split.push(text.trim());
        }
    }
    return split;
}"""


@pytest.mark.parametrize("width", [390, 320])
def test_ad_pacing_keeps_a_percentage_with_its_number_on_a_phone(page, live_server, login, operator_a, store_a,
                                                                 width):
    plan = AdPlanFactory(store=store_a, name="Through train · core keywords")
    login("op-a")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + plan.get_absolute_url())
    assert "%" in page.locator("#pacing").inner_text()
    assert page.evaluate(SPLIT_PERCENT) == []


# Days ("Fri 20 Nov", "Fri 20 Nov 2025") in the element split over two lines: a line may break between days, not in one.
SPLIT_DATES = """selector => {
    const split = [];
    const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.textContent.matchAll(/[A-Z][a-z]{2} \\d{1,2} [A-Z][a-z]{2}( \\d{4})?/g)) {
            const range = document.createRange();
            range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (tops.size > 1) split.push(match[0]);
        }
    }
    return split;
}"""


def test_a_lottery_card_keeps_its_dates_whole_on_a_phone(page, live_server, login, operator_a, store_a):
    # The window read "… in the window, 2026-" / "11-20)." on a 390 px phone.
    from campaigns.models import LotteryDraw
    activity = Activity.objects.create(
        store=store_a, name="Lottery for last week's buyers", kind="gift", status="done",
        start_date=date(2026, 11, 14), end_date=date(2026, 11, 20),
        details={"gift_type": "lottery", "gift_item": "Gift box", "prize_count": 3})
    LotteryDraw.objects.create(activity=activity, source="orders", window_start=date(2026, 11, 14),
                               window_end=date(2026, 11, 20), entrant_count=630, entrants_sha256="0" * 64,
                               seed="demo-jade-tea", winner_count=3, winners=[], drawn_by=operator_a)
    login("op-a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + activity.get_absolute_url())
    assert re.search(r"Sat 14 – Fri 20 Nov( 2026)?\)", page.locator("#lottery").inner_text())
    for width in range(320, 481, 4):  # wherever the line happens to end, on any phone
        page.set_viewport_size({"width": width, "height": 844})
        assert page.evaluate(SPLIT_DATES, "#lottery") == [], f"at {width} px"


# Cells whose text spans more than one line box.
WRAPPED_CELLS = """selector => [...document.querySelectorAll(selector)].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size > 1;
}).map(el => el.textContent.trim())"""


SKUS = ".table-wrap tr td:nth-child(2)"  # the products table's SKU column


def test_a_products_sku_is_one_line_on_a_phone(page, live_server, login, operator_a, store_a):
    # Read "JAD-" / "008" at 390 px: a SKU is a code, typed or searched for whole.
    for sku, title in (("JAD-008", "Jade Tea House Tieguanyin oolong, spring harvest, 250 g tin"),
                       ("JAD-BOX-2026-XMAS", "Christmas tasting box with six teas and a glass infuser")):
        ProductFactory(store=store_a, sku=sku, title=title, category="Oolong and gift boxes")
    login("op-a")
    page.goto(live_server.url + store_a.get_absolute_url())
    for width in (390, 320):
        page.set_viewport_size({"width": width, "height": 844})
        assert page.evaluate(WRAPPED_CELLS, SKUS) == [], f"at {width} px"
    assert page.locator(SKUS).all_inner_texts() == ["JAD-BOX-2026-XMAS", "JAD-008"]


# Figures whose text runs over more than one line (bottoms differ by more than a line's descent).
TWO_LINES = """selector => [...document.querySelectorAll(selector)].filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const bottoms = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.bottom);
    return Math.max(...bottoms) - Math.min(...bottoms) > 10;
}).map(el => el.textContent.trim())"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_desks_money_figures_keep_their_currency_on_their_line(page, live_server, login, operator_a, store_a,
                                                                   store_b, width):
    # "30,957.62" over "CNY" in a desk card of two stores at 1366 px: the currency went to a line of its own.
    from tests.factories import MembershipFactory, OrderFactory

    MembershipFactory(store=store_b, user=operator_a, role="operator")
    OrderFactory(store=store_a, total="34327.48", placed_at=timezone.now(), paid_at=timezone.now())
    login("op-a")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + "/")
    assert "34,327.48 CNY" in page.locator(".kpi .value").first.inner_text()
    assert page.evaluate(TWO_LINES, ".kpi .value") == []
