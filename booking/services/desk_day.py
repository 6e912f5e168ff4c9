"""The desk's day: its occupancy, its bookings, its waiting lists, in as few statements as the day has kinds of rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking import schedule
from booking.models import Booking, WaitlistEntry
from booking.schedule import Rules
from booking.services.occupancy import DayOccupancy, occupancy_between
from booking.services.waitlist import ACTIVE

# One row per kind, each left-joined to its own table only: a single SELECT brings the day's
# bookings (kind 1) and active waiting-list entries (2), without a cross product.
_KINDS = sa.union_all(*(sa.select(sa.literal(kind).label("kind")) for kind in (1, 2))).subquery("kinds")


@dataclass(frozen=True)
class DeskDay:
    occupancy: DayOccupancy
    bookings: dict[dt.datetime, list[Booking]]  # confirmed, by slot start, in order of booking
    waiting: dict[dt.datetime, list[WaitlistEntry]]  # active, by slot start, first come first


def desk_day(session: Session, rules: Rules, day: dt.date, language: str = "en") -> DeskDay:
    """Everything the staff day view shows of `day`; four SELECTs, whatever the day holds."""
    start, end = schedule.day_bounds(day, rules)
    rows = session.execute(
        sa.select(_KINDS.c.kind, Booking, WaitlistEntry)
        .select_from(_KINDS)
        .outerjoin(Booking, sa.and_(_KINDS.c.kind == 1, Booking.status == "confirmed", Booking.start >= start,
                                    Booking.start < end))
        .outerjoin(WaitlistEntry, sa.and_(_KINDS.c.kind == 2, WaitlistEntry.status.in_(ACTIVE),
                                          WaitlistEntry.start >= start, WaitlistEntry.start < end))
        .order_by(_KINDS.c.kind, Booking.start, Booking.created_at, Booking.id, WaitlistEntry.created_at,
                  WaitlistEntry.id)
    ).all()
    bookings: dict[dt.datetime, list[Booking]] = defaultdict(list)
    waiting: dict[dt.datetime, list[WaitlistEntry]] = defaultdict(list)
    for row in rows:
        if row.Booking is not None:
            bookings[row.Booking.start].append(row.Booking)
        elif row.WaitlistEntry is not None:
            waiting[row.WaitlistEntry.start].append(row.WaitlistEntry)
    occupancy = occupancy_between(session, rules, day, day, language)[0]
    return DeskDay(occupancy, dict(bookings), dict(waiting))
