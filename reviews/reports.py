"""Bad-review statistics: rates by product, root cause and week, time to first call, resolution mix,
and a product's ratings before and after each listing change.

A review counts as bad by `services.bad_filter`, the rule its own page applies: rated 2 or less, or 3 with one of
the store's negative words (with or without a case), or it opened a case and was not turned around since (the
customer changed it on the platform to a review that is no longer bad; counted as such). The verdict is stored on
the review (`Review.bad`), so sums, counts and weekly buckets run in SQL; percentiles in numpy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from opsdesk.lazy import lazy_module
from stores.models import Product, Store

from .models import OPEN_STATUSES, Resolution, Review, ReviewCase, RootCause
from .services import bad_filter, turned_around_filter

np = lazy_module("numpy")


def _rate(bad: int, total: int) -> float | None:
    return round(100 * bad / total, 1) if total else None


@dataclass(frozen=True)
class RatingPeriod:
    label: str
    start: datetime | None
    end: datetime | None
    reviews: int
    average: float | None
    bad_rate: float | None  # percent


def rating_periods(product: Product) -> list[RatingPeriod]:
    """Average rating and bad-review rate of `product` before the first listing version and under each one."""
    versions = list(product.listing_versions.order_by("started_at"))
    bounds = [None] + [v.started_at for v in versions] + [None]
    labels = ["Before the first recorded listing"] + [
        f"{v.title} ({v.note})" if v.note else v.title for v in versions
    ]
    # One query for all periods: each period's figures are aggregates filtered to its dates.
    is_bad = bad_filter()
    sums = {}
    for i, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        within = Q()
        if start:
            within &= Q(created_at__gte=start)
        if end:
            within &= Q(created_at__lt=end)
        sums |= {f"n{i}": Count("id", filter=within), f"avg{i}": Avg("rating", filter=within),
                 f"bad{i}": Count("id", filter=within & is_bad)}
    row = product.reviews.aggregate(**sums)
    periods = []
    for i, (label, start, end) in enumerate(zip(labels, bounds[:-1], bounds[1:], strict=True)):
        n, avg = row[f"n{i}"], row[f"avg{i}"]
        periods.append(RatingPeriod(label, start, end, n, round(avg, 2) if avg is not None else None,
                                    _rate(row[f"bad{i}"], n)))
    return periods


def product_summary(store: Store, reviews: QuerySet[Review]) -> dict:
    row = reviews.aggregate(n=Count("id"), avg=Avg("rating"), bad=Count("id", filter=bad_filter()))
    return {"reviews": row["n"], "average": round(row["avg"], 2) if row["avg"] is not None else None,
            "bad_rate": _rate(row["bad"], row["n"])}


@dataclass
class Report:
    by_product: list[dict]
    by_root_cause: list[dict]
    by_week: list[dict]
    resolution_mix: list[dict]
    first_contact_hours: dict  # cases, median, p90 (hours); not_called, overdue (cases still waiting)
    totals: dict
    # Beyond the window: all the store's reviews, the days they span, its open cases and how many of those are for
    # reviews written outside the window (an imported history leaves the default window empty).
    store_wide: dict


def build_report(store: Store, start: datetime, end: datetime, now: datetime | None = None) -> Report:
    """The report over reviews written in [start, end) and their cases, as of `now`."""
    reviews = Review.objects.filter(store=store, created_at__gte=start, created_at__lt=end)
    cases = ReviewCase.objects.filter(store=store, review__created_at__gte=start, review__created_at__lt=end)
    is_bad = bad_filter()  # the one rule, for every count below

    rows = list(reviews.values("product", "product__title", "product__sku").annotate(
        n=Count("id"), bad=Count("id", filter=is_bad), avg=Avg("rating")).order_by("-bad", "-n"))
    # Two products may share a title; their SKU (unique in the store) tells them apart in the table and chart.
    titles = Counter(row["product__title"] for row in rows)
    by_product = [
        {"product": (f"{row['product__title']} ({row['product__sku']})" if titles[row["product__title"]] > 1
                     else row["product__title"]) if row["product"] else "(no product)",
         "product_id": row["product"], "reviews": row["n"],
         "bad": row["bad"], "bad_rate": _rate(row["bad"], row["n"]), "average": round(row["avg"], 2)}
        for row in rows
    ]
    causes = dict(RootCause.choices)
    by_root_cause = [{"root_cause": causes.get(row["root_cause"], "Not yet known"), "cases": row["n"]}
                     for row in cases.values("root_cause").annotate(n=Count("id")).order_by("-n")]
    resolutions = dict(Resolution.choices)
    resolution_mix = [{"resolution": resolutions.get(row["resolution"], "Not yet resolved"), "cases": row["n"]}
                      for row in cases.values("resolution").annotate(n=Count("id")).order_by("-n")]

    # Weeks from Monday in the store's zone, counted in SQL: two years of reviews are a hundred rows, not 20,000.
    weekly = (reviews.annotate(week=TruncWeek("created_at", tzinfo=store.zone)).values("week")
              .annotate(n=Count("id"), bad=Count("id", filter=is_bad)).order_by("week"))
    by_week = [{"week": r["week"].date(), "reviews": r["n"], "bad": r["bad"], "bad_rate": _rate(r["bad"], r["n"])}
               for r in weekly]

    waits = [(c - o).total_seconds() / 3600 for o, c in cases.filter(first_contact_at__isnull=False)
             .values_list("opened_at", "first_contact_at")]
    # The median and p90 only know the cases called so far; the ones still waiting are counted beside them, or a
    # window whose cases were mostly never called read as a fast first call.
    waiting = cases.filter(status__in=OPEN_STATUSES, first_contact_at__isnull=True).aggregate(
        n=Count("id"), overdue=Count("id", filter=Q(first_contact_due_at__lte=now or timezone.now())))
    first_contact = {"cases": len(waits),
                     "median": round(float(np.median(waits)), 1) if waits else None,
                     "p90": round(float(np.percentile(waits, 90)), 1) if waits else None,
                     "not_called": waiting["n"], "overdue": waiting["overdue"]}
    # `turned` first: once the aggregate named `bad` exists, a filter on the field `bad` would read that name.
    total = reviews.aggregate(turned=Count("id", filter=turned_around_filter()), n=Count("id"),
                              bad=Count("id", filter=is_bad), low=Count("id", filter=Q(rating__lte=2)))
    # `low` is what the daily page counts as new bad reviews; the rest of `bad` are 3★ reviews with a complaint word.
    totals = {"reviews": total["n"], "bad": total["bad"], "bad_rate": _rate(total["bad"], total["n"]),
              "rated_2_or_less": total["low"], "complaints_at_3": total["bad"] - total["low"], "cases": cases.count(),
              # Bad once, changed by the customer since to a review that is not: counted here, no longer in `bad`.
              "turned_around": total["turned"]}
    return Report(by_product, by_root_cause, by_week, resolution_mix, first_contact, totals,
                  store_wide(store, start, end))


def store_wide(store: Store, start: datetime, end: datetime) -> dict:
    """The store's reviews and open cases beyond the window [start, end), so the report can say what it leaves out."""
    span = Review.objects.filter(store=store).aggregate(n=Count("id"), first=Min("created_at"), last=Max("created_at"))
    inside = Q(review__created_at__gte=start, review__created_at__lt=end)
    open_cases = ReviewCase.objects.filter(store=store, status__in=OPEN_STATUSES).aggregate(
        n=Count("id"), outside=Count("id", filter=~inside))
    return {"reviews": span["n"],
            "first_written": timezone.localtime(span["first"], store.zone).date() if span["first"] else None,
            "last_written": timezone.localtime(span["last"], store.zone).date() if span["last"] else None,
            "open_cases": open_cases["n"], "open_cases_outside": open_cases["outside"]}


