"""Comparisons over the daily tables with pandas: history frames, day-over-day and week-over-week.

`history(store, start, end)` gives a day × metric frame (a missing day of a rolled-up store is 0
for additive metrics); `compare_days(store, day)` gives, for every overall metric, the day's value
against the day before and the same weekday a week before; `compare_breakdown` and `compare_shares`
give the same for every value of a breakdown (traffic source, product, payment type).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from opsdesk.lazy import lazy_module
from stores.models import Store

from .figures import short_day
from .models import DailyMetric
from .public_holidays import holiday_calendar
from .rollup import METRICS

np = lazy_module("numpy")
pd = lazy_module("pandas")


class Window:
    """All daily rows of one store between two days, read with one query and sliced in memory.

    Detection and root cause look at the same weeks many times (overall, per source, per product);
    reading them once keeps the nightly run to a handful of queries per store.
    """

    def __init__(self, store: Store, start: date, end: date, rows: pd.DataFrame | None = None):
        """`rows` (columns day, metric, dimension, value_key, value) when already read by `read_windows`."""
        self.store, self.start, self.end = store, start, end
        if rows is None:
            rows = read_windows([(store.pk, start, end)]).get((store.pk, start, end))
        df = rows if rows is not None else pd.DataFrame(columns=WINDOW_COLUMNS)
        df = df[WINDOW_COLUMNS].copy()
        df["day"] = pd.to_datetime(df["day"])
        df["value"] = df["value"].astype(float)
        self.rows = df
        self.days = pd.date_range(start, end, freq="D")
        rolled = df[(df["metric"] == "orders") & (df["dimension"] == "")]["day"]
        self.rolled_mask = self.days.isin(pd.DatetimeIndex(rolled))
        self._cache: dict = {}

    def last_rolled_up(self) -> date | None:
        """The window's latest rolled-up day, or None when none of its days is."""
        rolled = self.days[self.rolled_mask]
        return rolled[-1].date() if len(rolled) else None

    def frame(self, dimension: str = "", metrics=None) -> pd.DataFrame:
        key = (dimension, tuple(metrics) if metrics is not None else None)
        if key not in self._cache:
            self._cache[key] = self._build(dimension, metrics)
        return self._cache[key]

    def _build(self, dimension: str, metrics) -> pd.DataFrame:
        df = self.rows[self.rows["dimension"] == dimension]
        if metrics is not None:
            df = df[df["metric"].isin(list(metrics))]
        if df.empty:
            return pd.DataFrame(index=self.days)
        if dimension:
            frame = df.set_index(["day", "metric", "value_key"])["value"].unstack(["metric", "value_key"])
        else:
            frame = df.set_index(["day", "metric"])["value"].unstack("metric")
        frame = frame.reindex(self.days).sort_index(axis=1)
        metrics = [col[0] if isinstance(col, tuple) else col for col in frame.columns]
        rolled = np.broadcast_to(self.rolled_mask[:, None], frame.shape)
        values = fill_rolled_zeros(frame.to_numpy(dtype=float, copy=True), metrics, rolled)
        return pd.DataFrame(values, index=frame.index, columns=frame.columns)


WINDOW_COLUMNS = ["day", "metric", "dimension", "value_key", "value"]
COMPARED = ["value", "day_before", "week_before", "dod", "wow"]  # the columns of a comparison


def _window_values(windows) -> tuple[str, list]:
    values = ", ".join(["(%s::bigint, %s::date, %s::date)"] * len(windows))
    return f"w(store_id, lo, hi) AS (VALUES {values})", [v for window in windows for v in window]


def read_windows(windows: list[tuple[int, date, date]], dimension: str | None = None,
                 metrics=None) -> dict[tuple[int, date, date], pd.DataFrame]:
    """Every daily row of several (store_id, first day, last day) windows in one query, per window.

    With `dimension` (and `metrics`), only the rows a frame of those needs: theirs, and the overall orders
    that say a day is rolled up. A store's product breakdowns are most of its rows; a chart of one
    overall metric over months need not read them.
    """
    if not windows:
        return {}
    wanted = _wanted_rows(dimension, metrics)
    if connection.vendor != "postgresql":
        return {(pk, lo, hi): _orm_window(pk, lo, hi, wanted) for pk, lo, hi in windows}
    cte, params = _window_values(windows)
    where = ""
    if wanted:
        where = " WHERE d.dimension = ANY(%s)" + (" AND d.metric = ANY(%s)" if wanted[1] else "")
        params += [list(wanted[0])] + ([list(wanted[1])] if wanted[1] else [])
    sql = (f"WITH {cte} SELECT d.store_id, w.lo, w.hi, d.day, d.metric, d.dimension, d.dimension_value, "  # noqa: S608 - placeholders only
           "d.value::float8 FROM metrics_dailymetric d "
           f"JOIN w ON d.store_id = w.store_id AND d.day BETWEEN w.lo AND w.hi{where}")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        df = pd.DataFrame(cur.fetchall(), columns=["store_id", "lo", "hi", *WINDOW_COLUMNS])
    return {(int(pk), lo, hi): part[WINDOW_COLUMNS] for (pk, lo, hi), part in
            df.groupby(["store_id", "lo", "hi"], sort=False)}


