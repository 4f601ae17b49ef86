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
