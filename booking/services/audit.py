"""The audit log: every staff action leaves a row saying who did what, when, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.models import AuditEntry, Booking, StaffUser, TourRequest

# What an entry about a visit keeps once the visit is anonymised: the log's own facts (times, counts,
# statuses, which rules were overridden, the museum's guides and closure reasons), never free text
# staff typed about the visitor (a message to them, an override's reason). A kept list rather than a
# dropped one, so a detail added later is erased until someone decides it may stay.
KEPT_WHEN_ANONYMISED = frozenset({
    "source", "start", "previous_start", "slot", "party_size", "pupils", "adults", "overrides", "overflow",
    "places", "previous_status", "was_confirmed", "attendance", "previous", "guides", "reasons",
    "kind",
})


def record(session: Session, now: dt.datetime, staff: StaffUser | None, action: str, *,
           booking: Booking | None = None, tour: TourRequest | None = None, **details: Any) -> AuditEntry:
    """Add an entry inside the caller's transaction, so it commits (or not) with the action itself.

    `action` is a short code ("booking.cancel", "closure.add", "staff.lock"...); `details` must be
    JSON values: the reason of an override, old and new values. Name a visit by `booking` or `tour`
    (its id), never by its visitor's name or address: `scrub` then finds the entry when the visit
    is anonymised.
    """
    entry = AuditEntry(at=now, staff=staff, actor=staff.email if staff else "system", action=action,
                       booking=booking, tour=tour, details=details)
    session.add(entry)
    return entry


def scrub(session: Session, booking_ids: list[int], tour_ids: list[int]) -> int:
    """Erase the personal details of the entries about these visits, inside the caller's transaction.

    The entries stay, linked to their visit, with their action, time and staff member; their details
    keep only KEPT_WHEN_ANONYMISED. Returns how many entries lost something.
    """
    if not booking_ids and not tour_ids:
        return 0
    entries = session.scalars(sa.select(AuditEntry).where(
        sa.or_(AuditEntry.booking_id.in_(booking_ids), AuditEntry.tour_id.in_(tour_ids)))).all()
    scrubbed = 0
    for entry in entries:
        details = entry.details or {}
        kept = {key: value for key, value in details.items() if key in KEPT_WHEN_ANONYMISED}
        if kept != details:
            entry.details = kept  # a new dict: the JSON column does not track changes inside one
            scrubbed += 1
    return scrubbed