SERIES_COLUMNS = ["window", "store_id", "metric", "dimension", "value_key", "offsets", "values"]


def read_series(windows: list[tuple[int, date, date]], wanted: dict[str, list[str]]) -> pd.DataFrame:
    """The chosen series of several windows in one query, for the batch detector.

    `wanted` maps a dimension ("" = overall) to its metrics. One row per series: window (position in
    `windows`), store_id, metric, dimension, value_key, and its cells as two arrays, offsets (days since
    the window's first day) and values (float).
    """
    if connection.vendor != "postgresql":
        return _orm_series(windows, wanted)
    values = ", ".join(["(%s::int, %s::bigint, %s::date, %s::date)"] * len(windows))
    params = [v for at, window in enumerate(windows) for v in (at, *window)]
    series = [(dimension, metric) for dimension, metrics in wanted.items() for metric in metrics]
    params += [v for at, pair in enumerate(series) for v in (at, *pair)]
    # Joined on (store, metric, dimension) and a day range: exactly the dailymetric_series index, so the
    # read stays a few index ranges per store however many years of history the table holds. Each
    # series comes back as one row of two arrays: a thousand stores' history is millions of cells, and
    # a row (with its names) per cell cost more to build in Python than the query itself. Grouped per
    # window (LATERAL), by the series' position rather than its names: one sort of the whole batch's
    # million cells spilled to disk and was most of the query; a window's few thousand sort in memory.
    sql = (f"WITH w(at, store_id, lo, hi) AS (VALUES {values}), "  # noqa: S608 - placeholders only
           f"s(at, dimension, metric) AS (VALUES {', '.join(['(%s::int, %s, %s)'] * len(series))}) "
           "SELECT w.at, x.kind, x.dimension_value, x.offsets, x.cells FROM w CROSS JOIN LATERAL ("
           "  SELECT s.at AS kind, d.dimension_value, array_agg((d.day - w.lo)::int) AS offsets,"
           "         array_agg(d.value::float8) AS cells"
           "  FROM s JOIN metrics_dailymetric d ON d.store_id = w.store_id AND d.metric = s.metric"
           "  AND d.dimension = s.dimension AND d.day BETWEEN w.lo AND w.hi"
           "  GROUP BY s.at, d.dimension_value) x")
    # Binary results (on the same connection and transaction) skip parsing each number from text.
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, binary=True)
        rows = cur.fetchall()
    return pd.DataFrame([(at, windows[at][0], series[kind][1], series[kind][0], value_key,
                          np.asarray(offsets, dtype=np.intp), np.asarray(cells, dtype=float))
                         for at, kind, value_key, offsets, cells in rows], columns=SERIES_COLUMNS)


def _wanted_rows(dimension: str | None, metrics) -> tuple[set[str], set[str] | None] | None:
    """(dimensions, metrics or None for all) to read for a frame of `dimension` and `metrics`; None for all
    rows. The overall orders always come along: Window.rolled_mask is made of them."""
    if dimension is None:
        return None
    return {dimension, ""}, ({*metrics, "orders"} if metrics is not None else None)


def _orm_window(pk: int, lo: date, hi: date, wanted=None) -> pd.DataFrame:
    """One window through the ORM: the SQLite demo's path (the casts and VALUES above are Postgres)."""
    rows = DailyMetric.objects.filter(store_id=pk, day__gte=lo, day__lte=hi)
    if wanted:
        rows = rows.filter(dimension__in=wanted[0])
        if wanted[1]:
            rows = rows.filter(metric__in=wanted[1])
    rows = rows.values_list("day", "metric", "dimension", "dimension_value", "value")
    return pd.DataFrame(list(rows), columns=WINDOW_COLUMNS)


