"""Peer benchmarks: import the platform's peer figures (a pasted or uploaded CSV) and say them beside the store's own.

Columns date, metric, level, value (header in any order and case, English or Chinese: 日期, 指标, 层级, 数值);
comma- or tab-separated (a paste from a spreadsheet is tab-separated). Metrics and levels are read as the platforms
write them: 访客数 / visitors, 支付转化率 / conversion rate, 客单价 / average order value, 支付金额 / payment amount;
同行同层平均 / average, 同行同层优秀 / top. A rate is a percentage (3.2%) or a fraction (0.032); money is the
store's currency (its own sign allowed). Days and decimal marks are read as every other import reads them
(`stores.importers.parse_day`, `opsdesk.money.decimal_mark`). All or nothing, every bad row named; the days a file
holds are replaced whole, so importing it again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from opsdesk.money import MAX_MONEY, MixedDecimalMarks, decimal_mark, parse_decimal
from stores.importers import (
    BadValue,
    ImportRejected,
    MixedDayOrder,
    day_order,
    parse_day,
    parse_money,
    read_rows,
    too_large,
    too_many,
)
from stores.models import Store
from stores.violations_import import RowError

from . import figures
from .models import PeerBenchmark, PeerLevel, PeerMetric
from .rollup import METRICS

MAX_BYTES = 512 * 1024  # a month of four metrics at two levels is a few kilobytes
MAX_ROWS = 5000
COLUMNS = ["date", "metric", "level", "value"]
PLACES = Decimal("0.000001")


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


HEADER_NAMES = {_key(name): column for column, names in {
    "date": ["date", "day", "日期", "统计日期"],
    "metric": ["metric", "指标", "指标名称"],
    "level": ["level", "层级", "对比"],
    "value": ["value", "数值", "值"],
}.items() for name in names}

METRIC_NAMES = {_key(name): metric for metric, names in {
    "visitors": ["visitors", "visitor count", "unique visitors", "uv", "访客数"],
    "conversion": ["conversion", "conversion rate", "payment conversion rate", "支付转化率", "转化率"],
    "aov": ["aov", "average order value", "客单价"],
    "gmv": ["gmv", "payment amount", "sales", "支付金额", "销售额"],
}.items() for name in [*names, METRICS[metric].label, METRICS[metric].short_label]}
# Platforms give these too, but opsdesk has no figure of its own of them to compare: said so, not "unknown".
NOT_COMPARED = {_key(name) for name in ["refund rate", "退款率", "成功退款金额", "refund amount"]}

LEVEL_NAMES = {_key(name): level for level, names in {
    PeerLevel.AVERAGE: ["average", "avg", "peer average", "peers average", "同行同层平均", "同行平均", "平均"],
    PeerLevel.TOP: ["top", "top peers", "excellent", "best", "同行同层优秀", "同行优秀", "优秀"],
}.items() for name in names}

METRIC_HINT = "use visitors (访客数), conversion (支付转化率), aov (客单价) or gmv (支付金额)"
LEVEL_HINT = "use average (同行同层平均) or top (同行同层优秀)"


class PeerImportError(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:20]) + (" …" if len(errors) > 20 else ""))


@dataclass(frozen=True)
class PeerImportResult:
    figures: int
    days: list[date]
    replaced: int  # figures of those days that were there before


def _tab_separated_as_csv(text: str) -> str:
    """A paste from a spreadsheet (cells split by tabs) as comma-separated text, row for row."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if "\t" not in first or "," in first:
        return text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(csv.reader(io.StringIO(text), delimiter="\t"))
    return out.getvalue()


