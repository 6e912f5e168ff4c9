"""Taking and giving back places in a slot, atomically, whatever the concurrency."""

from __future__ import annotations

import datetime as dt
import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from booking import schedule
from booking.db import UTC, atomic, utc_param
from booking.models import Slot, StaffUser
from booking.schedule import Rules
from booking.services import BookingError, audit
from booking.services.availability import check_bookable, check_calendar
from booking.services.closed_times import open_slot_params, open_slot_sql
from booking.services.settings import DEFAULT_CAPACITY, default_capacity, default_capacity_sql, put_setting


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_slot(session: Session, start: dt.datetime, default_capacity: int) -> None:
    """Create the slot's row (at the default capacity) if it does not exist yet; a concurrent creator
    is not an error. `default_capacity` is configuration's, used when staff stored none."""
    statement = (
        _insert(session)(Slot)
        .values(start=start, capacity=default_capacity_sql(default_capacity), capacity_custom=False, booked=0)
        .on_conflict_do_nothing(index_elements=["start"])
    )
    session.execute(statement)


@functools.cache
def _take_statement(dialect: str, guard: bool | None) -> sa.Insert:
    """take_places' statement, built once per dialect: a booking binds its values, nothing more.

    `guard`: None, or the `holiday` of closed_times.open_slot_sql, whose condition it adds.
    """
    slot = Slot.__table__  # Core, not the ORM: a statement run with parameters would be an ORM bulk insert
    places = sa.bindparam("places", type_=sa.Integer)
    default = sa.select(default_capacity_sql(sa.bindparam("configured", type_=sa.Integer)).label("capacity")) \
        .subquery("default_capacity")
    new_row = sa.select(utc_param("start"), default.c.capacity, sa.false(), places) \
        .where(places <= default.c.capacity)
    if guard is not None:
        new_row = new_row.where(open_slot_sql(holiday=guard))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(slot).from_select(["start", "capacity", "capacity_custom", "booked"], new_row)
    return statement.on_conflict_do_update(
        index_elements=["start"],
        set_={"booked": slot.c.booked + statement.excluded.booked},
        where=slot.c.booked + statement.excluded.booked <= slot.c.capacity,
    ).returning(slot.c.id)


def _take(session: Session, start: dt.datetime, places: int, default_capacity: int,
          guard: tuple[bool, dict] | None = None) -> bool:
    """The one statement: an INSERT that, when the row exists, becomes a conditional UPDATE."""
    holiday, extra = guard if guard is not None else (None, {})
    statement = _take_statement(session.get_bind().dialect.name, holiday)
    params = {"start": start, "places": places, "configured": default_capacity, **extra}
    return session.execute(statement, params).first() is not None


