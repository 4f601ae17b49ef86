"""Charts of the daily tables: one plotly figure per chart, shown live on the pages and as PNG in email.

Mail clients such as Gmail and Outlook drop inline SVG, so the morning email carries PNG images
referenced by Content-ID: the anomaly charts are the pages' plotly figures exported by kaleido (a
headless Chromium, started once per process), the sparklines are drawn with Pillow (eleven per email,
a browser round trip each would cost seconds).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import plotly.graph_objects as go
from PIL import Image, ImageDraw

from opsdesk.lazy import lazy_module

from .anomaly import metric_series
from .models import Anomaly

pd = lazy_module("pandas")

log = logging.getLogger(__name__)


USUAL = "usual (weekday pattern × recent level)"  # the baseline trace's name: the email restyles it by name
ANOMALY = "anomaly"  # the legend group of the day's marks (flagged and, after late data, now): restyled as one
PAGE_TICKS = 6  # steps at most up an axis: as plotly chooses for a page chart's 220 px of plot
EMAIL_TICKS = 4  # the email's chart: big fonts on a small image


def anomaly_figure(anomaly: Anomaly, days: int = 56, ticks: int = PAGE_TICKS) -> go.Figure | None:
    """The anomaly's metric (overall or its traffic source) over `days` days, with the usual band; money and
    counts ticked at round numbers, at most `ticks` steps up the axis."""
    judged = metric_series(anomaly.store, anomaly.metric, anomaly.day, days=days,
                           dimension=anomaly.dimension, value=anomaly.dimension_value)
    if judged.empty:
        return None
    x = judged.index
    fig = go.Figure()
    fig.add_scatter(x=x, y=judged["high"], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=x, y=judged["low"], mode="lines", line=dict(width=0), fill="tonexty",
                    fillcolor="rgba(59,111,216,0.15)", name="normal band")
    fig.add_scatter(x=x, y=judged["baseline"], mode="lines", line=dict(dash="dot", color="#3b6fd8"),
                    name=USUAL)
    fig.add_scatter(x=x, y=judged["value"], mode="lines+markers", line=dict(color="#222"), name="actual")
    day, red = [pd.Timestamp(anomaly.day)], "#d92d20"
    now = anomaly.value_now
    if now is None:
        fig.add_scatter(x=day, y=[float(anomaly.value)], mode="markers", marker=dict(size=12, color=red),
                        name="anomaly", legendgroup=ANOMALY)
    else:
        # Late data changed the day since it was flagged: the line shows it now, so the red dot, left where the
        # numbers above were flagged, would float off the line unexplained. Each point says what it is.
        fig.add_scatter(x=day, y=[float(anomaly.value)], mode="markers+text", text=["flagged"],
                        textposition="middle left", marker=dict(size=12, color=red), textfont=dict(color=red),
                        name="flagged", legendgroup=ANOMALY)
        fig.add_scatter(x=day, y=[float(now)], mode="markers+text", text=["now"], textposition="middle left",
                        marker=dict(size=12, color=red, symbol="circle-open", line=dict(width=2)),
                        textfont=dict(color=red), name="now, after late data", legendgroup=ANOMALY)
    fig.update_layout(title=anomaly.title)
    # Money and counts from 0: autoscaled to the band, a fall from 44,780 to 25,979 drew the day at the
    # bottom of the chart, as if nothing had sold. Ratios read as the percentages the page quotes.
    kind = anomaly.info.kind
    fig.update_yaxes(rangemode="tozero" if kind in ("money", "count") else "normal",
                     tickformat=".1%" if kind == "ratio" else None)
    # A noisy series' band can reach many times its numbers (the spread is of log changes): scaled to it, the
    # actual line lay flat along the bottom. Then the axis ends a little above the numbers; the band runs off.
    numbers = pd.concat([judged["value"], judged["baseline"], pd.Series([anomaly.value, now], dtype=float)]).dropna()
    top, band_top = numbers.max(), judged["high"].max()
    shown_top = pd.Series([top, band_top]).max()  # NaN-free: the band may be missing
    if top > 0 and band_top > BAND_ROOM * top:
        bottom = 0.0 if kind in ("money", "count") else min(numbers.min(), judged["low"].min())
        shown_top = top * 1.15
        fig.update_yaxes(range=[bottom, shown_top])
    if kind in ("money", "count"):
        fig.update_yaxes(**round_ticks(shown_top, ticks, whole=kind == "count"))
    return fig


def round_ticks(top: float, ticks: int = PAGE_TICKS, whole: bool = False) -> dict:
    """Ticks of an axis from 0 to `top`: every 1, 2 or 5 × 10^n, the smallest such step that takes at most
    `ticks` steps to `top` (as plotly chooses); whole steps for counts.

    Plotly's own choice is as round, except on an axis overlaying another: there it puts the ticks at the
    other axis's gridlines (orders at 0, 52, 104, 156 beside GMV's 0, 5k, 10k, 15k).
    """
    rough = float(top) / ticks if top > 0 else 1.0 / ticks  # also NaN (no numbers): a step of 1 or less
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))
    if whole:
        step = max(step, 1)
    if step >= 1:
        step = round(step)
    return {"tickmode": "linear", "tick0": 0, "dtick": step}


BAND_ROOM = 1.5  # how far above the highest number the band may take the chart's axis


# The email's chart is exported 600 px wide (its <img width>). A desktop mail app shows it at that width, a phone's
# about half that wide: each gets its own image, its words drawn for its width (the email's <style> shows the one
# that fits). The email in the browser does the same.
EMAIL_CHART_WIDTH, ON_A_PHONE = 600, 300


def email_figure(anomaly: Anomaly, days: int = 28, height: int = 240, shown: int = ON_A_PHONE) -> go.Figure | None:
    """The anomaly's chart for the morning email, made readable where it is `shown` that many pixels wide (a phone's
    mail app by default); `email_figures` for more than one width."""
    return email_figures(anomaly, days, height, widths=(shown,))[0]


def email_figures(anomaly: Anomaly, days: int = 28, height: int = 240,
                  widths: tuple[int, ...] = (EMAIL_CHART_WIDTH, ON_A_PHONE)) -> list[go.Figure | None]:
    """The anomaly's email chart once for each width it is shown at, its numbers read once.

    Each is exported `EMAIL_CHART_WIDTH` px wide, so for a phone the fonts are big, the legend is gone (one line
    under the image says what is what) and the x axis has no year line to collide with. Its axis text then reads at
    about 11 px wherever it is shown, as the email's own small print. Money and counts start at 0
    (`anomaly_figure`): a fall from 90 to 56 must not look like a fall to nothing. Nones without numbers.
    """
    fig = anomaly_figure(anomaly, days=days, ticks=EMAIL_TICKS)
    if fig is None:
        return [None] * len(widths)
    info = anomaly.info
    title = anomaly.title.replace(info.label, info.short_label, 1)  # "GMV · Paid search", not "GMV (main …"
    if len(title) > 40:
        title = title[:39] + "…"
    style(fig, height)
    fig.update_layout(showlegend=False)
    fig.update_xaxes(tickformat="%-d %b", nticks=5, automargin=True)
    fig.update_yaxes(automargin=True, nticks=EMAIL_TICKS)  # ratios; money and counts have their round steps
    return [sized_for(go.Figure(fig), title, ON_A_PHONE / shown) for shown in widths]


def sized_for(fig: go.Figure, title: str, k: float) -> go.Figure:
    """`fig`'s words and lines at `k` times the sizes that read right on a phone's half-size image."""
    fig.update_layout(font=dict(size=22 * k), title=dict(text=title, font=dict(size=26 * k), x=0.01),
                      margin=dict(l=10 * k, r=16 * k, t=48 * k, b=10 * k))
    fig.update_traces(line_width=3 * k, marker_size=8 * k, selector=dict(name="actual"))
    fig.update_traces(line_width=3 * k, selector=dict(name=USUAL))
    fig.update_traces(marker_size=20 * k, selector=dict(legendgroup=ANOMALY))
    return fig


def style(fig: go.Figure, height: int = 280) -> go.Figure:
    """The house look of every chart."""
    fig.update_layout(margin=dict(l=40, r=10, t=30, b=30), height=height, template="plotly_white",
                      # Anchored to the figure's foot, not 20 % of the plot below it: on a short phone chart that
                      # was over the first date's second line (its year).
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"))
    return fig


_kaleido_lock = threading.Lock()
_kaleido_state = "idle"  # idle → running, or unavailable (no Chromium: said once, not retried per email)
# Browser tabs of the one browser that export at once (`figure_pngs`): an export is ~0.1 s of drawing and ~0.2–0.3 s
# of reloading the tab's plotly.js after it, so a second and third tab overlap those reloads. An email's six images
# in three tabs: bench/RESULTS.md "## email charts".
EXPORT_TABS = 3


def _kaleido_started() -> bool:
    """Whether the process's one browser runs, starting it on the first call (a few seconds). Under the lock."""
    global _kaleido_state
    import kaleido

    if _kaleido_state == "idle":
        try:
            kaleido.start_sync_server(n=EXPORT_TABS, mathjax=False, silence_warnings=True)  # stops itself at exit
            _kaleido_state = "running"
        except Exception:
            log.warning("no Chromium for chart images; emails go without them", exc_info=True)
            _kaleido_state = "unavailable"
    return _kaleido_state == "running"


