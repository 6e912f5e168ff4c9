"""The tables: slots with their capacity, bookings, closures and the outgoing-mail outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from booking.access import OTHER_MAX_LENGTH, AccessNeeds
from booking.db import UTC, Base, UTCDateTime
from booking.texts import in_language

LANGUAGES = ("fr", "nl", "en", "de")


ATTENDANCE = ("arrived", "no_show")


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _access_checks(table: str) -> tuple[sa.CheckConstraint, ...]:
    """The text of "other" exists exactly when "other" is ticked, and is kept short."""
    return (
        sa.CheckConstraint("(access_other AND access_other_text <> '') OR "
                           "(NOT access_other AND access_other_text = '')", name=f"{table}_access_other_explained"),
        sa.CheckConstraint(f"length(access_other_text) <= {OTHER_MAX_LENGTH}", name=f"{table}_access_other_short"),
    )


class AccessNeedsColumns:
    """Access needs (booking.access): one boolean per code and the text of "other". Health data:
    staff and the visitor's own page and emails show it, the purge erases it."""

    access_wheelchair: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    access_mobility: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    access_vision: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    access_hearing: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    access_other: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    access_other_text: Mapped[str] = mapped_column(sa.String(OTHER_MAX_LENGTH), default="", server_default="")

    @property
    def access_needs(self) -> AccessNeeds:
        return AccessNeeds.from_row(self)

    def set_access_needs(self, needs: AccessNeeds) -> None:
        for name, value in needs.columns().items():
            setattr(self, name, value)


class PlacesLeft:
    """What an hour has left, from its `capacity`, `booked` and `kept_back`: a slot row, or the staff
    calendar's view of an hour."""

    @property
    def remaining(self) -> int:
        """Places the desk may still book, the kept-back ones included."""
        return max(self.capacity - self.booked, 0)

    @property
    def remaining_online(self) -> int:
        """Places online bookings, the API and waiting-list offers may take."""
        return max(self.capacity - self.kept_back - self.booked, 0)


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
        sa.CheckConstraint(_in("status", STATUSES), name="booking_status_known"),
        sa.CheckConstraint(_in("source", SOURCES), name="booking_source_known"),
        sa.CheckConstraint(f"attendance IS NULL OR {_in('attendance', ATTENDANCE)}", name="booking_attendance_known"),
        sa.CheckConstraint(_in("language", LANGUAGES), name="booking_language_known"),
        sa.Index("ix_booking_start_status", "start", "status"),
        sa.Index("ix_booking_email", "email"),
        *_access_checks("booking"),
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


class Closure(Base):
    """A period staff closed, [start, end) in UTC, with the reason shown to visitors per language.

    kind "opened" is the opposite: a public holiday that staff opened exceptionally.
    """

    KINDS = ("closed", "opened")

    __tablename__ = "closure"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="closure_ends_after_start"),
        sa.CheckConstraint(_in("kind", KINDS), name="closure_kind_known"),
        sa.Index("ix_closure_period", "start_at", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), default="closed", server_default="closed")
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reasons: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def reason(self, language: str) -> str:
        return in_language(self.reasons, language)