def _read(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line, row) with the columns under their English names; PeerImportError for a file that cannot be read."""
    if refusal := too_large(len(text.encode()), MAX_BYTES):
        raise PeerImportError([RowError(None, "", refusal)])
    try:
        header, rows = read_rows(_tab_separated_as_csv(text))
    except ImportRejected as exc:
        raise PeerImportError([RowError(row, "", message) for row, message in exc.errors]) from None
    names = {h: HEADER_NAMES.get(_key(h)) for h in header}
    if missing := [c for c in COLUMNS if c not in names.values()]:
        raise PeerImportError([RowError(1, c, "column missing from the header (date, metric, level, value)")
                               for c in missing])
    if refusal := too_many(len(rows), MAX_ROWS, "rows"):
        raise PeerImportError([RowError(None, "", refusal)])
    if not rows:
        raise PeerImportError([RowError(None, "", "The file has no rows, only the header.")])
    return [(line, {names[h]: v for h, v in row.items() if names.get(h)}) for line, row in rows]


def _value(text: str, metric: str, store: Store, mark: str | None) -> Decimal:
    """The figure of `metric` as the daily tables hold it: a rate as a fraction, money in the store's currency."""
    kind = METRICS[metric].kind
    if kind == "money":
        return parse_money(text, store.currency, mark)
    number = text.strip()
    percent = number.endswith("%")
    try:
        value = parse_decimal(number.rstrip("%").strip(), mark, whole=kind == "count")
    except ValueError as exc:
        raise BadValue(str(exc)) from None
    if value < 0:
        raise BadValue(f"{text} is negative")
    if kind == "ratio":
        if percent:
            value /= 100
        elif value > 1:  # 3.2 is 3.2 % to one reader and 320 % to another
            raise BadValue(f"{text} is no rate: write it as a percentage (3.2%) or a fraction (0.032)")
        if value > 1:
            raise BadValue(f"{text} is over 100 %")
    elif percent:
        raise BadValue(f"{text} is a percentage, but {METRICS[metric].short_label.lower()} is no rate")
    if value >= MAX_MONEY:
        raise BadValue(f"{text} is too large")
    return value.quantize(PLACES)


def parse_peer_rows(store: Store, text: str, mark: str | None = None, dates: str | None = None) -> list[PeerBenchmark]:
    """Every figure of the CSV `text` for `store` (unsaved), its decimal `mark` and date order `dates` chosen on
    the upload form (None: the file's own); PeerImportError naming every bad row and column."""
    rows = _read(text)
    try:
        mark = decimal_mark(((line, "value", row.get("value", "").rstrip("%")) for line, row in rows), mark)
        order = day_order(((line, row.get("date", "")) for line, row in rows), dates)
    except MixedDecimalMarks as exc:
        raise PeerImportError([RowError(exc.row, exc.column, str(exc))]) from None
    except MixedDayOrder as exc:
        raise PeerImportError([RowError(exc.row, "date", str(exc))]) from None
    today = store.today()
    found, errors, seen = [], [], {}
    for line, row in rows:
        row_errors = [RowError(line, c, "is empty") for c in COLUMNS if not row.get(c)]
        day = metric = level = value = None
        if row.get("date"):
            try:
                day = parse_day(row["date"], order)
            except ValueError as exc:
                row_errors.append(RowError(line, "date", str(exc)))
            else:
                if day > today:  # the platform publishes a day after it ends: a later one is a typo
                    row_errors.append(RowError(line, "date", f"{day:%Y-%m-%d} is after today ({today:%Y-%m-%d} in "
                                                             f"{store.timezone})"))
        if name := row.get("metric"):
            metric = METRIC_NAMES.get(_key(name))
            if metric is None:
                why = ("opsdesk has no figure of its own to compare it with; leave the row out"
                       if _key(name) in NOT_COMPARED else METRIC_HINT)
                row_errors.append(RowError(line, "metric", f"“{name}” is not compared with peers: {why}"))
        if name := row.get("level"):
            level = LEVEL_NAMES.get(_key(name))
            if level is None:
                row_errors.append(RowError(line, "level", f"“{name}” is no level: {LEVEL_HINT}"))
        if row.get("value") and metric:  # a value is read as its metric's kind; no metric, no kind
            try:
                value = _value(row["value"], metric, store, mark)
            except BadValue as exc:
                row_errors.append(RowError(line, "value", str(exc)))
        if day and metric and level:
            if (key := (day, metric, level)) in seen:
                row_errors.append(RowError(line, "metric",
                                           f"{metric} {level} of {day:%Y-%m-%d} repeats row {seen[key]}"))
            seen.setdefault(key, line)
        errors.extend(row_errors)
        if not row_errors:
            found.append(PeerBenchmark(store=store, day=day, metric=metric, level=level, value=value))
    if errors:
        raise PeerImportError(errors)
    return found


