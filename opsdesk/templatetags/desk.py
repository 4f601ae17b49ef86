"""Template helpers: percent change with its direction, and plotly charts without inline script."""

import json
from decimal import Decimal

from django import template
from django.utils.html import format_html, json_script

register = template.Library()


@register.filter
def change(value, before):
    """'+12.5 %' (green) / '−3.0 %' (red) of value against before; '–' when before is 0 or missing."""
    if value is None or not before:
        return "–"
    pct = (Decimal(value) - Decimal(before)) / Decimal(before) * 100
    css = "up" if pct > 0 else "down" if pct < 0 else "muted"
    sign = "+" if pct > 0 else "−" if pct < 0 else "±"
    return format_html('<span class="{}">{}{} %</span>', css, sign, f"{abs(pct):.1f}")


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
