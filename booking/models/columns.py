"""What the models share: the languages and attendance codes, the clock of rows, and the columns and
checks that bookings and group visits both have."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.access import OTHER_MAX_LENGTH, AccessNeeds
from booking.db import UTC

LANGUAGES = ("fr", "nl", "en", "de")


ATTENDANCE = ("arrived", "no_show")


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def access_checks(table: str) -> tuple[sa.CheckConstraint, ...]:
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
