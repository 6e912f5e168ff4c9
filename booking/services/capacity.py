"""Taking and giving back places in a slot, atomically, whatever the concurrency."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

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
from booking.services.settings import (
    DEFAULT_CAPACITY,
    DEFAULT_KEPT_BACK,
    default_capacity,
    default_capacity_sql,
    default_kept_back,
    default_kept_back_sql,
    put_setting,
)


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_slot(session: Session, start: dt.datetime, default_capacity: int) -> None:
    """Create the slot's row (at the default capacity and kept-back places) if it does not exist yet;
    a concurrent creator is not an error. `default_capacity` is configuration's, used when staff stored none."""
    statement = (
        _insert(session)(Slot)
        .values(start=start, capacity=default_capacity_sql(default_capacity), capacity_custom=False, booked=0,
                kept_back=default_kept_back_sql())
        .on_conflict_do_nothing(index_elements=["start"])
    )
    session.execute(statement)


@functools.cache
def _take_statement(dialect: str, guard: bool | None, keep_back: bool) -> sa.Insert:
    """take_places' statement, built once per dialect: a booking binds its values, nothing more.

    `guard`: None, or the `holiday` of closed_times.open_slot_sql, whose condition it adds.
    `keep_back`: the places staff keep back for visitors without a booking stay free (online
    bookings, the API, waiting-list offers); False for the desk, which may use them.
    """
    slot = Slot.__table__  # Core, not the ORM: a statement run with parameters would be an ORM bulk insert
    places = sa.bindparam("places", type_=sa.Integer)
    default = sa.select(default_capacity_sql(sa.bindparam("configured", type_=sa.Integer)).label("capacity"),
                        default_kept_back_sql().label("kept_back")).subquery("default_capacity")
    needed = places + default.c.kept_back if keep_back else places
    new_row = sa.select(utc_param("start"), default.c.capacity, sa.false(), places, default.c.kept_back) \
        .where(needed <= default.c.capacity)
    if guard is not None:
        new_row = new_row.where(open_slot_sql(holiday=guard))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(slot).from_select(["start", "capacity", "capacity_custom", "booked", "kept_back"], new_row)
    taken = slot.c.booked + statement.excluded.booked
    if keep_back:
        taken = taken + slot.c.kept_back
    return statement.on_conflict_do_update(
        index_elements=["start"],
        set_={"booked": slot.c.booked + statement.excluded.booked},
        where=taken <= slot.c.capacity,
    ).returning(slot.c.id)


def _take(session: Session, start: dt.datetime, places: int, default_capacity: int,
          guard: tuple[bool, dict] | None = None, keep_back: bool = True) -> bool:
    """The one statement: an INSERT that, when the row exists, becomes a conditional UPDATE."""
    holiday, extra = guard if guard is not None else (None, {})
    statement = _take_statement(session.get_bind().dialect.name, holiday, keep_back)
    params = {"start": start, "places": places, "configured": default_capacity, **extra}
    return session.execute(statement, params).first() is not None


