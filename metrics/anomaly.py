"""Anomaly detection on the daily tables: a seasonal, robust, count-aware baseline instead of a fixed ±X % rule.

The baseline of a day is the recent level (trimmed mean of the last 28 days, each divided by its weekday
factor) × the weekday factor (trimmed mean of the last 16 same weekdays' ratio to their week), public
holidays left out, so growth is followed. Counts are scored by the negative-binomial tail probability of
the value (overdispersion measured robustly on the past), money and ratios by a log-space robust z; a
day is abnormal when the score passes its threshold and the change is big enough to matter. A holiday
needs a bigger deviation (it is downgraded, not ignored), and an activity running that day is recorded
as the likely explanation of a rise.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q

from opsdesk.lazy import lazy_module
from stores.models import PaymentType, Product, Store, TrafficSource

from . import incidents, rootcause
from .compare import Window, fill_rolled_zeros, history, pct_change, read_series, read_windows
from .figures import metric_value, pct
from .models import Anomaly, AnomalyStatus, DailyMetric, Dimension, Direction, WithdrawnAnomaly, read_runs
from .public_holidays import holiday_calendar
from .rollup import METRICS

np = lazy_module("numpy")
pd = lazy_module("pandas")
special = lazy_module("scipy.special")

log = logging.getLogger(__name__)

DETECT_METRICS = ["gmv", "orders", "visitors", "sessions", "conversion", "aov", "sub_payments", "refunds",
                  "ad_spend", "roas", "bad_reviews", "units"]
# Judged only as the total its breakdown's shares are measured against: "units sold −30 %" beside
# "orders −30 %" and "sub-order payments −30 %" would be the same news three times.
PARENT_ONLY = {"units"}


@dataclass(frozen=True)
class Params:
    weeks: int = 8  # same-weekday history looked at
    min_history: int = 3  # fewer usable same-weekday days: no verdict
    threshold: float = 3.5  # robust z-score of a continuous metric (MAD-based: heavier tails than normal)
    count_threshold: float = 3.0  # for a count: the z of its tail probability (exact, one-sided p ≈ 0.0013)
    min_change: float = 0.15  # and at least this relative change
    holiday_factor: float = 1.5  # a holiday needs threshold × this
    min_spread_share: float = 0.05  # the spread is at least 5 % of the baseline (flat series)
    spread_days: int = 56  # days of relative deviations the spread is measured on
    min_spread_days: int = 14
    profile_weeks: int = 16  # weekday profile × recent level (0: plain same-weekday median)
    level_days: int = 28  # the recent level: median of these days, each divided by its weekday factor
    min_count_baseline: float = 0.5  # a count's expected value is at least this (a zero median is not "never")


DEFAULT = Params()


def seasonal_frame(frame: pd.DataFrame, holiday_days=(), params: Params = DEFAULT,
                   counts=None, at=None) -> dict[str, pd.DataFrame]:
    """`seasonal_baseline` for every column of a day-indexed frame at once (numpy over 2-D arrays).

    Returns frames keyed value, baseline, spread, score, change, low, high, threshold (the |score| a
    day must reach, before the holiday factor); `counts` is a boolean
    per column (judged as counts: negative-binomial tail), or one boolean for all. With `at` (a day of
    the index) the spread, score and band are measured for that day only (NaN on the others): a nightly
    verdict needs one day, and the spread's rolling median is most of the cost of every day; the
    baseline and change then only for that day and the `spread_days` before it (whose deviations the
    spread is measured on), NaN on earlier days.
    """
    frame = frame.astype(float)
    index = pd.DatetimeIndex(frame.index)
    values = frame.to_numpy(copy=True)
    hist = values.copy()
    if len(holiday_days):
        hist[index.isin(pd.DatetimeIndex(pd.to_datetime(list(holiday_days))))] = np.nan
    # Zeros before a series' first non-zero day are "not tracked yet" (e.g. traffic before the tracker
    # was installed), not a history of zeros.
    hist[~np.maximum.accumulate(np.nan_to_num(np.abs(hist)) > 0, axis=0)] = np.nan
    n = len(values)
    rows = None if at is None else [index.get_loc(pd.Timestamp(at))]
    # With `at`, the baseline is needed on that day and on the spread's days before it only.
    needed = slice(0, n) if at is None else slice(max(rows[0] - params.spread_days, 0), rows[0] + 1)
    # The same weekday of the previous `weeks` weeks, stacked: one nan-median over them.
    lagged = _lagged(hist, [7 * k for k in range(1, params.weeks + 1)], needed)
    enough = (~np.isnan(lagged)).sum(axis=0) >= params.min_history
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no history yet
        forecast = _profile_baseline(hist, params, needed) if params.profile_weeks else np.nanmedian(lagged, axis=0)
        median = np.full(values.shape, np.nan)
        median[needed] = np.where(enough, forecast, np.nan)
        log_hist = np.log1p(np.clip(hist, 0, None))
        log_base = np.log1p(np.clip(median, 0, None))
        baseline = np.where(np.isnan(median), np.nan, np.expm1(log_base))
        # Deviations are from each day's own forecast, so their median absolute value (about 0, not
        # about the window's median) is the robust spread, pooled over weekdays.
        mad = _past_median(np.abs(log_hist - log_base), params.spread_days, params.min_spread_days, rows)
        # Fewer than min_spread_days deviations: the spread is unknown, so no verdict and no band (a 5 %
        # floor in its place would flag every ordinary day of a new store, product or source).
        spread = np.maximum(1.4826 * mad, params.min_spread_share)
        spread = np.where(np.isnan(median), np.nan, spread)
        score = (np.log1p(np.clip(values, 0, None)) - log_base) / spread
        threshold = np.full(values.shape, params.threshold)
        band = params.threshold * spread
        low, high = np.expm1(log_base - band), np.expm1(log_base + band)
        if counts is not None:
            mask = np.broadcast_to(np.asarray(counts, dtype=bool), (values.shape[1],))
            if mask.any():
                c_score, c_spread, c_low, c_high = _count_scores(values[:, mask], hist[:, mask],
                                                                 baseline[:, mask], params, rows)
                score[:, mask], spread[:, mask], low[:, mask], high[:, mask] = c_score, c_spread, c_low, c_high
                threshold[:, mask] = params.count_threshold
        change = np.where(baseline != 0, values / baseline - 1, np.nan)
    if rows is not None:
        others = np.ones(n, dtype=bool)
        others[rows] = False
        for arr in (spread, score, low, high):
            arr[others] = np.nan
    cols = frame.columns
    return {name: pd.DataFrame(arr, index=index, columns=cols) for name, arr in (
        ("value", values), ("baseline", baseline), ("spread", spread), ("score", score), ("change", change),
        ("low", low), ("high", high), ("threshold", threshold))}


def _profile_baseline(hist: np.ndarray, params: Params, rows: slice) -> np.ndarray:
    """Recent level × weekday factor of the `rows` (a slice of `hist`), both from the past only (NaN =
    holiday or no data); only those rows' lag stacks are built, as they are most of the cost.

    Weekday factor: trimmed mean over the previous `profile_weeks` same weekdays of the day's ratio to
    its centred 7-day mean. Level: trimmed mean of the previous `level_days` days divided by their factors.
    """
    week_mean = _rolling_mean(hist, 7, 5)  # rows i-6..i
    centred = np.full_like(week_mean, np.nan)
    centred[:-3] = week_mean[3:]  # rows i-3..i+3
    ratio = np.where(centred > 0, hist / centred, np.nan)
    # The level of the rows reads the factors of the `level_days` rows before them.
    with_factor = slice(max(rows.start - params.level_days, 0), rows.stop)
    factor = _trimmed_mean(_lagged(ratio, [7 * k for k in range(1, params.profile_weeks + 1)], with_factor))
    factor = np.where(np.isnan(factor) | (factor <= 0), 1.0, factor)
    deseasoned = np.full_like(hist, np.nan)
    deseasoned[with_factor] = hist[with_factor] / factor
    past = _lagged(deseasoned, range(1, params.level_days + 1), rows)
    # A factor is never NaN, so the known days of `past` are those of `hist`.
    level = np.where((~np.isnan(past)).sum(axis=0) >= params.level_days // 4, _trimmed_mean(past), np.nan)
    return level * factor[rows.start - with_factor.start:]


def _trimmed_mean(stack: np.ndarray, share: float = 0.1) -> np.ndarray:
    """Mean over axis 0 without the lowest and highest `share` of the values (at least one each from 4
    values on); NaN skipped. Unlike a median it is not stuck on whole numbers for small counts."""
    valid = (~np.isnan(stack)).sum(axis=0)
    ordered = np.sort(stack, axis=0)  # NaN last
    # Running sums of the sorted values, in place and row by row: the same sums as np.cumsum(axis=0),
    # which walks column by column and is 10× slower. The sums read below end before the first NaN.
    cum = ordered
    for i in range(1, len(cum)):
        np.add(cum[i - 1], cum[i], out=cum[i])
    cut = np.where(valid >= 4, np.maximum(np.floor(valid * share), 1), 0).astype(int)
    kept = valid - 2 * cut
    # cum[k - 1] is the sum of the k lowest values: the lowest valid - cut, less the lowest cut.
    upper = np.take_along_axis(cum, np.maximum(valid - cut - 1, 0)[None], axis=0)[0]
    lower = np.where(cut > 0, np.take_along_axis(cum, np.maximum(cut - 1, 0)[None], axis=0)[0], 0.0)
    return np.where(kept > 0, (upper - lower) / np.fmax(kept, 1), np.nan)


def _lagged(arr: np.ndarray, lags, rows: slice) -> np.ndarray:
    """Stack of `arr` shifted down by each lag (rows before the start are NaN), for the `rows` (a slice
    with start and stop)."""
    start, stop = rows.start, rows.stop
    out = np.full((len(lags), stop - start, *arr.shape[1:]), np.nan)
    for i, lag in enumerate(lags):
        first = max(start, lag)  # the first row with a day `lag` before it
        if first < stop:
            out[i, first - start:] = arr[first - lag: stop - lag]
    return out


def _rolling_mean(arr: np.ndarray, days: int, min_days: int) -> np.ndarray:
    """Per column, the mean of rows i-days+1..i with at least `min_days` of them known (NaN skipped)."""
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(np.vstack([np.full((days - 1, arr.shape[1]), np.nan), arr]), days, axis=0)
    known = (~np.isnan(windows)).sum(axis=-1)
    total = np.nansum(windows, axis=-1)
    return np.where(known >= min_days, total / np.fmax(known, 1), np.nan)


def _past_median(arr: np.ndarray, days: int, min_days: int, rows=None) -> np.ndarray:
    """Per column, the median of the previous `days` rows (not the row itself) where at least `min_days` of
    them are known (NaN skipped); only for the given `rows` (NaN elsewhere) when they are given."""
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.vstack([np.full((days, arr.shape[1]), np.nan), arr])
    windows = sliding_window_view(padded, days, axis=0)[:len(arr)]  # row i: arr[i - days:i]
    if rows is not None:
        windows = windows[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        median = np.where((~np.isnan(windows)).sum(axis=-1) >= min_days, np.nanmedian(windows, axis=-1), np.nan)
    if rows is None:
        return median
    out = np.full(arr.shape, np.nan)
    out[rows] = median
    return out


def _count_scores(values, hist, baseline, params: Params, rows=None):
    """Counts: z-score of the negative-binomial tail probability of the value given the baseline.

    The overdispersion is measured robustly on the past: Anscombe residuals 2(√(x+⅜) − √(μ+⅜)) of
    the previous `spread_days` days against their own baselines have variance ≈ 1 + φμ under a
    negative binomial (mean μ, variance μ + φμ²), so φ = ((1.4826 MAD)² − 1) / μ; it also absorbs the
    baseline's own estimation noise. φ is at least min_spread_share² (multiplicative noise floor).
    """
    mu = np.where(np.isnan(baseline), np.nan, np.fmax(baseline, params.min_count_baseline))
    resid = 2 * (np.sqrt(np.clip(hist, 0, None) + 0.375) - np.sqrt(mu + 0.375))
    psi = (1.4826 * _past_median(np.abs(resid), params.spread_days, params.min_spread_days, rows)) ** 2
    if rows is not None:
        # ψ is known on the rows only (NaN elsewhere, and so is all that follows): the tail probabilities,
        # most of the cost, are computed there only.
        out = [np.full(values.shape, np.nan) for _ in range(4)]
        for full, part in zip(out, _count_tail(values[rows], baseline[rows], mu[rows], psi[rows], params),
                              strict=True):
            full[rows] = part
        return tuple(out)
    return _count_tail(values, baseline, mu, psi, params)


def _count_tail(values, baseline, mu, psi, params: Params):
    """`_count_scores` from the counts' Anscombe variance ψ: score, spread, low, high."""
    phi = np.maximum((psi - 1) / mu, params.min_spread_share ** 2)  # NaN (spread not known yet) stays NaN
    size = 1 / phi
    p = size / (size + mu)
    x = np.clip(values, 0, None)
    upper = special.betainc(np.fmax(x, 1e-9), size, 1 - p)  # P(X ≥ x)
    lower = special.betainc(size, x + 1, p)  # P(X ≤ x)
    score = np.where(x >= mu, np.fmax(-special.ndtri(upper), 0), np.fmin(special.ndtri(lower), 0))
    score = np.where(np.isnan(baseline) | np.isnan(phi), np.nan, score)
    # The band, for charts: where the score reaches the threshold, on the Anscombe scale (≈ normal).
    half = params.count_threshold * np.sqrt(1 + phi * mu) / 2
    root = np.sqrt(mu + 0.375)
    low = np.clip(np.maximum(root - half, 0) ** 2 - 0.375, 0, None)  # NaN stays NaN: no baseline, no band
    high = (root + half) ** 2 - 0.375
    spread = np.sqrt(mu + phi * mu ** 2) / mu  # relative standard deviation, for display
    return score, spread, low, high


