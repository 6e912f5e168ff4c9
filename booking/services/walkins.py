"""Walk-ins: people the desk lets in without a booking, counted per hour so statistics show them.

A walk-in is never refused (the visitors are at the door) and never touches `booked`: it adds to the
slot's own `walk_ins` counter, which uses the places kept back first (see occupancy.kept_back_left).
Each tap is a WalkIn row (who, when, how many) and an audit entry; "−1" undoes one mistaken tap,
and the counter's CHECK (walk_ins >= 0) with its conditional UPDATE keeps it from going below zero.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import UTC, atomic
from booking.models import Slot, StaffUser, WalkIn
from booking.schedule import Rules
from booking.services import BookingError, audit
from booking.services.capacity import ensure_slot

MAX_AT_ONCE = 50


class WalkInError(BookingError):
    """Refused: "people" out of 1–50, "not_a_slot", "future" (a later day), "none" (nothing to undo)."""

    field = "people"


def _check_slot(rules: Rules, now: dt.datetime, start: dt.datetime) -> None:
    if not schedule.is_slot_start(start, rules):
        raise WalkInError("not_a_slot")
    if schedule.to_local(start, rules).date() > schedule.local_today(now, rules):
        raise WalkInError("future")


def add_walk_ins(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                 start: dt.datetime, people: int) -> int:
    """Count `people` (1–50) who came into the slot at `start` without a booking; returns the slot's total."""
    if not 1 <= people <= MAX_AT_ONCE:
        raise WalkInError("people", detail=str(MAX_AT_ONCE))
    start = start.astimezone(UTC)
    _check_slot(rules, now, start)

    def operation() -> int:
        ensure_slot(session, start, rules.slot_capacity)
        total = session.execute(
            sa.update(Slot).where(Slot.start == start).values(walk_ins=Slot.walk_ins + people)
            .returning(Slot.walk_ins).execution_options(synchronize_session=False)
        ).scalar_one()
        session.add(WalkIn(start=start, people=people, staff_id=staff.id if staff else None, at=now))
        audit.record(session, now, staff, "walkin.add", slot=start.isoformat(), people=people, total=total)
        return total

    return atomic(session, operation)


def undo_walk_in(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                 start: dt.datetime) -> int:
    """Take one walk-in back (a mistaken tap); refused with WalkInError("none") when none is counted."""
    start = start.astimezone(UTC)
    _check_slot(rules, now, start)

    def operation() -> int:
        total = session.execute(
            sa.update(Slot).where(Slot.start == start, Slot.walk_ins >= 1).values(walk_ins=Slot.walk_ins - 1)
            .returning(Slot.walk_ins).execution_options(synchronize_session=False)
        ).scalar()
        if total is None:
            raise WalkInError("none")
        session.add(WalkIn(start=start, people=-1, staff_id=staff.id if staff else None, at=now))
        audit.record(session, now, staff, "walkin.undo", slot=start.isoformat(), people=-1, total=total)
        return total

    return atomic(session, operation)


def walk_in_counts(session: Session, start: dt.datetime) -> tuple[int, int]:
    """(walk-ins, places kept back) of the slot at `start`; (0, 0) before it has a row."""
    row = session.execute(sa.select(Slot.walk_ins, Slot.kept_back).where(Slot.start == start.astimezone(UTC))).first()
    return (row.walk_ins, row.kept_back) if row else (0, 0)
