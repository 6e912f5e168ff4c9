"""Taking and giving back places in a slot, atomically, whatever the concurrency."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from booking.models import Slot


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_slot(session: Session, start: dt.datetime, capacity: int) -> None:
    """Create the slot's row if it does not exist yet; a concurrent creator is not an error."""
    statement = (
        _insert(session)(Slot)
        .values(start=start, capacity=capacity, capacity_custom=False, booked=0)
        .on_conflict_do_nothing(index_elements=["start"])
    )
    session.execute(statement)


def take_places(session: Session, start: dt.datetime, places: int, default_capacity: int) -> bool:
    """Take `places` in the slot if they are free, creating its row on first use; True if taken.

    One statement: an INSERT that, when the row exists, becomes a conditional UPDATE. PostgreSQL
    locks the row and SQLite runs it inside BEGIN IMMEDIATE, so two bookings for the last places
    cannot both succeed; the CHECK constraint on the table is the backstop.
    """
    if places > default_capacity:  # a new row could not hold them: only an existing, larger slot can
        ensure_slot(session, start, default_capacity)
        result = session.execute(
            sa.update(Slot)
            .where(Slot.start == start, Slot.booked + places <= Slot.capacity)
            .values(booked=Slot.booked + places)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1
    statement = _insert(session)(Slot).values(start=start, capacity=default_capacity, capacity_custom=False,
                                              booked=places)
    statement = statement.on_conflict_do_update(
        index_elements=["start"],
        set_={"booked": Slot.booked + statement.excluded.booked},
        where=Slot.booked + statement.excluded.booked <= Slot.capacity,
    ).returning(Slot.id)
    return session.execute(statement).first() is not None


def release_places(session: Session, start: dt.datetime, places: int) -> None:
    session.execute(
        sa.update(Slot)
        .where(Slot.start == start)
        .values(booked=Slot.booked - places)
        .execution_options(synchronize_session=False)
    )


def change_places(session: Session, changes: dict[dt.datetime, int], default_capacity: int) -> bool:
    """Apply several slots' changes (+ takes, - gives back) in time order; False if a take did not fit.

    Touching slots in one fixed order means two operations over the same slots cannot deadlock
    on PostgreSQL. On False the caller must roll back: earlier changes of the call stay applied.
    """
    for start in sorted(changes):
        delta = changes[start]
        if delta > 0 and not take_places(session, start, delta, default_capacity):
            return False
        if delta < 0:
            release_places(session, start, -delta)
    return True


def moving_changes(old: list[dt.datetime], new: list[dt.datetime], places: int) -> dict[dt.datetime, int]:
    """The per-slot changes of moving `places` people from the slots `old` to the slots `new`."""
    changes: dict[dt.datetime, int] = {}
    for start in old:
        changes[start] = changes.get(start, 0) - places
    for start in new:
        changes[start] = changes.get(start, 0) + places
    return {start: delta for start, delta in changes.items() if delta}