def import_peer_benchmarks(store: Store, text: str, mark: str | None = None, dates: str | None = None,
                           source: str = "") -> PeerImportResult:
    """Store the CSV's peer figures for `store`, replacing every figure of the days it holds (so a day imported
    again is that file's, whatever it held before); nothing is saved when any row is bad (PeerImportError)."""
    found = parse_peer_rows(store, text, mark, dates)
    days = sorted({f.day for f in found})
    for figure in found:
        figure.source = source.strip()
    with transaction.atomic():
        replaced, _ = store.peer_benchmarks.filter(day__in=days).delete()
        PeerBenchmark.objects.bulk_create(found)
    return PeerImportResult(len(found), days, replaced)


def peer_figures(store: Store, day: date) -> dict[str, dict[str, Decimal]]:
    """{metric: {level: value}} of the store's peers on `day`."""
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for metric, level, value in store.peer_benchmarks.filter(day=day).values_list("metric", "level", "value"):
        out[metric][level] = value
    return dict(out)


def _figure(value, kind: str, currency: str) -> str:
    text = figures.metric_value(value, kind)
    return f"{text}{figures.NBSP}{currency}" if kind == "money" else text


def peer_note(row: dict, peers: dict[str, Decimal], currency: str) -> dict | None:
    """What the daily table says beside a metric's `row` (`metrics.compare.comparison_row`) of the peers'
    figures: {"text": "peers 3.10 % avg · 5.00 % top", "gap": "−0.60 pts", "tone": "down"}, the gap being the
    store's to the average in the words of every other change (a rate's in points); None without figures."""
    if not peers:
        return None
    kind = row["kind"]
    # Each figure kept on one line with its level: a phone wraps the note only between them.
    said = [f"{_figure(peers[level], kind, currency)} {short}".replace(" ", figures.NBSP) for level, short in
            ((PeerLevel.AVERAGE, "avg"), (PeerLevel.TOP, "top")) if level in peers]
    note = {"text": "peers " + " · ".join(said), "gap": None, "tone": "muted"}
    average, value = peers.get(PeerLevel.AVERAGE), row.get("value")
    if average is not None and value is not None:
        average = float(average)
        if kind == "ratio":
            words, tone = figures.change_words(value - average, good_when_up=row["good_when_up"], in_points=True)
        else:
            change = value / average - 1 if average else None
            words, tone = figures.change_words(change, value=value, earlier=average, good_when_up=row["good_when_up"])
        note.update(gap=words, tone=tone)
    return note


def with_peer_notes(rows: list[dict], store: Store, day: date) -> list[dict]:
    """The daily table's `rows`, each with "peers" (`peer_note`) for the store's peers on `day`: one query."""
    figures_of_day = peer_figures(store, day)
    for row in rows:
        row["peers"] = peer_note(row, figures_of_day.get(row["metric"], {}), store.currency)
    return rows


RECENT_DAYS_SHOWN = 31


def recent_figures(store: Store, days: int = RECENT_DAYS_SHOWN) -> list[dict]:
    """The peer figures of the store's last `days` days that have any, for its page: one line per day and
    metric, newest day first, each figure written as the daily table writes it."""
    lines: dict[tuple[date, str], dict] = {}
    recent = store.peer_benchmarks.filter(day__gt=store.today() - timedelta(days=days)).order_by("-day")
    order = {m: i for i, m in enumerate(PeerMetric.values)}
    for figure in recent:
        line = lines.setdefault((figure.day, figure.metric), {
            "day": figure.day, "metric": figure.get_metric_display(), "order": order[figure.metric],
            "source": figure.source})
        line[figure.level] = _figure(figure.value, METRICS[figure.metric].kind, store.currency)
    return sorted(lines.values(), key=lambda line: (-line["day"].toordinal(), line["order"]))

