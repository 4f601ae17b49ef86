"""Template helpers of the daily pages and the morning email: metric values and changes."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from metrics.models import Dimension
from metrics.rollup import METRICS
from metrics.rootcause import pct

register = template.Library()


@register.filter
def metric_value(value, kind):
    """Money with thousands and 2 decimals, counts as integers, ratios as percentages, multiples
    (ROAS: ad sales per unit of spend, as ad tools show it) as 3.48×."""
    if value is None or value == "":
        return "–"
    value = float(value)
    if kind == "ratio":
        return f"{value * 100:.2f} %"
    if kind == "multiple":
        return f"{value:,.2f}×"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


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
    return format_html('<span class="{}">{}</span>', _tone(change, good_when_up), keep_pct(pct(change)))


def _tone(change: float, good_when_up) -> str:
    """up / down (good / bad for the business), muted (no move) or plain (a metric nobody judges)."""
    if good_when_up is None:
        return "plain"
    if abs(change) < 0.005:
        return "muted"
    return "up" if (change > 0) == bool(good_when_up) else "down"


# The row keys (of the daily tables and the email alike): each change and the earlier value it was computed from.
EARLIER_VALUE = {"dod": "day_before", "wow": "week_before"}
# Inline, not classes: Gmail drops <style> blocks, and with them the red and green.
EMAIL_COLOURS = {"up": "#067647", "down": "#b42318", "muted": "#667085"}


def _row_change(row, which: str) -> tuple[str, str]:
    """The words and tone of a row's change: '−34 %' with a non-breaking space, '±0' for no move, and
    'from 0' where the earlier value was 0 (a percentage of 0 does not exist, and '–' reads as 'no
    data'). Rows without the earlier value (`day_before`, `week_before`) fall back to the percentage."""
    change, value, good_when_up = row.get(which), row.get("value"), row.get("good_when_up")
    if row.get(EARLIER_VALUE[which]) == 0 and value is not None:
        return ("±0", _tone(0.0, good_when_up)) if value == 0 else ("from 0", _tone(value, good_when_up))
    if change is None:
        return "–", "muted"
    change = float(change)
    words = pct(change)
    return ("±0" if words == pct(0.0) else words.replace(" ", "\u00a0")), _tone(change, good_when_up)


def _compared_with(row, which: str) -> str:
    """'Fri 1 May (Labor Day)' where the change is measured against a holiday or an activity's day (the
    rows' `vs`, metrics.compare.unusual_earlier_days), else ''."""
    return (row.get("vs") or {}).get(which, "")


@register.filter
def row_change(row, which):
    """`{{ r|row_change:"dod" }}`: the row's change in a daily table, coloured by class, and what it is
    measured against when that was no usual day."""
    words, tone = _row_change(row, which)
    change = format_html('<span class="{}">{}</span>', tone, words)
    if note := _compared_with(row, which):
        change += format_html('<br><small class="muted">vs {}</small>', note)
    return change


@register.filter
def email_change(row, which):
    """`{{ r|email_change:"dod" }}`: the row's change for the HTML email, coloured inline, never wrapped; what
    it is measured against, when that was no usual day, under it."""
    words, tone = _row_change(row, which)
    colour = EMAIL_COLOURS.get(tone)
    css = f"white-space:nowrap;color:{colour}" if colour else "white-space:nowrap"
    change = format_html('<span style="{}">{}</span>', css, words)
    if note := _compared_with(row, which):
        change += format_html('<br><span style="white-space:normal;color:{};font-size:12px">vs {}</span>',
                              EMAIL_COLOURS["muted"], note)
    return change


@register.filter
def text_change(row, which):
    """`{{ r|text_change:"dod" }}`: the row's change for the plain-text email."""
    return _row_change(row, which)[0]


@register.filter
def points(change):
    """A change of share (fractions: 0.025) in points: '+2.5 pts', '−1.0 pts', '±0 pts', '–' unknown.

    A share's move is said in points, not percent: 40 % → 50 % is +10 points, not +25 %."""
    if change is None or change == "":
        return "–"
    number = round(float(change) * 100, 1)
    if number == 0:
        return "±0\u00a0pts"
    sign = "+" if number > 0 else "\u2212"
    return f"{sign}{abs(number):.1f}\u00a0pts"


@register.filter
def keep_pct(text):
    """Running text with each '−97 %' kept on one line (a non-breaking space before the %): a phone
    would otherwise wrap 'AOV +1' and '% — visitors moved most' apart. Escaped as usual. The one way for
    emails and pages alike; stored texts keep their plain spaces."""
    return str(text).replace(" %", "\u00a0%")


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
