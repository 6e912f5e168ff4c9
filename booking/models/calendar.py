"""What staff set on the calendar and the site: closures, settings, exhibitions and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import Base, UTCDateTime
from booking.models.columns import one_of, utcnow
from booking.texts import in_language


class Closure(Base):
    """A period staff closed, [start, end) in UTC, with the reason shown to visitors per language.

    kind "opened" is the opposite: a public holiday that staff opened exceptionally.
    """

    KINDS = ("closed", "opened")

    __tablename__ = "closure"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="closure_ends_after_start"),
        sa.CheckConstraint(one_of("kind", KINDS), name="closure_kind_known"),
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


class Setting(Base):
    """A value staff change from the back office: the default capacity, the calendar feed's secret."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


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
