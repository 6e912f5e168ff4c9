"""Opening hours, holidays, slots and booking windows: pure rules, no Flask, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

UTC = dt.UTC

# The holidays package names its English variant en_US; our language codes are ISO 639-1.
_HOLIDAY_LANGUAGE = {"en": "en_US", "fr": "fr", "nl": "nl", "de": "de"}


@dataclass(frozen=True)
class Rules:
    """The museum's rules, built from configuration."""

    timezone: str = "Europe/Brussels"
    open_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    opening_time: dt.time = dt.time(9, 0)
    closing_time: dt.time = dt.time(17, 0)
    slot_minutes: int = 60
    slot_capacity: int = 50
    party_min: int = 1
    party_max: int = 8
    horizon_days: int = 90
    holiday_country: str = "BE"
    # (month, day) → the holiday's name, one for every language ({"fr": …, "en": …}) or one for all.
    extra_holidays: dict[tuple[int, int], dict[str, str] | str] = field(default_factory=dict)
    # The waiting list: an offer holds freed places this long, and never later than this before the slot.
    offer_hours: int = 12
    offer_cutoff_minutes: int = 120

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_config(cls, config) -> Rules:
        return cls(
            timezone=config["TIMEZONE"],
            open_weekdays=tuple(config["OPEN_WEEKDAYS"]),
            opening_time=dt.time.fromisoformat(config["OPENING_TIME"]),
            closing_time=dt.time.fromisoformat(config["CLOSING_TIME"]),
            slot_minutes=int(config["SLOT_MINUTES"]),
            slot_capacity=int(config["SLOT_CAPACITY"]),
            party_min=int(config["PARTY_MIN"]),
            party_max=int(config["PARTY_MAX"]),
            horizon_days=int(config["BOOKING_HORIZON_DAYS"]),
            holiday_country=config["HOLIDAY_COUNTRY"],
            extra_holidays=dict(config["EXTRA_HOLIDAYS"]),
            offer_hours=int(config.get("WAITLIST_OFFER_HOURS", 12)),
            offer_cutoff_minutes=int(config.get("WAITLIST_OFFER_CUTOFF_MINUTES", 120)),
        )

    def __hash__(self) -> int:  # extra_holidays is a dict; hash what identifies the rules
        return hash((self.timezone, self.open_weekdays, self.opening_time, self.closing_time,
                     self.slot_minutes, self.holiday_country, tuple(sorted(self.extra_holidays))))


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int, language: str) -> dict[dt.date, str]:
    calendar = holidays_lib.country_holidays(
        country, years=year, language=_HOLIDAY_LANGUAGE.get(language, "en_US")
    )
    return dict(calendar.items())


def holiday_name(day: dt.date, rules: Rules, language: str = "en") -> str | None:
    """The name of the public holiday on `day`, in `language`, or None."""
    name = _country_holidays(rules.holiday_country, day.year, language).get(day)
    if name is None:
        names = rules.extra_holidays.get((day.month, day.day))
        if isinstance(names, dict):
            return names.get(language) or names.get("en") or next(iter(names.values()), None)
        name = names
    return name


def slot_starts(day: dt.date, rules: Rules) -> list[dt.time]:
    """The local start times of the arrival slots of a day the museum is open: 09:00 … 16:00."""
    step = dt.timedelta(minutes=rules.slot_minutes)
    start = dt.datetime.combine(day, rules.opening_time)
    end = dt.datetime.combine(day, rules.closing_time)
    times = []
    while start + step <= end:
        times.append(start.time())
        start += step
    return times


def is_open_weekday(day: dt.date, rules: Rules) -> bool:
    return day.weekday() in rules.open_weekdays


def local_datetime(day: dt.date, time: dt.time, rules: Rules) -> dt.datetime:
    """An aware datetime in the museum's time zone."""
    return dt.datetime.combine(day, time, tzinfo=rules.tz)


def to_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(UTC)


def to_local(moment: dt.datetime, rules: Rules) -> dt.datetime:
    return moment.astimezone(rules.tz)


def local_today(now: dt.datetime, rules: Rules) -> dt.date:
    return to_local(now, rules).date()


def slot_end(start: dt.datetime, rules: Rules) -> dt.datetime:
    return start + dt.timedelta(minutes=rules.slot_minutes)


