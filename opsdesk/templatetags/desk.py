"""Template helpers: dates as operators read them, percent change with its direction, and plotly charts
without inline script."""

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe

from metrics import figures
from opsdesk.privacy import mask_phone

register = template.Library()


def _local(value, zone):
    """`value` as the page shows it: an aware datetime in `zone` (a store's IANA name) or else the zone the
    template has active ({% timezone store.timezone %}); a date as it is. Also today's year in that zone."""
    tz = ZoneInfo(str(zone)) if zone else timezone.get_current_timezone()
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = value.astimezone(tz)
    return value, timezone.now().astimezone(tz).year


@register.filter
def masked(phone: str) -> str:
    """A phone number as a page shows it to anyone: +14*****0100 (opsdesk.privacy.mask_phone)."""
    return mask_phone(phone)


@register.filter(expects_localtime=True)
def day(value, zone=None):
    """A day as operators read it: 'Fri 18 Dec', with the year ('Fri 18 Dec 2025') when it is not this year.
    A datetime gives its day in `zone` or the active zone. Form values, query strings, CSV and JSON stay ISO."""
    if not isinstance(value, date):
        return ""
    value, this_year = _local(value, zone)
    return figures.day_words(value.date() if isinstance(value, datetime) else value, this_year)


@register.filter(expects_localtime=True)
def day_with_year(value, zone=None):
    """A day as `day` writes it, with its year always ('Sat 28 Nov 2026'): an email is read later, maybe in
    another year, and its heading names the day it reports."""
    if not isinstance(value, date):
        return ""
    value, _ = _local(value, zone)
    return figures.day_with_year(value.date() if isinstance(value, datetime) else value)


@register.filter(expects_localtime=True)
def moment(value, zone=None):
    """A time as operators read it: 'Fri 18 Dec 14:05' ('Fri 18 Dec 2025 14:05' outside this year), in `zone`
    (a store's IANA name) or the zone the template has active."""
    if not isinstance(value, datetime):
        return ""
    value, this_year = _local(value, zone)
    return f"{figures.day_words(value.date(), this_year)} {value:%H:%M}"


@register.filter(expects_localtime=True)
def through(first, last):
    """Days from `first` to `last` (dates, or datetimes in the active zone): 'Fri 18 – Sun 20 Dec',
    'Mon 30 Nov – Wed 2 Dec', a single day once, 'open' for a missing end; the year once at the end when it
    is not this year, on both sides when they differ."""
    first, last = (_local(d, None)[0] for d in (first, last))
    first, last = (d.date() if isinstance(d, datetime) else d for d in (first, last))
    this_year = timezone.localdate().year
    if not isinstance(first, date) or not isinstance(last, date):
        return " – ".join(figures.day_words(d, this_year) if isinstance(d, date) else "open" for d in (first, last))
    if first == last:
        return figures.day_words(last, this_year)
    if first.year != last.year:
        return f"{figures.day_words(first, this_year)} – {figures.day_words(last, this_year)}"
    start = f"{first:%a} {first.day}" if first.month == last.month else figures.short_day(first)
    return f"{start} – {figures.day_words(last, this_year)}"


@register.filter
def change(value, before):
    """The change of a count or an amount against `before` as every page writes it (metrics.figures):
    '+13 %' green, '−94 %' red, '±0', 'from 0' where before was 0, '–' where either is unknown."""
    if value is None or before is None:
        return mark_safe('<span class="muted">–</span>')  # noqa: S308 - a constant
    value, before = Decimal(value), Decimal(before)
    relative = (value - before) / before if before else None
    words, tone = figures.change_words(relative, value=value, earlier=before)
    return format_html('<span class="{}">{}</span>', tone, words)


@register.simple_tag
def plotly(figure, element_id: str, css: str = "chart"):
    """A plotly figure (Figure, dict or its JSON) as data plus a <div> that static desk.js draws.

    The CSP forbids inline script, so every chart on every page goes through this one tag.
    """
    if figure is None:
        return ""
    if hasattr(figure, "to_plotly_json"):
        figure = json.loads(figure.to_json())
    elif isinstance(figure, str):
        figure = json.loads(figure)
    # Screen readers get the chart's title; the numbers it draws are in the page's tables and text.
    title = (figure.get("layout") or {}).get("title") or {}
    label = title.get("text", "") if isinstance(title, dict) else str(title)
    return format_html('{}<div class="{}" data-plotly="{}" role="img" aria-label="{}"></div>',
                       json_script(figure, element_id), css, element_id, f"Chart: {label}" if label else "Chart")