def _take_beyond_default(session: Session, start: dt.datetime, places: int, default_capacity: int,
                         keep_back: bool = True) -> bool:
    """More places than the default capacity: a slot staff made larger may still hold them."""
    ensure_slot(session, start, default_capacity)
    result = session.execute(
        sa.update(Slot)
        .where(Slot.start == start,
               (Slot.booked + places + Slot.kept_back if keep_back else Slot.booked + places) <= Slot.capacity)
        .values(booked=Slot.booked + places)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def take_places(session: Session, start: dt.datetime, places: int, default_capacity: int,
                keep_back: bool = True) -> bool:
    """Take `places` in the slot if they are free, creating its row on first use; True if taken.

    One statement: an INSERT that, when the row exists, becomes a conditional UPDATE. PostgreSQL
    locks the row and SQLite runs it inside BEGIN IMMEDIATE, so two bookings for the last places
    cannot both succeed; the CHECK constraint on the table is the backstop. The new row's capacity
    and kept-back places are the defaults staff set (the `setting` table), else `default_capacity`
    from configuration and none, read inside the same statement. The places kept back count as
    taken unless `keep_back` is False (the desk). More places than the default capacity: no row is
    proposed, and only an existing, larger slot can take them (a second try, made only then).
    """
    return _take(session, start, places, default_capacity, keep_back=keep_back) or \
        _take_beyond_default(session, start, places, default_capacity, keep_back)


def take_open_places(session: Session, rules: Rules, now: dt.datetime, start: dt.datetime, places: int,
                     language: str = "en") -> bool:
    """check_bookable, then take_places (the kept-back places left alone); on the usual path, in
    take_places' one statement.

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


def change_places(session: Session, changes: dict[dt.datetime, int], default_capacity: int,
                  keep_back: bool = True) -> bool:
    """Apply several slots' changes (+ takes, - gives back) in time order; False if a take did not fit.
    `keep_back` as in take_places.

    Touching slots in one fixed order means two operations over the same slots cannot deadlock
    on PostgreSQL. On False the caller must roll back: earlier changes of the call stay applied.
    """
    for start in sorted(changes):
        delta = changes[start]
        if delta > 0 and not take_places(session, start, delta, default_capacity, keep_back):
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


class CapacityBelowKeptBack(BookingError):
    """A capacity lower than the places kept back; `slots` lists (start, kept back) of each such slot,
    `default` the default's kept-back places when the default capacity would go below them."""

    code = "below_kept_back"

    def __init__(self, slots: list[tuple[dt.datetime, int]], default: int | None = None):
        self.slots, self.default = slots, default
        super().__init__("below_kept_back", field="capacity")


class TooManyKeptBack(BookingError):
    """More places kept back than are free: `slots` lists (start, capacity, booked) of each such slot,
    `default_capacity` the default capacity when the default's kept-back places would exceed it."""

    code = "kept_back_too_many"

    def __init__(self, slots: list[tuple[dt.datetime, int, int]], default_capacity: int | None = None):
        self.slots, self.default_capacity = slots, default_capacity
        super().__init__("kept_back_too_many", field="kept_back")


def _check_not_below(slots, capacity: int) -> None:
    too_small = [(slot.start, slot.booked) for slot in slots if slot.booked > capacity]
    if too_small:
        raise CapacityBelowBooked(sorted(too_small))
    kept = [(slot.start, slot.kept_back) for slot in slots if slot.kept_back > capacity]
    if kept:
        raise CapacityBelowKeptBack(kept)


def _check_room_to_keep(slots, kept_back: int) -> None:
    """Places kept back must still be free: a kept-back number never covers places already taken."""
    too_many = [(slot.start, slot.capacity, slot.booked) for slot in slots if slot.booked + kept_back > slot.capacity]
    if too_many:
        raise TooManyKeptBack(too_many)


def _locked_slots(session: Session, starts: list[dt.datetime], default_capacity: int) -> list[Slot]:
    for start in sorted(starts):
        ensure_slot(session, start, default_capacity)
    return list(session.scalars(
        sa.select(Slot).where(Slot.start.in_(starts)).order_by(Slot.start)
        .with_for_update().execution_options(populate_existing=True)
    ))


@dataclass(frozen=True)
class _Number:
    """A number staff set per slot, per day or by default: the capacity, or the places kept back."""

    column: str  # the Slot column
    custom: str  # the Slot column that says the slot has its own number, not the default's
    setting: str  # the default's key in the setting table
    default: Callable[[Session, Rules], int]  # the default now
    check: Callable[[list[Slot], int], None]  # raises when the slots cannot take the number
    check_default: Callable[[Session, Rules, int], None]  # raises when the default cannot


def _default_capacity_above_kept_back(session: Session, rules: Rules, capacity: int) -> None:
    kept_back = default_kept_back(session)
    if kept_back > capacity:
        raise CapacityBelowKeptBack([], default=kept_back)


def _default_kept_back_within_capacity(session: Session, rules: Rules, kept_back: int) -> None:
    capacity = default_capacity(session, rules.slot_capacity)
    if kept_back > capacity:
        raise TooManyKeptBack([], default_capacity=capacity)


_CAPACITY = _Number("capacity", "capacity_custom", DEFAULT_CAPACITY,
                    lambda session, rules: default_capacity(session, rules.slot_capacity),
                    _check_not_below, _default_capacity_above_kept_back)
_KEPT_BACK = _Number("kept_back", "kept_back_custom", DEFAULT_KEPT_BACK,
                     lambda session, rules: default_kept_back(session),
                     _check_room_to_keep, _default_kept_back_within_capacity)


def _day_starts(day: dt.date, rules: Rules) -> list[dt.datetime]:
    return [schedule.to_utc(schedule.local_datetime(day, time, rules)) for time in schedule.slot_starts(day, rules)]


def _set_slots(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None, number: _Number,
               starts: list[dt.datetime], value: int, action: str, **details) -> list[Slot]:
    """Give these slots `value` as a number of their own, all or none; audited with the old values."""
    if value < 0:
        raise BookingError(f"{number.column}_negative", field=number.column)

    def operation() -> list[Slot]:
        slots = _locked_slots(session, starts, rules.slot_capacity)
        number.check(slots, value)
        old = {slot.start.isoformat(): getattr(slot, number.column) for slot in slots}
        for slot in slots:
            setattr(slot, number.column, value)
            setattr(slot, number.custom, True)
        audit.record(session, now, staff, action, old=old, new=value, **details)
        return slots

    return atomic(session, operation)


def _set_default(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None, number: _Number,
                 value: int, action: str) -> int:
    """Change a default: new slots take it, and so do the slots from today on that have no number of
    their own; refused if one of those cannot take it. Returns how many slots changed."""
    if value < 0:
        raise BookingError(f"{number.column}_negative", field=number.column)
    from_ = schedule.day_bounds(schedule.local_today(now, rules), rules)[0]

    def operation() -> int:
        if session.get_bind().dialect.name == "postgresql":
            # No booking may create a slot at the old default, nor take places, until this commits.
            session.execute(sa.text("LOCK TABLE slot IN SHARE ROW EXCLUSIVE MODE"))
        old = number.default(session, rules)
        number.check_default(session, rules, value)
        following = list(session.scalars(
            sa.select(Slot).where(getattr(Slot, number.custom).is_(False), Slot.start >= from_).order_by(Slot.start)
            .execution_options(populate_existing=True)
        ))
        number.check(following, value)
        changed = [slot for slot in following if getattr(slot, number.column) != value]
        for slot in changed:
            setattr(slot, number.column, value)
        put_setting(session, number.setting, value, now)
        audit.record(session, now, staff, action, old=old, new=value, slots_changed=len(changed))
        return len(changed)

    return atomic(session, operation)


def set_slot_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                      start: dt.datetime, capacity: int) -> Slot:
    """Give one slot a capacity of its own; refused below the places it has taken or keeps back."""
    return _set_slots(session, rules, now, staff, _CAPACITY, [start.astimezone(UTC)], capacity, "capacity.slot")[0]


