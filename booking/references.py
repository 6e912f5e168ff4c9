"""References: short, readable aloud on the phone, unique (NMR-7KQ3PX for visits, GRP-… for groups)."""

import secrets

# No 0/O, 1/I/L, 5/S or 2/Z: nothing a visitor can misread or mishear.
ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
PREFIX = "NMR-"
GROUP_PREFIX = "GRP-"
LENGTH = 6


def new_reference(prefix: str = PREFIX) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_reference(text: str, prefix: str = PREFIX) -> str:
    """What a visitor types, upper-cased and with the prefix, as stored."""
    text = text.strip().upper().replace(" ", "")
    if not text.startswith(prefix):
        text = prefix + text.removeprefix(prefix.rstrip("-"))
    return text