def column(judged: dict[str, pd.DataFrame], col) -> pd.DataFrame:
    """One column of a `seasonal_frame` result as a `seasonal_baseline`-style frame."""
    return pd.DataFrame({name: part[col] for name, part in judged.items()})


def seasonal_baseline(series: pd.Series, holiday_days=(), params: Params = DEFAULT,
                      counts: bool = False) -> pd.DataFrame:
    """For every day of a daily series: same-weekday baseline (median), spread, robust score and band.

    Baseline: median of the previous `weeks` same weekdays (holidays left out), so a day never
    judges itself. Business noise is multiplicative, so the score lives in log space:
    score = (ln(1+value) − ln(1+baseline)) / spread, where spread is 1.4826 × the median absolute log
    deviation of the previous `spread_days` days from their own baselines (pooled over weekdays: 56
    points, not 8), at least `min_spread_share` and, for counts, the Poisson noise 1/√baseline.
    """
    judged = seasonal_frame(series.to_frame("x"), holiday_days, params, counts=counts)
    return column(judged, "x")


class Expected:
    """The seasonal baseline of every column of a frame on one day, computed once per frame.

    Root cause asks for the usual level of the same columns many times (the flagged metric, each source's
    sessions and ad spend, the metric tree): one `seasonal_frame` pass per frame answers them all.
    """

    def __init__(self, day, holiday_days=(), params: Params = DEFAULT):
        self.ts, self.holiday_days, self.params = pd.Timestamp(day), holiday_days, params
        self._done: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def of(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per column of `frame`: value, baseline, change, … on the day."""
        if id(frame) not in self._done:  # the frame is kept with its rows, so its id is not reused
            judged = seasonal_frame(frame, self.holiday_days, self.params, at=self.ts)
            self._done[id(frame)] = (frame, _rows_on(judged, self.ts))
        return self._done[id(frame)][1]


def flag(frame: pd.DataFrame, holiday_days=(), params: Params = DEFAULT) -> pd.Series:
    """Which rows of a `seasonal_baseline` frame are anomalies."""
    is_holiday = frame.index.isin(pd.DatetimeIndex(pd.to_datetime(list(holiday_days)))) if len(holiday_days) \
        else np.zeros(len(frame), dtype=bool)
    base = frame.get("threshold", params.threshold)
    threshold = np.where(is_holiday, base * params.holiday_factor, base)
    big = frame["change"].abs().fillna(np.inf) >= params.min_change
    return (frame["score"].abs() >= threshold) & big & frame["baseline"].notna()


def naive_flag(series: pd.Series, pct: float = 0.3) -> pd.Series:
    """The rule the detector must beat: flag any day that moved more than ±pct against the day before."""
    dod = series.astype(float) / series.astype(float).shift(1) - 1
    return dod.abs() >= pct


def running_activity(store: Store, day: date):
    """An activity of the store running on `day` (the likeliest explanation of a jump)."""
    from campaigns.activity_review import running_activities

    return next(iter(running_activities(store, day)), None)


# Metrics where only one direction is a problem: fewer refunds or bad reviews is good news.
ALERT_ONLY = {"refunds": "up", "bad_reviews": "up"}
# Breakdowns judged value by value too, with the metrics judged in each. A traffic source is judged on
# its own level: a source that stops is itself the thing to act on. A product or a payment type is
# judged on its own level and on its share of the day's total: when paid search stops every product
# sells less, and that is the source's anomaly, not one per product; a bestseller that stops selling while the rest sell
# as usual (out of stock, delisted) or a payment method that stops working is an anomaly of its own.
# Products are judged on units, a count: a slow seller's empty day is then weighed as the chance it is
# (about 6 a day: P(0) ≈ 1 %, no alert), where its sales judged as money were always flagged.
SLICES = {"traffic_source": ["gmv", "orders", "sessions", "visitors"], "product": ["units"],
          "payment_type": ["orders"]}
SHARE_JUDGED = {"product", "payment_type"}
SLICE_MIN_SHARE = 0.05  # a value must usually bring 5 % of the total to be judged on its own
CORROBORATED_CHANGE = 0.10  # an overall move this big, driven by an abnormal source, is an anomaly too
CORROBORATED_EP = 0.5
MEANINGFUL_CHANGE = 0.05  # a smaller move of the total has no share worth quoting


def judge_day(frame: pd.DataFrame, sliced: pd.DataFrame | None, day: date, holiday_days=(),
              params: Params = DEFAULT) -> list[dict]:
    """Pure pandas verdicts for one day: overall metrics and breakdown slices.

    `frame`: day × metric (overall); `sliced`: day × (metric, dimension, value). The one-store case of
    `judge_columns`.
    """
    frame = frame.copy()
    frame.columns = pd.MultiIndex.from_tuples([(0, m) for m in frame.columns])
    if sliced is not None:
        sliced = sliced.copy()
        sliced.columns = pd.MultiIndex.from_tuples([(0, *c) for c in sliced.columns])
    return judge_columns(frame, sliced, day, holiday_days, params).get(0, [])


def _rows_on(judged: dict[str, pd.DataFrame], ts) -> pd.DataFrame:
    """The judged day of every column: one row per column with value, baseline, …, high."""
    return pd.DataFrame({name: part.loc[ts] for name, part in judged.items()})


def _flag_rows(rows: pd.DataFrame, ts, holiday_days, params: Params) -> np.ndarray:
    # `flag` reads each row on its own (score, change, baseline and whether its day is a holiday), so
    # one call judges every column's day at once: the rows are indexed by that day.
    if rows.empty:
        return np.zeros(0, dtype=bool)
    on_day = rows.set_axis(pd.DatetimeIndex([ts] * len(rows)))
    return flag(on_day, holiday_days, params).to_numpy(dtype=bool)


def judge_columns(frame: pd.DataFrame, sliced: pd.DataFrame | None, day: date, holiday_days=(),
                  params: Params = DEFAULT) -> dict:
    """Verdicts for one day of many series at once: {key: [verdict, …]}.

    `frame`: day × (key, metric) overall series, `sliced`: day × (key, metric, dimension, value); a key
    is a store (any label). Every series is scored by one `seasonal_frame` call (columns are
    independent), so a thousand stores cost about one numpy pass. Per key, a verdict is a dict with
    metric, dimension, dimension_value and the judged row; an overall move that is within its own
    noise still counts when one traffic source is clearly abnormal and explains most of it.
    """
    ts = pd.Timestamp(day)
    out: dict = {}
    if ts not in frame.index:
        return out
    order = {m: k for k, m in enumerate(DETECT_METRICS)}
    known_today = frame.loc[ts].notna().to_numpy()  # one pass, not a lookup per column
    cols = sorted((c for c, known in zip(frame.columns, known_today, strict=True) if c[1] in order and known),
                  key=lambda c: (c[0], order[c[1]]))
    if not cols:
        return out
    judged = seasonal_frame(frame[cols], holiday_days, params, counts=[_counts(c[1]) for c in cols], at=ts)
    rows = _rows_on(judged, ts)
    wrong_way = np.array([ALERT_ONLY.get(c[1]) == "up" for c in cols]) & (rows["score"].to_numpy() < 0)
    parent_only = np.array([c[1] in PARENT_ONLY for c in cols])
    hit = _flag_rows(rows, ts, holiday_days, params) & ~wrong_way & ~parent_only
    for col in rows.index[hit]:
        out.setdefault(col[0], []).append({"metric": col[1], "dimension": "", "dimension_value": "",
                                           "row": rows.loc[col].rename(ts)})
    if sliced is None or sliced.empty:
        return out
    judged_overall = set(cols)
    slice_cols = sorted(c for c in sliced.columns
                        if c[1] in SLICES.get(c[2], ()) and (c[0], c[1]) in judged_overall)
    if not slice_cols:
        return out
    counts = np.array([_counts(c[1]) for c in slice_cols], dtype=bool)
    srows = _rows_on(seasonal_frame(sliced[slice_cols], holiday_days, params, counts=counts, at=ts), ts)
    parents = pd.MultiIndex.from_tuples([c[:2] for c in slice_cols])
    total_base = rows["baseline"].reindex(parents).to_numpy()
    total_value = rows["value"].reindex(parents).to_numpy()
    base = srows["baseline"].to_numpy()
    with np.errstate(invalid="ignore"):
        big_enough = ~np.isnan(base) & ~np.isnan(total_base) & (base >= SLICE_MIN_SHARE * total_base)
    candidates = big_enough & _flag_rows(srows, ts, holiday_days, params)
    by_share = np.array([c[2] in SHARE_JUDGED for c in slice_cols]) & candidates
    if by_share.any():
        # A product or payment type must also have left its share: judged again as if the day's total had
        # been usual (value × usual total / actual total), it must still be abnormal the same way.
        picked = [c for c, yes in zip(slice_cols, by_share, strict=True) if yes]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = total_base[by_share] / total_value[by_share]
        data = sliced[picked].copy()
        data.loc[ts] = data.loc[ts].to_numpy() * np.where(np.isfinite(scale), scale, np.nan)
        share_rows = _rows_on(seasonal_frame(data, holiday_days, params, counts=counts[by_share], at=ts), ts)
        same_way = np.sign(share_rows["score"].to_numpy()) == np.sign(srows["score"].to_numpy()[by_share])
        candidates[by_share] = _flag_rows(share_rows, ts, holiday_days, params) & same_way
    flagged_overall = {(key, v["metric"]) for key, verdicts in out.items() for v in verdicts}
    for key, metric, dimension, value in srows.index[candidates]:
        row = srows.loc[(key, metric, dimension, value)].rename(ts)
        verdicts = out.setdefault(key, [])
        verdicts.append({"metric": metric, "dimension": dimension, "dimension_value": value, "row": row})
        if dimension in SHARE_JUDGED:
            continue
        total = rows.loc[(key, metric)].rename(ts)
        overall_delta = total["value"] - total["baseline"]
        same_way = np.sign(overall_delta) == np.sign(row["value"] - row["baseline"])
        explains = abs(overall_delta) > 0 and (row["value"] - row["baseline"]) / overall_delta >= CORROBORATED_EP
        if (key, metric) not in flagged_overall and same_way and explains \
                and abs(_num(total["change"]) or 0) >= CORROBORATED_CHANGE:
            verdicts.append({"metric": metric, "dimension": "", "dimension_value": "", "row": total,
                             "corroborated_by": value, "corroborated_change": _num(row["change"])})
            flagged_overall.add((key, metric))
    return out


def _series_frames(series: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`read_series` rows of stores sharing one window →
    (day × (store, metric), day × (store, metric, dimension, value))."""
    keys = series.sort_values(["store_id", "dimension", "metric", "value_key"])
    values = np.full((len(days), len(keys)), np.nan)
    if len(keys):  # every series' cells scattered into its column at once
        lengths = keys["offsets"].map(len).to_numpy()
        values[np.concatenate(keys["offsets"].to_list()), np.repeat(np.arange(len(keys)), lengths)] = \
            np.concatenate(keys["values"].to_list())
    stores = keys["store_id"].to_numpy()
    metrics = keys["metric"].to_numpy()
    overall = keys["dimension"].to_numpy() == ""
    # The days each store was rolled up: its overall "orders" row exists.
    orders = np.flatnonzero(overall & (metrics == "orders"))
    rolled_by_store = {stores[k]: ~np.isnan(values[:, k]) for k in orders}
    never = np.zeros(len(days), dtype=bool)
    rolled = np.stack([rolled_by_store.get(s, never) for s in stores], axis=1) if len(keys) else \
        np.zeros((len(days), 0), dtype=bool)
    values = fill_rolled_zeros(values, metrics, rolled)
    frame = pd.DataFrame(values[:, overall], index=days,
                         columns=pd.MultiIndex.from_arrays([stores[overall], metrics[overall]]))
    sliced = pd.DataFrame(values[:, ~overall], index=days, columns=pd.MultiIndex.from_arrays(
        [stores[~overall], metrics[~overall], keys["dimension"].to_numpy()[~overall],
         keys["value_key"].to_numpy()[~overall]]))
    return frame, sliced


def detect_anomalies(store: Store, day: date, params: Params = DEFAULT) -> list[Anomaly]:
    """Judge the store's `day` against its history; create/update its anomalies (idempotent).

    Anomalies of that day that no longer hold and nobody has worked on yet are removed, so a
    re-run after a corrected rollup leaves exactly what the data says. The one-store case of
    `detect_many`.
    """
    return detect_many([(store, day)], params)[(store.pk, day)]


def detect_many(store_days, params: Params = DEFAULT) -> dict[tuple[int, date], list[Anomaly]]:
    """`detect_anomalies` for a batch of (store, day): one read of the series, one vectorised verdict
    per group of stores sharing a day and a holiday calendar, root cause only for what was flagged,
    and one bulk upsert. Returns {(store id, day): anomalies}.
    """
    store_days = list(dict.fromkeys(store_days))
    found: dict[tuple[int, date], list[Anomaly]] = {(s.pk, d): [] for s, d in store_days}
    if not store_days:
        return found
    span = history_days(params)
    groups: dict[tuple, list[int]] = {}  # (day, holidays) -> positions in store_days
    context = {}
    for at, (store, day) in enumerate(store_days):
        start = day - timedelta(days=span)
        hol = holiday_calendar(store.country, {start.year, day.year})
        holiday_days = tuple(sorted(d for d in hol if start <= d <= day))
        context[(store.pk, day)] = (store, start, holiday_days, hol.get(day, ""))
        groups.setdefault((day, holiday_days), []).append(at)
    # One read for the whole batch (each group's own query scanned the index once per group).
    series = read_series([(s.pk, d - timedelta(days=span), d) for s, d in store_days],
                         {"": DETECT_METRICS, **SLICES})
    group_of = np.empty(len(store_days), dtype=int)
    for g, members in enumerate(groups.values()):
        group_of[members] = g
    series_group = group_of[series["window"].to_numpy(dtype=int)]
    verdicts: dict[tuple[int, date], list[dict]] = {}
    for g, (day, holiday_days) in enumerate(groups):
        start = day - timedelta(days=span)
        part = series[series_group == g]
        if part.empty:
            continue
        frame, sliced = _series_frames(part, pd.date_range(start, day, freq="D"))
        for key, found_here in judge_columns(frame, sliced, day, list(holiday_days), params).items():
            verdicts[(int(key), day)] = found_here
    rows = read_windows([(pk, context[(pk, day)][1], day) for pk, day in verdicts])
    anomalies: list[Anomaly] = []
    for (pk, day), judged in verdicts.items():
        store, start, holiday_days, holiday_name = context[(pk, day)]
        window = Window(store, start, day, rows=rows.get((pk, start, day)))
        made = _anomalies(store, day, judged, window, list(holiday_days), holiday_name, params)
        found[(pk, day)] = made
        anomalies += made
    _save(store_days, anomalies)
    return found


def _anomalies(store: Store, day: date, verdicts: list[dict], window: Window, holiday_days, holiday_name: str,
               params: Params) -> list[Anomaly]:
    """Unsaved anomalies for one store-day's verdicts, each with its root cause in plain words."""
    ts = pd.Timestamp(day)
    frame = window.frame()
    expected = Expected(day, holiday_days, params)
    activity = running_activity(store, day)
    out = []
    for v in verdicts:
        metric, dimension, dim_value, row = v["metric"], v["dimension"], v["dimension_value"], v["row"]
        series = frame[metric] if not dimension else window.frame(dimension)[(metric, dim_value)]
        value, baseline = float(row["value"]), float(row["baseline"])
        dod = pct_change(value, series.get(ts - pd.Timedelta(days=1)))
        wow = pct_change(value, series.get(ts - pd.Timedelta(days=7)))
        if dimension in SHARE_JUDGED:
            cause = explain_share(store, day, metric, dimension, dim_value, row, frame, window.frame(dimension),
                                  expected)
        elif dimension:
            cause = explain_slice(store, day, metric, dim_value, frame, window.frame(dimension), holiday_days,
                                  params, expected)
        else:
            cause = explain(store, day, metric, frame, holiday_days, params, window=window, expected=expected)
        text = cause["summary"]
        if v.get("corroborated_by"):
            # Said so that "GMV −38 %" and "within its noise" do not read as a contradiction.
            source = v["corroborated_by"]
            text += corroboration_note(store, source)
            # Kept apart from the words: its own score and chart may show an ordinary day, so the page and
            # the morning email label it with the source's move (Anomaly.flagged_because).
            cause["flagged_because"] = {"dimension": "traffic_source", "value": source,
                                        "change": v.get("corroborated_change")}
        if holiday_name:
            text += holiday_note(holiday_name)
        # A promotion explains more sales, never fewer, nor one product or payment method on its own.
        explained_by = activity if value > baseline and dimension not in SHARE_JUDGED else None
        if explained_by:
            text += activity_note(activity)
        out.append(Anomaly(
            store=store, day=day, metric=metric, dimension=dimension, dimension_value=dim_value,
            value=_dec(value), baseline=_dec(baseline), band_low=_dec(row["low"]), band_high=_dec(row["high"]),
            change=_num(row["change"]), change_dod=dod, change_wow=wow, score=float(row["score"]),
            direction=Direction.UP if value > baseline else Direction.DOWN, holiday=holiday_name,
            explained_by=explained_by, explanation=text, root_cause=cause,
        ))
    return out


# Detecting again refreshes the numbers and words, never the status, plan or owner people set.
REFRESHED = ["value", "baseline", "band_low", "band_high", "change", "change_dod", "change_wow", "score",
             "direction", "holiday", "explained_by", "explanation", "root_cause", "updated_at"]


# What metrics.incidents.group reads of each anomaly.
INCIDENT_FIELDS = ["store", "day", "metric", "dimension", "dimension_value", "value", "baseline", "score", "root_cause",
                   "status", "plan", "part_of", "direction", "continues"]


def _save(store_days, anomalies: list[Anomaly]) -> None:
    """Upsert the anomalies, remove the batch's untouched ones that no longer hold, and group each store-day's
    into incidents (metrics.incidents), in one transaction."""
    keep = {(a.store_id, a.day, a.metric, a.dimension, a.dimension_value) for a in anomalies}
    pairs = {(s.pk, d) for s, d in store_days}
    with transaction.atomic():
        if anomalies:
            Anomaly.objects.bulk_create(
                anomalies, update_conflicts=True, update_fields=REFRESHED,
                unique_fields=["store", "day", "metric", "dimension", "dimension_value"])
        batch = Anomaly.objects.filter(store_id__in={pk for pk, _ in pairs}, day__in={d for _, d in pairs})
        # Untouched: nobody wrote a plan or items, and its status is the default, its lead's or the one it
        # carried over from the day before's incident.
        stale = batch.filter(Q(status=AnomalyStatus.NEW) | Q(part_of__isnull=False)
                             | Q(continues__isnull=False, status=F("continues__status")), plan="",
                             action_items__isnull=True,
                             ).values_list("pk", "store_id", "day", "metric", "dimension", "dimension_value")
        gone = [(pk, *key) for pk, *key in stale if (key[0], key[1]) in pairs and tuple(key) not in keep]
        if gone:
            Anomaly.objects.filter(pk__in=[pk for pk, *_ in gone]).delete()
            # Kept so that a link to one in an email already sent says it was withdrawn, not 404.
            WithdrawnAnomaly.objects.bulk_create([
                WithdrawnAnomaly(id=pk, store_id=store_id, day=day, metric=metric, dimension=dimension,
                                 dimension_value=value) for pk, store_id, day, metric, dimension, value in gone],
                ignore_conflicts=True)
        held = [a for a in batch.only(*INCIDENT_FIELDS).annotate(items=Count("action_items"))
                if (a.store_id, a.day) in pairs]
        changed = {id(a): a for a in incidents.group(held, {a.pk: a.items for a in held})}
        _continue_incidents(held, pairs, changed)
        Anomaly.objects.bulk_update(list(changed.values()), ["part_of", "status", "continues"])


def _continue_incidents(held: list[Anomaly], pairs: set, changed: dict) -> None:
    """Link each lead of the batch to the day before's incident it continues (metrics.incidents.link_days), and
    the leads of a day after the batch's that was judged already to the batch's (late data flagged a day before
    it: its incident began a day earlier); the anomalies grouped under a lead follow the status it carried over.
    One query for both neighbours. Adds what changed to `changed`."""
    def step(days: int) -> set:
        return {(pk, d + timedelta(days=days)) for pk, d in pairs}

    before, after = step(-1) - pairs, step(1) - pairs
    either = before | after
    around = [a for a in Anomaly.objects.filter(
        Q(part_of__isnull=True) | Q(day__in={d for _, d in after}),
        store_id__in={pk for pk, _ in pairs}, day__in={d for _, d in either},
    ).only(*INCIDENT_FIELDS) if (a.store_id, a.day) in either]
    leads = {a.pk: a for a in held if a.part_of_id is None}
    # A batch of several days of a store (catch-up nights, backfill): the day before is this batch's own lead,
    # linked first (oldest day first), so a status carried over reaches the third day too.
    earlier = [a for a in around if (a.store_id, a.day) in before and a.part_of_id is None] + list(leads.values())
    changed.update((id(a), a) for a in incidents.link_days(list(leads.values()), earlier))
    later = [a for a in around if (a.store_id, a.day) in after]
    later_leads = {a.pk: a for a in later if a.part_of_id is None}
    changed.update((id(a), a) for a in incidents.link_days(list(later_leads.values()), list(leads.values())))
    leads.update(later_leads)
    for a in held + later:
        if a.part_of_id is None:
            continue
        lead = leads.get(a.part_of_id)
        follow = (None, lead.status if lead else a.status)  # only a lead continues; the others follow it
        if (a.continues_id, a.status) != follow:
            a.continues_id, a.status = follow
            changed[id(a)] = a


def explain_slice(store: Store, day: date, metric: str, source: str, frame: pd.DataFrame, sliced: pd.DataFrame,
                  holiday_days=(), params: Params = DEFAULT, expected: Expected | None = None) -> dict:
    """Plain words for an abnormal traffic source: its change, traffic evidence and the overall effect."""
    expected = expected or Expected(day, holiday_days, params)
    judged = expected.of(sliced).loc[(metric, source)]
    overall = expected.of(frame).loc[metric] if metric in frame.columns else None
    name = SHORT_SOURCE.get(source, dimension_labels(store, "traffic_source", [source])[source])
    what = "GMV" if metric == "gmv" else METRICS[metric].short_label.lower()
    text = f"{name[:1].upper()}{name[1:]} {what} {pct(_num(judged['change']))} vs usual {day:%A}"
    text += _supporting("traffic_source", source, sliced, expected, currency=store.currency) \
        if metric != "sessions" else ""
    if overall is not None and not pd.isna(overall["baseline"]):
        share = (judged["value"] - judged["baseline"]) / (overall["value"] - overall["baseline"]) \
            if overall["value"] != overall["baseline"] else None
        text += f"; overall {what} {pct(_num(overall['change']))}"
        # A share of a change the total barely made (−1 %) says nothing: other sources made up for it.
        if share is not None and share > 0 and abs(_num(overall["change"]) or 0) >= MEANINGFUL_CHANGE:
            text += f", {min(share, 1.0) * 100:.0f} % of that change"
    return {"summary": text + ".", "dimensions": [], "tree": None,
            "top_dimension": "traffic_source", "top_value": source}


def explain_share(store: Store, day: date, metric: str, dimension: str, value: str, row: pd.Series,
                  frame: pd.DataFrame, dframe: pd.DataFrame, expected: Expected) -> dict:
    """Plain words for a product or payment type that moved on its own: its change, and the total's beside it."""
    name = dimension_labels(store, dimension, [value])[value]
    what = METRICS[metric].short_label.lower()
    subject = f"“{name}”" if dimension == "product" else name
    text = f"{subject} {what} {pct(_num(row['change']))} vs usual {day:%A}"
    if _counts(metric):  # a count's own numbers say how unusual it is: 0 of usually 31, not of usually 2
        text += f": {row['value']:,.0f}, usually {row['baseline']:,.0f}"
    text += _supporting(dimension, value, dframe, expected, currency=store.currency)
    if metric in frame.columns:
        everyone = "all products'" if dimension == "product" else "all"
        text += f"; {everyone} {what} {pct(_num(expected.of(frame).at[metric, 'change']))}"
    return {"summary": text[:1].upper() + text[1:] + ".", "dimensions": [], "tree": None,
            "top_dimension": dimension, "top_value": value}


def corroboration_note(store: Store, source: str) -> str:
    """The explanation's sentence for an overall move flagged for the abnormal source that drove it. The
    morning email, which labels the move with `Anomaly.flagged_because` instead, takes it out again."""
    name = SHORT_SOURCE.get(source, dimension_labels(store, "traffic_source", [source])[source])
    return (f" (A move this size happens on some ordinary days too; flagged because {name}, which drove it,"
            " is abnormal.)")


def holiday_note(name: str) -> str:
    """The explanation's sentence naming the public holiday that downgraded the verdict."""
    return f" Public holiday: {name} (downgraded)."


ACTIVITY_NOTE = " Activity running that day: "


def activity_note(activity) -> str:
    """The explanation's sentence naming the activity that explains a rise (the email names it apart)."""
    return f"{ACTIVITY_NOTE}{activity.name}."


def _counts(metric: str) -> bool:
    info = METRICS.get(metric)
    return bool(info and info.kind == "count")


def history_days(params: Params = DEFAULT) -> int:
    """Days of history a verdict needs: the baseline's weeks plus the spread's window."""
    return params.weeks * 7 + params.spread_days


def _dec(value: float) -> Decimal:
    return Decimal(str(round(float(value), 6)))


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def dimension_labels(store: Store, dimension: str, values) -> dict[str, str]:
    """Display names of a dimension's values: a source's label, a product's title."""
    if dimension == "traffic_source":
        return {v: str(TrafficSource(v).label) if v in TrafficSource.values else v for v in values}
    if dimension == "payment_type":
        return {v: str(PaymentType(v).label) if v in PaymentType.values else v for v in values}
    if dimension == "product":
        ids = [int(v) for v in values if str(v).isdigit()]
        titles = dict(Product.objects.filter(store=store, pk__in=ids).values_list("pk", "title"))
        return {v: titles.get(int(v), v) if str(v).isdigit() else v for v in values}
    return {v: v for v in values}


def label_values(anomalies):
    """Set each breakdown anomaly's `value_label` (its title's product or source name) with one lookup
    per store and dimension, so a page of product anomalies is not one query per row."""
    groups: dict[tuple, list[Anomaly]] = {}
    for a in anomalies:
        if a.dimension:
            groups.setdefault((a.store_id, a.dimension), []).append(a)
    for (_, dimension), group in groups.items():
        labels = dimension_labels(group[0].store, dimension, {a.dimension_value for a in group})
        for a in group:
            a.value_label = labels[a.dimension_value]
    return anomalies


def with_related(anomalies) -> list[Anomaly]:
    """Incident leads, each with `related_list`: the anomalies of its incident, labelled, in reading order."""
    leads = list(anomalies.prefetch_related(Prefetch("related", queryset=Anomaly.objects.select_related("store"))))
    for a in leads:
        a.related_list = list(a.related.all())  # the model's order: the headline before its details
    label_values(leads + [r for a in leads for r in a.related_list])
    read_runs(leads)  # "since Wed 25 Nov, 3rd day" for an incident that runs over days
    return leads


SHORT_SOURCE = {"paid_search": "paid-search", "organic_search": "organic-search"}


def explain(store: Store, day: date, metric: str, frame: pd.DataFrame | None = None, holiday_days=(),
            params: Params = DEFAULT, window: Window | None = None, expected: Expected | None = None) -> dict:
    """Root cause of `metric` on `day`: Adtributor over the dimensions plus the metric tree.

    Returns a JSON-able dict with "summary" (plain words), "dimensions" and "tree".
    """
    start = day - timedelta(days=history_days(params))
    ts = pd.Timestamp(day)
    window = window or Window(store, start, day)
    expected = expected or Expected(day, holiday_days, params)
    if frame is None:
        frame = window.frame()
    base_metric = rootcause.ATTRIBUTE_VIA.get(metric, metric)
    dim_metrics = rootcause.DIMENSION_METRIC.get(base_metric, {})
    breakdowns, totals, counts = {}, {}, {}
    overall = expected.of(frame)
    for dimension, dmetric in dim_metrics.items():
        dframe = window.frame(dimension)
        present = dframe.columns.get_level_values(0)
        if dmetric not in present:
            continue
        counted = dmetric if _counts(dmetric) else rootcause.COUNTED_BY.get(dmetric)
        if counted in present:  # the day's volume: is the values' share move beyond chance at it?
            counts[dimension] = (expected.of(dframe)["baseline"].loc[counted].fillna(0.0),
                                 dframe[counted].loc[ts].fillna(0.0))
        # Each value's usual level is its own seasonal baseline: the same number its own anomaly and
        # its page quote, so "paid-search GMV, usually 14,846" reads the same everywhere; and its share
        # of the change is of the overall metric's change, as on its own page.
        forecast = expected.of(dframe)["baseline"].loc[dmetric]
        breakdowns[dimension] = (forecast.fillna(0.0), dframe[dmetric].loc[ts])
        if dmetric in overall.index and not pd.isna(overall.at[dmetric, "baseline"]):
            totals[dimension] = (float(overall.at[dmetric, "value"]), float(overall.at[dmetric, "baseline"]))
    ranked = rootcause.rank_dimensions(breakdowns, base_metric, dim_metrics, totals, counts)
    tree = _tree(frame, expected) if metric in ("gmv", "orders", "visitors", "conversion",
                                                                 "aov") else None
    info = METRICS[metric]
    baseline = expected.of(frame).loc[metric]
    head = f"{info.short_label} {pct(_num(baseline['change']))} vs usual {day:%A}"
    parts = []
    if ranked:
        top = ranked[0]
        labels = dimension_labels(store, top.dimension, [c.value for c in top.candidates])
        for c in top.candidates[:2]:
            name = SHORT_SOURCE.get(c.value, labels[c.value]) if top.dimension == "traffic_source" \
                else labels[c.value]
            what = METRICS[top.metric].short_label if top.metric in METRICS else top.metric
            clause = f"{name} {what.lower() if top.metric != 'gmv' else 'GMV'} {_moved(c, top.metric, store.currency)}"
            clause += _supporting(top.dimension, c.value, window.frame(top.dimension), expected, said=top.metric,
                                  currency=store.currency)
            parts.append(clause)
    if not parts and breakdowns:
        tried = " or ".join(str(Dimension(d).label).lower() for d in breakdowns)
        parts.append(f"no single {tried} explains it")
    text = head + (": " + "; ".join(parts) if parts else "")
    if tree:
        names = {"visitors": "visitors", "conversion": "conversion", "aov": "AOV", "orders": "orders"}
        factors = ", ".join(f"{names[k]} {pct(v['change'])}" for k, v in tree["factors"].items())
        text += f". Metric tree: {factors} — {names[tree['top']]} moved most."
    else:
        text += "."
    dimensions = rootcause.as_json(ranked)
    for entry in dimensions:
        labels = dimension_labels(store, entry["dimension"], [c["value"] for c in entry["candidates"]])
        for c in entry["candidates"]:
            c["label"] = labels.get(c["value"], c["value"])
    return {"summary": text, "dimensions": dimensions, "tree": tree,
            "top_dimension": ranked[0].dimension if ranked else None,
            "top_value": ranked[0].candidates[0].value if ranked else None}


def _money(value, currency: str) -> str:
    """An amount in an explanation as every other page writes money: '4,243.00 CNY' (a plain space: stored
    texts keep plain spaces, `keep_pct` holds the amount and its currency together where it is shown)."""
    return f"{metric_value(value, 'money')} {currency}".rstrip()


def _moved(candidate: rootcause.Candidate, metric: str = "", currency: str = "") -> str:
    """A root-cause value's move: '−91 %', or 'from 0 to 9,000.00 CNY' for one that usually brings nothing (a
    new source or product), where a percentage does not exist and '–' would read as no data."""
    if candidate.change is None:
        info = METRICS.get(metric)
        if info and info.kind == "money":
            return f"from 0 to {_money(candidate.actual, currency)}"
        return f"from 0 to {candidate.actual:,.0f}"
    return pct(candidate.change)


def _supporting(dimension, value, dframe, expected: Expected, said: str = "", currency: str = "") -> str:
    """Traffic evidence: a source's sessions' change and the day's ad spend there; a product's views.
    The metric the clause already names (`said`) is not repeated: "paid-search sessions −97 % (sessions
    −97 %)" says it twice."""
    if dimension == "product" and said != "pv" and ("pv", value) in dframe.columns:
        views = expected.of(dframe).loc[("pv", value)]
        known = _num(views["baseline"]) and _num(views["change"]) is not None
        return f" (product views {pct(_num(views['change']))})" if known else ""
    if dimension != "traffic_source":
        return ""
    bits = []
    if said != "sessions" and ("sessions", value) in dframe.columns:
        base = expected.of(dframe).loc[("sessions", value)]
        if base["baseline"] and not pd.isna(base["baseline"]):
            bits.append(f"sessions {pct(_num(base['change']))}")
    if said != "ad_spend" and ("ad_spend", value) in dframe.columns:
        spend = dframe.at[expected.ts, ("ad_spend", value)]
        if not pd.isna(spend):
            # The spend beside its usual level: "ad spend 373" alone does not say whether it moved.
            usual = expected.of(dframe).at[("ad_spend", value), "baseline"]
            known = not pd.isna(usual) and round(usual) != round(spend)
            bits.append(f"ad spend {_money(spend, currency)}"
                        + (f", usually {_money(usual, currency)}" if known else ""))
    return f" ({', '.join(bits)})" if bits else ""


def _tree(frame: pd.DataFrame, expected: Expected) -> dict | None:
    actual, usual = {}, {}
    for m in ("visitors", "conversion", "aov", "orders"):
        if m in frame.columns:
            actual[m] = _num(frame.at[expected.ts, m])
            usual[m] = _num(expected.of(frame).at[m, "baseline"])
    return rootcause.metric_tree(actual, usual)


def open_anomalies(store: Store):
    return Anomaly.objects.filter(store=store).exclude(status=AnomalyStatus.RESOLVED)


def metric_series(store: Store, metric: str, end: date, days: int = 60, dimension: str = "",
                  value: str = "") -> pd.DataFrame:
    """The metric's history (overall, or of one dimension value) with its seasonal baseline and band, for charts."""
    start = end - timedelta(days=days + history_days())
    frame = history(store, start, end, dimension=dimension, metrics=[metric])
    column = (metric, value) if dimension else metric
    if column not in frame.columns:
        return pd.DataFrame()
    hol = holiday_calendar(store.country, {start.year, end.year})
    judged = seasonal_baseline(frame[column], [d for d in hol if start <= d <= end], counts=_counts(metric))
    return judged.iloc[-days:]


def rolled_days(store: Store) -> int:
    return DailyMetric.objects.filter(store=store, metric="orders", dimension="").count()

