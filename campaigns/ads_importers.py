"""Ad performance reports in, all-or-nothing: Google Ads campaign reports and through-train reports.

A report is read whole, every row is checked (date, plan known in the store, counts and money not
negative and not beyond what their columns hold, no (plan, date[, creative]) twice in one file) and
nothing is written unless every row is good; the error names the file line, the column and the
reason. A Google report segmented by device or network has one row per segment of a campaign-day:
those rows are summed (the same segment twice is still refused). Writing is idempotent: a row for a
(plan, date) that is already stored replaces its values, so importing the same report twice changes
nothing. The API (`ads_api.py`) sends its JSON rows through the same checks (`validate_rows`). A daily
report for a store-local day that the nightly job already rolled up rolls that day up again
(`metrics.rollup.refresh_days`), so the daily tracking counts the corrected spend.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from metrics.live_cache import facts_arrived
from metrics.rollup import refresh_days, refreshed_note
from opsdesk.money import (
    CURRENCY_SIGN,
    MAX_COUNT,
    MAX_MONEY,
    TOO_LARGE_COUNT,
    TOO_LARGE_MONEY,
    MixedDecimalMarks,
    decimal_mark,
    foreign_sign_error,
    parse_decimal,
    to_money,
)
from stores.importers import MixedDayOrder, ReportProgress, RowsWritten, day_order, no_progress, parse_day
from stores.models import Store

from .models import AdCreative, AdCreativePerformance, AdDailyPerformance, AdPlan, AdSpendSnapshot

GOOGLE = "google"
THROUGH_TRAIN = "through-train"
FORMATS = (GOOGLE, THROUGH_TRAIN)
METRICS = ("impressions", "clicks", "spend", "orders", "sales")

# canonical field -> accepted header names (compared case-insensitively, spaces trimmed)
COLUMNS = {
    GOOGLE: {
        "date": ["Day", "Date"],
        "plan": ["Campaign", "Campaign name"],
        "creative": ["Ad name", "Ad"],
        "hour": ["Hour of day", "Hour"],
        "currency": ["Currency code", "Currency"],
        "impressions": ["Impressions", "Impr."],
        "clicks": ["Clicks"],
        "spend": ["Cost"],
        "orders": ["Conversions", "Conv."],
        "sales": ["Conv. value", "Conversion value", "Total conv. value"],
        "device": ["Device"],
        "network": ["Network (with search partners)", "Network", "Ad network type"],
    },
    THROUGH_TRAIN: {
        "date": ["日期", "Date"],
        "plan": ["计划名称", "推广计划", "Plan", "Plan name", "Campaign"],
        "creative": ["创意名称", "创意", "Creative"],
        "hour": ["小时", "时段", "Hour"],
        "currency": ["币种", "货币", "Currency"],
        "impressions": ["展现量", "Impressions"],
        "clicks": ["点击量", "Clicks"],
        "spend": ["花费", "Spend", "Cost"],
        "orders": ["成交笔数", "总成交笔数", "Orders"],
        "sales": ["成交金额", "总成交金额", "Sales"],
    },
}
REQUIRED = ("date", "plan", "impressions", "clicks", "spend", "orders", "sales")
REQUIRED_HOURLY = ("date", "plan", "hour", "spend")  # an hourly (分时) report feeds today's pacing
# Columns that split a campaign-day into rows (Google's "Segment" menu): their rows add up to the day.
SEGMENTS = ("device", "network")
TOTAL_MARKERS = ("total", "合计", "总计")
BATCH = 1000  # plan-days (or hourly snapshots) written per INSERT, the import job's progress told after each
EMPTY = {"", "--", " --", "-"}


@dataclass
class RowError:
    row: int | str  # file line number (CSV) or item index (API)
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


class AdReportError(Exception):
    """The report was rejected whole; `errors` names every bad row."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} problem(s), nothing imported: {shown}{more}")


