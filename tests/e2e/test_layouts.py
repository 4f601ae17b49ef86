"""Every page an operator opens is usable at 1366×768 and at phone width, with no script blocked or broken.

Pages are found from the URL conf (as in tests/integration/test_url_sweep.py), so a new page is checked too.
A horizontal scroll bar on the page body, a number in a table broken over two lines (a wide table
scrolls in its .table-wrap instead), a link drawn as a button split over two lines, a console error
(a CSP-blocked inline script shows up as one) or an uncaught exception fails the sweep; a screenshot of
each page at each size is kept. The checks are here (page_urls, the scripts they evaluate); they run in
tests/e2e/sweep.py, on the same load of each page as the axe checks. The tests below check one page's layout
each, with objects made for it.
"""

import re

import pytest
from django.urls import reverse

from tests.integration.test_url_sweep import MACHINE, PUBLIC, SKIP, routes
from tests.world import KWARGS, objects

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
NOT_PAGES = {"logout", "api-v1:openapi-json", "api-v1:api-root", "api-v1:openapi-view"}
# Table number cells with a piece of text that runs over two lines ("26,/517/.79"); a cell may still
# hold two pieces on two lines by design (a value and its change below it).
BROKEN_NUMBERS = """[...document.querySelectorAll('.table-wrap td.num')].filter(td => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange(); range.selectNodeContents(node);
        const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
        if (tops.some((top, i) => i > 0 && top - tops[i - 1] > 4)) return true;
    }
    return false;
}).map(td => td.textContent.trim()).slice(0, 3)"""

# A list meant to be read on a phone (table.stack) shows every cell: none scrolled off to the right.
OFF_SCREEN_CELLS = """[...document.querySelectorAll('table.stack td')]
    .filter(td => td.getBoundingClientRect().right > window.innerWidth + 1)
    .map(td => td.dataset.label || td.textContent.trim()).slice(0, 3)"""


# Lists an operator works through on a phone (activities, ad plans, members, bad-review cases and reviews, the
# stores' real-time figures, an activity's review): no column is scrolled off to the right, where a case's status
# and call deadline, a plan's spend or a review's uplift and its interval went unseen.
PHONE_LISTS = ["campaigns:activities", "campaigns:ads", "members:index", "reviews:index", "reviews:store",
               "metrics:live", "campaigns:activity_review"]
OFF_SCREEN_LIST_CELLS = """[...document.querySelectorAll('.table-wrap td')]
    .filter(td => td.getBoundingClientRect().right > window.innerWidth + 1)
    .map(td => td.textContent.trim()).slice(0, 3)"""


# A link drawn as a button ("Product launches") split over two lines: half its label outside its border.
SPLIT_BUTTONS = """[...document.querySelectorAll('.button')].filter(el => el.getClientRects().length > 1)
    .map(el => el.textContent.trim()).slice(0, 3)"""


# Requests a page started after its load event (resource timing; the screenshot gives them time to finish). A
# lazy image (loading="lazy": ad creatives' thumbnails) never holds the load event, so it may start either side of
# it: not a page drawing late; its width is fixed by its attributes.
LOADED_LATE = """(() => { const loaded = performance.getEntriesByType('navigation')[0].loadEventStart;
    const lazy = new Set([...document.querySelectorAll('img[loading=lazy]')].map(img => img.src));
    return performance.getEntriesByType('resource').filter(e => e.startTime >= loaded && !lazy.has(e.name))
        .map(e => e.name).slice(0, 3);
})()"""


def page_urls(store) -> list[str]:
    world = objects(store)
    urls = []
    for route, name, _ in routes():
        if name in MACHINE | SKIP | NOT_PAGES or name in PUBLIC and "<" in route:
            continue
        if "<" in route:
            if name not in KWARGS:
                continue
            urls.append(reverse(name, kwargs=KWARGS[name](world)))
        else:
            urls.append(reverse(name))
    return sorted(set(urls))