def is_slot_start(moment: dt.datetime, rules: Rules) -> bool:
    """Whether an aware instant is the start of one of the day's slots (weekday or not)."""
    local = to_local(moment, rules)
    return local.second == 0 and local.microsecond == 0 and local.time() in slot_starts(local.date(), rules)


def last_bookable_day(now: dt.datetime, rules: Rules) -> dt.date:
    return local_today(now, rules) + dt.timedelta(days=rules.horizon_days)


def end_of_local_day(now: dt.datetime, days: int, rules: Rules) -> dt.datetime:
    """23:59 museum time on the day `days` days after `now`'s: a hold said to last "until Monday 8
    March" lasts all of that Monday, whatever the hour it was given."""
    day = local_today(now, rules) + dt.timedelta(days=days)
    return to_utc(local_datetime(day, dt.time(23, 59), rules))


def offer_expiry(start: dt.datetime, now: dt.datetime, rules: Rules) -> dt.datetime | None:
    """Until when a waiting-list offer made `now` for the slot at `start` holds; None if too late to offer."""
    expiry = min(now + dt.timedelta(hours=rules.offer_hours),
                 start - dt.timedelta(minutes=rules.offer_cutoff_minutes))
    return expiry if expiry > now else None


def within_booking_window(start: dt.datetime, now: dt.datetime, rules: Rules) -> bool:
    """An individual visit can be booked until its slot starts and at most `horizon_days` ahead."""
    return start > now and to_local(start, rules).date() <= last_bookable_day(now, rules)


@dataclass(frozen=True)
class ClosurePeriod:
    """A closure entered by staff: [start, end) in UTC, with its reason.

    kind "opened" is the opposite: a public holiday staff opened exceptionally (no reason).
    """

    start: dt.datetime
    end: dt.datetime
    reason: str
    kind: str = "closed"


def closure_for(start: dt.datetime, end: dt.datetime, closures: list[ClosurePeriod]) -> ClosurePeriod | None:
    """The first closure (not an opening) overlapping [start, end), or None."""
    for closure in closures:
        if closure.kind == "closed" and closure.start < end and start < closure.end:
            return closure
    return None


def day_bounds(day: dt.date, rules: Rules) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight, next local midnight) of `day`, in UTC."""
    return (to_utc(local_datetime(day, dt.time.min, rules)),
            to_utc(local_datetime(day + dt.timedelta(days=1), dt.time.min, rules)))


def opened_days(closures: list[ClosurePeriod], rules: Rules) -> set[dt.date]:
    """The local days that staff opened exceptionally (an opening covers a whole day)."""
    days = set()
    for closure in closures:
        if closure.kind == "opened":
            day = to_local(closure.start, rules).date()
            while day_bounds(day, rules)[1] <= closure.end:
                days.add(day)
                day += dt.timedelta(days=1)
    return days


def holidays_between(first: dt.date, last: dt.date, rules: Rules, language: str = "en") -> list[tuple[dt.date, str]]:
    """Public holidays (and extra ones such as 8 May) falling on open weekdays from `first` to `last`."""
    found = []
    day = first
    while day <= last:
        if is_open_weekday(day, rules):
            name = holiday_name(day, rules, language)
            if name:
                found.append((day, name))
        day += dt.timedelta(days=1)
    return found


def calendar_closure(day: dt.date, rules: Rules, language: str = "en",
                     opened: frozenset[dt.date] | set[dt.date] = frozenset()) -> tuple[str, str | None] | None:
    """Why the calendar closes `day`: ("weekend", None) or ("holiday", its name); None when open.

    A holiday in `opened` (staff opened it exceptionally) is open.
    """
    if not is_open_weekday(day, rules):
        return ("weekend", None)
    if day in opened:
        return None
    name = holiday_name(day, rules, language)
    return ("holiday", name) if name else None


# Days anyone may ask about: far wider than any visit, and far enough from the ends of Python's
# dates that moving between time zones, or to a day's midnight, cannot overflow.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def parse_start(value: str, rules: Rules) -> dt.datetime:
    """Parse an ISO 8601 start; without an offset it is Brussels time. Raises ValueError."""
    moment = dt.datetime.fromisoformat(value.strip())
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise ValueError("date out of range")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=rules.tz)
    return to_utc(moment)
