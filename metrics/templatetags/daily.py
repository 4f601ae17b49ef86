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
    """Money with thousands and 2 decimals, counts as integers, ratios as percentages."""
    if value is None or value == "":
        return "–"
    value = float(value)
    if kind == "ratio":
        return f"{value * 100:.2f} %"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


@register.filter
def change_pct(change, good_when_up=True):
    """'+12 %' coloured green when the move is good for the business, red when bad, plain when
    `good_when_up` is None (a metric neither way is good for, such as ad spend)."""
    if change is None or change == "":
        return mark_safe('<span class="muted">–</span>')  # noqa: S308 - a constant
    change = float(change)
    good = (change > 0) == bool(good_when_up)
    css = "muted" if abs(change) < 0.005 else ("up" if good else "down")
    if good_when_up is None:
        css = "plain"
    return format_html('<span class="{}">{}</span>', css, pct(change))


@register.filter
def plain_pct(change):
    return pct(None if change in (None, "") else float(change))


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
