"""Closures that staff enter: whole days or some hours, with a reason shown to visitors.

Closing a period where visits are booked cancels them in the same transaction as the closure
(all or nothing), each visitor told the reason in their own language. Public holidays can be
opened exceptionally: a Closure row of kind "opened" covering the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic
from booking.models import Booking, Closure, StaffUser, TourRequest
from booking.schedule import Rules
from booking.services import BookingError, audit
from booking.services.bookings import ByMuseum, cancel_in_transaction

# A tour lasts at most this long; it bounds the search for tours overlapping a period.
_LONGEST_TOUR = dt.timedelta(hours=8)


class ClosureError(BookingError):
    """A closure or opening that cannot be made (codes: closure_range, not_a_holiday, already_open,
    not_open, has_bookings, not_found)."""


class NeedsConfirmation(BookingError):
    """Visits are booked in the period: staff must see them and confirm their cancellation."""

    code = "needs_confirmation"

    def __init__(self, affected: Affected):
        self.affected = affected
        super().__init__("needs_confirmation")


@dataclass
class Affected:
    """The visits a closure would cancel: confirmed bookings and group visits holding their time."""

    bookings: list[Booking] = field(default_factory=list)
    tours: list[TourRequest] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.bookings) + len(self.tours)

    @property
    def people(self) -> int:
        return sum(b.party_size for b in self.bookings) + sum(t.people for t in self.tours)

    def keys(self) -> set[str]:
        """Names of the visits, as the confirmation form carries them ("b12", "t3")."""
        return {f"b{b.id}" for b in self.bookings} | {f"t{t.id}" for t in self.tours}


def period(rules: Rules, day: dt.date, last_day: dt.date | None = None, start_time: dt.time | None = None,
           end_time: dt.time | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC: `day` through `last_day`, all day or from `start_time` to `end_time` local time."""
    last_day = last_day or day
    if last_day < day:
        raise ClosureError("closure_range", field="last_day")
    start = schedule.local_datetime(day, start_time or dt.time.min, rules)
    if end_time is None:
        end = schedule.local_datetime(last_day + dt.timedelta(days=1), dt.time.min, rules)
    else:
        end = schedule.local_datetime(last_day, end_time, rules)
    if end <= start:
        raise ClosureError("closure_range", field="end_time")
    return schedule.to_utc(start), schedule.to_utc(end)


def add_closure(
    session: Session,
    rules: Rules,
    day: dt.date,
    reasons: dict[str, str],
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    last_day: dt.date | None = None,
) -> Closure:
    """Close `day` (through `last_day`), all day or from `start_time` to `end_time` local time.

    The command line's closure: it cancels nothing (see close_period for the staff page's).
    """
    start, end = period(rules, day, last_day, start_time, end_time)

    def operation() -> Closure:
        closure = Closure(start_at=start, end_at=end, reasons={k: v for k, v in reasons.items() if v})
        session.add(closure)
        return closure

    return atomic(session, operation)


def affected_visits(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime,
                    end: dt.datetime) -> Affected:
    """Visits not yet started whose time overlaps [start, end), in time order."""
    slot = dt.timedelta(minutes=rules.slot_minutes)
    bookings = session.scalars(
        sa.select(Booking).where(Booking.status == "confirmed", Booking.start < end, Booking.start > start - slot,
                                 Booking.start > now)
        .order_by(Booking.start, Booking.id)
    ).all()
    tours = session.scalars(
        sa.select(TourRequest).where(TourRequest.status.in_(TourRequest.HOLDING), TourRequest.start < end,
                                     TourRequest.start > start - _LONGEST_TOUR, TourRequest.start > now)
        .order_by(TourRequest.start, TourRequest.id)
    ).all()
    return Affected(list(bookings), [tour for tour in tours if tour.end > start])


def close_period(session: Session, policy, now: dt.datetime, staff: StaffUser | None, start: dt.datetime,
                 end: dt.datetime, reasons: dict[str, str], message: str = "",
                 confirmed: set[str] | None = None) -> tuple[Closure, Affected]:
    """Close [start, end) and cancel the visits booked there, in one transaction.

    `confirmed` names the visits staff saw and agreed to cancel (Affected.keys()); if the visits
    found now differ (none confirmed yet, or one booked meanwhile), nothing is done and
    NeedsConfirmation carries the list to show. Each visitor and teacher is emailed the reason in
    their own language. `policy` is the tour policy (rules, notify address).
    """
    reasons = {code: text.strip() for code, text in reasons.items() if text and text.strip()}
    if not reasons:
        raise ClosureError("reason_missing", field="reason_en")
    rules = policy.rules

    def operation() -> tuple[Closure, Affected]:
        from booking.services.tours import cancel_tour_for_closure

        affected = affected_visits(session, rules, now, start, end)
        if affected.count and affected.keys() != (confirmed or set()):
            raise NeedsConfirmation(affected)
        closure = Closure(kind="closed", start_at=start, end_at=end, reasons=reasons,
                          created_by_id=staff.id if staff else None, created_at=now)
        session.add(closure)
        by = ByMuseum(staff, message, reasons)
        for booking in affected.bookings:
            cancel_in_transaction(session, now, booking.id, by)
        for tour in affected.tours:
            cancel_tour_for_closure(session, policy, now, tour.id, staff, reasons, message)
        session.flush()
        audit.record(session, now, staff, "closure.add", closure_id=closure.id, start=start.isoformat(),
                     end=end.isoformat(), reasons=reasons, message=message,
                     cancelled_bookings=len(affected.bookings), cancelled_tours=len(affected.tours),
                     people=affected.people)
        return closure, affected

    return atomic(session, operation)


