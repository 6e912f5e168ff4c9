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
    """Take `places` in the slot if they are free; the conditional UPDATE's row count says yes or no.

    The UPDATE locks the row (PostgreSQL) or runs inside BEGIN IMMEDIATE (SQLite), so two
    bookings for the last places cannot both succeed.
    """
    ensure_slot(session, start, default_capacity)
    result = session.execute(
        sa.update(Slot)
        .where(Slot.start == start, Slot.booked + places <= Slot.capacity)
        .values(booked=Slot.booked + places)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_places(session: Session, start: dt.datetime, places: int) -> None:
    session.execute(
        sa.update(Slot)
        .where(Slot.start == start)
        .values(booked=Slot.booked - places)
        .execution_options(synchronize_session=False)
    )
