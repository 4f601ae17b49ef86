"""The one money type: a Decimal field in the store's currency, never a float."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 12  # a MoneyField holds 12 digits before the point: larger is refused, not a 500
TOO_LARGE_MONEY = f"too large (at most {MAX_MONEY - CENT:,})"  # the words every importer refuses it with
MAX_COUNT = 2**31 - 1  # quantities and counts are integer columns: 4 bytes in Postgres
TOO_LARGE_COUNT = f"too large (at most {MAX_COUNT:,})"

# The signs an amount may carry in an export, by the ISO 4217 code they stand for. "¥" is the yuan's and the
# yen's, "$" any dollar's: a sign only says the amount is not in a currency that does not use it.
CURRENCY_SIGNS = {
    "CNY": ("¥", "￥", "CN¥", "RMB¥"), "JPY": ("¥", "￥", "JP¥", "円"), "USD": ("$", "US$"), "EUR": ("€",),
    "GBP": ("£",), "HKD": ("$", "HK$"), "TWD": ("$", "NT$"), "SGD": ("$", "S$"), "AUD": ("$", "A$", "AU$"),
    "CAD": ("$", "C$", "CA$"), "NZD": ("$", "NZ$"), "MXN": ("$", "MX$"), "KRW": ("₩",), "INR": ("₹",),
    "RUB": ("₽",), "TRY": ("₺",), "VND": ("₫",), "THB": ("฿",), "PHP": ("₱",), "ILS": ("₪",), "NGN": ("₦",),
}
CURRENCY_SIGN = re.compile("|".join(re.escape(sign) for sign in sorted(
    {sign for signs in CURRENCY_SIGNS.values() for sign in signs}, key=len, reverse=True)))  # "US$" before "$"


def foreign_sign_error(value, currency: str, keeper: str = "the store") -> str | None:
    """Why an amount marked with a sign `currency` does not use ("$1,299.00" in a CNY store) cannot be taken
    as the store's money, or None: every importer refuses it in these words."""
    own = CURRENCY_SIGNS.get(currency.upper(), ())
    sign = next((sign for sign in CURRENCY_SIGN.findall(str(value or "")) if sign not in own), None)
    if sign is None:
        return None
    return f"{value} is marked {sign}, but {keeper} keeps its money in {currency}: convert it first"


class MoneyField(models.DecimalField):
    """Decimal with 2 places, up to 999 999 999 999.99; the currency is the store's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def to_money(value) -> Decimal:
    """Parse a number or string into a Decimal rounded to cents (half up, like a till); ValueError for
    NaN or infinity, which are no amount (NaN would pass the rounding and fail the next comparison)."""
    if isinstance(value, float):
        value = str(float(value))  # also numpy's float64, whose repr() is "np.float64(…)"
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


# --- numbers as files write them ------------------------------------------------------------------
# A file's numbers follow its writer's locale: 1,234.50 in the US, 1.234,50 in Germany, 1 234,50 in France.
# Read with the wrong decimal mark they are silently another number (12,50 as 1250), so a file's mark is
# settled by its values that only one mark reads, and a value either mark reads differently ("1,234":
# a thousand and more, or one and a bit) is taken only when the file says which.
GROUPING_SPACES = " \u00a0\u202f'’"  # grouping only, never a decimal mark: 1 234,50 · 1 234,50 · 1'234.50


def _number_pattern(mark: str) -> re.Pattern:
    group = f"[{re.escape('.,'.replace(mark, ''))}{GROUPING_SPACES}]"
    grouped = (rf"[1-9]\d{{0,2}}(?P<g>{group})\d{{3}}(?:(?P=g)\d{{3}})*"  # 1,234,567
               rf"|[1-9]\d?(?P<i>{group})\d{{2}}(?:(?P=i)\d{{2}})*(?P=i)\d{{3}}")  # India's 12,34,567
    return re.compile(rf"[+-]?(?:{grouped}|\d*)(?:{re.escape(mark)}\d*)?")


NUMBER_PATTERNS = {mark: _number_pattern(mark) for mark in ".,"}
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # 12, 12.5, 1e-05 (a float's str)
MARK_NAMES = {".": "a decimal point", ",": "a decimal comma"}


def readings(text: str) -> dict[str, Decimal]:
    """What `text` reads as under each decimal mark ('.' and ',') that reads it at all: one entry for
    12,50 or 1,234.50, two equal ones for 1234 or 1 234, two different ones for 1,234 or 1.234."""
    text = text.strip()
    if not any(c.isdigit() for c in text):
        return {}
    found = {}
    for mark, pattern in NUMBER_PATTERNS.items():
        if pattern.fullmatch(text):
            digits = "".join(c for c in text if c.isdigit() or c in "+-" or c == mark)
            found[mark] = Decimal(digits.replace(mark, "."))
    if not found and PLAIN_NUMBER.fullmatch(text):
        found["."] = Decimal(text)
    return found


class MixedDecimalMarks(ValueError):
    """A file writes some numbers with a decimal point and others with a decimal comma: which is which
    cannot be told. `row` and `column` are the later of the two values'."""

    def __init__(self, row, column: str, message: str):
        self.row, self.column = row, column
        super().__init__(message)


