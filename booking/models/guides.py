"""The guides, their daily roster, and the hours each holds for a group."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import Base, UTCDateTime
from booking.models.columns import LANGUAGES, one_of, utcnow

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.staff import StaffUser
    from booking.models.tours import TourRequest


class Guide(Base):
    """A named guide: the languages they give tours in, the language they read, how to reach them.
    Active guides are on the daily roster."""

    __tablename__ = "guide"
    __table_args__ = (sa.CheckConstraint(one_of("language", LANGUAGES), name="guide_language_known"),)

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
        sa.CheckConstraint(one_of("part", PARTS), name="guide_unavailability_part_known"),
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
