"""Template helpers: percent change with its direction, and plotly charts without inline script."""

import json
from decimal import Decimal

from django import template
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe

from metrics import figures

register = template.Library()


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
