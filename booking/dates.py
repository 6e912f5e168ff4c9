"""How a date reads in each language: one pattern per use, shared by the pages, the emails and the back office.

Babel's own "full" English is American ("Friday, December 4, 2026"); the museum's English readers are
in Belgium and expect the day first, as the other three languages write it. German needs its "4." and
its comma, which a pattern typed for French drops: so no pattern is written anywhere else.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from flask_babel import format_date, get_locale

_WESTERN = {
    "day": "EEEE d MMMM y",        # Friday 4 December 2026
    "day_no_year": "EEEE d MMMM",  # Friday 4 December
    "date": "d MMMM y",            # 4 December 2026
    "short": "EEE d MMM",          # Fri 4 Dec
    "short_date": "d MMM y",       # 4 Dec 2026
    "day_month": "d MMM",          # 4 Dec
    "month": "LLLL y",             # December 2026
}
PATTERNS: dict[str, dict[str, str]] = {
    "fr": _WESTERN,
    "nl": _WESTERN,
    "en": _WESTERN,
    "de": {
        "day": "EEEE, d. MMMM y",
        "day_no_year": "EEEE, d. MMMM",
        "date": "d. MMMM y",
        "short": "EEE, d. MMM",
        "short_date": "d. MMM y",
        "day_month": "d. MMM",
        "month": "LLLL y",
    },
}


def pattern(kind: str, language: str) -> str:
    """The Babel pattern of `kind` ("day", "date", "short", …) in `language` (English's for any other)."""
    return PATTERNS.get(language, PATTERNS["en"])[kind]


def date_as(moment: dt.date | dt.datetime, kind: str = "day") -> str:
    """`moment` as the current language writes a date of this kind (a datetime in the app's time zone)."""
    locale = str(get_locale() or "en")
    babel_pattern = pattern(kind, locale[:2])
    if isinstance(moment, dt.datetime):
        return format_date(moment, babel_pattern)
    return _day_as(moment, babel_pattern, locale)


@lru_cache(maxsize=4096)
def _day_as(day: dt.date, babel_pattern: str, locale: str) -> str:
    """A calendar date (no time zone to apply) always reads the same: Babel's formatting, about 40 µs, once."""
    return babel_format_date(day, babel_pattern, locale=locale)