def _take_beyond_default(session: Session, start: dt.datetime, places: int, default_capacity: int) -> bool:
    """More places than the default capacity: a slot staff made larger may still hold them."""
    ensure_slot(session, start, default_capacity)
    result = session.execute(
        sa.update(Slot)
        .where(Slot.start == start, Slot.booked + places <= Slot.capacity)
        .values(booked=Slot.booked + places)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def take_places(session: Session, start: dt.datetime, places: int, default_capacity: int) -> bool:
    """Take `places` in the slot if they are free, creating its row on first use; True if taken.

    One statement: an INSERT that, when the row exists, becomes a conditional UPDATE. PostgreSQL
    locks the row and SQLite runs it inside BEGIN IMMEDIATE, so two bookings for the last places
    cannot both succeed; the CHECK constraint on the table is the backstop. The new row's capacity
    is the default staff set (the `setting` table), else `default_capacity` from configuration, read
    inside the same statement. More places than the default: no row is proposed, and only an
    existing, larger slot can take them (a second try, made only then).
    """
    return _take(session, start, places, default_capacity) or \
        _take_beyond_default(session, start, places, default_capacity)


def take_open_places(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime, places: int,
                     language: str = "en") -> bool:
    """check_bookable, then take_places; on the usual path, in take_places' one statement.

    The rules that need no database are checked first (check_calendar). The statement then takes
    the places only where no closure covers the slot (and staff opened the day, if it is a public
    holiday). When it took nothing, check_bookable finds why: a closure raises NotBookable with its
    reason; otherwise the slot is full, or the party is larger than the default capacity.
    """
    check_calendar(rules, now, start)
    if _take(session, start, places, rules.slot_capacity, guard=open_slot_params(rules, start)):
        return True
    check_bookable(session, rules, now, start, language)
    return _take_beyond_default(session, start, places, rules.slot_capacity)


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


# --- staff change capacities ---------------------------------------------------------------------

class CapacityBelowBooked(BookingError):
    """A capacity lower than the places already taken; `slots` lists (start, booked) of each such slot."""

    code = "below_booked"

    def __init__(self, slots: list[tuple[dt.datetime, int]]):
        self.slots = slots
        super().__init__("below_booked", field="capacity", detail=str(max(booked for _s, booked in slots)))


def _check_not_below(slots, capacity: int) -> None:
    too_small = [(slot.start, slot.booked) for slot in slots if slot.booked > capacity]
    if too_small:
        raise CapacityBelowBooked(sorted(too_small))


def _locked_slots(session: Session, starts: list[dt.datetime], default_capacity: int) -> list[Slot]:
    for start in sorted(starts):
        ensure_slot(session, start, default_capacity)
    return list(session.scalars(
        sa.select(Slot).where(Slot.start.in_(starts)).order_by(Slot.start)
        .with_for_update().execution_options(populate_existing=True)
    ))


def set_slot_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                      start: dt.datetime, capacity: int) -> Slot:
    """Give one slot a capacity of its own; refused below the places it has taken."""
    return set_slots_capacity(session, rules, now, staff, [start.astimezone(UTC)], capacity, "capacity.slot")[0]


def set_day_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                     day: dt.date, capacity: int) -> list[Slot]:
    """Give every slot of `day` this capacity; refused, for all of them, if one has more places taken."""
    starts = [schedule.to_utc(schedule.local_datetime(day, time, rules)) for time in schedule.slot_starts(day, rules)]
    return set_slots_capacity(session, rules, now, staff, starts, capacity, "capacity.day", day=day.isoformat())


def set_slots_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                       starts: list[dt.datetime], capacity: int, action: str, **details) -> list[Slot]:
    if capacity < 0:
        raise BookingError("capacity_negative", field="capacity")

    def operation() -> list[Slot]:
        slots = _locked_slots(session, starts, rules.slot_capacity)
        _check_not_below(slots, capacity)
        old = {slot.start.isoformat(): slot.capacity for slot in slots}
        for slot in slots:
            slot.capacity = capacity
            slot.capacity_custom = True
        audit.record(session, now, staff, action, old=old, new=capacity, **details)
        return slots

    return atomic(session, operation)


def set_default_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                         capacity: int) -> int:
    """Change the default capacity: new slots take it, and so do the slots from today on that have no
    capacity of their own. Refused if one of those has more places taken. Returns how many changed."""
    if capacity < 0:
        raise BookingError("capacity_negative", field="capacity")
    from_ = schedule.day_bounds(schedule.local_today(now, rules), rules)[0]

    def operation() -> int:
        if session.get_bind().dialect.name == "postgresql":
            # No booking may create a slot at the old default, nor take places, until this commits.
            session.execute(sa.text("LOCK TABLE slot IN SHARE ROW EXCLUSIVE MODE"))
        old = default_capacity(session, rules.slot_capacity)
        following = list(session.scalars(
            sa.select(Slot).where(Slot.capacity_custom.is_(False), Slot.start >= from_).order_by(Slot.start)
            .execution_options(populate_existing=True)
        ))
        _check_not_below(following, capacity)
        changed = [slot for slot in following if slot.capacity != capacity]
        for slot in changed:
            slot.capacity = capacity
        put_setting(session, DEFAULT_CAPACITY, capacity, now)
        audit.record(session, now, staff, "capacity.default", old=old, new=capacity, slots_changed=len(changed))
        return len(changed)

    return atomic(session, operation)


def custom_slots(session: Session, now: dt.datetime, limit: int = 100) -> list[Slot]:
    """Slots to come that staff gave a capacity of their own."""
    return list(session.scalars(
        sa.select(Slot).where(Slot.capacity_custom.is_(True), Slot.start > now).order_by(Slot.start).limit(limit)
    ))
