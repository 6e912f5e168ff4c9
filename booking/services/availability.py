"""What is open and how many places are left, for a range of days, in two queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import epoch_seconds, utc_param
from booking.models import Slot
from booking.schedule import Rules
from booking.services import NotBookable
from booking.services.closed_times import closures_between
from booking.services.settings import default_capacity_sql, default_kept_back_sql


@dataclass(frozen=True)
class SlotView:
    start: dt.datetime  # UTC
    end: dt.datetime
    capacity: int
    remaining: int
    bookable: bool  # open, in the booking window, and at least one place left
    closed_reason: str | None = None

    @property
    def full(self) -> bool:
        return self.remaining <= 0 and self.closed_reason is None


@dataclass(frozen=True)
class DayView:
    date: dt.date
    open: bool
    closed_kind: str | None = None  # "weekend", "holiday" or "closure"
    closed_reason: str | None = None  # the holiday's name or the reason staff gave
    in_window: bool = True  # between today and the booking horizon
    slots: list[SlotView] = field(default_factory=list)

    @property
    def bookable(self) -> bool:
        return any(slot.bookable for slot in self.slots)

    @property
    def remaining(self) -> int:
        return sum(slot.remaining for slot in self.slots if slot.bookable)


# The slots read, built once: a request binds its values and SQLAlchemy reuses the compiled SQL
# (the closures read is closed_times.closures_between).
# Core columns, not the ORM's: plain rows, without the ORM's loading of entities.
_slot = Slot.__table__
# One row at least, even without slot rows, so the default capacity comes with the slots.
_one = sa.select(sa.literal(1).label("one")).subquery("one")
_SLOTS = (sa.select(default_capacity_sql(sa.bindparam("configured", type_=sa.Integer)), default_kept_back_sql(),
                    epoch_seconds(_slot.c.start), _slot.c.capacity, _slot.c.booked, _slot.c.kept_back)
          .select_from(_one)
          .outerjoin(_slot, sa.and_(_slot.c.start >= utc_param("start"), _slot.c.start < utc_param("end"))))


def days_between(
    session: Session, rules: Rules, now: dt.datetime, first: dt.date, last: dt.date, language: str = "en"
) -> list[DayView]:
    """Every day from `first` to `last` with its slots; two SELECTs whatever the range."""
    range_start = schedule.to_utc(schedule.local_datetime(first, dt.time.min, rules))
    range_end = schedule.to_utc(schedule.local_datetime(last + dt.timedelta(days=1), dt.time.min, rules))
    rows = session.connection().execute(
        _SLOTS, {"configured": rules.slot_capacity, "start": range_start, "end": range_end}).all()
    default = (rows[0][0], 0, rows[0][1]) if rows else (rules.slot_capacity, 0, 0)
    # By the start's epoch seconds: far cheaper to read than 180 datetimes.
    stored = {seconds: (capacity, booked, kept_back)
              for _capacity, _kept_back, seconds, capacity, booked, kept_back in rows if seconds is not None}
    closures = closures_between(session, range_start, range_end, language)
    opened = schedule.opened_days(closures, rules)
    today = schedule.local_today(now, rules)
    horizon = schedule.last_bookable_day(now, rules)
    times = schedule.slot_starts(first, rules)  # the same every open day
    step = dt.timedelta(minutes=rules.slot_minutes)
    tz = rules.tz

    days = []
    day = first
    while day <= last:
        in_window = today <= day <= horizon
        calendar_closure = schedule.calendar_closure(day, rules, language, opened)
        if calendar_closure:
            kind, name = calendar_closure
            days.append(DayView(day, open=False, closed_kind=kind, closed_reason=name, in_window=in_window))
        else:
            starts = [dt.datetime.combine(day, time, tzinfo=tz).astimezone(schedule.UTC) for time in times]
            days.append(_open_day(day, starts, step, default, stored, closures, now, in_window))
        day += dt.timedelta(days=1)
    return days


def _open_day(day, starts, step, default, stored, closures, now, in_window) -> DayView:
    slots = []
    for start in starts:
        end = start + step
        capacity, booked, kept_back = stored.get(int(start.timestamp()), default)
        closure = schedule.closure_for(start, end, closures) if closures else None
        if closure:
            slots.append(SlotView(start, end, capacity, 0, False, closure.reason))
            continue
        remaining = max(capacity - kept_back - booked, 0)  # the kept-back places are the desk's
        # In the window: the day is within the horizon and the slot has not started.
        slots.append(SlotView(start, end, capacity, remaining, remaining > 0 and in_window and start > now))
    if slots and all(slot.closed_reason is not None for slot in slots):
        return DayView(day, open=False, closed_kind="closure", closed_reason=slots[0].closed_reason,
                       in_window=in_window)
    return DayView(day, open=True, in_window=in_window, slots=slots)


def check_calendar(rules: Rules, now: dt.datetime, start: dt.datetime) -> None:
    """Raise NotBookable unless `start` is a slot of an open weekday within the booking window:
    the rules that need no database."""
    if not schedule.is_slot_start(start, rules):
        raise NotBookable("not_a_slot")
    if start <= now:
        raise NotBookable("past")
    if not schedule.within_booking_window(start, now, rules):
        raise NotBookable("too_far")
    if not schedule.is_open_weekday(schedule.to_local(start, rules).date(), rules):
        raise NotBookable("closed_weekend")


def check_bookable(
    session: Session, rules: Rules, now: dt.datetime, start: dt.datetime, language: str = "en"
) -> None:
    """Raise NotBookable unless `start` is a slot open to booking now (capacity aside)."""
    check_calendar(rules, now, start)
    local_day = schedule.to_local(start, rules).date()
    # One read finds both a closure of the slot and an exceptional opening of the day (which
    # covers the whole day, so it overlaps the slot too).
    closures = closures_between(session, start, schedule.slot_end(start, rules), language)
    calendar_closure = schedule.calendar_closure(local_day, rules, language, schedule.opened_days(closures, rules))
    if calendar_closure:
        kind, name = calendar_closure
        raise NotBookable(f"closed_{kind}", detail=name)
    closure = schedule.closure_for(start, schedule.slot_end(start, rules), closures)
    if closure:
        raise NotBookable("closed", detail=closure.reason)