@dataclass
class PerformanceRow:
    row: int | str
    plan: AdPlan
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    orders: int
    sales: Decimal
    creative: AdCreative | None = None
    segments: int = 1  # report rows summed into this one (a report split by device or network)


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    creative_rows: int = 0
    plans: set[str] = field(default_factory=set)
    days: set[date] = field(default_factory=set)
    unit: str = "day"  # what created/updated count: plan days, or hourly snapshots
    refreshed: list[date] = field(default_factory=list)  # rolled-up store days rolled up again
    segmented_by: tuple[str, ...] = ()  # the segment columns whose rows were summed ("device", "network")
    segment_rows: int = 0  # report rows summed with another segment of their plan-day (or hour)
    summed_into: int = 0  # the plan-days (or hours) those rows became
    format: str = ""  # GOOGLE or THROUGH_TRAIN

    def __str__(self) -> str:
        span = f" from {min(self.days)} to {max(self.days)}" if self.days else ""
        summed = ""
        if self.segment_rows:
            into = "plan day" if self.unit == "day" else "hour"
            summed = (f" {self.segment_rows} rows split by {' and '.join(self.segmented_by)} summed into "
                      f"{self.summed_into} {into}(s).")
        return (f"{self.rows} row(s) for {len(self.plans)} plan(s){span}: "
                f"{self.created} new {self.unit}(s), {self.updated} replaced." + summed
                + refreshed_note(self.refreshed))


# --- reading a file -------------------------------------------------------------------------

def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AdReportError([RowError(1, "file", "not UTF-8, UTF-16 or GBK text")])


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().lower()


def _header_index(lines: list[list[str]]) -> int | None:
    """The first line (among the first 10) that names a date column: Google puts title lines above it."""
    date_names = {_norm(n) for spec in COLUMNS.values() for n in spec["date"]}
    for i, cells in enumerate(lines[:10]):
        if any(_norm(c) in date_names for c in cells):
            return i
    return None


def detect_format(header: list[str]) -> str | None:
    names = {_norm(h) for h in header}
    if names & {"计划名称", "推广计划", "展现量", "花费", "plan", "plan name", "spend"}:
        return THROUGH_TRAIN
    if names & {"campaign", "cost", "conv. value", "conversions"}:
        return GOOGLE
    return None


def read_report(raw: bytes, fmt: str | None = None) -> tuple[list[dict], list[str], str, int]:
    """The report's rows as dicts of strings under canonical column names, those names, its format and
    its header line number. Each row's `row` is the file line it came from (1-based)."""
    text = _decode(raw)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as exc:  # e.g. an unclosed quote running into a cell beyond the reader's limit
        raise AdReportError([RowError(reader.line_num, "file", f"unreadable CSV: {exc}")]) from exc
    header_at = _header_index(lines)
    if header_at is None:
        raise AdReportError([RowError(1, "header", "no date column (Day / Date / 日期) in the first 10 lines")])
    header = [h.strip() for h in lines[header_at]]
    fmt = fmt or detect_format(header)
    if fmt not in FORMATS:
        raise AdReportError([RowError(header_at + 1, "header", "cannot tell the report format; pass --format")])
    wanted = COLUMNS[fmt]
    by_norm = {_norm(h): i for i, h in enumerate(header)}
    positions, missing = {}, []
    for canonical, aliases in wanted.items():
        found = next((by_norm[_norm(a)] for a in aliases if _norm(a) in by_norm), None)
        if found is not None:
            positions[canonical] = found
    required = REQUIRED_HOURLY if "hour" in positions else REQUIRED
    for canonical in required:
        if canonical not in positions:
            missing.append(f"{canonical} ({' / '.join(wanted[canonical])})")
    if missing:
        raise AdReportError([RowError(header_at + 1, "header", "missing column(s): " + ", ".join(missing))])
    records = []
    for offset, cells in enumerate(lines[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[pos].strip() if pos < len(cells) else "") for name, pos in positions.items()}
        # Google's "Total: Account" / "Total: Campaigns" footers, the through-train's 合计 line: the
        # marker is in the first cell, or in another one when the date cell is empty.
        if _is_total(cells[0]) or (not record["date"] and any(_is_total(c) for c in cells)):
            continue
        record["row"] = offset
        records.append(record)
    return records, list(positions), fmt, header_at + 1