def set_day_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                     day: dt.date, capacity: int) -> list[Slot]:
    """Give every slot of `day` this capacity; refused, for all of them, if one has more places taken."""
    return _set_slots(session, rules, now, staff, _CAPACITY, _day_starts(day, rules), capacity, "capacity.day",
                      day=day.isoformat())


def set_default_capacity(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                         capacity: int) -> int:
    """Change the default capacity (see _set_default); refused below the places kept back by default,
    or below what a slot that follows it has taken or keeps back."""
    return _set_default(session, rules, now, staff, _CAPACITY, capacity, "capacity.default")


def set_slot_kept_back(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                       start: dt.datetime, kept_back: int) -> list[Slot]:
    """Keep `kept_back` places of one slot for visitors without a booking; refused beyond what is free."""
    return _set_slots(session, rules, now, staff, _KEPT_BACK, [start.astimezone(UTC)], kept_back, "kept_back.slot")


def set_day_kept_back(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                      day: dt.date, kept_back: int) -> list[Slot]:
    """Keep `kept_back` places in every slot of `day`; refused, for all of them, if one has not that many free."""
    return _set_slots(session, rules, now, staff, _KEPT_BACK, _day_starts(day, rules), kept_back, "kept_back.day",
                      day=day.isoformat())


def set_default_kept_back(session: Session, rules: Rules, now: dt.datetime, staff: StaffUser | None,
                          kept_back: int) -> int:
    """Change the places kept back by default (see _set_default); refused beyond the default capacity,
    or beyond what a slot that follows it has free."""
    return _set_default(session, rules, now, staff, _KEPT_BACK, kept_back, "kept_back.default")


def custom_slots(session: Session, now: dt.datetime, limit: int = 100) -> list[Slot]:
    """Slots to come that staff gave a capacity or kept-back places of their own."""
    return list(session.scalars(
        sa.select(Slot).where(sa.or_(Slot.capacity_custom.is_(True), Slot.kept_back_custom.is_(True)),
                              Slot.start > now).order_by(Slot.start).limit(limit)
    ))
