"""Is this time closed? The reads of the closures staff enter (and of the public holidays they
open) that bookings, the availability calendar and group visits share.

The booking hot path (capacity.take_open_places) puts open_slot_sql inside its one statement; the
calendar reads every closure of a range in one SELECT (closures_between). The rules that need no
database (weekends, public holidays, a closure overlapping a slot) are in booking/schedule.py.
The staff calendar's days (services/occupancy.py) join the same read into their slots' SELECT.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import utc_param
from booking.models import Closure
from booking.schedule import Rules
from booking.texts import in_language

# Built once: a request binds its values and SQLAlchemy reuses the compiled SQL. Core columns, not
# the ORM's: plain rows, without the ORM's loading of entities.
_closure = Closure.__table__
# What a closure read selects, for a statement of its own or joined into another (services/occupancy.py).
CLOSURE_COLUMNS = (_closure.c.start_at, _closure.c.end_at, _closure.c.reasons, _closure.c.kind)


def overlapping(start: sa.ColumnElement, end: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """The closures (and openings of holidays) overlapping [start, end), as an SQL condition."""
    return sa.and_(_closure.c.start_at < end, _closure.c.end_at > start)


_CLOSURES = (sa.select(*CLOSURE_COLUMNS).where(overlapping(utc_param("start"), utc_param("end")))
             .order_by(_closure.c.start_at))


def closure_period(start_at: dt.datetime, end_at: dt.datetime, reasons: dict | None, kind: str,
                   language: str) -> schedule.ClosurePeriod:
    """A row of CLOSURE_COLUMNS as the calendar rules take it, its reason in `language`."""
    return schedule.ClosurePeriod(start_at, end_at, in_language(reasons, language), kind)


def closures_between(session: Session, start: dt.datetime, end: dt.datetime,
                     language: str) -> list[schedule.ClosurePeriod]:
    """Closures (and openings of holidays) overlapping [start, end), with their reason in `language`."""
    rows = session.connection().execute(_CLOSURES, {"start": start, "end": end})
    return [closure_period(*row, language) for row in rows]


def open_slot_sql(holiday: bool) -> sa.ColumnElement[bool]:
    """check_bookable's closures as an SQL condition, to put inside another statement: no closure
    overlaps the slot [:start, :slot_end), and on a public holiday staff opened the whole day
    [:day_start, :day_end). The calendar's other rules are check_calendar's."""
    no_closure = ~sa.exists().where(
        Closure.kind == "closed",
        Closure.start_at < utc_param("slot_end"),
        Closure.end_at > utc_param("start"),
    )
    if not holiday:
        return no_closure
    opened = sa.exists().where(
        Closure.kind == "opened",
        Closure.start_at <= utc_param("day_start"),
        Closure.end_at >= utc_param("day_end"),
    )
    return sa.and_(no_closure, opened)


def open_slot_params(rules: Rules, start: dt.datetime) -> tuple[bool, dict[str, dt.datetime]]:
    """Whether open_slot_sql needs its holiday part for `start`, and the values of its parameters."""
    day = schedule.to_local(start, rules).date()
    day_start, day_end = schedule.day_bounds(day, rules)
    holiday = schedule.holiday_name(day, rules) is not None
    return holiday, {"slot_end": schedule.slot_end(start, rules), "day_start": day_start, "day_end": day_end}


def closed_by_staff(session: Session, start: dt.datetime, minutes: int) -> bool:
    """Does a closure staff entered overlap the `minutes` from `start`? (A group visit's hours.)"""
    end = start + dt.timedelta(minutes=minutes)
    return session.scalar(
        sa.select(sa.func.count()).select_from(Closure)
        .where(Closure.kind == "closed", Closure.start_at < end, Closure.end_at > start)
    ) > 0


def opened_days(session: Session, rules: Rules, starts: list[dt.datetime]) -> set[dt.date]:
    """Which of the days of `starts` are holidays staff opened exceptionally."""
    # The calendar's last day has no next midnight; no one opens it (the rules refuse it as too far).
    days = {schedule.to_local(start, rules).date() for start in starts} - {dt.date.max}
    if not days:
        return set()
    bounds = [schedule.day_bounds(day, rules) for day in days]
    rows = session.execute(
        sa.select(Closure.start_at, Closure.end_at).where(
            Closure.kind == "opened", Closure.start_at < max(end for _s, end in bounds),
            Closure.end_at > min(start for start, _e in bounds))
    ).all()
    return schedule.opened_days([schedule.ClosurePeriod(r.start_at, r.end_at, "", "opened") for r in rows], rules)