def _is_total(cell: str) -> bool:
    return cell.strip().lower().startswith(TOTAL_MARKERS)


# --- checking rows --------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)  # a report repeats a handful of days on every row
def _parse_date(value: str, order: str | None) -> date | str:
    """The day, or why it is none (`stores.importers.parse_day`: 11/03/2026 is read in the file's order)."""
    try:
        return parse_day(value, order)
    except ValueError as exc:
        return str(exc)


def report_day_order(records: list[dict], stated: str | None = None) -> str | None:
    """Whether the report writes its slashed dates day or month first (`stores.importers.day_order`; the order
    `stated` on the upload form, if any); AdReportError when some rows say one and some the other, or a row
    says the other than the one stated."""
    try:
        firsts: dict[str, int | str] = {}  # each date's first row: a report repeats a handful of days
        for rec in records:
            if not isinstance(rec.get("date"), date):
                firsts.setdefault(str(rec.get("date") or ""), rec["row"])
        return day_order(((row, value) for value, row in firsts.items()), stated)
    except MixedDayOrder as exc:
        raise AdReportError([RowError(exc.row, "date", str(exc))]) from None


def _in_the_future(day: date, today: date) -> str:
    """Why a row dated after the store's local today is refused: a report cannot cover a day not yet lived."""
    return f"{day:%Y-%m-%d} is in the future (the store's today is {today:%Y-%m-%d})"


def parse_number(value, mark: str | None = None, whole: bool = False) -> Decimal:
    """A report's number: empty or `--` is 0; read under the file's decimal `mark` (`report_mark`), so 12,50
    in a German report is 12.5, never 1250 (`opsdesk.money.parse_decimal`); ValueError says why it is none.
    A JSON number is taken as it is."""
    if value is None:
        return Decimal(0)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        return number
    # The sign is dropped here; `foreign_sign_error` first refuses an amount whose sign is not the store's.
    text = CURRENCY_SIGN.sub("", str(value)).strip()
    if text in EMPTY:
        return Decimal(0)
    return parse_decimal(text, mark, whole)


def report_mark(records: list[dict], columns=METRICS, stated: str | None = None) -> str | None:
    """The decimal mark of a report's numbers (`opsdesk.money.decimal_mark`; the mark `stated` on the upload
    form, if any); AdReportError when they mix both, or a number is written with the mark not stated."""
    try:
        return decimal_mark(((rec["row"], column, rec.get(column)) for rec in records for column in columns), stated)
    except MixedDecimalMarks as exc:
        raise AdReportError([RowError(exc.row, exc.column, str(exc))]) from None


def money_or_error(number: Decimal) -> tuple[Decimal | None, str | None]:
    """A parsed amount rounded to cents, or why it cannot be stored: negative, or beyond what a
    MoneyField holds (the database would refuse it with a 500, SQLite would store what no page can read)."""
    if number < 0:
        return None, "negative"
    if number >= MAX_MONEY:  # checked before rounding: 1e30 cannot be rounded
        return None, TOO_LARGE_MONEY
    money = to_money(number)
    return (None, TOO_LARGE_MONEY) if money >= MAX_MONEY else (money, None)


def currency_error(store: Store, value) -> str | None:
    """Why a row's currency (a report's optional currency column) cannot be stored as the store's money:
    an ad account billed in another currency would be summed with the store's sales as if it were theirs."""
    code = str(value or "").strip()
    if code in EMPTY or code.upper() == store.currency.upper():
        return None
    return f"amounts in {code}, but {store.slug} keeps its money in {store.currency}: convert the report first"


