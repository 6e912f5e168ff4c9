"""The message catalogs: every text of the app exists in French, Dutch, English and German."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def keys(messages) -> set:
    """(context, id) of every message: one text may be two messages, told apart by their context."""
    return {(message.context, message.id) for message in messages if message.id}


TEMPLATE_IDS = keys(catalog(ROOT / "translations" / "messages.pot"))


@pytest.mark.parametrize("language", ["fr", "nl", "en", "de"])
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    messages = {(m.context, m.id): m
                for m in catalog(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po") if m.id}
    assert set(messages) == TEMPLATE_IDS, "run `make update-catalogs` and translate what is new"
    for (_context, message_id), message in messages.items():
        ids = message_id if isinstance(message_id, tuple) else (message_id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: no translation for {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy translation for {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= expected | {"num"}, f"{language}: {ids[0]!r}"


@pytest.mark.parametrize(("language", "rule"), [("fr", "(n > 1)"), ("nl", "(n != 1)"), ("en", "(n != 1)"),
                                               ("de", "(n != 1)")])
def test_every_catalog_declares_its_languages_plural_rule(language, rule):
    """French counts 0 and 1 in the singular; Dutch, English and German only 1."""
    messages = catalog(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po")
    assert (messages.num_plurals, messages.plural_expr) == (2, rule)


def test_the_catalog_template_holds_every_text_of_the_code_and_templates(tmp_path):
    from babel.messages.frontend import CommandLineInterface

    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "--no-location", "-o", str(fresh), str(ROOT)])
    assert keys(catalog(fresh)) == TEMPLATE_IDS, "run `make update-catalogs` and translate what is new"