def bar_labels(titles, limit: int = 24) -> list[str]:
    """Product titles short enough to label a chart's bars ('Bamboo tea tray · 2026 e…'), in full where two
    would shorten alike: bars on a category axis with one label are drawn as one."""
    titles = [str(t) for t in titles]
    short = [t if len(t) <= limit else t[:limit - 1].rstrip() + "…" for t in titles]
    return [s if short.count(s) == 1 else t for s, t in zip(short, titles, strict=True)]


def report_figures(report: Report) -> dict[str, str]:
    """Plotly figures (as JSON for plotly.js) of the weekly bad rate, root causes and resolutions."""
    import plotly.graph_objects as go

    figures = {}
    if report.by_week:
        fig = go.Figure()
        fig.add_bar(x=[str(w["week"]) for w in report.by_week], y=[w["reviews"] for w in report.by_week],
                    name="reviews", marker_color="#c7d7fe")
        fig.add_scatter(x=[str(w["week"]) for w in report.by_week], y=[w["bad_rate"] for w in report.by_week],
                        name="bad-review rate %", yaxis="y2", mode="lines+markers", line_color="#d92d20")
        # Ticks of its own (plotly's default for an overlaying axis syncs them to the left axis's gridlines:
        # "5.87 %, 11.74 %"); the legend above the plot, not beside it, where it took the plot's width.
        fig.update_layout(title="Reviews and bad-review rate by week", yaxis={"title": "reviews"},
                          yaxis2={"title": "bad %", "overlaying": "y", "side": "right", "rangemode": "tozero",
                                  "tickmode": "auto", "showgrid": False},
                          legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"})
        figures["weekly"] = fig
    if report.by_root_cause:
        figures["causes"] = go.Figure(go.Bar(x=[r["cases"] for r in report.by_root_cause],
                                             y=[r["root_cause"] for r in report.by_root_cause], orientation="h"))
        figures["causes"].update_layout(title="Cases by root cause")
    if report.resolution_mix:
        figures["resolutions"] = go.Figure(go.Pie(labels=[r["resolution"] for r in report.resolution_mix],
                                                  values=[r["cases"] for r in report.resolution_mix], hole=0.4))
        figures["resolutions"].update_layout(title="Resolution mix")
    top = [p for p in report.by_product if p["reviews"]][:15]
    if top:
        # Bars across, as the root causes: a product's title reads on one line (shortened, in full on hover),
        # where under an upright bar it was turned on its side and cut at the chart's edge.
        top = top[::-1]  # drawn from the bottom up: the most bad reviews on top, as in the table
        figures["products"] = go.Figure(go.Bar(
            y=bar_labels(p["product"] for p in top), x=[p["bad_rate"] for p in top], orientation="h",
            hovertext=[str(p["product"]) for p in top], hoverinfo="text+x"))
        # A category axis: plotly would read titles like "2024" as numbers or dates.
        figures["products"].update_layout(title="Bad-review rate by product (%)", yaxis={"type": "category"},
                                          height=max(320, 80 + 22 * len(top)))
    for fig in figures.values():
        # Room for a legend above the plot under the title.
        top = 85 if fig.layout.legend.orientation == "h" else 50
        fig.update_layout(margin={"l": 40, "r": 40, "t": top, "b": 40}, template="plotly_white")
        if fig.layout.height is None:
            fig.update_layout(height=320)
    return {name: fig.to_json() for name, fig in figures.items()}
