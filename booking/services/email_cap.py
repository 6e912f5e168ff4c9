"""The cap of active bookings an email address may hold on one day, against abuse.

The count runs inside the statement that books a visit, moves one, or accepts a waiting-list offer,
so it costs no statement of its own. It is not a rule of capacity: on PostgreSQL two statements
sent at the same instant for other slots can both pass (each counts what was committed when it began).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from booking import schedule
from booking.db import utc_param
from booking.models import Booking
from booking.schedule import Rules


def under_email_day_cap() -> sa.ColumnElement[bool]:
    """True while the address :email_lower holds fewer than :cap active bookings on the local day
    [:day_start, :day_end); the values come from `email_day_limits`."""
    # An alias: the count reads booking as a table of its own, also inside a statement that writes it.
    held = Booking.__table__.alias("held")
    count = sa.select(sa.func.count()).select_from(held).where(
        held.c.start >= utc_param("day_start"),
        held.c.start < utc_param("day_end"),
        held.c.status == "confirmed",
        sa.func.lower(held.c.email) == sa.bindparam("email_lower", type_=held.c.email.type),
    ).scalar_subquery()
    return count < sa.bindparam("cap", type_=sa.Integer)


def email_day_limits(rules: Rules, start: dt.datetime, email: str, cap: int) -> dict:
    """The values of under_email_day_cap: the visit's local day in UTC, the address in lower case."""
    day_start, day_end = schedule.day_bounds(schedule.to_local(start, rules).date(), rules)
    return {"day_start": day_start, "day_end": day_end, "email_lower": email.lower(), "cap": cap}


def same_local_day(first: dt.datetime, second: dt.datetime, rules: Rules) -> bool:
    """Whether two moments fall on one museum day: a move within it leaves the day's count as it is."""
    return schedule.to_local(first, rules).date() == schedule.to_local(second, rules).date()
