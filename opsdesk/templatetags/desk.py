"""Template helpers for numbers on the desk: percent change with its direction."""

from decimal import Decimal

from django import template
from django.utils.html import format_html

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
