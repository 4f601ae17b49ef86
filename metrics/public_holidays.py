"""Public holidays of a store's country, named in English, as the pages and the email show them."""

from __future__ import annotations

from functools import lru_cache

import holidays as holidays_lib


def holiday_calendar(country: str, years) -> dict:
    """{date: name} of the country's public holidays in those years ({} for an unknown country)."""
    merged: dict = {}
    for year in sorted(set(years)):
        merged.update(_holidays_of_year(country, year))
    return merged


@lru_cache(maxsize=512)
def _holidays_of_year(country: str, year: int) -> dict:
    try:
        calendar = holidays_lib.country_holidays(country)
    except NotImplementedError:
        return {}
    # Named in English, as the pages and the email are; left alone, the names follow the server's
    # locale (a zh_CN server wrote 春节 into an English email).
    english = next((lang for lang in calendar.supported_languages if lang.startswith("en")),
                   calendar.default_language)
    return dict(holidays_lib.country_holidays(country, years=[year], language=english))
