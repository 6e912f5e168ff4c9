"""Staff accounts, their sessions on the server, and the audit log of what anyone changed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import Base, UTCDateTime
from booking.models.columns import one_of, utcnow

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.tours import TourRequest
    from booking.models.visits import Booking


class StaffUser(Base):
    """A member of staff who signs in to the back office."""

    ROLES = ("staff", "admin")

    __tablename__ = "staff_user"
    __table_args__ = (sa.CheckConstraint(one_of("role", ROLES), name="staff_role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(8), default="staff")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Wrong passwords in a row; past a threshold the account is locked until locked_until.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The back-office language last chosen (None: the browser's).
    language: Mapped[str | None] = mapped_column(sa.String(2))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    # Flask-Login's interface
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class StaffSession(Base):
    """A browser signed in to the back office. The signed cookie names it; signing out deletes it,
    so a copy of the cookie taken before opens nothing afterwards."""

    __tablename__ = "staff_session"

    # SHA-256 of the random token the cookie holds: a copy of this table opens no session.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what and when: one row per staff action (and per rule a staff member overrode)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_at", "at"),
        sa.Index("ix_audit_entry_booking", "booking_id"),
        sa.Index("ix_audit_entry_tour", "tour_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    # Kept as text too, so the log still says who when an account is gone.
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id", ondelete="SET NULL"))
    tour_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tour_request.id", ondelete="SET NULL"))
    # Free details: the reason of an override, old and new values, a closure's period...
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    staff: Mapped[StaffUser | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    tour: Mapped[TourRequest | None] = relationship()
