"""Access needs a visitor or a group states when booking: a few fixed codes and, for "other", a text.

Health data under the GDPR: stored with the booking, shown to staff and to the visitor's own
private page and emails only, erased by the purge (services/privacy.py) like a name.
"""

from __future__ import annotations

from dataclasses import dataclass

# In the order forms, staff marks and emails list them; "other" comes with a text.
CODES = ("wheelchair", "mobility", "vision", "hearing", "other")
OTHER_MAX_LENGTH = 200

# The boolean column of each code, on booking and tour_request alike.
COLUMNS = {code: f"access_{code}" for code in CODES}
OTHER_TEXT_COLUMN = "access_other_text"


@dataclass(frozen=True)
class AccessNeeds:
    """The needs ticked (in CODES order) and the text of "other" (empty unless "other" is ticked)."""

    codes: tuple[str, ...] = ()
    other: str = ""

    @classmethod
    def of(cls, codes, other: str = "") -> AccessNeeds:
        """From what a form or the API gave: unknown codes raise ValueError; a text implies "other"."""
        chosen = set(codes or ())
        unknown = chosen - set(CODES)
        if unknown:
            raise ValueError(f"unknown access needs: {sorted(unknown)}")
        other = (other or "").strip()
        if other:
            chosen.add("other")
        return cls(tuple(code for code in CODES if code in chosen), other if "other" in chosen else "")

    @classmethod
    def from_row(cls, row) -> AccessNeeds:
        return cls(tuple(code for code in CODES if getattr(row, COLUMNS[code])), getattr(row, OTHER_TEXT_COLUMN) or "")

    def columns(self) -> dict[str, object]:
        """The column values of a row holding these needs."""
        return {**{COLUMNS[code]: code in self.codes for code in CODES}, OTHER_TEXT_COLUMN: self.other}

    def __bool__(self) -> bool:
        return bool(self.codes)


NONE = AccessNeeds()
