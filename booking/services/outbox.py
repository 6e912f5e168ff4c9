"""The outbox as staff see it: emails not delivered yet or given up, and sending one again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from booking.db import atomic
from booking.models import OutboxMessage, StaffUser, queue_delivery
from booking.services import BookingError, audit


def undelivered(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """Failed emails first, then those still waiting, newest first in each."""
    rows = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status.in_(("failed", "pending")))
        .options(selectinload(OutboxMessage.booking), selectinload(OutboxMessage.tour))
        .order_by(OutboxMessage.status, OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    ).all()
    return list(rows)


def resend(session: Session, now: dt.datetime, staff: StaffUser | None, message_id: int) -> OutboxMessage:
    """Put a failed (or waiting) email back in the queue, due now, with its attempts counted from zero."""

    def operation() -> OutboxMessage:
        row = session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
        if row is None or row.status not in ("failed", "pending"):
            raise BookingError("not_resendable")
        previous = row.status
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
        # Not the error itself: a refusal often quotes the recipient's address, and the entry of an
        # email of no visit (a waiting list offer, a password link) is never anonymised.
        audit.record(session, now, staff, "email.resend", booking=row.booking, tour=row.tour, kind=row.kind,
                     previous_status=previous)
        queue_delivery(session, row.id)
        return row

    return atomic(session, operation)
