"""Guides' rules: which guides a tour gets, the half-days a guide can be away, the limits. Pure functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# A guide marks themselves away for a whole day or half of one (local wall-clock times).
PARTS = ("day", "morning", "afternoon")
PART_HOURS = {
    "day": (dt.time(0, 0), None),  # None: until midnight
    "morning": (dt.time(9, 0), dt.time(13, 0)),
    "afternoon": (dt.time(13, 0), None),  # 13:00–17:00 while open, and anything after
}


@dataclass(frozen=True)
class GuideLimits:
    """At most so many tours per guide per day and per week; None: no limit (the default)."""

    per_day: int | None = None
    per_week: int | None = None

    @classmethod
    def from_config(cls, config) -> GuideLimits:
        return cls(per_day=int(config.get("GUIDE_MAX_TOURS_PER_DAY") or 0) or None,
                   per_week=int(config.get("GUIDE_MAX_TOURS_PER_WEEK") or 0) or None)


@dataclass(frozen=True)
class Candidate:
    """A guide free for the tour's hours, with what they guide already: hours (this week, this
    month) and tours (this day, this week)."""

    id: int
    languages: tuple[str, ...]
    week_hours: int = 0
    month_hours: int = 0
    day_tours: int = 0
    week_tours: int = 0


def within_limits(candidate: Candidate, limits: GuideLimits) -> bool:
    """May this guide take one more tour, under the per-day and per-week limits?"""
    if limits.per_day is not None and candidate.day_tours >= limits.per_day:
        return False
    return limits.per_week is None or candidate.week_tours < limits.per_week


def fair_order(candidates: list[Candidate]) -> list[Candidate]:
    """Spare the rare languages first (the fewest languages go first, keeping the versatile guides
    free for the tours only they can give), then the fewest guided hours that week (a fair share),
    then that month; the id settles a tie."""
    return sorted(candidates, key=lambda c: (len(c.languages), c.week_hours, c.month_hours, c.id))


def choose_guides(candidates: list[Candidate], needed: int, limits: GuideLimits = GuideLimits()) -> list[int]:
    """The ids of the `needed` guides a tour gets, or [] when too few fit."""
    fitting = fair_order([c for c in candidates if within_limits(c, limits)])
    return [c.id for c in fitting[:needed]] if len(fitting) >= needed else []


def part_covers(part: str, start: dt.time, end: dt.time) -> bool:
    """Does being away for `part` of a day touch [start, end) (local times on that day)?

    A tour 12:00–14:00 touches the morning and the afternoon.
    """
    part_start, part_end = PART_HOURS[part]
    return start < (part_end or dt.time.max) and end > part_start


def parts_touched(start: dt.time, end: dt.time) -> list[str]:
    """The parts of a day an entry would have to name to cover [start, end)."""
    return [part for part in PARTS if part_covers(part, start, end)]


def part_hours(part: str, opening: dt.time, closing: dt.time) -> tuple[dt.time, dt.time]:
    """The hours a part spans while the museum is open: day 09:00–17:00, morning 09:00–13:00,
    afternoon 13:00–17:00."""
    part_start, part_end = PART_HOURS[part]
    return max(part_start, opening), min(part_end or closing, closing)
