"""Group visits' rules: guides, adults, lead time and the hours a tour spans. Pure functions."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from booking import schedule
from booking.access import NONE, AccessNeeds
from booking.schedule import Rules

GROUP_KINDS = ("primary", "secondary", "higher", "adults")
SCHOOL_KINDS = ("primary", "secondary")  # pupils who need accompanying adults
TOUR_LANGUAGES = ("fr", "nl", "en", "de")


@dataclass(frozen=True)
class TourRules:
    guided_minutes: int = 120
    self_guided_minutes: tuple[int, ...] = (60, 120)
    pupils_per_guide: int = 20
    max_guides_per_tour: int = 2
    pupils_per_adult: int = 15
    min_days_ahead: int = 14
    max_days_ahead: int = 180
    cancel_days_before: int = 7
    proposal_days: int = 7
    flag_after_working_days: int = 5

    @classmethod
    def from_config(cls, config) -> TourRules:
        return cls(
            guided_minutes=int(config["TOUR_GUIDED_MINUTES"]),
            pupils_per_guide=int(config["TOUR_PUPILS_PER_GUIDE"]),
            max_guides_per_tour=int(config["TOUR_MAX_GUIDES"]),
            pupils_per_adult=int(config["TOUR_PUPILS_PER_ADULT"]),
            min_days_ahead=int(config["TOUR_MIN_DAYS_AHEAD"]),
            max_days_ahead=int(config["TOUR_MAX_DAYS_AHEAD"]),
            cancel_days_before=int(config["TOUR_CANCEL_DAYS_BEFORE"]),
            proposal_days=int(config["TOUR_PROPOSAL_DAYS"]),
            flag_after_working_days=int(config["TOUR_FLAG_AFTER_WORKING_DAYS"]),
        )

    @property
    def max_guided_pupils(self) -> int:
        return self.max_guides_per_tour * self.pupils_per_guide


def guides_needed(pupils: int, tour_rules: TourRules) -> int:
    """One guide per `pupils_per_guide` pupils: 20 → 1, 21 → 2, 40 → 2, 41 → 3."""
    return max(1, math.ceil(pupils / tour_rules.pupils_per_guide))


def adults_required(kind: str, pupils: int, tour_rules: TourRules) -> int:
    """School classes need one adult per `pupils_per_adult` pupils, and never zero; others none."""
    if kind not in SCHOOL_KINDS:
        return 0
    return max(1, math.ceil(pupils / tour_rules.pupils_per_adult))


def duration(guided: bool, minutes: int | None, tour_rules: TourRules) -> int:
    return tour_rules.guided_minutes if guided else (minutes or tour_rules.self_guided_minutes[0])


def spanned_slots(start: dt.datetime, minutes: int, rules: Rules) -> list[dt.datetime]:
    """The hourly slots a group is present in: a 120-minute tour from 10:00 counts at 10:00 and 11:00."""
    count = math.ceil(minutes / rules.slot_minutes)
    return [start + dt.timedelta(minutes=rules.slot_minutes * i) for i in range(count)]


def start_problem(start: dt.datetime, minutes: int, now: dt.datetime, rules: Rules,
                  tour_rules: TourRules, opened: frozenset[dt.date] | set[dt.date] = frozenset()) -> str | None:
    """Why `start` can never suit a group (calendar and lead time, not capacity), or None.

    Codes: not_a_slot, ends_after_closing, weekend, holiday, too_soon, too_far. A holiday in
    `opened` (staff opened it exceptionally) is open.
    """
    if not schedule.is_slot_start(start, rules):
        return "not_a_slot"
    local_start = schedule.to_local(start, rules)
    closing = schedule.local_datetime(local_start.date(), rules.closing_time, rules)
    if start + dt.timedelta(minutes=minutes) > closing:
        return "ends_after_closing"
    closure = schedule.calendar_closure(local_start.date(), rules, opened=opened)
    if closure:
        return closure[0]
    days_ahead = (local_start.date() - schedule.local_today(now, rules)).days
    if days_ahead < tour_rules.min_days_ahead:
        return "too_soon"
    if days_ahead > tour_rules.max_days_ahead:
        return "too_far"
    return None


def group_problems(kind: str, pupils: int, adults: int, guided: bool, capacity: int,
                   tour_rules: TourRules) -> dict[str, str]:
    """Problems with the group's size, by field: pupils and adults."""
    problems = {}
    if pupils < 1:
        problems["pupils"] = "pupils_min"
    elif guided and pupils > tour_rules.max_guided_pupils:
        problems["pupils"] = "pupils_max_guided"
    if adults < 0:
        problems["adults"] = "adults_min"
    elif pupils >= 1 and adults < adults_required(kind, pupils, tour_rules):
        problems["adults"] = "adults_ratio"
    if not problems and pupils + adults > capacity:
        problems["pupils"] = "group_too_large"
    return problems


