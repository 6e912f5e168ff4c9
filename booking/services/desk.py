"""Bookings staff take by phone or at the desk, where they may knowingly override a rule, with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.access import NONE, AccessNeeds
from booking.db import flush_or_retry
from booking.models import AuditEntry, Booking, Slot, StaffUser, TourRequest, enqueue_email
from booking.references import new_reference
from booking.schedule import Rules
from booking.services import BookingError, SlotFull, audit
from booking.services.availability import check_bookable
from booking.services.bookings import book_once
from booking.services.capacity import take_places
from booking.services.tours import Policy, TourInputError, create_confirmed_tour
from booking.tour_rules import TourApplication, validate_application

OVERRIDES = ("lead_time", "group_size", "capacity")


@dataclass(frozen=True)
class Overrides:
    """The rules staff chose to override, and why; the audit log keeps both."""

    lead_time: bool = False
    group_size: bool = False
    capacity: bool = False
    reason: str = ""

    @property
    def names(self) -> list[str]:
        return [name for name in OVERRIDES if getattr(self, name)]

    def check_reason(self) -> None:
        """An override is only allowed with a reason."""
        if self.names and not self.reason.strip():
            raise BookingError("reason_missing", field="override_reason")

    def audit_details(self) -> dict:
        return {"overrides": self.names, "reason": self.reason.strip()} if self.names else {}


@dataclass(frozen=True)
class DeskVisit:
    start: dt.datetime  # aware
    party_size: int
    name: str
    language: str
    email: str | None = None
    phone: str = ""
    note: str = ""
    access_needs: AccessNeeds = NONE
    request_key: str | None = None


def check_desk_start(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime, language: str,
                     lead_time: bool) -> None:
    """The visitors' rules for `start`, but with `lead_time` a slot that has begun and not ended is fine.

    Closed days and hours are never overridden: the slot is checked as if it were booked a moment
    before it began, so the calendar's rules stay in one place (check_bookable).
    """
    if lead_time and start <= now < schedule.slot_end(start, rules):
        check_bookable(session, rules, start - dt.timedelta(microseconds=1), start, language)
    else:
        check_bookable(session, rules, now, start, language)


def book_at_desk(session: Session, rules: Rules, now: dt.datetime, visit: DeskVisit, overrides: Overrides,
                 staff: StaffUser | None, overbook_max: int) -> tuple[
                     Booking, bool]:
    """Book a visit for a caller or a walk-in; returns (booking, created).

    Without an override the visitors' rules apply, with their refusals (NotBookable, SlotFull,
    BookingError("party_size")), but the places kept back for visitors without a booking are free
    to the desk. With "capacity", the slot takes up to `overbook_max` places beyond
    the capacity it had before any desk overbooking: its capacity is raised by the overflow in the
    same statement that books, so booked <= capacity still holds. Emails only when an email is given.
    """
    overrides.check_reason()
    if visit.party_size < rules.party_min or (visit.party_size > rules.party_max and not overrides.group_size):
        raise BookingError("party_size", field="party_size")
    start = visit.start.astimezone(schedule.UTC)

    def operation() -> tuple[Booking, bool]:
        check_desk_start(session, rules, now, start, visit.language, overrides.lead_time)
        overflow = 0
        if not take_places(session, start, visit.party_size, rules.slot_capacity, keep_back=False):
            if not overrides.capacity:
                raise SlotFull()
            overflow = _overbook(session, rules, start, visit.party_size, overbook_max)
        booking = Booking(
            reference=new_reference(), start=start, party_size=visit.party_size, name=visit.name,
            email=visit.email or None, phone=visit.phone, language=visit.language, note=visit.note,
            source="staff", created_by_id=staff.id if staff else None, request_key=visit.request_key,
            created_at=now, updated_at=now, **visit.access_needs.columns(),
        )
        session.add(booking)
        flush_or_retry(session, "reference")  # a repeated request key is handled below
        details = {"source": "staff", "start": start.isoformat(), "party_size": visit.party_size,
                   **overrides.audit_details()}
        if overflow:
            details["overflow"] = overflow
            audit.record(session, now, staff, "slot.overbook", booking=booking, slot=start.isoformat(),
                         places=overflow, reason=overrides.reason.strip())
        audit.record(session, now, staff, "booking.create", booking=booking, **details)
        if booking.email:
            enqueue_email(session, "visit_confirmed", booking=booking, recipient=booking.email,
                          language=booking.language, now=now)
        return booking, True

    return book_once(session, operation, visit.request_key)


def overbooked_places(session: Session, rules: Rules, start: dt.datetime) -> int:
    """Places the desk has added to this slot's capacity so far, from the audit log's "slot.overbook"."""
    since = start - dt.timedelta(days=rules.horizon_days + 2)  # the desk books at most the horizon ahead
    rows = session.scalars(
        sa.select(AuditEntry.details).where(AuditEntry.action == "slot.overbook", AuditEntry.at >= since)
    )
    key = start.isoformat()
    return sum(int(details.get("places", 0)) for details in rows if details.get("slot") == key)


def _overbook(session: Session, rules: Rules, start: dt.datetime, places: int, overbook_max: int) -> int:
    """Take `places` beyond the slot's capacity, at most `overbook_max` beyond its own; returns the overflow.

    The slot's row is locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers),
    so the overbooking already recorded and the capacity read belong together; the write itself is
    one conditional statement, and the table's CHECK is the backstop.
    """
    slot = session.execute(
        sa.select(Slot.capacity, Slot.booked).where(Slot.start == start).with_for_update()
    ).one()
    ceiling = slot.capacity - overbooked_places(session, rules, start) + overbook_max
    wanted = slot.booked + places
    result = session.execute(
        sa.update(Slot)
        .where(Slot.start == start, Slot.booked + places <= ceiling)
        .values(booked=Slot.booked + places,
                capacity=sa.case((Slot.booked + places > Slot.capacity, Slot.booked + places), else_=Slot.capacity),
                capacity_custom=sa.case((Slot.booked + places > Slot.capacity, sa.true()),
                                        else_=Slot.capacity_custom))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise SlotFull("overbook_limit", detail=str(overbook_max))
    return max(wanted - slot.capacity, 0)



# --- group visits -------------------------------------------------------------------------------

_GROUP_SIZE_CODES = ("pupils_max_guided", "group_too_large")


def group_problems(app: TourApplication, policy: Policy, now: dt.datetime, overrides: Overrides) -> dict[str, str]:
    """What is wrong with a group staff enter, by field, once the overridden rules are set aside.

    "lead_time" lifts the teachers' notice (a group may come today, even now while its first hour
    lasts); "group_size" lifts the largest guided group and the one-slot limit (more guides are then
    needed, and the slot's capacity still applies). Calendar and adults' rules always apply.
    """
    tour_rules = replace(policy.tour_rules, min_days_ahead=0) if overrides.lead_time else policy.tour_rules
    errors = validate_application(app, policy.rules, tour_rules, now)
    if overrides.group_size:
        errors = {name: code for name, code in errors.items() if code not in _GROUP_SIZE_CODES}
    for index, start in enumerate(app.starts, start=1):
        if overrides.lead_time and schedule.slot_end(start, policy.rules) <= now:
            errors[f"start_{index}"] = "past"
    return errors


def book_group_at_desk(session: Session, policy: Policy, now: dt.datetime, app: TourApplication,
                       overrides: Overrides, staff: StaffUser | None,
                       guide_ids: list[int] | None = None) -> tuple[TourRequest, bool]:
    """A confirmed group visit for a caller or a walk-in group (see tours.create_confirmed_tour).

    Raises BookingError("reason_missing") for an override without a reason, TourInputError for what
    no waiting would fix, TourStateError when the time does not fit (capacity, guides, closed).
    """
    overrides.check_reason()
    errors = group_problems(app, policy, now, overrides)
    if errors:
        raise TourInputError(errors)
    return create_confirmed_tour(session, policy, now, app, staff, guide_ids, overrides.audit_details())
