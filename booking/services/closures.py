"""Closures that staff enter: whole days or some hours, with a reason shown to visitors."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from booking import schedule
from booking.db import atomic
from booking.models import Closure
from booking.schedule import Rules
from booking.services import BookingError


def add_closure(
    session: Session,
    rules: Rules,
    day: dt.date,
    reasons: dict[str, str],
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    last_day: dt.date | None = None,
) -> Closure:
    """Close `day` (through `last_day`), all day or from `start_time` to `end_time` local time."""
    last_day = last_day or day
    if last_day < day:
        raise BookingError("closure_range", field="last_day")
    start = schedule.local_datetime(day, start_time or dt.time.min, rules)
    if end_time is None:
        end = schedule.local_datetime(last_day + dt.timedelta(days=1), dt.time.min, rules)
    else:
        end = schedule.local_datetime(last_day, end_time, rules)
    if end <= start:
        raise BookingError("closure_range", field="end_time")

    def operation() -> Closure:
        closure = Closure(start_at=schedule.to_utc(start), end_at=schedule.to_utc(end),
                          reasons={k: v for k, v in reasons.items() if v})
        session.add(closure)
        return closure

    return atomic(session, operation)
