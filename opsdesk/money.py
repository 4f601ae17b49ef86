"""The one money type: a Decimal field in the store's currency, never a float."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 12  # a MoneyField holds 12 digits before the point: larger is refused, not a 500
TOO_LARGE_MONEY = f"too large (at most {MAX_MONEY - CENT:,})"  # the words every importer refuses it with
MAX_COUNT = 2**31 - 1  # quantities and counts are integer columns: 4 bytes in Postgres
TOO_LARGE_COUNT = f"too large (at most {MAX_COUNT:,})"


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