def test_on_a_phone_a_texts_status_keeps_its_error_beside_it(page, live_server, login, operator_a, store_a):
    # A stacked row spread "Undelivered" and its error badge apart, the status in mid-row, the badge at the edge.
    from members.models import Message
    from tests.members.conftest import make_member
    Message.objects.create(store=store_a, member=make_member(store_a), flow="holiday", occasion="holiday:2026-12-01",
                           body="x", status="undelivered", error_code="99999", scheduled_for="2026-12-01T17:00Z")
    login("op-a")
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{live_server.url}{reverse('members:texts')}")
    cell = page.locator("table.stack td[data-label='Status']")
    words = cell.evaluate("""td => { const range = document.createRange();
        const text = [...td.querySelectorAll('*'), td].flatMap(e => [...e.childNodes])
            .find(n => n.nodeType === 3 && n.textContent.includes('Undelivered'));
        range.selectNodeContents(text); return range.getBoundingClientRect().right; }""")
    badge = cell.locator(".badge").bounding_box()["x"]
    assert 0 <= badge - words < 12  # one space apart, as on a laptop


# Where the text of an element's first link ends, and where the element's next link starts.
LINK_GAP = """el => { const [one, two] = el.querySelectorAll('a');
    const range = document.createRange(); range.selectNodeContents(one);
    return two.getBoundingClientRect().left - range.getBoundingClientRect().right; }"""


def test_on_a_phone_a_texts_member_keeps_its_conversation_link_beside_it(page, live_server, login, operator_a,
                                                                          store_a):
    # A stacked row spread "Buyer 1883 · conversation" over the whole width: the name mid-row, the link at the edge.
    from members.models import Message
    from tests.members.conftest import make_member
    Message.objects.create(store=store_a, member=make_member(store_a, name="Buyer 1883"), flow="holiday",
                           occasion="holiday:2026-12-01", body="x", status="sent", scheduled_for="2026-12-01T17:00Z")
    login("op-a")
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{live_server.url}{reverse('members:texts')}")
    cell = page.locator("table.stack td[data-label='Member']")
    assert cell.inner_text().strip() == "Buyer 1883 · conversation"
    assert 0 <= cell.evaluate(LINK_GAP) < 20  # " · " apart, as on a laptop
    # …and the pair sits at the right, where every other value of the card is.
    right = cell.locator("a").nth(1).bounding_box()
    box = cell.bounding_box()
    assert box["x"] + box["width"] - (right["x"] + right["width"]) < 2


def _text_lines(locator) -> int:
    """How many lines the text of `locator` takes."""
    return locator.evaluate("""el => { const range = document.createRange(); range.selectNodeContents(el);
        return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size; }""")