def _segment(rec: dict, segmented_by: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(rec.get(c) or "").strip() for c in segmented_by)


def _described(segmented_by: tuple[str, ...], segment: tuple[str, ...]) -> str:
    return " and ".join(f"{c} {v}" for c, v in zip(segmented_by, segment, strict=True))


def _missing_segments(n: int | str, rec: dict, segmented_by: tuple[str, ...]) -> list[RowError]:
    """A row of a segmented report without its segment is most likely a campaign's total, which summing
    would count twice: refused, not guessed at."""
    return [RowError(n, c, f"empty in a report split by {c} (a total row here would be counted twice)")
            for c, value in zip(segmented_by, _segment(rec, segmented_by), strict=True) if value in EMPTY]


def validate_rows(store: Store, records: list[dict], segmented_by: tuple[str, ...] = (), dates: str | None = None,
                  mark: str | None = None) -> list[PerformanceRow]:
    """Check records {row, date, plan, [creative], impressions, clicks, spend, orders, sales}; all or nothing.

    `plan` and `creative` are names (plans of `store`, creatives of that plan); an optional `currency` must be
    the store's. With `segmented_by` (a report split by device or network, records carrying those keys), the
    rows of one (plan, date[, creative]) in different segments are summed into one; the same segment twice
    is refused. Conversions may be fractional in Google's reports; orders are their sum rounded half up to
    whole orders. `dates` (DAY_FIRST / MONTH_FIRST) and `mark` ("," / ".") are what the operator chose on the
    upload form for slashed dates and numbers the report itself leaves open.
    """
    plans = {p.name: p for p in AdPlan.objects.filter(store=store)}
    creatives = {(c.plan_id, c.name): c for c in AdCreative.objects.filter(plan__store=store)}
    today = store.today()
    errors: list[RowError] = []
    seen: dict[tuple, int | str] = {}
    merged: dict[tuple, dict] = {}
    day_totals: dict[tuple, dict] = {}
    mark, order = report_mark(records, stated=mark), report_day_order(records, dates)
    for rec in records:
        n = rec["row"]
        bad = len(errors)
        day = rec["date"] if isinstance(rec["date"], date) else _parse_date(str(rec.get("date") or ""), order)
        if isinstance(day, str):
            errors.append(RowError(n, "date", day))
        elif day > today:
            errors.append(RowError(n, "date", _in_the_future(day, today)))
        plan_name = str(rec.get("plan") or "").strip()
        plan = plans.get(plan_name)
        if not plan_name:
            errors.append(RowError(n, "plan", "empty"))
        elif plan is None:
            errors.append(RowError(n, "plan", f"no ad plan named {plan_name!r} in {store.slug}"))
        creative = None
        creative_name = str(rec.get("creative") or "").strip()
        if creative_name and creative_name not in EMPTY and plan is not None:
            creative = creatives.get((plan.pk, creative_name))
            if creative is None:
                errors.append(RowError(n, "creative", f"plan {plan_name!r} has no creative named {creative_name!r}"))
        errors.extend(_missing_segments(n, rec, segmented_by))
        if why := currency_error(store, rec.get("currency")):
            errors.append(RowError(n, "currency", why))
        values = {}
        for column in METRICS:
            try:
                number = parse_number(rec.get(column), mark, whole=column in ("impressions", "clicks"))
            except ValueError as exc:
                errors.append(RowError(n, column, str(exc)))
                continue
            if number < 0:
                errors.append(RowError(n, column, "negative"))
            elif column in ("spend", "sales"):
                money, why = money_or_error(number)
                if sign := foreign_sign_error(rec.get(column), store.currency, store.slug):
                    errors.append(RowError(n, column, sign))
                elif why:
                    errors.append(RowError(n, column, f"{rec.get(column)} is {why}"))
                else:
                    values[column] = money
            elif number > MAX_COUNT:
                errors.append(RowError(n, column, f"{rec.get(column)} is {TOO_LARGE_COUNT}"))
            elif column == "orders":
                values[column] = number  # rounded once summed: 3.5 + 0.5 conversions are 4 orders, not 5
            elif number != number.to_integral_value():
                errors.append(RowError(n, column, f"{rec.get(column)!r} is not a whole number"))
            else:
                values[column] = int(number)
        if "clicks" in values and "impressions" in values and values["clicks"] > values["impressions"] > 0:
            errors.append(RowError(n, "clicks", "more clicks than impressions"))
        if len(errors) > bad:
            continue
        key = (plan.pk, day, creative.pk if creative else None)
        segment = _segment(rec, segmented_by)
        if (first := seen.get((key, segment))) is not None:
            also = f" for {_described(segmented_by, segment)}" if segmented_by else ""
            errors.append(RowError(n, "date", f"{plan_name} on {day} appears twice{also} (first at row {first})"))
            continue
        seen[(key, segment)] = n
        # The plan's day is the sum of its creatives' and segments' rows: the sum must fit too.
        total = day_totals.setdefault((plan.pk, day), dict.fromkeys(METRICS, 0))
        for column in METRICS:
            total[column] += values[column]
        over = [c for c in METRICS if (total[c] >= MAX_MONEY if c in ("spend", "sales") else total[c] > MAX_COUNT)]
        if over:
            errors.extend(RowError(n, c, f"the plan's day would total {total[c]}, "
                                         f"{TOO_LARGE_MONEY if c in ('spend', 'sales') else TOO_LARGE_COUNT}")
                          for c in over)
            continue
        if key in merged:
            for column in METRICS:
                merged[key][column] += values[column]
            merged[key]["segments"] += 1
        else:
            merged[key] = {"row": n, "plan": plan, "day": day, "creative": creative, "segments": 1, **values}
    if errors:
        raise AdReportError(errors)
    return [PerformanceRow(**{**fields, "orders": int(fields["orders"].quantize(Decimal(1), rounding="ROUND_HALF_UP"))})
            for fields in merged.values()]


