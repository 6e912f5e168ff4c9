"""Individual visits: book, cancel, move. Each is one transaction that also queues its email."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from booking import schedule
from booking.access import COLUMNS, NONE, OTHER_TEXT_COLUMN, AccessNeeds
from booking.db import atomic, retry_on_clash
from booking.models import Booking, StaffUser, enqueue_email
from booking.references import new_reference
from booking.schedule import Rules
from booking.services import BookingClosed, BookingError, SlotFull, audit
from booking.services.availability import check_bookable
from booking.services.capacity import change_places, moving_changes, release_places, take_open_places
from booking.services.email_cap import email_day_limits, same_local_day, under_email_day_cap
from booking.services.waitlist import offer_freed_places


@dataclass(frozen=True)
class ByMuseum:
    """A change staff make for the visitor: who made it, and what the visitor is told and why.

    `reasons` holds the same reason in several languages (a closure's), so each visitor reads it
    in their own; `message` is a note as staff typed it.
    """

    staff: StaffUser | None
    message: str = ""
    reasons: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict:
        return {"by_museum": True, "message": self.message, "reasons": self.reasons}


@dataclass(frozen=True)
class VisitRequest:
    start: dt.datetime  # aware
    party_size: int
    name: str
    email: str
    language: str
    note: str = ""
    access_needs: AccessNeeds = NONE
    request_key: str | None = None
    # At most this many active bookings per email address for the visit's day (None: no cap, staff desk).
    email_day_cap: int | None = None


_BY_REQUEST_KEY = sa.select(Booking.__table__.c.id).where(
    Booking.__table__.c.request_key == sa.bindparam("request_key", type_=Booking.__table__.c.request_key.type))


def find_by_request_key(session: Session, request_key: str) -> Booking | None:
    """The booking a request key made, if any. Every form post asks: a prebuilt id lookup, and
    the booking is loaded only when there is one."""
    booking_id = session.connection().execute(_BY_REQUEST_KEY, {"request_key": request_key}).scalar()
    return session.get(Booking, booking_id) if booking_id is not None else None


def book_visit(session: Session, rules: Rules, now: dt.datetime, request: VisitRequest) -> tuple[Booking, bool]:
    """Book a visit; returns (booking, created). A repeated request_key returns the first booking.

    Raises NotBookable (closed, past, too far, not a slot), SlotFull, or BookingError("party_size").
    """
    if not rules.party_min <= request.party_size <= rules.party_max:
        raise BookingError("party_size", field="party_size")
    start = request.start.astimezone(schedule.UTC)

    def operation() -> tuple[Booking, bool]:
        if not take_open_places(session, rules, now, start, request.party_size, request.language):
            raise SlotFull()
        values = {
            "reference": new_reference(), "status": "confirmed", "start": start, "party_size": request.party_size,
            "name": request.name, "email": request.email, "language": request.language, "note": request.note,
            "source": "web", "token_version": 1, "sequence": 0, "request_key": request.request_key,
            "created_at": now, "updated_at": now, **request.access_needs.columns(),
        }
        capped = request.email_day_cap is not None
        limits = email_day_limits(rules, start, request.email, request.email_day_cap) if capped else {}
        with retry_on_clash("reference"):  # a repeated request key is handled by book_once
            booking_id = session.execute(_insert_visit(capped), {**values, **limits}).scalar()
        if booking_id is None:
            raise BookingError("email_day_cap", field="email", detail=str(request.email_day_cap))
        booking = Booking(id=booking_id, **values)
        make_transient_to_detached(booking)  # persistent, as if loaded: its other columns load when read
        session.add(booking)
        if booking.email:
            enqueue_email(session, "visit_confirmed", booking=booking, recipient=booking.email,
                          language=booking.language, now=now)
        return booking, True

    return book_once(session, operation, request.request_key)


def book_once(session: Session, operation, request_key: str | None) -> tuple[Booking, bool]:
    """Run a booking `operation` (returning (booking, True)) in its transaction, once per `request_key`:
    a repeated form or Idempotency-Key gets the first booking (found inside the transaction), not
    created; when the same request was made twice at once, the key's unique index stops the second
    and the other one's booking is returned."""

    def once() -> tuple[Booking, bool]:
        if request_key:
            existing = find_by_request_key(session, request_key)
            if existing:
                return existing, False
        return operation()

    try:
        return atomic(session, once)
    except IntegrityError:
        existing = find_by_request_key(session, request_key) if request_key else None
        if existing is None:
            raise
        return existing, False


@functools.cache
def _insert_visit(capped: bool) -> sa.Insert:
    """book_visit's INSERT, built once (a booking binds its values). `capped`: only while the
    address holds fewer than :cap active bookings on the visit's local day (email_cap), counted
    inside the same statement, so the per-email cap costs no statement of its own.

    Counted after the slot's places are taken: a concurrent booking of the same slot has committed
    by then (PostgreSQL's row lock; SQLite runs one writer at a time). Two bookings of different
    hours sent at the same instant on PostgreSQL can both pass: the cap is against abuse, not a rule
    of capacity.
    """
    table = Booking.__table__  # Core: the unit of work would cost more than the statement
    row = sa.select(*(sa.bindparam(name, type_=table.c[name].type) for name in _VISIT_COLUMNS))
    if capped:
        row = row.where(under_email_day_cap())
    return sa.insert(table).from_select(_VISIT_COLUMNS, row).returning(table.c.id)


_VISIT_COLUMNS = ("reference", "status", "start", "party_size", "name", "email", "language", "note", "source",
                  "token_version", "sequence", "request_key", "created_at", "updated_at",
                  *COLUMNS.values(), OTHER_TEXT_COLUMN)


@functools.cache
def _move_visit(capped: bool) -> sa.Update:
    """move_booking's UPDATE of the booking, built once. `capped`: only while the address holds
    fewer than :cap active bookings on the new local day, counted inside the same statement, so a
    visitor's move costs no more statements than before the cap. The count reads the rows as they
    were before this UPDATE: the booking being moved, still on its old day, does not count.
    """
    table = Booking.__table__
    statement = sa.update(table).where(table.c.id == sa.bindparam("booking_id", type_=table.c.id.type)).values(
        start=sa.bindparam("new_start", type_=table.c.start.type),
        sequence=sa.bindparam("new_sequence", type_=table.c.sequence.type),
        updated_at=sa.bindparam("moved_at", type_=table.c.updated_at.type),
    )
    if capped:
        statement = statement.where(under_email_day_cap())
    return statement


def _lock_active(session: Session, booking_id: int, now: dt.datetime) -> Booking:
    """Re-read the booking under a row lock; it must still be confirmed and not yet started."""
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or not booking.is_active:
        raise BookingClosed("cancelled")
    if booking.start <= now:
        raise BookingClosed("started")
    return booking


def cancel_booking(session: Session, rules: Rules, now: dt.datetime, booking_id: int,
                   by: ByMuseum | None = None) -> Booking:
    """Cancel a visit that has not started; frees its places and emails a calendar cancellation.

    `by` is set when staff cancel for the visitor: the email and the visitor's page say why, and
    the audit log keeps who did it.
    """
    return atomic(session, lambda: cancel_in_transaction(session, now, booking_id, by, rules=rules))


def cancel_in_transaction(session: Session, now: dt.datetime, booking_id: int,
                          by: ByMuseum | None = None,
                          rules: Rules | None = None) -> Booking:
    """cancel_booking's work inside the caller's transaction, for operations that cancel several
    visits all or nothing (closing a day). With `rules`, the freed places go to the slot's waiting list."""
    booking = _lock_active(session, booking_id, now)
    release_places(session, booking.start, booking.party_size)
    if rules is not None:
        offer_freed_places(session, rules, now, booking.start)
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.updated_at = now
    booking.sequence += 1
    booking.cancelled_by = "museum" if by else "visitor"
    if by:
        booking.cancel_reasons = by.reasons or None
        booking.cancel_message = by.message
        audit.record(session, now, by.staff, "booking.cancel", booking=booking, message=by.message,
                     reasons=by.reasons)
    if booking.email:
        enqueue_email(session, "visit_cancelled", booking=booking, recipient=booking.email,
                      language=booking.language, now=now,
                      payload=by.payload() if by else None)
    return booking


def move_booking(session: Session, rules: Rules, now: dt.datetime, booking_id: int,
                 new_start: dt.datetime,
                 by: ByMuseum | None = None, email_day_cap: int | None = None) -> Booking:
    """Move a visit to another slot with room: takes the new places and frees the old in one go.

    `email_day_cap` (a visitor's own move; None for staff, like a desk booking): a move to another
    day is refused with BookingError("email_day_cap") when the address already holds that many
    active bookings on it, as book_visit refuses a booking. A move within the day never is: it
    leaves the day's count as it was.
    """
    new_start = new_start.astimezone(schedule.UTC)

    def operation() -> Booking:
        booking = _lock_active(session, booking_id, now)
        if new_start == booking.start:
            raise BookingError("same_slot", field="start")
        check_bookable(session, rules, now, new_start, booking.language)
        old_start = booking.start
        changes = moving_changes([old_start], [new_start], booking.party_size)
        # The visitor's own move leaves the kept-back places alone; staff may use them, as at the desk.
        if not change_places(session, changes, rules.slot_capacity, keep_back=by is None):
            raise SlotFull()
        capped = email_day_cap is not None and bool(booking.email) and not same_local_day(old_start, new_start, rules)
        limits = email_day_limits(rules, new_start, booking.email, email_day_cap) if capped else {}
        sequence = booking.sequence + 1  # the row is locked: no one else raises it meanwhile
        moved = session.execute(_move_visit(capped), {
            "booking_id": booking.id, "new_start": new_start, "new_sequence": sequence, "moved_at": now, **limits,
        }).rowcount
        if not moved:  # the places taken above go back with the rollback
            raise BookingError("email_day_cap", field="start", detail=str(email_day_cap))
        for name, value in (("start", new_start), ("sequence", sequence), ("updated_at", now)):
            set_committed_value(booking, name, value)  # the row has them already: no UPDATE at the flush
        offer_freed_places(session, rules, now, old_start)
        payload = {"previous_start": old_start.isoformat(), **(by.payload() if by else {})}
        if by:
            audit.record(session, now, by.staff, "booking.move", booking=booking, message=by.message,
                         previous_start=old_start.isoformat(), start=new_start.isoformat())
        if booking.email:
            enqueue_email(session, "visit_moved", booking=booking, recipient=booking.email,
                          language=booking.language, now=now, payload=payload)
        return booking

    return atomic(session, operation)