def figure_png(fig: go.Figure, width: int = 640, height: int = 280, scale: int = 1) -> bytes | None:
    """The figure as PNG through kaleido, `scale` pixels a point (2: sharp on a high-density screen that shows it
    `width` wide); None (logged) where no Chromium can be started. `figure_pngs` for several at once.

    The figure is exported as it is: `email_figure` gives the email's, styled for its size.

    The first call of a process starts the browser (a few seconds); later ones take about 0.3 s.
    """
    import kaleido

    with _kaleido_lock:  # one browser per process, one export at a time
        if not _kaleido_started():
            return None
        try:
            return kaleido.calc_fig_sync(fig, opts={"format": "png", "width": width, "height": height,
                                                            "scale": scale})
        except Exception:
            log.warning("chart export failed; the email goes without this chart", exc_info=True)
            return None


class PngSize(NamedTuple):
    """An exported image's size: `width` × `height` points, `scale` pixels a point."""

    width: int = 640
    height: int = 280
    scale: int = 1


# The same figure at the same size is the same image: each of a store's managers gets an email drawn from the same
# numbers, so a process keeps its latest images (~25 KB each) by their figure's content and exports each once.
EXPORTS_KEPT = 48
_exported: OrderedDict[str, bytes] = OrderedDict()


def _export_key(fig: go.Figure, size: PngSize) -> str:
    return hashlib.sha256(f"{tuple(size)}{fig.to_json()}".encode()).hexdigest()