def test_on_a_phone_a_members_texts_show_their_time_on_one_line(page, live_server, login, operator_a, store_a):
    # On a phone the member page's texts were a 5-column table: "2026-/11-20/16:46" down a 60 px column.
    from members.models import Message
    from tests.members.conftest import make_member
    member = make_member(store_a)
    Message.objects.create(store=store_a, member=member, flow="after_sales", occasion="after_sales:order 106659",
                           body="Hi Buyer, how is your order 106659 working out? If anything is wrong, just reply to "
                                "this text and we will get back to you. - Pacific Outfitters",
                           status="delivered", sent_at="2026-11-20T08:46Z", scheduled_for="2026-11-20T08:46Z")
    login("op-a")
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(live_server.url + member.get_absolute_url())
    when = page.locator("td", has_text=re.compile(r"Fri 20 Nov( 2026)? 16:46"))
    assert when.count() == 1
    assert _text_lines(when) == 1
    assert page.evaluate(OFF_SCREEN_LIST_CELLS) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_busy_conversation_fits_the_screen(page, live_server, login, screenshot, operator_a, store_a, store_b,
                                             size):
    # The sweep's demo member has no texts; a thread with a long text, a failed one and a reply waiting in
    # two stores (a Mark answered button each) must still show every cell.
    from members.models import InboundReply, Message
    from tests.factories import MembershipFactory
    from tests.members.conftest import make_member
    MembershipFactory(store=store_b, user=operator_a, role="operator")
    members = [make_member(store, phone="+8613800138000") for store in (store_a, store_b)]
    Message.objects.create(store=store_a, member=members[0], flow="after_sales", occasion="after_sales:order 107056",
                           body="您好，您在Jade Tea House购买的商品已签收，使用中有任何问题请直接回复本短信。" * 2,
                           status="undelivered", error_code="30006", scheduled_for="2026-12-01T01:00Z")
    InboundReply.objects.bulk_create([InboundReply(store=m.store, member=m, kind="help", body="HELP 壶盖关不上",
                                                   provider_sid="SMin", received_at="2026-12-01T02:00Z")
                                      for m in members])
    # An opt-out we confirm ourselves: its line across the row, then our answer kept in both stores.
    InboundReply.objects.bulk_create([InboundReply(store=m.store, member=m, kind="opt_out", body="退订，谢谢",
                                                   provider_sid="SMout", received_at="2026-12-01T03:00Z")
                                      for m in members])
    Message.objects.bulk_create([Message(store=m.store, member=m, flow="answer", occasion="answer:SMout",
                                         body="您已退订Store A、Store B的短信，不会再收到。回复START可重新订阅。",
                                         status="sent", sent_at="2026-12-01T03:00Z", scheduled_for="2026-12-01T03:00Z")
                                 for m in members])
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(f"{live_server.url}{reverse('members:conversation', args=[members[0].pk])}")
    assert page.get_by_text("Opted out by texting 退订，谢谢").count() == 1
    assert page.locator("table.stack button", has_text="Mark answered").count() == 2
    assert page.locator("table.stack details summary", has_text="Text back").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2
    assert page.evaluate(OFF_SCREEN_CELLS) == []
    screenshot(f"{size}-conversation")


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_related_sales_create_bundle_buttons_keep_to_one_line(page, live_server, login, operator_a, store_a, size):
    # Beside long product titles the column squeezed each button to "Create" / "bundle".
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from tests.factories import OrderFactory, OrderLineFactory, ProductFactory
    tray, gaiwan = (ProductFactory(store=store_a, title=t) for t in [
        "Bamboo tea tray · 2026 edition, gift-wrapped, ships today (true-to-photo colours)",
        "Celadon gaiwan set · hand-thrown, with a saucer and lid, in a gift box (six colours)"])
    for n in range(3):
        order = OrderFactory(store=store_a, placed_at=datetime(2026, 11, 2 + n, 12, tzinfo=ZoneInfo("Asia/Shanghai")))
        OrderLineFactory(order=order, line_no=1, product=tray)
        OrderLineFactory(order=order, line_no=2, product=gaiwan)
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=ZoneInfo("Asia/Shanghai"))):
        page.goto(f"{live_server.url}{reverse('campaigns:related_sales')}?store={store_a.slug}")
    buttons = page.locator("button", has_text="Create bundle")
    assert buttons.count() == 2
    for button in buttons.all():
        assert _text_lines(button) == 1


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_members_orders_and_replies_read_on_a_phone(page, live_server, login, operator_a, store_a, size):
    # On a phone the Orders table broke its Paid date at the hyphen ("2026-" / "11-25") and the Replies table
    # stayed four squeezed columns; the laptop keeps its tables.
    from members.models import InboundReply, MemberOrder
    from tests.factories import OrderFactory
    from tests.members.conftest import make_member
    member = make_member(store_a)
    MemberOrder.objects.create(member=member, order=OrderFactory(store=store_a, external_id="106659",
                                                                 paid_at="2026-11-25T02:00Z", total=1234.5))
    InboundReply.objects.create(store=store_a, member=member, kind="help", provider_sid="SM1",
                                body="HELP the lid of the gaiwan does not close, what can I do about it?",
                                received_at="2026-11-26T02:00Z")
    InboundReply.objects.create(store=store_a, member=member, kind="message", provider_sid="SM2", body="thanks",
                                received_at="2026-11-26T03:00Z", answered_at="2026-11-26T04:00Z",
                                answered_by=operator_a)
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(live_server.url + member.get_absolute_url())
    paid = page.locator("td", has_text=re.compile(r"Wed 25 Nov( 2026)? 10:00"))
    assert paid.count() == 1 and _text_lines(paid) == 1
    for text in [r"Thu 26 Nov( 2026)? 10:00", r"Thu 26 Nov( 2026)? 11:00"]:
        assert _text_lines(page.locator("td", has_text=re.compile(text))) == 1, text
    assert _text_lines(page.get_by_text(re.compile(r"Thu 26 Nov( 2026)? 12:00 by op-a"))) == 1
    assert page.evaluate(OFF_SCREEN_LIST_CELLS) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2
    button = page.get_by_role("button", name="Mark answered")
    assert _text_lines(button) == 1
    if size == "phone":  # one labelled card per order and per reply
        labels = page.locator("table.stack td").evaluate_all("tds => tds.map(td => td.dataset.label)")
        assert {"Order", "Paid", "Status", "Total (CNY)", "Received", "Kind", "Reply", "Answered"} <= set(labels)
        answered = page.locator("td[data-label='Answered']", has_text="op-a")
        box, content = answered.bounding_box(), answered.locator(":scope > span").bounding_box()
        assert abs(box["x"] + box["width"] - (content["x"] + content["width"])) < 2  # content at the right
        # The button sits at the right of its card, as every other value.
        button_box = button.bounding_box()
        assert box["x"] + box["width"] - (button_box["x"] + button_box["width"]) < 2
    else:  # the laptop's tables: a heading row each, every order and reply one line
        assert page.locator("th", has_text="Paid").is_visible() and page.locator("th", has_text="Received").is_visible()
        row = page.locator("tr", has_text="#106659").bounding_box()
        assert row["height"] < 40


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_cases_history_is_readable_on_a_phone(page, live_server, login, operator_a, store_a, size):
    # On a phone each history entry's note was a right-hand column squeezed to a word a line (on a laptop too).
    from reviews.models import CaseEvent
    from tests.reviews.conftest import make_case
    case = make_case(store_a, rating=1, title="差", body="盖子裂了")
    note = "Customer says the lid cracked in transit; sending a replacement with the next courier pickup."
    CaseEvent.objects.create(case=case, from_status="new", to_status="contacting", by=operator_a, note=note)
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(f"{live_server.url}/reviews/{store_a.slug}/cases/{case.pk}/")
    _assert_note_under_its_entry(page.locator("li", has_text=note), note)


