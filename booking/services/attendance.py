"""Check-in at the front desk: a visit or a group is marked arrived or no-show, or the mark is undone;
or it is found by the reference typed or scanned at the desk and marked arrived."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic
from booking.models import ATTENDANCE, Booking, StaffUser, TourRequest
from booking.references import ALPHABET, GROUP_PREFIX, LENGTH, PREFIX
from booking.schedule import Rules
from booking.services import BookingError
from booking.services.audit import record


class AttendanceError(BookingError):
    """The mark is refused: "unknown" value, "future" day, "not_active" (cancelled, declined...), "not_found"."""

    field = "attendance"


def mark(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
         visit: Booking | TourRequest, attendance: str | None, *, via: str | None = None) -> Booking | TourRequest:
    """Set `visit`'s attendance ("arrived", "no_show") or clear it (None), with an audit entry.

    Only visits of today or earlier days (in the museum's time zone) can be marked: a later day's
    visit has neither arrived nor missed it yet. Undoing is always allowed. Only confirmed bookings
    and groups still holding their time (pending, proposed, confirmed) are marked. Marking what is
    already marked changes nothing and writes no audit entry. `via` ("reference") says, in the audit
    entry, how the desk found the visit.
    """
    if attendance is not None and attendance not in ATTENDANCE:
        raise AttendanceError("unknown")
    model = type(visit)
    visit_id = visit.id

    def operation() -> Booking | TourRequest:
        current = session.get(model, visit_id, with_for_update=True, populate_existing=True)
        if current is None:
            raise AttendanceError("not_found")
        active = current.status == "confirmed" if model is Booking else current.status in TourRequest.HOLDING
        if not active:
            raise AttendanceError("not_active", detail=current.status)
        if attendance is not None and schedule.to_local(current.start, rules).date() > schedule.local_today(now, rules):
            raise AttendanceError("future")
        previous = current.attendance
        if previous == attendance:
            return current
        current.attendance = attendance
        current.attendance_at = now if attendance else None
        current.updated_at = now
        action = "booking.attendance" if model is Booking else "tour.attendance"
        target = {"booking": current} if model is Booking else {"tour": current}
        details = {"via": via} if via else {}
        record(session, now, staff, action, **target, attendance=attendance, previous=previous, **details)
        return current

    return atomic(session, operation)


# --- check-in by reference ----------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-_.–—/]+")
_CODE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")


class CheckInRefused(BookingError):
    """A reference the desk cannot check in: "empty", "unknown", "cancelled" (or declined, expired...),
    "other_day" (the visit is on another day than the one the desk is checking in). `visit` names the
    visit found, if any, so the desk can say whose it is."""

    field = "reference"

    def __init__(self, code: str, visit: Booking | TourRequest | None = None, *, reference: str = ""):
        super().__init__(code)
        self.visit = visit
        self.reference = reference


@dataclass(frozen=True)
class CheckIn:
    """A reference checked in: `already` when the visit had been marked arrived before."""

    visit: Booking | TourRequest
    already: bool


def reference_candidates(text: str) -> list[str]:
    """The stored references that what the desk typed or scanned can mean, most likely first.

    Case, spaces and separators do not matter ("nmr 7kq-3px", "NMR7KQ3PX"); a code without its prefix
    may be a visit's or a group's. Nothing that cannot be a reference yields a candidate.
    """
    folded = _SEPARATORS.sub("", text.upper())
    prefixes = [PREFIX, GROUP_PREFIX]
    for prefix in prefixes:
        bare = prefix.rstrip("-")
        if folded.startswith(bare) and _CODE.fullmatch(folded[len(bare):]):
            return [prefix + folded[len(bare):]]
    if _CODE.fullmatch(folded):
        return [prefix + folded for prefix in prefixes]
    return []


def check_in_by_reference(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                          text: str, day: dt.date) -> CheckIn:
    """Mark arrived the visit or group whose reference `text` is, if it is booked for `day` (the day
    the desk is checking in). A second scan changes nothing and says so; a no-show who comes after
    all is marked arrived. Raises CheckInRefused, or AttendanceError("future") for a later day.
    """
    candidates = reference_candidates(text)
    if not text.strip():
        raise CheckInRefused("empty")
    shown = candidates[0] if len(candidates) == 1 else _SEPARATORS.sub("", text.upper())[:20]
    visit: Booking | TourRequest | None = None
    for reference in candidates:
        model = TourRequest if reference.startswith(GROUP_PREFIX) else Booking
        visit = session.scalar(sa.select(model).where(model.reference == reference))
        if visit is not None:
            break
    if visit is None:
        raise CheckInRefused("unknown", reference=shown)
    active = visit.status == "confirmed" if isinstance(visit, Booking) else visit.status in TourRequest.HOLDING
    if not active:
        raise CheckInRefused("cancelled", visit, reference=visit.reference)
    if schedule.to_local(visit.start, rules).date() != day:
        raise CheckInRefused("other_day", visit, reference=visit.reference)
    if visit.attendance == "arrived":
        return CheckIn(visit, already=True)
    try:
        marked = mark(session, rules, now, staff, visit, "arrived", via="reference")
    except AttendanceError as refusal:
        if refusal.code == "not_active":  # cancelled between the look-up and the mark
            raise CheckInRefused("cancelled", visit, reference=visit.reference) from refusal
        raise
    return CheckIn(marked, already=False)
