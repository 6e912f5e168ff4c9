"""Business operations: each takes a Session, runs one transaction and raises a domain error."""

from __future__ import annotations


class BookingError(Exception):
    """A refusal the visitor should read; `code` names it, `field` says which input it is about."""

    code = "error"
    field: str | None = None

    def __init__(self, code: str | None = None, *, field: str | None = None, detail: str | None = None):
        self.code = code or self.code
        self.field = field or self.field
        self.detail = detail  # e.g. the name of the holiday or the closure's reason
        super().__init__(self.code if detail is None else f"{self.code}: {detail}")


class NotBookable(BookingError):
    """The start is not a slot a visitor may book now (past, too far, closed, not a slot)."""

    field = "start"


class SlotFull(BookingError):
    """The slot has fewer places left than the party needs."""

    code = "slot_full"
    field = "start"


class BookingClosed(BookingError):
    """The booking can no longer be changed (it started, or it was cancelled)."""

    code = "booking_locked"
