"""The morning email's HTML as a phone shows it: its numbers table fits the screen, sparklines and all."""

import base64
import io

import pytest
from PIL import Image

from metrics.charts import sparkline_png
from metrics.rollup import HEADLINE, METRICS
from tests.metrics.test_email_layout import anomaly, render, row

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}  # the narrow end of today's phones


def email_on_a_phone(page, **changes) -> None:
    """The email of a busy Monday, its inline images as a mail app shows them (rows carry `vs` as
    metrics.email.report_context builds them)."""
    png = "data:image/png;base64," + base64.b64encode(sparkline_png([10, 12, 9, 14, 11, 13, 8])).decode()
    rows = [{**row(METRICS[m].label, METRICS[m].kind, value=1_234_567.89 if METRICS[m].kind == "money" else 0.0345,
                   before=1_000_000.0 if METRICS[m].kind == "money" else 0.05, week=0.0,
                   good_when_up=METRICS[m].higher_is_better), "spark": f"spark-{m}", "vs": changes.get("vs", {})}
            for m in HEADLINE]
    html, _ = render(rows=rows, **changes)
    for m in HEADLINE:
        html = html.replace(f"cid:spark-{m}", png)
    page.set_viewport_size(PHONE)
    page.set_content(html)


def test_the_numbers_fit_a_phone_and_their_sparklines_keep_their_size(page):
    email_on_a_phone(page, vs={"dod": "Thu 30 Apr (Spring sale)", "wow": "Mon 27 Apr (Labor Day)"})
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    widths = page.evaluate("[...document.querySelectorAll('img[alt$=\"last 14 days\"]')].map(i => i.width)")
    assert widths == [110] * len(HEADLINE)  # not squeezed to a few pixels beside four columns of numbers


def test_an_unusual_day_compared_with_is_said_once_over_its_column_not_in_every_row(page):
    email_on_a_phone(page, vs={"dod": "Thu 30 Apr (Spring sale)", "wow": "Mon 27 Apr (Labor Day)"})
    assert page.locator("text=vs Thu 30 Apr (Spring sale)").count() == 1
    heights = page.evaluate("[...document.querySelectorAll('table tr')].slice(1).map(r => r.offsetHeight)")
    assert max(heights) < 80, heights  # a label on two lines and its sparkline; no note four lines tall


def chart_png(width: int, height: int) -> str:
    image = Image.new("RGB", (width, height), "white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("viewport, shown", [(PHONE, "phone"), ({"width": 1280, "height": 800}, "desktop")])
def test_a_chart_shows_the_image_drawn_for_the_screens_width(page, viewport, shown):
    charted = anomaly(chart="anomaly-7-desktop@opsdesk", phone_chart="anomaly-7-phone@opsdesk")
    html, _ = render(anomalies=[charted], open_anomaly_count=1)
    html = (html.replace("cid:anomaly-7-desktop@opsdesk", chart_png(1200, 480))
            .replace("cid:anomaly-7-phone@opsdesk", chart_png(600, 240)))
    page.set_viewport_size(viewport)
    page.set_content(html)
    # (natural width, shown width) of each chart image a reader sees: one, of the width it was drawn for.
    seen = page.evaluate("[...document.querySelectorAll('img[alt^=\"Chart\"]')].filter(i => i.offsetHeight > 0)"
                         ".map(i => [i.naturalWidth, i.width])")
    [(natural, width)] = seen
    assert natural == {"phone": 600, "desktop": 1200}[shown]
    assert (width == 600) if shown == "desktop" else (width < 360)  # the phone's fits its screen
