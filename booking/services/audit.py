"""The audit log: every staff action leaves a row saying who did what, when, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from booking.models import AuditEntry, Booking, StaffUser, TourRequest


def record(session: Session, now: dt.datetime, staff: StaffUser | None, action: str, *,
           booking: Booking | None = None, tour: TourRequest | None = None, **details: Any) -> AuditEntry:
    """Add an entry inside the caller's transaction, so it commits (or not) with the action itself.

    `action` is a short code ("booking.cancel", "closure.add", "staff.lock"...); `details` must be
    JSON values: the reason of an override, old and new values.
    """
    entry = AuditEntry(at=now, staff=staff, actor=staff.email if staff else "system", action=action,
                       booking=booking, tour=tour, details=details)
    session.add(entry)
    return entry