def _assert_note_under_its_entry(entry, note):
    """The entry's line whole, its note under it at the card's full width (on a laptop too: the case page's
    cards are three abreast, each about as narrow as a phone)."""
    what, why = entry.locator(":scope > span").bounding_box(), entry.locator("div", has_text=note).bounding_box()
    assert why["y"] >= what["y"] + what["height"] - 1
    assert why["width"] >= entry.bounding_box()["width"] - 2
    assert _text_lines(entry.locator(":scope > span")) == 1
    assert _text_lines(entry.locator("div", has_text=note)) <= 3


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_cases_calls_are_readable_on_a_phone(page, live_server, login, operator_a, store_a, size):
    # "Call the customer" listed each call as its time, outcome and caller squeezed to a word a line ("2026-11-28 /
    # 06:07 · / Reached · / op-a") beside what the customer said, on a phone and on a laptop alike.
    from reviews.models import ContactAttempt
    from tests.factories import OrderFactory
    from tests.reviews.conftest import make_case
    case = make_case(store_a, rating=1, title="差", body="盖子裂了",
                     order=OrderFactory(store=store_a, buyer_phone="+8613800138000"))
    said = "Customer says the lid cracked in transit; sending a replacement with the next courier pickup."
    ContactAttempt.objects.create(case=case, by=operator_a, outcome="no_answer")
    ContactAttempt.objects.create(case=case, by=operator_a, outcome="reached", notes=said)
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(f"{live_server.url}/reviews/{store_a.slug}/cases/{case.pk}/")
    calls = page.locator("section.card", has_text="Call the customer")
    _assert_note_under_its_entry(calls.locator("li", has_text=said), said)
    assert _text_lines(calls.locator("li", has_text="No answer").locator(":scope > span")) == 1
    card = calls.bounding_box()  # the form's fields within the card, nothing cut at its right
    for field in calls.locator("select, textarea, button").all():
        box = field.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"], field.evaluate("el => el.outerHTML")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_recent_imports_name_their_time_zone_on_a_phone(page, live_server, login, operator_a, store_a, size):
    # The laptop's heading says "Uploaded (Asia/Shanghai time)"; a phone's card said only "Uploaded".
    from stores.models import ImportJob
    ImportJob.objects.create(store=store_a, created_by=operator_a, kind="orders", name="orders.csv",
                             status="done")
    login("op-a")
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(f"{live_server.url}{reverse('stores:import', args=[store_a.slug])}")
    uploaded = page.locator("table.stack td").first
    if size == "phone":
        label = uploaded.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"Uploaded (Asia/Shanghai time)"'
    else:
        assert page.locator("th", has_text="Uploaded (Asia/Shanghai time)").is_visible()
        assert uploaded.evaluate("td => getComputedStyle(td, '::before').content") in ("none", "normal")