def remove_closure(session: Session, now: dt.datetime, staff: StaffUser | None, closure_id: int) -> None:
    """Delete a closure staff entered; what it cancelled stays cancelled."""

    def operation() -> None:
        closure = session.get(Closure, closure_id, with_for_update=True)
        if closure is None or closure.kind != "closed":
            raise ClosureError("not_found")
        audit.record(session, now, staff, "closure.remove", closure_id=closure.id,
                     start=closure.start_at.isoformat(), end=closure.end_at.isoformat(), reasons=closure.reasons)
        session.delete(closure)

    atomic(session, operation)


@dataclass(frozen=True)
class ComingClosure:
    id: int
    start: dt.datetime
    end: dt.datetime
    reasons: dict[str, str]
    by: str | None  # who entered it; None from the command line


def coming_closures(session: Session, now: dt.datetime) -> list[ComingClosure]:
    """Closures not over yet, soonest first."""
    rows = session.execute(
        sa.select(Closure.id, Closure.start_at, Closure.end_at, Closure.reasons, StaffUser.name, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == Closure.created_by_id)
        .where(Closure.kind == "closed", Closure.end_at > now).order_by(Closure.start_at)
    ).all()
    return [ComingClosure(r.id, r.start_at, r.end_at, r.reasons or {}, r.name or r.email) for r in rows]


# --- public holidays ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Holiday:
    day: dt.date
    name: str
    opened: bool


def coming_holidays(session: Session, rules: Rules, now: dt.datetime, language: str = "en",
                    months: int = 12) -> list[Holiday]:
    """Public holidays on open weekdays from today through `months` months, opened or not."""
    first = schedule.local_today(now, rules)
    last = first + dt.timedelta(days=round(months * 365.25 / 12))
    start, _ = schedule.day_bounds(first, rules)
    _, end = schedule.day_bounds(last, rules)
    rows = session.execute(
        sa.select(Closure.start_at, Closure.end_at)
        .where(Closure.kind == "opened", Closure.start_at < end, Closure.end_at > start)
    ).all()
    opened = schedule.opened_days([schedule.ClosurePeriod(r.start_at, r.end_at, "", "opened") for r in rows], rules)
    return [Holiday(day, name, day in opened) for day, name in schedule.holidays_between(first, last, rules, language)]


def _opening_rows(session: Session, rules: Rules, day: dt.date) -> list[Closure]:
    start, end = schedule.day_bounds(day, rules)
    return list(session.scalars(
        sa.select(Closure).where(Closure.kind == "opened", Closure.start_at < end, Closure.end_at > start)
    ))


def open_holiday(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                 day: dt.date) -> Closure:
    """Open a public holiday exceptionally: visits and groups can book it like any weekday."""
    if not schedule.is_open_weekday(day, rules) or schedule.holiday_name(day, rules) is None:
        raise ClosureError("not_a_holiday")
    if day < schedule.local_today(now, rules):
        raise ClosureError("past")

    def operation() -> Closure:
        if _opening_rows(session, rules, day):
            raise ClosureError("already_open")
        start, end = schedule.day_bounds(day, rules)
        opening = Closure(kind="opened", start_at=start, end_at=end, reasons={},
                          created_by_id=staff.id if staff else None, created_at=now)
        session.add(opening)
        audit.record(session, now, staff, "holiday.open", day=day.isoformat(),
                     holiday=schedule.holiday_name(day, rules))
        return opening

    return atomic(session, operation)


def close_holiday(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                  day: dt.date) -> None:
    """Close again a holiday opened exceptionally; refused while visits are booked that day
    (close the day with a reason first, which cancels them and tells the visitors)."""

    def operation() -> None:
        openings = _opening_rows(session, rules, day)
        if not openings:
            raise ClosureError("not_open")
        start, end = schedule.day_bounds(day, rules)
        affected = affected_visits(session, rules, now, start, end)
        if affected.count:
            raise ClosureError("has_bookings", detail=str(affected.count))
        for opening in openings:
            session.delete(opening)
        audit.record(session, now, staff, "holiday.close", day=day.isoformat(),
                     holiday=schedule.holiday_name(day, rules))

    atomic(session, operation)
