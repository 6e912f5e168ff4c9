"""The guides, their daily roster, and the hours each holds for a group."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import Base, UTCDateTime

if TYPE_CHECKING:  # the annotations only; SQLAlchemy finds the classes in its registry
    from booking.models.tours import TourRequest


class Guide(Base):
    """A named guide and the languages they give tours in; active guides are on the daily roster."""

    __tablename__ = "guide"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # Language codes separated by commas, e.g. "fr,nl,en".
    language_codes: Mapped[str] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)

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