def _orm_series(windows, wanted: dict[str, list[str]]) -> pd.DataFrame:
    out = []
    for at, (pk, lo, hi) in enumerate(windows):
        df = _orm_window(pk, lo, hi)
        wanted_here = np.array([m in wanted.get(d, ()) for d, m in zip(df["dimension"], df["metric"], strict=True)],
                               dtype=bool)
        df = df[wanted_here]  # a boolean array, even when empty: an empty list would select no columns
        for (metric, dimension, value_key), cells in df.groupby(["metric", "dimension", "value_key"]):
            out.append((at, pk, metric, dimension, value_key,
                        np.array([(d - lo).days for d in cells["day"]], dtype=np.intp),
                        cells["value"].astype(float).to_numpy()))
    return pd.DataFrame(out, columns=SERIES_COLUMNS)


def fill_rolled_zeros(values: np.ndarray, metrics, rolled: np.ndarray) -> np.ndarray:
    """A rolled-up day without a row for an additive metric had none of it: that is a real zero.

    `values`: day × column; `metrics`: each column's metric; `rolled`: day × column, the column's store
    rolled that day up.
    """
    additive = np.array([bool((info := METRICS.get(m)) and info.additive) for m in metrics], dtype=bool)
    fill = np.isnan(values) & rolled & additive[None, :]
    values[fill] = 0.0
    return values


def history(store: Store, start: date, end: date, dimension: str = "", metrics=None) -> pd.DataFrame:
    """Overall (dimension "") metrics: index = every day start..end, columns = metric names.

    With a dimension: columns are a (metric, dimension value) MultiIndex.
    """
    key = (store.pk, start, end)
    rows = read_windows([key], dimension, metrics).get(key, pd.DataFrame(columns=WINDOW_COLUMNS))
    return Window(store, start, end, rows=rows).frame(dimension, metrics)


def pct_change(value, before) -> float | None:
    """Relative change as a fraction; None when there is nothing to compare against."""
    if value is None or before is None or pd.isna(value) or pd.isna(before) or before == 0:
        return None
    return float(value) / float(before) - 1.0


def compare_days(store: Store, day: date, metrics=None, window: Window | None = None) -> pd.DataFrame:
    """Rows = overall metrics; columns value, day_before, week_before, dod, wow (fractions).

    `window` (covering day − 7 … day) when the caller already read it, e.g. for the breakdowns too.
    """
    frame = (window or Window(store, day - timedelta(days=7), day)).frame("", metrics)
    ts = pd.Timestamp(day)
    names = [m for m in (metrics or METRICS) if m in frame.columns]
    out = pd.DataFrame(index=names, columns=COMPARED, dtype=float)
    for m in names:
        value = frame.at[ts, m]
        before = frame.at[ts - pd.Timedelta(days=1), m]
        week = frame.at[ts - pd.Timedelta(days=7), m]
        out.loc[m] = [value, before, week, pct_change(value, before), pct_change(value, week)]
    return out.replace({None: np.nan})


def comparison_row(metric: str, r: pd.Series | None, label: str | None = None) -> dict:
    """One metric's comparison as the daily tables and the email read it (`metrics.templatetags.daily`):
    label, kind, the `COMPARED` numbers (None where unknown, or all None without `r`) and good_when_up."""
    info = METRICS[metric]
    values = {k: (None if r is None or pd.isna(r[k]) else float(r[k])) for k in COMPARED}
    return {"metric": metric, "label": label or info.label, "kind": info.kind, **values,
            "good_when_up": info.higher_is_better}


def relative_change(value, before):
    """`pct_change` for frames and series: value / before − 1, NaN where before is 0 or either is missing."""
    return (value / before - 1).replace([np.inf, -np.inf], np.nan)


def _day_before_week_before(frame: pd.DataFrame, day: date) -> tuple[pd.Series, pd.Series, pd.Series]:
    ts = pd.Timestamp(day)
    rows = frame.reindex([ts, ts - pd.Timedelta(days=1), ts - pd.Timedelta(days=7)])
    return rows.iloc[0], rows.iloc[1], rows.iloc[2]


