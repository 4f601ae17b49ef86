"""The bad-review report's charts as a manager reads them on a laptop and a phone: every title, tick and label
whole inside its chart, no legend over the words it explains, the plot given the room, and the bad-rate axis
ticked in round numbers.

Four abreast at 1366 px each chart had ~270 px: the weekly title ran out of its chart ("…rate by w"), the legend
beside the plot left it 64 px wide, the rate axis read "5.87, 11.74" (ticks synced to the other axis's
gridlines), and the products' titles, turned on their side under the bars, were cut at the chart's bottom edge.
"""

import pytest
from django.urls import reverse

from tests.e2e.test_layouts import VIEWPORTS
from tests.world import seed_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHART_PROBLEMS = """() => [...document.querySelectorAll('[id^="chart-"]')].flatMap(card => {
    const name = card.id, problems = [];
    const svg = card.querySelector('svg.main-svg');
    if (!svg) return [`${name}: not drawn`];
    const box = svg.getBoundingClientRect();
    const texts = sel => [...card.querySelectorAll(sel)].filter(t => t.textContent.trim())
        .map(t => ({text: t.textContent.trim(), r: t.getBoundingClientRect()}));
    for (const w of texts('.gtitle, .xtick text, .ytick text, .y2tick text, .slicetext, .legendtext, .g-ytitle text, '
                          + '.g-y2title text, .g-xtitle text')) {
        if (w.r.left < box.left - 1 || w.r.right > box.right + 1
            || w.r.top < box.top - 1 || w.r.bottom > box.bottom + 1)
            problems.push(`${name}: "${w.text}" cut at the chart's edge`);
    }
    const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const drawn = texts('.gtitle, .slicetext, .xtick text, .ytick text, .y2tick text, .g-y2title text');
    for (const l of texts('.legendtext')) for (const d of drawn)
        if (meet(l.r, d.r)) problems.push(`${name}: legend "${l.text}" over "${d.text}"`);
    const plot = card.querySelector('.nsewdrag');
    if (plot && plot.getBoundingClientRect().width < 0.4 * box.width)
        problems.push(`${name}: plot ${Math.round(plot.getBoundingClientRect().width)} of ${Math.round(box.width)} px`);
    for (const t of texts('.y2tick text')) if (!/^\\d+$/.test(t.text)) problems.push(`${name}: rate tick ${t.text}`);
    return problems;
})"""


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_report_charts_show_every_word_whole_and_give_the_plot_room(page, live_server, login, screenshot, size):
    store, _, operator = seed_world()
    operator.set_password("pw-for-tests-123")
    operator.save()
    login(operator.username)
    page.set_viewport_size(VIEWPORTS[size])
    page.goto(live_server.url + reverse("reviews:report", args=[store.slug]))
    page.wait_for_selector("[id^='chart-'] svg.main-svg")
    screenshot(size)
    assert sorted(page.evaluate("[...document.querySelectorAll('[id^=\"chart-\"]')].map(c => c.id)")) == [
        "chart-causes", "chart-products", "chart-resolutions", "chart-weekly"]
    assert page.evaluate(CHART_PROBLEMS) == []