def _count_segments(result: ImportResult, rows: list) -> None:
    """The report rows behind `rows` in `result`, and how many of them were summed with other segments."""
    result.rows = sum(r.segments for r in rows)
    result.segment_rows = sum(r.segments for r in rows if r.segments > 1)
    result.summed_into = sum(1 for r in rows if r.segments > 1)


# --- writing --------------------------------------------------------------------------------

@transaction.atomic
def save_performance(store: Store, rows: list[PerformanceRow], progress: ReportProgress = no_progress) -> ImportResult:
    """Store checked rows of `store`'s plans: one AdDailyPerformance per (plan, day), replacing what was there.

    Rows with a creative are stored per creative too, and the plan's day is their sum: a report
    either breaks a (plan, day) down by creative or gives the plan total, not both. A (plan, day) in
    the report replaces that day's creative rows exactly: a creative it leaves out (or all of them,
    for a plan total) loses its row, so the creatives always add up to the plan's day. Days already
    rolled up are rolled up again in the same transaction (`result.refreshed`). `progress` is told the report
    rows written (a plan's day counts the rows summed into it), BATCH plan-days at a time, then "rolling up".
    """
    result = ImportResult()
    _count_segments(result, rows)
    plan_days: dict[tuple[int, date], dict] = {}
    behind: Counter[tuple[int, date]] = Counter()  # report rows summed into each plan-day
    creatives_of: dict[tuple[int, date], list[AdCreativePerformance]] = defaultdict(list)
    plan_of: dict[int, AdPlan] = {}
    has_plan_total: set[tuple[int, date]] = set()
    creative_rows = []
    for r in rows:
        key = (r.plan.pk, r.day)
        behind[key] += r.segments
        plan_of[r.plan.pk] = r.plan
        result.plans.add(r.plan.name)
        result.days.add(r.day)
        if r.creative is None:
            if key in plan_days:
                raise AdReportError([RowError(r.row, "creative", "plan total given beside per-creative rows")])
            has_plan_total.add(key)
            plan_days[key] = {m: getattr(r, m) for m in METRICS}
            continue
        if key in has_plan_total:
            raise AdReportError([RowError(r.row, "creative", "per-creative row beside the plan's total row")])
        total = plan_days.setdefault(key, {m: 0 for m in METRICS})
        for m in METRICS:
            total[m] += getattr(r, m)
        creative_rows.append(AdCreativePerformance(creative=r.creative, date=r.day,
                                                   **{m: getattr(r, m) for m in METRICS}))
        creatives_of[key].append(creative_rows[-1])
    # Two imports of the same plans take turns: each replaces the plan-days whole, never a mix of both.
    list(AdPlan.objects.select_for_update().filter(pk__in=plan_of).order_by("pk").values_list("pk"))
    days = {d for _, d in plan_days}
    existing = set(AdDailyPerformance.objects.filter(plan_id__in=plan_of, date__in=days)
                   .values_list("plan_id", "date"))
    result.updated = len(existing & set(plan_days))
    result.created = len(plan_days) - result.updated
    kept = {(c.creative.pk, c.date) for c in creative_rows}
    dropped = [pk for pk, creative_id, plan_id, day in AdCreativePerformance.objects.filter(
        creative__plan_id__in=plan_of, date__in=days).values_list("pk", "creative_id", "creative__plan_id", "date")
        if (plan_id, day) in plan_days and (creative_id, day) not in kept]
    AdCreativePerformance.objects.filter(pk__in=dropped).delete()
    written = RowsWritten(progress, result.rows)
    for batch in written.batches(list(plan_days.items()), BATCH, rows=lambda batch: sum(behind[k] for k, _ in batch)):
        AdDailyPerformance.objects.bulk_create(
            [AdDailyPerformance(plan=plan_of[pid], date=day, **values) for (pid, day), values in batch],
            update_conflicts=True, unique_fields=["plan", "date"], update_fields=[*METRICS, "imported_at"],
        )
        if creatives := [c for key, _ in batch for c in creatives_of[key]]:
            AdCreativePerformance.objects.bulk_create(
                creatives, update_conflicts=True, unique_fields=["creative", "date"], update_fields=list(METRICS))
    result.creative_rows = len(creative_rows)
    progress("rolling up", result.rows, result.rows)
    # A (plan, day) row never moves to another day: the days written are all the days touched.
    result.refreshed = refresh_days(store, result.days)
    return result