def decimal_mark(values, stated: str | None = None) -> str | None:
    """The decimal mark ('.' or ',') of a file's numbers, from its (row, column, text) `values` (a currency
    sign is dropped; empty cells and values that are no text say nothing): settled by the values only one mark
    reads (12,50; 1.234,50; 1,234.50; 12.5), None when none does. Raises MixedDecimalMarks when they disagree.
    The mark the operator `stated` on the upload form is the file's, but a value only the other mark reads
    is refused (MixedDecimalMarks naming it), not read as another number."""
    first: dict[str, tuple] = {}
    for row, column, text in values:
        if not isinstance(text, str) or len(found := readings(text := CURRENCY_SIGN.sub("", text).strip())) != 1:
            continue
        mark = next(iter(found))
        if stated and mark != stated:
            raise MixedDecimalMarks(row, column, (
                f"{text} is written with {MARK_NAMES[mark]}, but the upload says {MARK_NAMES[stated]}: check the "
                "decimal mark chosen on the upload form"))
        first.setdefault(mark, (row, column, text))
        if len(first) == 2:
            other = "," if mark == "." else "."
            other_row, other_column, other_text = first[other]
            raise MixedDecimalMarks(row, column, (
                f"{text} is written with {MARK_NAMES[mark]}, but {other_text} (row {other_row}, {other_column}) "
                f"with {MARK_NAMES[other]}: export the file with one number format"))
    return stated or next(iter(first), None)


def parse_decimal(text: str, mark: str | None, whole: bool = False) -> Decimal:
    """`text` as a number of a file whose decimal mark is `mark` (None: the file does not say); ValueError
    saying why it cannot be read. In a `whole`-number column 1,234 and 1.234 are a thousand and more
    whichever the mark (a count has no fraction)."""
    found = readings(text)
    if not found:
        raise ValueError(f"{text!r} is not a number")
    if len(set(found.values())) == 1:
        return next(iter(found.values()))
    if len(found) == 1:  # the file's other numbers use the other mark
        raise ValueError(f"{text} is written with {MARK_NAMES[next(iter(found))]}, but the file's other numbers "
                         f"with {MARK_NAMES[mark]}: export the file with one number format")
    if mark is None:
        integral = [n for n in found.values() if n == n.to_integral_value()]
        if whole and integral:
            return integral[0]
        separator = next(c for c in text if c in ".,")
        kind = "decimal point" if separator == "." else "decimal comma"
        raise ValueError(f"{text} could be {found['.']} or {found[',']}: is its {separator!r} a thousands separator "
                         f"or a {kind}? No other number in the file shows which; write amounts with their cents and "
                         f"no thousands separator (like {max(found.values()):.2f}), or choose the decimal mark on the "
                         "upload form")
    return found[mark]
