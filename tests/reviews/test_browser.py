"""In the browser: an operator goes from the desk to an overdue case, calls, is told why an illegal
move is refused, records what happened and works the case to resolved, then sees the report's charts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import browser_type_launch_args, login, screenshot  # noqa: F401  (fixtures)
from tests.factories import OrderFactory, ProductFactory
from tests.reviews.conftest import make_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_works_an_overdue_case_from_the_desk(page, live_server, login, screenshot, operator_a,  # noqa: F811
                                                       store_a):
    product = ProductFactory(store=store_a, title="Celadon gaiwan set")
    order = OrderFactory(store=store_a, buyer_phone="+8613800138000")
    opened = timezone.now() - timedelta(hours=30)
    case = make_case(store_a, rating=1, title="差", body="盖子裂了", product=product, order=order, now=opened,
                     created_at=opened - timedelta(hours=2))
    login("op-a")
    page.click("text=Bad-review cases overdue for a first call")
    page.click(f"a:text-is('#{case.pk}')")
    assert page.locator("a.call").get_attribute("href") == "tel:+8613800138000"
    assert "+86*******8000" in page.locator("a.call").inner_text()
    page.select_option("select[name=outcome]", "reached")
    page.fill("textarea[name=notes]", "Lid cracked in the box; wants a replacement.")
    page.click("button:text('Log call')")
    page.click("button:text('→ Contacted')")
    assert page.locator("h1 .badge").first.inner_text() == "Contacted"
    page.click("button:text('→ Product check')")
    assert "needs a root cause" in page.locator(".messages").inner_text()
    screenshot("case")
    # What really happened, then on through the product check to resolved.
    page.fill("#id_situation", "The lid cracked in transit; the box had no inner padding.")
    page.select_option("#id_root_cause", "logistics")
    page.click("button:text('Save findings')")
    page.click("button:text('→ Product check')")
    page.select_option("#id_check_finding", "not_reproduced")
    page.select_option("#id_resolution", "replacement")
    page.fill("#id_resolution_notes", "New set sent with padded packing.")
    page.click("button:text('Save findings')")
    page.click("button:text('→ Resolved')")
    assert page.locator("h1 .badge").first.inner_text() == "Resolved"
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.resolution) == ("resolved", "logistics", "replacement")
    steps = list(case.events.order_by("pk").values_list("to_status", flat=True))
    assert steps[-3:] == ["contacted", "product_check", "resolved"]
    screenshot("resolved")
    page.goto(f"{live_server.url}/reviews/{store_a.slug}/report/")
    page.wait_for_selector("#chart-weekly .main-svg")
    screenshot("report")


# Each text box's label against the box: the label's top minus the box's, in px (0: side by side at the top).
LABEL_OFFSETS = """[...document.querySelectorAll('textarea')].map(box => {
    const label = document.querySelector(`label[for="${box.id}"]`);
    return [box.name, Math.round(label.getBoundingClientRect().top - box.getBoundingClientRect().top)];
})"""
# The gaps between the page's cards and grids of cards, top to bottom, in px.
CARD_GAPS = """[...document.querySelectorAll('main > .card, main > .grid')].map(el => el.getBoundingClientRect())
    .map((box, i, all) => i ? Math.round(box.top - all[i - 1].bottom) : null).slice(1)"""


def test_a_cases_forms_put_each_label_at_the_top_of_its_text_box_and_cards_apart(page, live_server, login,  # noqa: F811
                                                                                operator_a, store_a):
    product = ProductFactory(store=store_a, title="Celadon gaiwan set")
    case = make_case(store_a, rating=1, title="差", body="盖子裂了", product=product,
                     order=OrderFactory(store=store_a, buyer_phone="+8613800138000"))
    login("op-a")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/reviews/{store_a.slug}/cases/{case.pk}/")
    offsets = dict(page.evaluate(LABEL_OFFSETS))
    assert {"notes", "situation", "check_notes", "resolution_notes", "detail_page", "text"} <= offsets.keys()
    # Beside the box's first line, or above the box where the line is too narrow: never down by its bottom edge.
    assert all(offset <= 4 for offset in offsets.values()), offsets
    assert all(gap >= 12 for gap in page.evaluate(CARD_GAPS)), page.evaluate(CARD_GAPS)
    # A field's hint reads as a hint, as on the app's other forms: muted, not as loud as the label.
    hint = page.locator("#id_notes_helptext")
    assert hint.evaluate("el => getComputedStyle(el).color") == "rgb(102, 112, 133)"  # --muted