def import_ad_report(store: Store, raw: bytes, fmt: str | None = None, dates: str | None = None,
                     mark: str | None = None, progress: ReportProgress = no_progress) -> ImportResult:
    """Read, check and store one report file for `store`; raises AdReportError with every bad row. `dates`
    (DAY_FIRST / MONTH_FIRST) and `mark` ("," / ".") are the operator's word on the upload form for the report's
    slashed dates and its decimal mark; None leaves them to the report.

    A daily report fills AdDailyPerformance; an hourly one (with an hour column) fills the plans'
    cumulative AdSpendSnapshots instead, and is refused when it carries other figures it would drop.
    `progress` is told how far it got, as by an order import.
    """
    records, columns, fmt, header_line = read_report(raw, fmt)
    if not records:
        raise AdReportError([RowError(1, "file", "no data rows")])
    progress("checking", 0, len(records))
    segmented_by = tuple(c for c in SEGMENTS if c in columns)
    if "hour" in columns:
        _refuse_dropped_figures(records, columns, fmt, header_line)
        rows = validate_hourly(store, records, segmented_by, dates, mark)
        save = save_hourly
    else:
        rows = validate_rows(store, records, segmented_by, dates, mark)
        save = save_performance
    with transaction.atomic():
        result = save(store, rows, progress)
        facts_arrived(store)  # the live view's cost column reads both: its shared snapshot ends when this commits
    result.segmented_by, result.format = segmented_by, fmt
    return result


