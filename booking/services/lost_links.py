""""Lost your link?": one email with the private links of an address's coming visits and group visits.

The page answers the same whether or not anything was found, so it tells nobody who has booked.
At most one such email goes to an address every `window` (LOST_LINK_MINUTES): the outbox is the
record, checked and written in one transaction. SQLite runs writers one at a time; on PostgreSQL a
transaction-scoped advisory lock on the address keeps two simultaneous requests from both sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.db import atomic
from booking.models import Booking, OutboxMessage, TourRequest, enqueue_email

KIND = "lost_links"


def normalise_email(address: str) -> str:
    return address.strip().lower()


def _lock_address(session: Session, address: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"lost-link:{address}".encode()).digest()[:8], "big", signed=True)
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def coming_visits(session: Session, address: str, now: dt.datetime) -> tuple[list[Booking], list[TourRequest]]:
    """The confirmed visits and the held group visits of `address` that have not started, soonest first."""
    bookings = session.scalars(
        sa.select(Booking).where(sa.func.lower(Booking.email) == address, Booking.status == "confirmed",
                                 Booking.start > now).order_by(Booking.start, Booking.id)
    ).all()
    group_visits = session.scalars(
        sa.select(TourRequest).where(sa.func.lower(TourRequest.email) == address,
                                     TourRequest.status.in_(TourRequest.HOLDING), TourRequest.start > now)
        .order_by(TourRequest.start, TourRequest.id)
    ).all()
    return list(bookings), list(group_visits)


def send_lost_links(session: Session, now: dt.datetime, email: str, language: str, window: dt.timedelta) -> bool:
    """Queue the links email if `email` has coming visits and had none such email within `window`.

    Returns whether an email was queued; the caller must not tell the visitor.
    """
    address = normalise_email(email)

    def operation() -> bool:
        _lock_address(session, address)
        recent = session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.recipient == address, OutboxMessage.kind == KIND,
                                              OutboxMessage.created_at > now - window).limit(1)
        )
        if recent is not None:
            return False
        bookings, group_visits = coming_visits(session, address, now)
        if not bookings and not group_visits:
            return False
        enqueue_email(session, KIND, recipient=address, language=language, now=now,
                      payload={"bookings": [b.id for b in bookings], "tours": [t.id for t in group_visits]})
        return True

    return atomic(session, operation)
