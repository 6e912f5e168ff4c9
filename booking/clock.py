"""The app's sense of "now": the system clock in production, a clock that tests set."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: dt.datetime | str):
        self.set(moment)

    def set(self, moment: dt.datetime | str) -> None:
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)

    def now(self) -> dt.datetime:
        return self._now