def compare_breakdown(window: Window, day: date, dimension: str, metrics) -> pd.DataFrame:
    """Every value of a breakdown on `day` against the day before and a week before, vectorised.

    Index = dimension value (a source, a product id, a payment type); columns = (metric, field) with
    fields value, day_before, week_before, dod, wow, as `compare_days`: an additive metric a value has no row of
    on a rolled-up day is 0 there, anything else the window lacks is NaN.
    Empty when the window has no rows of the dimension.
    """
    columns = pd.MultiIndex.from_product([list(metrics), COMPARED], names=["metric", "field"])
    frame = window.frame(dimension, metrics)
    if not isinstance(frame.columns, pd.MultiIndex):  # no rows of this dimension in the window
        return pd.DataFrame(columns=columns, dtype=float)
    # Every value gets every metric: one with a row of orders but none of refunds on a rolled-up day had none.
    full = pd.MultiIndex.from_product([list(metrics), frame.columns.get_level_values(1).unique()])
    rolled = np.broadcast_to(window.rolled_mask[:, None], (len(frame), len(full)))
    frame = pd.DataFrame(fill_rolled_zeros(frame.reindex(columns=full).to_numpy(dtype=float, copy=True),
                                           full.get_level_values(0), rolled), index=frame.index, columns=full)
    frame.columns.names = ["metric", "value_key"]
    value, before, week = _day_before_week_before(frame, day)
    long = pd.DataFrame({"value": value, "day_before": before, "week_before": week,
                         "dod": relative_change(value, before), "wow": relative_change(value, week)})
    wide = long.unstack("metric").swaplevel(axis=1)
    wide.index.name = None
    return wide.reindex(columns=columns)


def compare_shares(window: Window, day: date, dimension: str, metric: str) -> pd.DataFrame:
    """Each value's share of the day's total of an additive `metric` (payment types' share of payments),
    against the day before and a week before; changes in points of share (0.02 = 2 points).

    Index = dimension value; columns value, day_before, week_before (shares as fractions), dod, wow.
    A value with nothing on a day that had a total has a share of 0 there, not a gap.
    """
    frame = window.frame(dimension, [metric])
    if not isinstance(frame.columns, pd.MultiIndex):
        return pd.DataFrame(columns=COMPARED, dtype=float)
    amounts = frame[metric]
    shares = amounts.div(amounts.sum(axis=1).replace(0, np.nan), axis=0)
    value, before, week = _day_before_week_before(shares, day)
    return pd.DataFrame({"value": value, "day_before": before, "week_before": week,
                         "dod": value - before, "wow": value - week})


def compare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Vectorised DoD and WoW for every column of a day-indexed frame (suffixes _dod, _wow)."""
    dod = relative_change(frame, frame.shift(1)).add_suffix("_dod")
    wow = relative_change(frame, frame.shift(7)).add_suffix("_wow")
    return pd.concat([frame, dod, wow], axis=1)


@dataclass(frozen=True)
class UnusualDay:
    """An earlier day a change is measured against that was no usual day, and why: shown as
    "Fri 1 May (Labor Day)"."""

    day: date
    names: tuple[str, ...]

    def __str__(self) -> str:
        return f"{short_day(self.day)} ({self.said})"

    @property
    def said(self) -> str:
        """What made it unusual, as said beside the day: "Singles' Day" or "Labor Day, Spring sale"."""
        return ", ".join(self.names)


def unusual_earlier_days(store: Store, day: date) -> dict[str, UnusualDay]:
    """What the daily tables' DoD and WoW of `day` are measured against when that was no usual day:
    {"wow": UnusualDay(1 May, ("Labor Day",))}, shown "Fri 1 May (Labor Day)", for a public holiday of
    the store's country or an activity that ran then, each left out where `day` was one too (a holiday
    against a holiday, the same activity on both days, is like against like). A change against Singles'
    Day is not news; said beside it, it reads as such. And under "day", `day`'s own holiday or activity
    where a change is measured against a day without it: "GMV +180 %" on Singles' Day is said beside it
    too. One query per store and day, not per cell."""
    from campaigns.activity_review import running_by_day

    holidays = holiday_calendar(store.country, {day.year, (day - timedelta(days=7)).year})
    compared = {"dod": day - timedelta(days=1), "wow": day - timedelta(days=7)}
    running = running_by_day(store, [day, *compared.values()])
    running_on_day = {a.pk for a in running[day]}
    notes = {}
    for which, earlier in compared.items():
        names = [holidays[earlier]] if earlier in holidays and day not in holidays else []
        names += [a.name for a in running[earlier] if a.pk not in running_on_day]
        if names:
            notes[which] = UnusualDay(earlier, tuple(names))
    # The day's own: like against like on both compared days says nothing (day 3 of Golden Week against
    # day 2, a sale's last day against its first, only when a week before was one too).
    names = [holidays[day]] if day in holidays and not all(e in holidays for e in compared.values()) else []
    names += [a.name for a in running[day] if not all(a.pk in {b.pk for b in running[e]} for e in compared.values())]
    if names:
        notes["day"] = UnusualDay(day, tuple(names))
    return notes
