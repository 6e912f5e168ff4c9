"""Individual visits: the hourly slots and their counters, bookings, walk-ins, the waiting list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import Base, UTCDateTime
from booking.models.columns import ATTENDANCE, LANGUAGES, AccessNeedsColumns, PlacesLeft, access_checks, one_of, utcnow
from booking.texts import in_language

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.staff import StaffUser


class Slot(PlacesLeft, Base):
    """One hour of the calendar, created when first booked; `booked` never exceeds `capacity`."""

    __tablename__ = "slot"
    __table_args__ = (
        sa.CheckConstraint("booked >= 0", name="slot_booked_not_negative"),
        sa.CheckConstraint("booked <= capacity", name="slot_not_overbooked"),
        sa.CheckConstraint("capacity >= 0", name="slot_capacity_not_negative"),
        sa.CheckConstraint("kept_back >= 0 AND kept_back <= capacity", name="slot_kept_back_within_capacity"),
        sa.CheckConstraint("walk_ins >= 0", name="slot_walk_ins_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime, unique=True)
    capacity: Mapped[int]
    # False: the slot follows the default capacity, and a change of the default updates it.
    capacity_custom: Mapped[bool] = mapped_column(default=False)
    booked: Mapped[int] = mapped_column(default=0)
    # Places online bookings, the API and waiting-list offers leave for visitors without a booking;
    # the desk may use them. False in kept_back_custom: the slot follows the default (setting table).
    kept_back: Mapped[int] = mapped_column(default=0, server_default="0")
    kept_back_custom: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # People who came in without a booking, counted at the desk (see WalkIn); never in `booked`.
    walk_ins: Mapped[int] = mapped_column(default=0, server_default="0")


class Booking(AccessNeedsColumns, Base):
    """An individual visit: 1–8 people arriving in one slot."""

    STATUSES = ("confirmed", "cancelled")
    SOURCES = ("web", "api", "staff")

    __tablename__ = "booking"
    __table_args__ = (
        sa.CheckConstraint("party_size >= 1", name="booking_party_size_positive"),
        sa.CheckConstraint(one_of("status", STATUSES), name="booking_status_known"),
        sa.CheckConstraint(one_of("source", SOURCES), name="booking_source_known"),
        sa.CheckConstraint(f"attendance IS NULL OR {one_of('attendance', ATTENDANCE)}",
                           name="booking_attendance_known"),
        sa.CheckConstraint(one_of("language", LANGUAGES), name="booking_language_known"),
        sa.Index("ix_booking_start_status", "start", "status"),
        sa.Index("ix_booking_email", "email"),
        *access_checks("booking"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="confirmed")
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    party_size: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    # Optional only for bookings staff take by phone or at the desk.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    language: Mapped[str] = mapped_column(sa.String(2))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    source: Mapped[str] = mapped_column(sa.String(8), default="web", server_default="web")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    # Set at the front desk: "arrived" or "no_show"; None until then.
    attendance: Mapped[str | None] = mapped_column(sa.String(8))
    attendance_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Bumping token_version revokes every manage link sent so far.
    token_version: Mapped[int] = mapped_column(default=1)
    # The calendar entry's SEQUENCE: raised at every change so calendars replace the old entry.
    sequence: Mapped[int] = mapped_column(default=0)
    # A one-time form id or an API Idempotency-Key: the same request twice makes one booking.
    request_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # "visitor" or "museum"; when the museum cancels, the visitor's page shows why, in their language.
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(8))
    cancel_reasons: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    cancel_message: Mapped[str] = mapped_column(sa.String(1000), default="", server_default="")
    # When the reminder for the visit's current time was sent (claimed once, see services/reminders.py).
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Privacy: the visitor asked to erase their data (done once the last email to them is out), and
    # when the personal data was erased (by that request or after the retention period).
    erase_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.status == "confirmed"

    def cancel_reason(self, language: str) -> str:
        """Why the museum cancelled, in `language` if staff gave it so: a closure's reason, then their note."""
        parts = [in_language(self.cancel_reasons, language), self.cancel_message]
        return " ".join(part for part in parts if part)


class WalkIn(Base):
    """One tap at the desk: `people` who came into a slot without a booking (+1 … +50), or −1 to
    undo a mistaken tap. Slot.walk_ins holds their running total."""

    __tablename__ = "walk_in"
    __table_args__ = (
        sa.CheckConstraint("people <> 0 AND people >= -1 AND people <= 50", name="walk_in_people_known"),
        sa.Index("ix_walk_in_start", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    people: Mapped[int]
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffUser | None] = relationship()


class WaitlistEntry(Base):
    """A visitor waiting for places in a full slot; offered places are taken in the slot for them.

    waiting -> offered (places taken, held until offer_expires_at) -> accepted (a booking is made
    with those places) | expired / declined (places given back, offered to the next); or left.
    """

    STATUSES = ("waiting", "offered", "accepted", "expired", "declined", "left")

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", STATUSES), name="waitlist_status_known"),
        sa.CheckConstraint(one_of("language", LANGUAGES), name="waitlist_language_known"),
        sa.CheckConstraint("people >= 1", name="waitlist_people_positive"),
        sa.Index("ix_waitlist_start_status", "start", "status", "created_at"),
        sa.Index("ix_waitlist_status_expiry", "status", "offer_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    status: Mapped[str] = mapped_column(sa.String(8), default="waiting")
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    people: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2))
    token_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id", ondelete="SET NULL"))

    booking: Mapped[Booking | None] = relationship()
