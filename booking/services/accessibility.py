"""The accessibility statement's facts staff keep up to date: how far the site conforms, and when
it was last reviewed. The statement's text is in templates/public/accessibility.html (catalogs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from booking.db import atomic
from booking.models import StaffUser
from booking.services import audit
from booking.services.settings import get_setting, put_setting

STATUSES = ("full", "partial", "none")  # WCAG 2.1 AA: fully, partially, not conformant
_KEY = "accessibility_statement"


@dataclass(frozen=True)
class Review:
    status: str
    reviewed_on: dt.date


def current_review(session: Session, first_review: dt.date) -> Review:
    """What staff saved last, else the statement as written when the site was assessed."""
    stored = get_setting(session, _KEY) or {}
    reviewed = stored.get("reviewed_on")
    return Review(status=stored.get("status", "partial"),
                  reviewed_on=dt.date.fromisoformat(reviewed) if reviewed else first_review)


def save_review(session: Session, now: dt.datetime, staff: StaffUser | None, status: str,
                reviewed_on: dt.date) -> Review:
    if status not in STATUSES:
        raise ValueError(status)

    def operation() -> Review:
        put_setting(session, _KEY, {"status": status, "reviewed_on": reviewed_on.isoformat()}, now)
        audit.record(session, now, staff, "accessibility.review", status=status, reviewed_on=reviewed_on.isoformat())
        return Review(status=status, reviewed_on=reviewed_on)

    return atomic(session, operation)
