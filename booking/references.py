"""Booking references: short, readable aloud on the phone, unique (e.g. NMR-7KQ3PX)."""

import secrets

# No 0/O, 1/I/L, 5/S or 2/Z: nothing a visitor can misread or mishear.
ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
PREFIX = "NMR-"
LENGTH = 6


def new_reference() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_reference(text: str) -> str:
    """What a visitor types, upper-cased and with the prefix, as stored."""
    text = text.strip().upper().replace(" ", "")
    if not text.startswith(PREFIX):
        text = PREFIX + text.removeprefix("NMR")
    return text