def cancel_deadline(start: dt.datetime, tour_rules: TourRules) -> dt.datetime:
    """The last moment a teacher can cancel from their link: `cancel_days_before` days before the start."""
    return start - dt.timedelta(days=tour_rules.cancel_days_before)


def can_cancel(start: dt.datetime, now: dt.datetime, tour_rules: TourRules) -> bool:
    """Teachers can cancel from their link until `cancel_days_before` days before; later they call."""
    return now <= cancel_deadline(start, tour_rules)


def working_days_between(first: dt.date, last: dt.date, rules: Rules) -> int:
    """Open weekdays after `first` up to and including `last` (holidays excluded)."""
    count = 0
    day = first
    while day < last:
        day += dt.timedelta(days=1)
        if schedule.calendar_closure(day, rules) is None:
            count += 1
    return count


# --- a group's application, before any time is held --------------------------------------------

@dataclass(frozen=True)
class TourApplication:
    guided: bool
    starts: list[dt.datetime]  # preferred first, then up to two alternatives
    organisation: str
    contact_name: str
    email: str
    phone: str
    pupils: int
    adults: int
    group_kind: str
    language: str
    tour_language: str | None = None
    duration_minutes: int | None = None  # self-guided only: 60 or 120
    address: str = ""
    postcode: str = ""
    contact_role: str = ""
    leader_name: str = ""
    needs: str = ""
    topic: str = ""
    notes: str = ""
    access_needs: AccessNeeds = NONE
    request_key: str | None = None


def validate_application(app: TourApplication, rules: Rules, tour_rules: TourRules, now: dt.datetime,
                         opened: set[dt.date] | frozenset[dt.date] = frozenset()) -> dict[str, str]:
    """Problems that no waiting would fix, by field: size, ratio, calendar, lead time, language.

    `opened`: holidays staff opened exceptionally, open like any weekday.
    """
    errors = group_problems(app.group_kind, app.pupils, app.adults, app.guided, rules.slot_capacity, tour_rules)
    if app.group_kind not in GROUP_KINDS:
        errors["group_kind"] = "group_kind"
    if app.guided and app.tour_language not in TOUR_LANGUAGES:
        errors["tour_language"] = "tour_language"
    if not app.starts:
        errors["start_1"] = "start_missing"
    minutes = duration(app.guided, app.duration_minutes, tour_rules)
    if not app.guided and minutes not in tour_rules.self_guided_minutes:
        errors["duration_minutes"] = "duration"
    for index, start in enumerate(app.starts, start=1):
        problem = start_problem(start, minutes, now, rules, tour_rules, opened)
        if problem:
            errors[f"start_{index}"] = problem
    return errors


# --- final numbers ---------------------------------------------------------------------------------

def numbers_deadline(start: dt.datetime, tour_rules: TourRules) -> dt.datetime:
    """Until when a teacher may change the numbers online: the cancellation limit (7 days before)."""
    return start - dt.timedelta(days=tour_rules.cancel_days_before)


def can_change_numbers(tour, now: dt.datetime, tour_rules: TourRules) -> bool:
    return tour.status == "confirmed" and now <= numbers_deadline(tour.start, tour_rules)
