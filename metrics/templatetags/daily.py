"""Template helpers of the daily pages and the morning email: metric values and changes."""

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from metrics import figures
from metrics.figures import pct
from metrics.models import Dimension
from metrics.rollup import METRICS

register = template.Library()


@register.filter
def metric_value(value, kind):
    """Money with thousands and 2 decimals, counts as integers, ratios as percentages, multiples
    (ROAS: ad sales per unit of spend, as ad tools show it) as 3.48× (metrics.figures)."""
    return figures.metric_value(value, kind)


@register.filter
def money(value, currency=""):
    """`{{ spend|money:store.currency }}`: an amount as `metric_value` shows money, followed by its currency
    when one is given (tables that mix stores); "–" for no amount."""
    text = metric_value(value, "money")
    return f"{text}\u00a0{currency}" if currency and text != "–" else text


@register.filter
def amount(anomaly, field):
    """`{{ a|amount:"value" }}`: an anomaly's number as `metric_value` shows it, money with its store's
    currency: the anomaly list mixes stores, and 289.26 USD beside 25,978.89 CNY must not read alike."""
    text = metric_value(getattr(anomaly, field), anomaly.info.kind)
    if anomaly.info.kind == "money" and text != "–":
        text += f"\u00a0{anomaly.store.currency}"
    return text


@register.filter
def change_pct(change, good_when_up=True):
    """'+12 %' coloured green when the move is good for the business, red when bad, plain when
    `good_when_up` is None (a metric neither way is good for, such as ad spend)."""
    if change is None or change == "":
        return mark_safe('<span class="muted">–</span>')  # noqa: S308 - a constant
    change = float(change)
    return format_html('<span class="{}">{}</span>', figures.tone(change, good_when_up), keep_pct(pct(change)))


# The row keys (of the daily tables and the email alike): each change and the earlier value it was computed from.
EARLIER_VALUE = {"dod": "day_before", "wow": "week_before"}
# Inline, not classes: Gmail drops <style> blocks, and with them the red and green.
EMAIL_COLOURS = {"up": "#067647", "down": "#b42318", "muted": "#667085"}


def _row_change(row, which: str) -> tuple[str, str]:
    """The words and tone of a row's change (metrics.figures.change_words): '−34 %' kept on one line, '±0' for
    no move, 'from 0' where the earlier value (`day_before`, `week_before`) was 0; a rate's (kind "ratio":
    conversion, a share) in points, '−4.1 pts', as the live view writes it."""
    value, earlier = row.get("value"), row.get(EARLIER_VALUE[which])
    if row.get("kind") == "ratio":
        moved = None if value is None or earlier is None else float(value) - float(earlier)
        return figures.change_words(moved, good_when_up=row.get("good_when_up"), in_points=True)
    return figures.change_words(row.get(which), value=value, earlier=earlier, good_when_up=row.get("good_when_up"))


@register.filter
def row_change(row, which):
    """`{{ r|row_change:"dod" }}`: the row's change in a daily table, coloured by class. What it is measured
    against, when that was no usual day, the table says once over its column (metrics/_metric_table.html), as
    the email does: under each change it made every row two lines tall."""
    words, tone = _row_change(row, which)
    return format_html('<span class="{}">{}</span>', tone, words)


@register.filter
def email_change(row, which):
    """`{{ r|email_change:"dod" }}`: the row's change for the HTML email, coloured inline, never wrapped. What
    it is measured against, when that was no usual day, the email says once over its column: under each
    of its eleven changes it made every row four lines tall on a phone."""
    words, tone = _row_change(row, which)
    colour = EMAIL_COLOURS.get(tone)
    css = f"white-space:nowrap;color:{colour}" if colour else "white-space:nowrap"
    return format_html('<span style="{}">{}</span>', css, words)


@register.filter
def email_peers(note):
    """`{{ r.peers|email_peers }}`: the peers' note of a row (`metrics.peers.peer_note`) for the HTML email, its gap
    to the average coloured inline as the changes beside it."""
    gap = ""
    if note["gap"]:
        colour = EMAIL_COLOURS.get(note["tone"])
        css = f"white-space:nowrap;color:{colour}" if colour else "white-space:nowrap"
        gap = format_html(' · <span style="{}">{}</span>\u00a0vs\u00a0avg', css, note["gap"])
    return format_html('<span style="color:#667085;font-size:12px">{}{}</span>', note["text"], gap)


@register.filter
def text_change(row, which):
    """`{{ r|text_change:"dod" }}`: the row's change for the plain-text email."""
    return _row_change(row, which)[0]


@register.filter
def points(change):
    """A change of share (fractions: 0.025) in points: '+2.5 pts', '±0 pts', '–' unknown (metrics.figures)."""
    return figures.points(change)


@register.filter
def keep_pct(text):
    """Running text with each '−97 %' kept on one line (a non-breaking space before the %): a phone
    would otherwise wrap 'AOV +1' and '% — visitors moved most' apart. Escaped as usual. The one way for
    emails and pages alike; stored texts keep their plain spaces. An amount keeps its currency beside it
    too ('588.00 CNY')."""
    return _AMOUNT_CURRENCY.sub("\\1\u00a0\\2", str(text).replace(" %", "\u00a0%"))


_AMOUNT_CURRENCY = re.compile(r"(\d) ([A-Z]{3})\b")


@register.filter
def brief(text, limit):
    """`{{ a.explanation|brief:140 }}`: the text cut at a sentence, clause or word, never inside a figure
    (metrics.figures.brief); the page offers the whole text beside it."""
    return figures.brief(text, int(limit))


@register.filter
def plain_pct(change):
    return pct(None if change in (None, "") else float(change))


@register.filter
def score(value):
    """An anomaly score with a real minus sign, as the app writes every other negative number: "−2.8"."""
    return "–" if value is None else f"{value:.1f}".replace("-", "\u2212")


@register.filter
def share_of_change(share):
    """A root-cause share of the change in words: '85 %', or 'all' when the value explains the whole
    move (Adtributor's share passes 100 % when the other values moved the other way)."""
    if share is None or share == "":
        return "–"
    share = float(share)
    return "all" if share >= 0.995 else f"{share * 100:.0f} %"


@register.filter
def metric_label(metric):
    """'aov' → 'Average order value' (the label without its parenthesis)."""
    info = METRICS.get(metric)
    return info.short_label if info else metric


@register.filter
def metric_kind(metric):
    info = METRICS.get(metric)
    return info.kind if info else "money"


@register.filter
def dimension_label(dimension):
    return Dimension(dimension).label if dimension in Dimension.values else dimension
