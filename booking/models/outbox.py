"""The outbox: every email as a row, queued in the transaction that caused it and sent after it commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from booking.db import Base, UTCDateTime
from booking.models.columns import one_of, utcnow

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.guides import Guide
    from booking.models.tours import TourRequest
    from booking.models.visits import Booking, WaitlistEntry


class OutboxMessage(Base):
    """An email to send, named by kind, booking and language; rendered only when it is sent."""

    STATUSES = ("pending", "sent", "failed")

    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", STATUSES), name="outbox_status_known"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_booking", "booking_id"),
        sa.Index("ix_outbox_tour", "tour_id"),
        sa.Index("ix_outbox_waitlist", "waitlist_id"),
        sa.Index("ix_outbox_tour_guide", "tour_id", "guide_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id", ondelete="CASCADE"))
    tour_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tour_request.id", ondelete="CASCADE"))
    waitlist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"))
    # An email to a guide about `tour` (guide_assigned, guide_changed, guide_withdrawn).
    guide_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guide.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(sa.String(2))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Stable across retries, so a receiving server or client can tell a repeat.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking | None] = relationship()
    tour: Mapped[TourRequest | None] = relationship()
    waitlist: Mapped[WaitlistEntry | None] = relationship()
    guide: Mapped[Guide | None] = relationship()


def enqueue_email(
    session: Session,
    kind: str,
    *,
    recipient: str,
    language: str,
    now: dt.datetime,
    booking: Booking | None = None,
    tour: TourRequest | None = None,
    waitlist: WaitlistEntry | None = None,
    guide: Guide | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Add an email to the outbox inside the caller's transaction; the worker renders and sends it,
    or the session's after-commit hook does (booking/notifications/dispatch.py).

    One INSERT, run now (rows it refers to that are not in the database yet are flushed first):
    the unit of work would cost a booking more than the statement itself. Returns the row's id.
    The Message-ID's domain is the session's (set from configuration where the app makes its sessions).
    """
    if any(row is not None and row.id is None for row in (booking, tour, waitlist)):
        session.flush()
    message_id = session.execute(_OUTBOX_INSERT, {
        "kind": kind, "language": language, "recipient": recipient, "payload": payload or {},
        "booking_id": booking.id if booking is not None else None,
        "tour_id": tour.id if tour is not None else None,
        "waitlist_id": waitlist.id if waitlist is not None else None,
        "guide_id": guide.id if guide is not None else None,
        "message_id": f"<{uuid.uuid4().hex}@{session.info[MESSAGE_ID_DOMAIN]}>", "status": "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    }).scalar_one()
    queue_delivery(session, message_id)
    return message_id


# Keys of Session.info: the Message-ID domain, and the ids of the emails this transaction queued.
MESSAGE_ID_DOMAIN = "message_id_domain"
_QUEUED = "queued_emails"


def queue_delivery(session: Session, message_id: int) -> None:
    """Ask for the email to be sent once this transaction commits (nothing is sent if it rolls back)."""
    session.info.setdefault(_QUEUED, []).append(message_id)


def take_queued(session: Session) -> list[int]:
    """The emails the ended transaction queued, forgotten by the session."""
    return session.info.pop(_QUEUED, [])


_OUTBOX_INSERT = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)

# "Lost your link?" looks for the last lost_links email to an address (services/lost_links.py).
sa.Index("ix_outbox_recipient_kind", OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.created_at)
