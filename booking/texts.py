"""Texts staff write in several languages (closure reasons, exhibition and event titles and
descriptions), stored as one mapping {"fr": …, "nl": …, "en": …, "de": …} per text."""

from __future__ import annotations

from collections.abc import Mapping

# Which language stands in when a text lacks the reader's: English first, as the museum's staff
# write it when they write one language only for foreign visitors, then the other three.
FALLBACK_ORDER = ("en", "fr", "nl", "de")


def in_language(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else in another language staff gave, else empty."""
    texts = texts or {}
    if texts.get(language):
        return texts[language]
    return next((texts[code] for code in FALLBACK_ORDER if texts.get(code)), "")
