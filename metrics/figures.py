"""How the app writes a figure and its change: one way for the daily pages, the morning email and the live view.

A short day reads 'Fri 8 May' everywhere, with its year ('Fri 8 May 2025') where it is not this year (`day_words`),
or always where it is read later than it is written (`day_with_year`: an email's heading).
Money with thousands and 2 decimals, counts whole, ratios as percentages with 2 decimals, multiples as 3.48×.
A change of a count or money is relative, in whole percents ('−34 %', '+1,250 %'); a change of a rate (conversion, a
share) is in points with one decimal ('+2.5 pts': 40 % → 50 % is +10 points, not +25 %). A real minus sign,
'±0' for a change that rounds to nothing, 'from 0' where the earlier value was 0 (a percentage of nothing
does not exist, and '–' reads as "no data").
"""

from __future__ import annotations

import math
import re
from datetime import date

from django.utils import timezone

NBSP = "\u00a0"
MINUS = "\u2212"


def short_day(day: date) -> str:
    """A day in a subject or a note, as the pages write it (Django's "D j M"): 'Fri 8 May', never 'Fri 08 May'."""
    return f"{day:%a} {day.day} {day:%b}"


def day_words(day: date, this_year: int | None = None) -> str:
    """A day as operators read it (the `day` template filter and texts built in Python): 'Fri 18 Dec', or
    'Fri 18 Dec 2025' for a day outside `this_year` (by default this year in the active zone)."""
    this_year = timezone.localdate().year if this_year is None else this_year
    return short_day(day) if day.year == this_year else day_with_year(day)


def day_with_year(day: date) -> str:
    """A short day with its year, 'Sat 28 Nov 2026': for what is read later, when "this year" is no guide."""
    return f"{short_day(day)} {day.year}"


def metric_value(value, kind: str) -> str:
    """A figure of `kind` (money | count | ratio | multiple, metrics.rollup.MetricInfo.kind); '–' for none."""
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


def pct(value: float | None) -> str:
    """A relative change (a fraction) in running text: '−32 %' with a real minus sign, '+5 %', '–' for unknown;
    thousands separated as the figures beside it are ('+36,997 %' beside '36,998.00')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = round(value * 100)
    if number == 0:
        return "±0 %"
    return f"{'+' if number > 0 else MINUS}{abs(number):,} %"


def points(change: float | None) -> str:
    """A change of a rate or share (fractions: 0.025) in points: '+2.5 pts', '−1.0 pts', '±0 pts', '–' unknown."""
    if change is None or change == "":
        return "–"
    number = round(float(change) * 100, 1)
    if number == 0:
        return f"±0{NBSP}pts"
    return f"{'+' if number > 0 else MINUS}{abs(number):.1f}{NBSP}pts"


def tone(change: float, good_when_up) -> str:
    """up / down (good / bad for the business), muted (no move) or plain (a metric nobody judges)."""
    if good_when_up is None:
        return "plain"
    if abs(change) < 0.005:
        return "muted"
    return "up" if (change > 0) == bool(good_when_up) else "down"


def change_words(change, *, value=None, earlier=None, good_when_up=True, in_points: bool = False) -> tuple[str, str]:
    """The words and tone of a change, kept on one line: a relative change ('−34 %', '±0', 'from 0') or,
    `in_points`, a change of a rate ('+0.8 pts'). `value` and `earlier` are what it was computed from."""
    if in_points:
        if change is None:
            return "–", "muted"
        words = points(change)
        # The tone follows the words: +0.4 pts is a move, though 0.004 as a relative change would be none.
        return words, tone(0.0 if words.startswith("±0") else math.copysign(1.0, float(change)), good_when_up)
    if earlier == 0 and value is not None:
        return ("±0", tone(0.0, good_when_up)) if value == 0 else ("from 0", tone(float(value), good_when_up))
    if change is None:
        return "–", "muted"
    change = float(change)
    words = pct(change)
    if words == pct(0.0):
        return "±0", tone(0.0, good_when_up)
    return words.replace(" ", NBSP), tone(change, good_when_up)


# A space inside a figure: a number and its unit ('−36 %', '+0.8 pts', '631.79 CNY'). A text is never cut there.
_FIGURE_SPACE = re.compile(r"(?<=\d)[ \u00a0](?=%|pts\b|[A-Z]{3}\b)")
_SENTENCE_END, _CLAUSE_END = ".!?", ",;:\u2014"


def brief(text: str, limit: int) -> str:
    """`text` in at most `limit` characters for a list's column, '…' where it was cut: at the end of a sentence
    that keeps at least half of it, else of a clause (a comma, a colon, a dash), else between words, outside
    brackets where it can; never inside a figure ('visitors −36…' quoted a wrong number). The text whole when
    it fits. The list shows the rest on demand: the cut is for reading, not for storing."""
    text = str(text)
    if len(text) <= limit:
        return text
    inside = {m.start() for m in _FIGURE_SPACE.finditer(text)}
    breaks = {"sentence": [], "clause": [], "word": [], "bracketed": []}
    depth = 0
    for i, char in enumerate(text[:limit - 1]):  # a break at i keeps text[:i] and its ' …': limit characters at most
        depth += (char in "([") - (char in ")]")
        if char != " " or i in inside:
            continue
        if depth > 0:
            breaks["bracketed"].append(i)
        elif text[i - 1] in _SENTENCE_END:
            breaks["sentence"].append(i)
        elif text[i - 1] in _CLAUSE_END or text[i + 1] == "\u2014":
            breaks["clause"].append(i)
        else:
            breaks["word"].append(i)
    half = limit // 2
    for kinds in (("sentence",), ("sentence", "clause"), ("sentence", "clause", "word"), tuple(breaks)):
        at = max((i for kind in kinds for i in breaks[kind] if i >= half), default=None)
        if at is not None:
            break
    else:
        at = max((i for found in breaks.values() for i in found), default=limit - 1)
    kept = text[:at].rstrip(" ,;:\u2014")
    return f"{kept}{NBSP}…" if kept.endswith(tuple(_SENTENCE_END)) else f"{kept}…"
