"""French puts a narrow no-break space (U+202F) before ":" ";" "?" "!", in the catalog and on every page and email."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from booking.links import tour_path, visit_path

ROOT = Path(__file__).resolve().parent.parent
NARROW = "\u202f"
# A mark that ends a clause (followed by a space, a line's end or a tag) must follow a narrow no-break
# space; "10:00", "https://" and "?lang=" are not such marks.
BAD_MARK = re.compile(r"(?<!\u202f)[:;?!](?=\s|$)")


def french_strings():
    with (ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        for message in read_po(handle):
            if message.id:
                yield from (message.string if isinstance(message.string, tuple) else (message.string,))


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def offences(text: str) -> list[str]:
    return [text[max(match.start() - 30, 0):match.end() + 5] for match in BAD_MARK.finditer(text)]


def test_every_french_message_puts_a_narrow_no_break_space_before_double_punctuation():
    wrong = [string for string in french_strings() if offences(string)]
    assert wrong == []


def test_french_pages_and_emails_put_a_narrow_no_break_space_before_double_punctuation(
        app, client, staff_client, session, book, request_tour, guides):
    from booking.models import OutboxMessage
    from booking.notifications.emails import render

    booking = book("2027-03-02T10:00", language="fr")
    tour = request_tour("2027-03-16T10:00", language="fr")
    with app.app_context():
        paths = ["/fr/", "/fr/visit?month=2027-03", "/fr/visit/2027-03-02", "/fr/book?start=2027-03-02T11:00",
                 "/fr/groups", "/fr/lost-link", "/fr/privacy", visit_path(booking), tour_path(tour)]
        texts = {path: client.get(path).get_data(as_text=True) for path in paths}
        for row in session.query(OutboxMessage).filter(OutboxMessage.language == "fr"):
            message = render(row)
            texts[row.kind] = "\n".join([message.subject, message.body, message.html])
    for path in ("/staff/calendar?date=2027-03-01", "/staff/day/2027-03-02", "/staff/requests", "/staff/closures"):
        texts[path] = staff_client.get(path + ("&" if "?" in path else "?") + "lang=fr").get_data(as_text=True)
    found = {where: offences(visible_text(text)) for where, text in texts.items()}
    assert {where: found for where, found in found.items() if found} == {}


@pytest.mark.parametrize("language", ["nl", "en", "de"])
def test_other_languages_keep_their_colon_against_the_word(client, language):
    page = visible_text(client.get(f"/{language}/visit/2027-03-02").get_data(as_text=True))
    assert NARROW not in page