# --- hourly reports -------------------------------------------------------------------------

@dataclass
class HourlyRow:
    row: int
    plan: AdPlan
    day: date
    hour: int
    spend: Decimal
    segments: int = 1  # report rows summed into this one (a report split by device or network)


def _parse_hour(value) -> int | None:
    match = re.match(r"^\s*(\d{1,2})", str(value or ""))  # "7", "07", "07:00-08:00", "7时"
    if not match or not 0 <= int(match.group(1)) <= 23:
        return None
    return int(match.group(1))


def _is_zero(value) -> bool:
    try:
        return parse_number(value, whole=True) == 0
    except ValueError:  # a figure, if an unreadable one
        return False


def _refuse_dropped_figures(records: list[dict], columns: list[str], fmt: str, header_line: int) -> None:
    """An hourly report feeds only today's spend pacing: refuse one whose impressions, clicks, orders or
    sales hold figures, which would be lost (there is nowhere to keep them by hour, and summing some hours
    into the day's performance would replace a whole day's figures with part of them)."""
    dropped = [c for c in METRICS if c != "spend" and c in columns
               and not all(_is_zero(rec.get(c)) for rec in records)]
    if dropped:
        names = ", ".join(COLUMNS[fmt][c][0] for c in dropped)
        raise AdReportError([RowError(header_line, "header", (
            f"an hourly report is read for spend only (today's pacing), so its {names} would be lost: "
            "import the report without the hour column for the daily figures, or remove those columns "
            "to import spend by hour"))])


def validate_hourly(store: Store, records: list[dict], segmented_by: tuple[str, ...] = (), dates: str | None = None,
                    mark: str | None = None) -> list[HourlyRow]:
    """Check hourly rows {row, date, plan, hour, spend}: all or nothing, one row per (plan, date, hour) and
    segment; the segments of one hour (`segmented_by`, `dates` and `mark` as in `validate_rows`) are summed."""
    plans = {p.name: p for p in AdPlan.objects.filter(store=store)}
    today = store.today()
    errors, seen, day_totals = [], {}, {}
    merged: dict[tuple, HourlyRow] = {}
    mark, order = report_mark(records, ("spend",), mark), report_day_order(records, dates)
    for rec in records:
        n, bad = rec["row"], len(errors)
        day = _parse_date(str(rec.get("date") or ""), order)
        if isinstance(day, str):
            errors.append(RowError(n, "date", day))
        elif day > today:
            errors.append(RowError(n, "date", _in_the_future(day, today)))
        plan = plans.get(str(rec.get("plan") or "").strip())
        if plan is None:
            errors.append(RowError(n, "plan", f"no ad plan named {rec.get('plan')!r} in {store.slug}"))
        hour = _parse_hour(rec.get("hour"))
        if hour is None:
            errors.append(RowError(n, "hour", f"{rec.get('hour')!r} is not an hour 0-23"))
        elif day == today and hour > (clock := timezone.localtime(timezone=store.zone)).hour:
            # The hour under way is a partial figure, as platforms report it; a later one has not begun.
            errors.append(RowError(n, "hour", f"hour {hour} of today has not begun (it is {clock:%H:%M} in the store)"))
        errors.extend(_missing_segments(n, rec, segmented_by))
        if why := currency_error(store, rec.get("currency")):
            errors.append(RowError(n, "currency", why))
        try:
            spend = parse_number(rec.get("spend"), mark)
        except ValueError as exc:
            spend, reason = None, str(exc)
        if spend is None or spend < 0:
            errors.append(RowError(n, "spend", reason if spend is None else f"{rec.get('spend')!r} is not a "
                                                                            "non-negative amount"))
        elif why := foreign_sign_error(rec.get("spend"), store.currency, store.slug):
            errors.append(RowError(n, "spend", why))
        elif (why := money_or_error(spend)[1]):
            errors.append(RowError(n, "spend", f"{rec.get('spend')} is {why}"))
        if len(errors) > bad:
            continue
        key = (plan.pk, day, hour)
        segment = _segment(rec, segmented_by)
        if (first := seen.get((key, segment))) is not None:
            also = f" for {_described(segmented_by, segment)}" if segmented_by else ""
            errors.append(RowError(n, "hour", f"{plan.name} {day} hour {hour} appears twice{also} "
                                              f"(first at row {first})"))
            continue
        seen[(key, segment)] = n
        spend = to_money(spend)
        # Snapshots hold the day's running total: the day's sum must fit a MoneyField too.
        day_total = day_totals[(plan.pk, day)] = day_totals.get((plan.pk, day), Decimal(0)) + spend
        if day_total >= MAX_MONEY:
            errors.append(RowError(n, "spend", f"the day's spend would total {day_total}, {TOO_LARGE_MONEY}"))
            continue
        if key in merged:
            merged[key].spend += spend
            merged[key].segments += 1
        else:
            merged[key] = HourlyRow(n, plan, day, hour, spend)
    if errors:
        raise AdReportError(errors)
    return list(merged.values())


