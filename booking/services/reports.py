"""Figures for the museum's reports to its funders: visitors, groups and no-shows per week and month.

Two GROUP BY statements read the period, whatever its length: individual visits grouped by slot
start and attendance (with, in the same statement, each slot's walk-ins: people the desk let in
without a booking), group visits by start, attendance, kind and language. The rows that come
back (at most one per slot and attendance) are then put into Brussels weeks and months in Python:
bucketing by local date in SQL would need different functions on SQLite and PostgreSQL, and a
museum's year is a few thousand slot rows.

Only what took place or will: confirmed visits and confirmed group visits; cancelled ones, and
requests that were declined, refused or expired, are left out.

How full each weekday's hours are (occupancy_by_hour) is read apart, in two more statements: the
period's slot rows (places taken, walk-ins, capacity, and the default capacity of hours without a
row) and its closures, so that closed hours count no places.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import utc_param
from booking.models import Booking, Slot, TourRequest
from booking.schedule import Rules
from booking.services.closed_times import closures_between
from booking.services.settings import default_capacity_sql
from booking.tour_rules import GROUP_KINDS, TOUR_LANGUAGES

WALK_INS = "walk_in"  # the attendance column of the walk-in rows in the visits' statement


@dataclass(frozen=True)
class Period:
    """A calendar year, or one month of it, in the museum's time zone."""

    year: int
    month: int | None = None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, 1)

    @property
    def end_day(self) -> dt.date:
        """The day after the period (exclusive bound)."""
        if self.month is None or self.month == 12:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, self.month + 1, 1)

    @property
    def last_day(self) -> dt.date:
        return self.end_day - dt.timedelta(days=1)

    def bounds(self, rules: Rules) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: from local midnight of the first day to local midnight after the last."""
        return (schedule.to_utc(schedule.local_datetime(self.first_day, dt.time.min, rules)),
                schedule.to_utc(schedule.local_datetime(self.end_day, dt.time.min, rules)))

    @classmethod
    def current(cls, now: dt.datetime, rules: Rules) -> Period:
        return cls(schedule.local_today(now, rules).year)


@dataclass
class Attendance:
    """What the front desk marked for visits that have started: arrived, no-show, or nothing yet."""

    arrived: int = 0
    no_shows: int = 0
    unmarked: int = 0

    @property
    def marked(self) -> int:
        return self.arrived + self.no_shows

    @property
    def no_show_rate(self) -> float | None:
        """no-shows / (arrived + no-shows); None when nothing was marked."""
        return self.no_shows / self.marked if self.marked else None

    def add(self, other: Attendance) -> None:
        self.arrived += other.arrived
        self.no_shows += other.no_shows
        self.unmarked += other.unmarked

    def count(self, attendance: str | None, started: bool, visits: int) -> None:
        if attendance == "arrived":
            self.arrived += visits
        elif attendance == "no_show":
            self.no_shows += visits
        elif started:
            self.unmarked += visits


@dataclass
class Figures:
    """One row of the tables: individual visits and group visits in a week, a month or the period."""

    bookings: int = 0  # individual visits
    visitors: int = 0  # their people
    groups: int = 0
    group_people: int = 0  # pupils + adults
    checked_in: int = 0  # people of the visits and groups marked arrived: visitors with a booking
    walk_ins: int = 0  # visitors without a booking, counted in at the desk
    visit_attendance: Attendance = field(default_factory=Attendance)
    group_attendance: Attendance = field(default_factory=Attendance)

    @property
    def people(self) -> int:
        return self.visitors + self.group_people

    @property
    def attendance(self) -> Attendance:
        """Visits and group visits together: a no-show is one booking or one group that did not come."""
        total = Attendance()
        total.add(self.visit_attendance)
        total.add(self.group_attendance)
        return total


@dataclass
class Bucket:
    """A week (ISO 8601, Monday first) or a month, cut to the period; `key` is "2027-W09" or "2027-03"."""

    key: str
    first_day: dt.date
    last_day: dt.date
    figures: Figures = field(default_factory=Figures)


@dataclass
class Share:
    """Group visits of one kind, or in one tour language (None: self-guided)."""

    key: str | None
    groups: int = 0
    people: int = 0


@dataclass
class Report:
    period: Period
    total: Figures
    months: list[Bucket]
    weeks: list[Bucket]
    by_kind: list[Share]
    by_language: list[Share]


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def _buckets(period: Period, key) -> dict[str, Bucket]:
    buckets: dict[str, Bucket] = {}
    day = period.first_day
    while day < period.end_day:
        name = key(day)
        bucket = buckets.get(name)
        if bucket is None:
            buckets[name] = Bucket(name, day, day)
        else:
            bucket.last_day = day
        day += dt.timedelta(days=1)
    return buckets


def visit_statistics(session: Session, rules: Rules, now: dt.datetime, period: Period) -> Report:
    """The figures of `period`, per month, per ISO week, by group kind and by tour language."""
    low, high = period.bounds(rules)
    visit_rows = session.execute(sa.union_all(
        sa.select(Booking.start, Booking.attendance, sa.func.count(), sa.func.sum(Booking.party_size))
        .where(Booking.status == "confirmed", Booking.start >= low, Booking.start < high)
        .group_by(Booking.start, Booking.attendance),
        sa.select(Slot.start, sa.literal(WALK_INS, sa.String(8)), sa.literal(0), Slot.walk_ins)
        .where(Slot.walk_ins > 0, Slot.start >= low, Slot.start < high),
    )).all()
    group_rows = session.execute(
        sa.select(TourRequest.start, TourRequest.attendance, TourRequest.group_kind, TourRequest.guided,
                  TourRequest.tour_language, sa.func.count(), sa.func.sum(TourRequest.pupils + TourRequest.adults))
        .where(TourRequest.status == "confirmed", TourRequest.start >= low, TourRequest.start < high)
        .group_by(TourRequest.start, TourRequest.attendance, TourRequest.group_kind, TourRequest.guided,
                  TourRequest.tour_language)
    ).all()

    total = Figures()
    months = _buckets(period, month_key)
    weeks = _buckets(period, week_key)
    by_kind = {kind: Share(kind) for kind in GROUP_KINDS}
    by_language: dict[str | None, Share] = {code: Share(code) for code in TOUR_LANGUAGES}
    by_language[None] = Share(None)

    def rows_of(start: dt.datetime) -> list[Figures]:
        day = schedule.to_local(start, rules).date()
        return [total, months[month_key(day)].figures, weeks[week_key(day)].figures]

    for start, attendance, visits, people in visit_rows:
        if attendance == WALK_INS:
            for figures in rows_of(start):
                figures.walk_ins += int(people)
            continue
        for figures in rows_of(start):
            if attendance == "arrived":
                figures.checked_in += int(people or 0)
            figures.bookings += visits
            figures.visitors += int(people or 0)
            figures.visit_attendance.count(attendance, start < now, visits)
    for start, attendance, kind, guided, language, groups, people in group_rows:
        people = int(people or 0)
        for figures in rows_of(start):
            if attendance == "arrived":
                figures.checked_in += people
            figures.groups += groups
            figures.group_people += people
            figures.group_attendance.count(attendance, start < now, groups)
        for share in (by_kind.setdefault(kind, Share(kind)),
                      by_language.setdefault(language if guided else None, Share(language if guided else None))):
            share.groups += groups
            share.people += people

    return Report(period=period, total=total, months=list(months.values()), weeks=list(weeks.values()),
                  by_kind=list(by_kind.values()), by_language=list(by_language.values()))


# ---------------------------------------------------------------------------------------------------
# Occupancy by weekday and hour


@dataclass
class HourShare:
    """One weekday's hour (every Tuesday at 10:00) summed over the open hours of the period."""

    weekday: int  # 0 is Monday
    start: dt.time
    taken: int = 0  # places taken (visits and groups, held or confirmed) and walk-ins
    places: int = 0  # capacity
    hours: int = 0  # how many such hours were open

    @property
    def rate(self) -> float | None:
        """taken / places; None when the period opened no such hour (or gave it no places)."""
        return self.taken / self.places if self.places else None


