"""Check-in at the front desk: a visit or a group is marked arrived or no-show, or the mark is undone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic
from booking.models import ATTENDANCE, Booking, StaffUser, TourRequest
from booking.schedule import Rules
from booking.services import BookingError
from booking.services.audit import record


class AttendanceError(BookingError):
    """The mark is refused: "unknown" value, "future" day, "not_active" (cancelled, declined...), "not_found"."""

    field = "attendance"


def mark(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
         visit: Booking | TourRequest, attendance: str | None) -> Booking | TourRequest:
    """Set `visit`'s attendance ("arrived", "no_show") or clear it (None), with an audit entry.

    Only visits of today or earlier days (in the museum's time zone) can be marked: a later day's
    visit has neither arrived nor missed it yet. Undoing is always allowed. Only confirmed bookings
    and groups still holding their time (pending, proposed, confirmed) are marked. Marking what is
    already marked changes nothing and writes no audit entry.
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
        record(session, now, staff, action, **target, attendance=attendance, previous=previous)
        return current

    return atomic(session, operation)
