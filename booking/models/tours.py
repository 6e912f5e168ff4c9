"""Group visits: a request, its hold on places and guides, the decision and the visit."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import Base, UTCDateTime
from booking.models.columns import ATTENDANCE, LANGUAGES, AccessNeedsColumns, access_checks, one_of, utcnow

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.guides import Guide, GuideAssignment


class TourRequest(AccessNeedsColumns, Base):
    """A group's visit, guided or self-guided: requested by a teacher, decided by staff.

    While pending or proposed it holds its places and its guides at `start`; confirmed, it keeps
    them; declined, refused, cancelled or expired, it has given them back.
    """

    STATUSES = ("pending", "proposed", "confirmed", "declined", "refused", "cancelled", "expired")
    HOLDING = ("pending", "proposed", "confirmed")

    __tablename__ = "tour_request"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", STATUSES), name="tour_status_known"),
        sa.CheckConstraint(one_of("language", LANGUAGES), name="tour_language_known"),
        sa.CheckConstraint("pupils >= 1 AND adults >= 0", name="tour_group_size_positive"),
        sa.CheckConstraint("duration_minutes > 0", name="tour_duration_positive"),
        sa.CheckConstraint(f"attendance IS NULL OR {one_of('attendance', ATTENDANCE)}", name="tour_attendance_known"),
        sa.Index("ix_tour_request_status_created", "status", "created_at"),
        sa.Index("ix_tour_request_start", "start"),
        *access_checks("tour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    guided: Mapped[bool]
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the time held now
    duration_minutes: Mapped[int]
    requested_starts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # ISO, in order
    organisation: Mapped[str] = mapped_column(sa.String(150))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    postcode: Mapped[str] = mapped_column(sa.String(12), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(100))
    contact_role: Mapped[str] = mapped_column(sa.String(100), default="")
    # Optional only for group visits staff enter for a caller or a walk-in group.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40))
    leader_name: Mapped[str] = mapped_column(sa.String(100), default="")
    pupils: Mapped[int]
    adults: Mapped[int]
    group_kind: Mapped[str] = mapped_column(sa.String(16))
    tour_language: Mapped[str | None] = mapped_column(sa.String(2))
    needs: Mapped[str] = mapped_column(sa.String(1000), default="")
    topic: Mapped[str] = mapped_column(sa.String(1000), default="")
    notes: Mapped[str] = mapped_column(sa.String(1000), default="")
    language: Mapped[str] = mapped_column(sa.String(2))  # of the form, and so of every email
    decision_message: Mapped[str] = mapped_column(sa.String(1000), default="")
    proposal_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    token_version: Mapped[int] = mapped_column(default=1)
    sequence: Mapped[int] = mapped_column(default=0)
    request_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(sa.String(8), default="web", server_default="web")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    attendance: Mapped[str | None] = mapped_column(sa.String(8))
    attendance_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the teacher was asked to confirm the final numbers (claimed once, see services/reminders.py).
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Privacy, as on Booking.
    erase_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    assignments: Mapped[list[GuideAssignment]] = relationship(
        back_populates="tour", cascade="all, delete-orphan", order_by="GuideAssignment.start")

    @property
    def people(self) -> int:
        return self.pupils + self.adults

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.duration_minutes)

    @property
    def holds(self) -> bool:
        return self.status in self.HOLDING

    @property
    def guides(self) -> list[Guide]:
        seen: dict[int, Guide] = {}
        for assignment in self.assignments:
            seen.setdefault(assignment.guide_id, assignment.guide)
        return list(seen.values())