@dataclass
class Occupancy:
    weekdays: list[int]
    starts: list[dt.time]
    cells: dict[tuple[int, dt.time], HourShare]

    def row(self, weekday: int) -> list[HourShare]:
        return [self.cells[weekday, start] for start in self.starts]

    @property
    def taken(self) -> int:
        return sum(cell.taken for cell in self.cells.values())

    @property
    def places(self) -> int:
        return sum(cell.places for cell in self.cells.values())


_slot = Slot.__table__
# One row at least, even without slot rows, so that the default capacity comes with the slots.
_one = sa.select(sa.literal(1).label("one")).subquery("one")
_SLOTS = (
    sa.select(default_capacity_sql(sa.bindparam("configured", type_=sa.Integer)).label("default_capacity"),
              _slot.c.start, _slot.c.capacity, _slot.c.booked, _slot.c.walk_ins)
    .select_from(_one)
    .outerjoin(_slot, sa.and_(_slot.c.start >= utc_param("start"), _slot.c.start < utc_param("end")))
)


def occupancy_by_hour(session: Session, rules: Rules, period: Period) -> Occupancy:
    """Places taken over places offered, per open weekday and hour of `period`; two SELECTs whatever its length.

    An hour counts when the museum was open then: not a weekend, not a public holiday (unless staff
    opened it), not in a closure. An hour without a slot row offered the default capacity and had
    nothing taken.
    """
    low, high = period.bounds(rules)
    rows = session.connection().execute(_SLOTS, {"start": low, "end": high, "configured": rules.slot_capacity}).all()
    default = rows[0].default_capacity
    stored = {row.start: (row.capacity, row.booked + row.walk_ins) for row in rows if row.start is not None}
    closures = closures_between(session, low, high, "en")
    opened = schedule.opened_days(closures, rules)

    weekdays = sorted(rules.open_weekdays)
    starts = schedule.slot_starts(period.first_day, rules)
    cells = {(weekday, start): HourShare(weekday, start) for weekday in weekdays for start in starts}
    day = period.first_day
    while day < period.end_day:
        if schedule.calendar_closure(day, rules, opened=opened) is None:
            for start in starts:
                moment = schedule.to_utc(schedule.local_datetime(day, start, rules))
                if schedule.closure_for(moment, schedule.slot_end(moment, rules), closures):
                    continue
                places, taken = stored.get(moment, (default, 0))
                cell = cells[day.weekday(), start]
                cell.hours += 1
                cell.places += places
                cell.taken += taken
        day += dt.timedelta(days=1)
    return Occupancy(weekdays, starts, cells)
