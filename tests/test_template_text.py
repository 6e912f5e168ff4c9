"""Templates show no text outside the translation calls: every word a visitor reads is translatable."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Text that is the same in every language, by design.
ALLOWED = {
    "NMR",  # none so far; a reference prefix would go here
}

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_STYLE = re.compile(r"<style\b.*?</style>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
# Attributes whose values people read or hear.
_VISIBLE_ATTRIBUTE = re.compile(r'\b(?:title|alt|placeholder|aria-label|value)="([^"{]*)"', re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")


def visible_text_outside_translations(source: str, html: bool) -> list[str]:
    """Words left once the template's expressions, statements, comments and markup are removed."""
    without_jinja = _JINJA.sub(" ", source)
    found = []
    if html:
        found += [value for value in _VISIBLE_ATTRIBUTE.findall(without_jinja) if _WORD.search(value)]
        without_jinja = _TAG.sub(" ", _STYLE.sub(" ", without_jinja))
    text = _ENTITY.sub(" ", without_jinja)
    found += [word for word in _WORD.findall(text) if word not in ALLOWED]
    return found


TEMPLATE_FILES = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"})


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_words_outside_the_translation_calls(path):
    words = visible_text_outside_translations(path.read_text(), html=path.suffix == ".html")
    assert words == [], f"{path.relative_to(TEMPLATES)}: wrap in _() — {words[:10]}"


def test_the_check_finds_untranslated_words():
    assert visible_text_outside_translations("<p>Opening hours</p>", html=True) == ["Opening", "hours"]
    assert visible_text_outside_translations('<a title="Home">{{ _("x") }}</a>', html=True) == ["Home"]
    assert visible_text_outside_translations("Hello {{ name }},\n{{ _('x') }}", html=False) == ["Hello"]
    assert visible_text_outside_translations('<p>{{ _("Opening hours") }}: 9–17 · →</p>', html=True) == []
