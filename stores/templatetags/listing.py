"""Template filters for the listing pages: rates as percentages."""

from django import template

register = template.Library()


@register.filter
def pct(rate) -> str:
    """0.041 -> "4.1 %"; None (nothing to divide by) -> "–"."""
    if rate is None or rate == "":
        return "–"
    return f"{float(rate) * 100:.1f} %"
