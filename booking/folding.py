"""Text as the staff search compares it: without accents and case, so "zoe" finds "Zoë" and "nunez" "ÑÚÑEZ".

Why it is done this way. A search must fold both sides of its LIKE, the typed text (the needle) and
the stored names, and fold them alike on SQLite and on PostgreSQL:

- The needle is folded here, in Python, before SQLAlchemy's `contains(..., autoescape=True)` escapes
  it: folding after escaping could turn a fullwidth "％" or "＿" into a wildcard.
- The stored side is folded by the database (`booking.db.folded`), so the database filters and the
  limit holds. On SQLite it is this very function, registered on each connection as a deterministic
  SQL function `fold` (SQLite's own `lower()` knows only ASCII, so "ÉLISE" stayed "Élise").
- On PostgreSQL it is `lower(unaccent(...))`. `unaccent` is a contrib extension that Debian's
  postgresql package ships, and a trusted one, so the app's role, which owns its database but is no
  superuser (deploy/install.sh), creates it in migration 0014. It is PostgreSQL's maintained list
  of letters, where a `translate()` string of our own would be one more thing to keep up to date.
  It also maps letters that Unicode does not decompose ("ø", "ł", "đ", "æ", "œ", "þ"), so this
  function maps them too, and tests/test_search.py checks that both fold every letter of Latin-1
  and Latin Extended-A, the letters of European names, alike.

This function: Unicode case folding ("ß" → "ss"), those letters, then NFKD decomposition without its
combining marks ("é" → "e", "ﬁ" → "fi"). Beyond those letters the two may differ (unaccent keeps
"ǿ"; PostgreSQL's lower() follows the database's locale, Python's casefold does not), so a search
for such a letter can miss on PostgreSQL what it finds on SQLite.
"""

from __future__ import annotations

import unicodedata

# Letters with no Unicode decomposition that PostgreSQL's unaccent rules map (lower case: applied
# after case folding).
_LETTERS = str.maketrans({
    "æ": "ae", "œ": "oe", "ø": "o", "ð": "d", "þ": "th", "đ": "d", "ħ": "h", "ı": "i", "ĸ": "q",
    "ŀ": "l", "ł": "l", "ŋ": "n", "ŧ": "t",
})


def fold(text: str) -> str:
    """`text` without case and accents, as both sides of a staff search compare it."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold_or_null(text: str | None) -> str | None:
    """`fold` as an SQL function: NULL stays NULL (an email, a leader's name may be missing)."""
    return None if text is None else fold(text)
