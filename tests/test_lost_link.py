""""Lost your link?": the page answers the same for any address; a known one gets one email with its links.

At most one such email goes to an address every LOST_LINK_MINUTES (10), whatever is asked.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from booking.links import tour_path, visit_path
from booking.models import OutboxMessage
from booking.services.bookings import cancel_booking
from tests.conftest import local
from tests.smtp import plain_text

BASE_URL = "http://museum.test"
SENT = re.compile(r'<p class="notice" role="status">(.*?)</p>', re.S)


@pytest.fixture(autouse=True)
def mail_through_smtp(smtp_config):
    return smtp_config


def lost_link_rows(session) -> list[OutboxMessage]:
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "lost_links")).all()
    session.commit()
    return rows


def answer(response) -> str:
    """The page's answer, with the typed address taken out."""
    match = SENT.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return re.sub(r"\S+@\S+", "ADDRESS", match.group(1))


def ask(client, session, email: str, language: str = "en"):
    return client.post(f"/{language}/lost-link", data={"email": email})


def test_the_page_and_the_links_to_it(client):
    page = client.get("/en/lost-link").get_data(as_text=True)
    assert 'name="email"' in page and "Lost your link?" in page
    assert 'href="/en/lost-link"' in client.get("/en/").get_data(as_text=True)
    book_page = client.get("/en/book?start=2027-03-02T10:00").get_data(as_text=True)
    assert 'href="/en/lost-link"' in book_page


def test_known_and_unknown_addresses_get_the_same_answer(app, client, session, book, request_tour, guides, rules,
                                                         clock, smtp_server):
    first = book("2027-03-02T10:00", email="anne@example.be", language="fr")
    second = book("2027-03-05T14:00", party_size=4, email="Anne@Example.be")
    gone = book("2027-03-03T10:00", email="anne@example.be")
    cancel_booking(session, rules, clock.now(), gone.id)
    other = book("2027-03-02T11:00", email="someone@example.be")
    tour = request_tour("2027-03-16T10:00")  # els@school.example
    clock.set(local("2027-03-02T10:30"))  # the first visit has started: no longer "coming"

    unknown = ask(client, session, "nobody@example.be", "nl")
    assert unknown.status_code == 200
    known = ask(client, session, " ANNE@example.be ", "nl")
    assert known.status_code == 200
    assert answer(known) == answer(unknown)
    assert len(lost_link_rows(session)) == 1

    [email] = smtp_server.wait_for(1)
    assert email["To"] == "anne@example.be"
    text = plain_text(email)
    with app.test_request_context():
        paths = {b.reference: visit_path(b) for b in (first, second, gone, other)}
        group_path = tour_path(tour)
    assert f"{BASE_URL}{paths[second.reference]}" in text
    assert paths[first.reference] not in text and paths[gone.reference] not in text
    assert paths[other.reference] not in text and group_path not in text
    assert format_date(local("2027-03-05T14:00").date(), "full", locale="nl") in text  # the page's language
    assert email.get_body(preferencelist=("html",)).get_content().count('lang="nl"') == 1

    # A teacher gets the link of the group visit.
    ask(client, session, "els@school.example")
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2 and messages[1]["To"] == "els@school.example"
    assert f"{BASE_URL}{group_path}" in plain_text(messages[1])


def test_one_email_per_address_every_ten_minutes(client, session, book, clock, smtp_server):
    book("2027-03-02T10:00", email="anne@example.be")
    first = ask(client, session, "anne@example.be")
    assert len(smtp_server.wait_for(1)) == 1
    clock.advance(minutes=9)
    again = ask(client, session, "Anne@example.be")
    assert answer(again) == answer(first)
    assert len(lost_link_rows(session)) == 1
    clock.advance(minutes=1, seconds=1)
    ask(client, session, "anne@example.be")
    assert len(lost_link_rows(session)) == 2
    assert len(smtp_server.wait_for(2)) == 2


def test_a_wrong_address_is_explained_next_to_the_field(client, session):
    response = client.post("/en/lost-link", data={"email": "not an address"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please give a valid email address" in page and 'value="not an address"' in page
    assert client.post("/en/lost-link", data={"email": ""}).status_code == 422
    assert lost_link_rows(session) == []
