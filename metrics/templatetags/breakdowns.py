"""Template helpers of the daily page's breakdowns: a share's change in points."""

from django import template

register = template.Library()


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