class Guide(Base):
    """A named guide: the languages they give tours in, the language they read, how to reach them.
    Active guides are on the daily roster."""

    __tablename__ = "guide"
    __table_args__ = (sa.CheckConstraint(_in("language", LANGUAGES), name="guide_language_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # Language codes separated by commas, e.g. "fr,nl,en".
    language_codes: Mapped[str] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)
    # Optional: a guide without an address gets no email, their page and feed still work.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # The language of their page and emails (it may be none of their tour languages).
    language: Mapped[str] = mapped_column(sa.String(2), default="fr", server_default="fr")
    # Bumping token_version revokes the guide's private link (booking/tokens.py, as a booking's).
    token_version: Mapped[int] = mapped_column(default=1, server_default="1")

    @property
    def languages(self) -> list[str]:
        return [code for code in self.language_codes.split(",") if code]

    def speaks(self, language: str) -> bool:
        return language in self.languages


class GuideDuty(Base):
    """The roster of one day: a day with rows has exactly the guides marked on duty (maybe none);
    a day without rows has every active guide on duty."""

    __tablename__ = "guide_duty"
    __table_args__ = (sa.UniqueConstraint("day", "guide_id", name="guide_duty_once_per_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    guide_id: Mapped[int] = mapped_column(sa.ForeignKey("guide.id", ondelete="CASCADE"))
    on_duty: Mapped[bool] = mapped_column(default=True)

    guide: Mapped[Guide] = relationship()


class GuideUnavailability(Base):
    """A guide away on a day, a morning (09:00–13:00) or an afternoon (13:00–17:00), entered by the
    guide on their page or by staff. `conflict`: the guide held a tour then when it was entered;
    the tour stands until staff reassign it."""

    PARTS = ("day", "morning", "afternoon")

    __tablename__ = "guide_unavailability"
    __table_args__ = (
        sa.CheckConstraint(_in("part", PARTS), name="guide_unavailability_part_known"),
        sa.UniqueConstraint("guide_id", "day", "part", name="guide_unavailability_once"),
        sa.Index("ix_guide_unavailability_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(sa.ForeignKey("guide.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    part: Mapped[str] = mapped_column(sa.String(10), default="day")
    note: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # None: the guide entered it on their page; else the member of staff who did.
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    conflict: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    guide: Mapped[Guide] = relationship()
    entered_by: Mapped[StaffUser | None] = relationship()


class TourRequest(AccessNeedsColumns, Base):
    """A group's visit, guided or self-guided: requested by a teacher, decided by staff.

    While pending or proposed it holds its places and its guides at `start`; confirmed, it keeps
    them; declined, refused, cancelled or expired, it has given them back.
    """

    STATUSES = ("pending", "proposed", "confirmed", "declined", "refused", "cancelled", "expired")
    HOLDING = ("pending", "proposed", "confirmed")

    __tablename__ = "tour_request"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="tour_status_known"),
        sa.CheckConstraint(_in("language", LANGUAGES), name="tour_language_known"),
        sa.CheckConstraint("pupils >= 1 AND adults >= 0", name="tour_group_size_positive"),
        sa.CheckConstraint("duration_minutes > 0", name="tour_duration_positive"),
        sa.CheckConstraint(f"attendance IS NULL OR {_in('attendance', ATTENDANCE)}", name="tour_attendance_known"),
        sa.Index("ix_tour_request_status_created", "status", "created_at"),
        sa.Index("ix_tour_request_start", "start"),
        *_access_checks("tour"),
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


class GuideAssignment(Base):
    """One guide held by one tour for one hour; the unique key makes double-holding impossible."""

    __tablename__ = "guide_assignment"
    __table_args__ = (sa.UniqueConstraint("guide_id", "start", name="guide_busy_once_per_hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(sa.ForeignKey("guide.id"))
    tour_id: Mapped[int] = mapped_column(sa.ForeignKey("tour_request.id", ondelete="CASCADE"), index=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    guide: Mapped[Guide] = relationship()
    tour: Mapped[TourRequest] = relationship(back_populates="assignments")


class StaffUser(Base):
    """A member of staff who signs in to the back office."""

    ROLES = ("staff", "admin")

    __tablename__ = "staff_user"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="staff_role_known"),)

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


class Setting(Base):
    """A value staff change from the back office: the default capacity, the calendar feed's secret."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """An email to send, named by kind, booking and language; rendered only when it is sent."""

    STATUSES = ("pending", "sent", "failed")

    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="outbox_status_known"),
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


class WaitlistEntry(Base):
    """A visitor waiting for places in a full slot; offered places are taken in the slot for them.

    waiting -> offered (places taken, held until offer_expires_at) -> accepted (a booking is made
    with those places) | expired / declined (places given back, offered to the next); or left.
    """

    STATUSES = ("waiting", "offered", "accepted", "expired", "declined", "left")

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="waitlist_status_known"),
        sa.CheckConstraint(_in("language", LANGUAGES), name="waitlist_language_known"),
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


class Exhibition(Base):
    """An exhibition on show from one day to another, described in the four languages."""

    __tablename__ = "exhibition"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="exhibition_ends_after_start"),
        sa.Index("ix_exhibition_period", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    titles: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)  # None: a permanent exhibition
    # Language codes of the exhibition's panels, separated by commas, e.g. "fr,nl".
    panel_languages: Mapped[str] = mapped_column(sa.String(20), default="")
    image: Mapped[str | None] = mapped_column(sa.String(80))  # a file name under instance/uploads/
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def title(self, language: str) -> str:
        return in_language(self.titles, language)

    def description(self, language: str) -> str:
        return in_language(self.descriptions, language)

    @property
    def panel_language_list(self) -> list[str]:
        return [code for code in self.panel_languages.split(",") if code]


class Event(Base):
    """A round table, a talk...: at a time and place; visits during an event need no appointment."""

    __tablename__ = "event"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="event_ends_after_start"),
        sa.Index("ix_event_start", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    titles: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(150), default="")
    booking_needed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def title(self, language: str) -> str:
        return in_language(self.titles, language)

    def description(self, language: str) -> str:
        return in_language(self.descriptions, language)
# "Lost your link?" looks for the last lost_links email to an address (services/lost_links.py).
sa.Index("ix_outbox_recipient_kind", OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.created_at)


_OUTBOX_INSERT = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
