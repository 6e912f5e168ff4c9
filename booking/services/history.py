"""What happened to one booking or group visit: who created it, its audit entries and its emails;
and the record a reference names, as staff type it at the desk."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.models import AuditEntry, Booking, OutboxMessage, StaffUser, TourRequest
from booking.references import GROUP_PREFIX, normalise_reference


@dataclass(frozen=True)
class History:
    creator: StaffUser | None  # the member of staff who booked it at the desk, if one did
    audit: list[AuditEntry]
    emails: list[OutboxMessage]


def history_of(session: Session, item: Booking | TourRequest) -> History:
    is_visit = isinstance(item, Booking)
    audit = sa.select(AuditEntry).where(AuditEntry.booking_id == item.id if is_visit else AuditEntry.tour_id == item.id)
    emails = sa.select(OutboxMessage).where(
        OutboxMessage.booking_id == item.id if is_visit else OutboxMessage.tour_id == item.id)
    return History(creator=session.get(StaffUser, item.created_by_id) if item.created_by_id else None,
                   audit=list(session.scalars(audit.order_by(AuditEntry.at, AuditEntry.id))),
                   emails=list(session.scalars(emails.order_by(OutboxMessage.created_at, OutboxMessage.id))))


def find_by_reference(session: Session, text: str) -> Booking | TourRequest | None:
    """A visit (NMR-…) or a group visit (GRP-…) by its reference, in any case and with spaces around it."""
    text = text.strip().upper()
    if text.startswith(GROUP_PREFIX):
        return session.scalars(sa.select(TourRequest).where(TourRequest.reference == text)).first()
    return session.scalars(sa.select(Booking).where(Booking.reference == normalise_reference(text))).first()
