"""An anomaly's page on a phone (390 px), as the demo's QA pass read it: the root cause's table is a card a row, its
source's name on one line, nothing scrolled off the right; the note that the day was flagged for its source is a
one-line badge and its words, not a sentence squeezed into a pill."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics.models import Anomaly

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SOURCE = "Paid search / through train"

# The root-cause card's cells (and the table) against the screen: what is past its right edge, whether it scrolls.
ROOT_CAUSE = """() => { const card = [...document.querySelectorAll('section.card')].find(s => s.querySelector('h2')
        ?.textContent === 'Root cause');
    const cells = [...card.querySelectorAll('td')];
    return {off: cells.filter(c => c.getBoundingClientRect().right > window.innerWidth + 1)
                      .map(c => c.dataset.label),
            scrolls: [...card.querySelectorAll('.table-wrap')].some(w => w.scrollWidth > w.clientWidth + 1)}; }"""
# Text spanning more than one line box: a badge's, or the source's name in its cell.
LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
    return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size; }"""


@pytest.fixture
def flagged_for_its_source(store_a):
    """The demo's Saturday: GMV −28 %, flagged because paid search stopped (−100 %)."""
    return Anomaly.objects.create(
        store=store_a, day=date(2026, 11, 28), metric="gmv", value=Decimal("39609.16"),
        baseline=Decimal("54735.20"), band_low=Decimal("45000"), band_high=Decimal("65000"), change=-0.28,
        score=-1.9, direction="down", explanation="GMV −28 % vs usual Saturday: paid-search GMV −100 %.",
        root_cause={
            "summary": "GMV −28 % vs usual Saturday: paid-search GMV −100 %.",
            "dimensions": [{"dimension": "traffic_source", "metric": "gmv", "surprise": 0.13, "explanatory_power": 1.4,
                            "candidates": [{"value": "paid_search", "label": SOURCE, "expected": 21114.47,
                                            "actual": 0.0, "surprise": 0.13, "explanatory_power": 1.4}]}],
            "flagged_because": {"dimension": "traffic_source", "value": "paid_search", "change": -1.0}})


def test_an_anomalys_root_cause_and_its_flag_read_on_a_phone(page, live_server, login, screenshot, operator_a,
                                                            flagged_for_its_source):
    login("op-a")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("metrics:anomaly", args=[flagged_for_its_source.pk]))
    screenshot("phone")
    assert page.evaluate(ROOT_CAUSE) == {"off": [], "scrolls": False}
    name = page.locator("section.card td").filter(has_text=SOURCE)
    assert name.evaluate(LINES) == 1  # not "Paid / search / / / through / train", a word a line
    badges = page.locator("main .badge")
    assert badges.count() >= 2  # its status and the flag
    assert {badge.inner_text(): badge.evaluate(LINES) for badge in badges.all()} == {
        badge.inner_text(): 1 for badge in badges.all()}
    assert page.get_by_text(f"{SOURCE} (−100\u00a0%) drove it").is_visible()