def _spend_before(plan: AdPlan, store: Store, day: date, hour: int) -> Decimal:
    """The plan's cumulative spend on the store-local `day` before `hour` began: its latest snapshot then, or 0."""
    day_start, _ = store.day_bounds(day)
    hour_start = datetime.combine(day, time(hour), tzinfo=store.zone)
    latest = (AdSpendSnapshot.objects.filter(plan=plan, ts__gte=day_start, ts__lt=hour_start)
              .order_by("-ts").values_list("spend_today", flat=True).first())
    return latest if latest is not None else Decimal(0)


@transaction.atomic
def save_hourly(store: Store, rows: list[HourlyRow], progress: ReportProgress = no_progress) -> ImportResult:
    """Each (plan, day)'s hourly spend summed into cumulative snapshots at the end of each hour (local).

    The hour still running is a figure as of now: its snapshot is timed now, not at the hour's end
    (a snapshot in the future would not count until then, and pacing would see no spend since the
    hour before). Imported again once the hour is over, the hour gets its end-of-hour snapshot. A report
    of the later hours only adds to the day's spend stored before its first hour, not to zero. `progress` is
    told the report rows written, BATCH snapshots at a time.
    """
    result = ImportResult(unit="hourly snapshot")
    _count_segments(result, rows)
    snapshots, segments, running = [], [], {}
    now = timezone.now().replace(microsecond=0)
    for r in sorted(rows, key=lambda r: (r.plan.pk, r.day, r.hour)):
        key = (r.plan.pk, r.day)
        if key not in running:
            running[key] = _spend_before(r.plan, store, r.day, r.hour)
        total = running[key] = running[key] + r.spend
        ts = min(datetime.combine(r.day, time(r.hour, 59, 59), tzinfo=store.zone), now)
        snapshots.append(AdSpendSnapshot(plan=r.plan, ts=ts, spend_today=total))
        segments.append(r.segments)
        result.plans.add(r.plan.name)
        result.days.add(r.day)
    existing = set(AdSpendSnapshot.objects.filter(plan__store=store, ts__in={s.ts for s in snapshots})
                   .values_list("plan_id", "ts"))
    result.updated = sum(1 for s in snapshots if (s.plan.pk, s.ts) in existing)
    result.created = len(snapshots) - result.updated
    behind = list(zip(snapshots, segments, strict=True))  # each with the report rows summed into it
    for batch in RowsWritten(progress, result.rows).batches(behind, BATCH, rows=lambda b: sum(n for _, n in b)):
        AdSpendSnapshot.objects.bulk_create([s for s, _ in batch], update_conflicts=True,
                                            unique_fields=["plan", "ts"], update_fields=["spend_today"])
    return result