def figure_pngs(figures: list[tuple[go.Figure, PngSize]]) -> list[bytes | None]:
    """Each figure as PNG of its size, the same bytes `figure_png` gives, all in one kaleido call that draws them in
    `EXPORT_TABS` tabs at once; None (logged) for a figure that failed, all None where no Chromium can be started.
    An image exported lately for the same figure and size is not exported again (`_exported`).

    Kaleido returns the bytes of one figure a call only, so a batch is written to files in a temporary folder.
    """
    import kaleido

    keys = [_export_key(fig, size) for fig, size in figures]
    with _kaleido_lock:
        wanted = {key: (fig, size) for key, (fig, size) in zip(keys, figures, strict=True) if key not in _exported}
        if wanted and _kaleido_started():
            with tempfile.TemporaryDirectory(prefix="opsdesk-charts-") as folder:
                paths = {key: Path(folder) / f"{i}.png" for i, key in enumerate(wanted)}
                exports = [{"fig": fig, "path": paths[key], "opts": {"format": "png", **size._asdict()}}
                           for key, (fig, size) in wanted.items()]
                try:
                    # A failed figure's file is removed and its error returned; the others are written.
                    errors = kaleido.write_fig_from_object_sync(exports)
                except Exception:
                    log.warning("chart export failed; the email goes without these charts", exc_info=True)
                    errors = []
                    paths = {}
                if errors:
                    log.warning("%d of %d chart exports failed: %r", len(errors), len(exports), errors[0])
                for key, path in paths.items():
                    if path.exists():
                        _exported[key] = path.read_bytes()
        for key in keys:
            if key in _exported:
                _exported.move_to_end(key)
        pngs = [_exported.get(key) for key in keys]
        while len(_exported) > EXPORTS_KEPT:
            _exported.popitem(last=False)
        return pngs


# A sparkline of a count reaches its top at this many at least: it has no axis to say "1", and one new
# penalty after thirteen days without drawn as tall as the whole box reads as an alarm.
SPARK_COUNT_TOP = 5


def sparkline_png(values: list[float | None], width: int = 110, height: int = 26,
                  color: tuple[int, int, int] = (59, 111, 216), kind: str = "ratio") -> bytes | None:
    """A tiny line of the last days (gaps skipped), the last point marked; None under two points.

    Money and counts (`kind`, as in metrics.rollup.METRICS) are drawn from 0, as the email's charts are, so a
    2 % wiggle of GMV looks small and a fall by half looks like half; a ratio from its own lowest to highest.
    Drawn at twice the size and scaled down, so the line stays smooth on high-density screens.
    """
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    scale = 2
    w, h = width * scale, height * scale
    low, high = min(v for _, v in points), max(v for _, v in points)
    if kind in ("money", "count"):
        low, high = min(low, 0.0), max(high, SPARK_COUNT_TOP if kind == "count" else 0.0)
    span = (high - low) or 1.0
    step = (w - 8) / max(len(values) - 1, 1)
    coords = [(4 + i * step, h - 4 - (v - low) / span * (h - 8)) for i, v in points]
    image = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(image)
    draw.line(coords, fill=color, width=3 * scale // 2, joint="curve")
    x, y = coords[-1]
    draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=color)
    out = io.BytesIO()
    image.resize((width, height), Image.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
