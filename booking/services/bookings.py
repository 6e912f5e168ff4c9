"""Individual visits: book, cancel, move. Each is one transaction that also queues its email."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import RetryTransaction, atomic
from booking.models import Booking, enqueue_email
from booking.references import new_reference
from booking.schedule import Rules
from booking.services import BookingClosed, BookingError, SlotFull
from booking.services.availability import check_bookable
from booking.services.capacity import change_places, moving_changes, release_places, take_places


@dataclass(frozen=True)
class VisitRequest:
    start: dt.datetime  # aware
    party_size: int
    name: str
    email: str
    language: str
    note: str = ""
    request_key: str | None = None


def find_by_request_key(session: Session, request_key: str) -> Booking | None:
    return session.scalars(sa.select(Booking).where(Booking.request_key == request_key)).first()


def book_visit(session: Session, rules: Rules, now: dt.datetime, request: VisitRequest,
               mail_domain: str = "museumresistance.be") -> tuple[Booking, bool]:
    """Book a visit; returns (booking, created). A repeated request_key returns the first booking.

    Raises NotBookable (closed, past, too far, not a slot), SlotFull, or BookingError("party_size").
    """
    if not rules.party_min <= request.party_size <= rules.party_max:
        raise BookingError("party_size", field="party_size")
    start = request.start.astimezone(schedule.UTC)

    def operation() -> tuple[Booking, bool]:
        # A repeated form or Idempotency-Key gets the first booking, found inside this transaction;
        # a concurrent repeat is stopped by the key's unique index (below).
        if request.request_key:
            existing = find_by_request_key(session, request.request_key)
            if existing:
                return existing, False
        check_bookable(session, rules, now, start, request.language)
        if not take_places(session, start, request.party_size, rules.slot_capacity):
            raise SlotFull()
        booking = Booking(
            reference=new_reference(),
            start=start,
            party_size=request.party_size,
            name=request.name,
            email=request.email,
            language=request.language,
            note=request.note,
            request_key=request.request_key,
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        try:
            session.flush()
        except IntegrityError as error:
            if "reference" not in str(error.orig):
                raise  # e.g. the same request_key: handled below
            raise RetryTransaction() from error  # a reference drawn twice: draw again
        enqueue_email(session, "visit_confirmed", booking=booking, recipient=booking.email,
                      language=booking.language, now=now, domain=mail_domain)
        return booking, True

    try:
        return atomic(session, operation)
    except IntegrityError:
        # The same request twice at once: the other one made the booking and has committed.
        existing = find_by_request_key(session, request.request_key) if request.request_key else None
        if existing is None:
            raise
        return existing, False


def _lock_active(session: Session, booking_id: int, now: dt.datetime) -> Booking:
    """Re-read the booking under a row lock; it must still be confirmed and not yet started."""
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or not booking.is_active:
        raise BookingClosed("cancelled")
    if booking.start <= now:
        raise BookingClosed("started")
    return booking


def cancel_booking(session: Session, rules: Rules, now: dt.datetime, booking_id: int,
                   mail_domain: str = "museumresistance.be") -> Booking:
    """Cancel a visit that has not started; frees its places and emails a calendar cancellation."""

    def operation() -> Booking:
        booking = _lock_active(session, booking_id, now)
        release_places(session, booking.start, booking.party_size)
        booking.status = "cancelled"
        booking.cancelled_at = now
        booking.updated_at = now
        booking.sequence += 1
        enqueue_email(session, "visit_cancelled", booking=booking, recipient=booking.email,
                      language=booking.language, now=now, domain=mail_domain)
        return booking

    return atomic(session, operation)


def move_booking(session: Session, rules: Rules, now: dt.datetime, booking_id: int,
                 new_start: dt.datetime, mail_domain: str = "museumresistance.be") -> Booking:
    """Move a visit to another slot with room: takes the new places and frees the old in one go."""
    new_start = new_start.astimezone(schedule.UTC)

    def operation() -> Booking:
        booking = _lock_active(session, booking_id, now)
        if new_start == booking.start:
            raise BookingError("same_slot", field="start")
        check_bookable(session, rules, now, new_start, booking.language)
        old_start = booking.start
        changes = moving_changes([old_start], [new_start], booking.party_size)
        if not change_places(session, changes, rules.slot_capacity):
            raise SlotFull()
        booking.start = new_start
        booking.updated_at = now
        booking.sequence += 1
        enqueue_email(session, "visit_moved", booking=booking, recipient=booking.email,
                      language=booking.language, now=now, domain=mail_domain,
                      payload={"previous_start": old_start.isoformat()})
        return booking

    return atomic(session, operation)
