"""Every email, rendered in French, Dutch and German, contains no English left untranslated."""

import datetime as dt
import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from booking.models import OutboxMessage, TourRequest
from tests.conftest import local

ROOT = Path(__file__).resolve().parent.parent
EMAIL_KINDS = {p.stem for p in (ROOT / "templates" / "emails").glob("*.txt") if not p.stem.startswith("_")}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def english_fragments(language: str) -> list[str]:
    """Pieces of English source text long enough to be recognised, whose translation differs."""
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    fragments = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in ids:
            if source in strings:
                continue  # the same in both languages (a name, a number)
            for piece in PLACEHOLDER.split(source):
                piece = piece.strip(" .,:;()")
                if len(piece) >= 12 and " " in piece:
                    fragments.add(piece)
    return sorted(fragments)


@pytest.fixture
def museum_language(config_overrides, request):
    config_overrides["MUSEUM_NOTIFY_LANGUAGE"] = request.param
    return request.param


def make_every_email(session, policy, clock, book, request_tour, language):
    """One booking and a few group requests in `language`, taken through every step that emails."""
    from booking.services.bookings import cancel_booking, move_booking
    from booking.services.tours import (
        answer_proposal,
        cancel_tour,
        confirm_tour,
        decline_tour,
        expire_proposals,
        propose_time,
    )

    rules, now = policy.rules, clock.now()
    from booking.models import Guide

    for guide in session.scalars(sa.select(Guide)):  # the guides read `language` too, and are emailed
        guide.email, guide.language = f"guide{guide.id}@guides.example", language
    session.commit()
    visit = book("2027-03-02T10:00", language=language)
    move_booking(session, rules, now, visit.id, local("2027-03-03T11:00"))
    cancel_booking(session, rules, now, visit.id)

    def tour(start):
        return request_tour(start, pupils=10, adults=1, language=language)

    confirm_tour(session, policy, now, tour("2027-03-16T09:00").id)
    decline_tour(session, policy, now, tour("2027-03-16T11:00").id, "—")
    refused = tour("2027-03-16T13:00")
    propose_time(session, policy, now, refused.id, local("2027-03-17T13:00"))
    answer_proposal(session, policy, now, refused.id, accept=False)
    cancel_tour(session, policy, now, tour("2027-03-18T09:00").id)
    expired = tour("2027-03-18T11:00")
    propose_time(session, policy, now, expired.id, local("2027-03-19T11:00"))
    expire_proposals(session, policy, now + dt.timedelta(days=8))
    from booking.services.passwords import request_password_reset
    from booking.services.staff import create_staff

    create_staff(session, "desk@museum.example", "a long enough secret")
    request_password_reset(session, now, "desk@museum.example", language)

    # The waiting list: a full slot, an entry, a cancellation that offers it the places.
    from booking.models import Slot
    from booking.services.waitlist import WaitRequest, join_waitlist

    full = book("2027-03-04T10:00", party_size=2, language=language)
    session.execute(sa.update(Slot).where(Slot.start == full.start).values(capacity=2, capacity_custom=True))
    session.commit()
    join_waitlist(session, rules, now, WaitRequest(start=local("2027-03-04T10:00"), people=2, name="Wim",
                                                   email="wim@example.be", language=language))
    cancel_booking(session, rules, now, full.id)
    # Reminders, final numbers and "lost your link?".
    from booking.services.lost_links import send_lost_links
    from booking.services.reminders import ReminderRules, send_tour_reminders, send_visit_reminders
    from booking.services.tours import change_group_size

    book("2027-03-02T11:00", language=language)
    send_visit_reminders(session, ReminderRules(), now + dt.timedelta(hours=3))
    confirmed = session.scalars(sa.select(TourRequest).where(TourRequest.status == "confirmed")).one()
    send_tour_reminders(session, ReminderRules(), policy.tour_rules, now + dt.timedelta(days=6))
    change_group_size(session, policy, now, confirmed.id, 12, 1)
    send_lost_links(session, now, "anne@example.be", language, dt.timedelta(minutes=10))


@pytest.mark.parametrize("museum_language", ["fr", "nl", "de"], indirect=True)
def test_every_email_speaks_the_recipients_language(museum_language, app, session, policy, clock, book,
                                                    request_tour, guides):
    from booking.notifications.emails import render

    language = museum_language
    make_every_email(session, policy, clock, book, request_tour, language)
    fragments = english_fragments(language)
    rows = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {row.kind for row in rows} == EMAIL_KINDS
    with app.app_context():
        for row in rows:
            assert row.language == language
            message = render(row)
            text = html.unescape("\n".join([message.subject, message.body, message.html]))
            leftovers = [fragment for fragment in fragments if fragment in text]
            assert leftovers == [], f"{row.kind} in {language}: English left: {leftovers[:5]}"
            assert f'lang="{language}"' in message.html
            # The control: the same email in English is caught by the same check.
            row.language = "en"
            english = render(row)
            row.language = language
            english_text = html.unescape("\n".join([english.subject, english.body, english.html]))
            assert any(fragment in english_text for fragment in fragments), row.kind
    session.rollback()


@pytest.mark.parametrize("museum_language", ["fr", "nl", "en", "de"], indirect=True)
def test_every_header_survives_folding_in_every_language(museum_language, smtp_config, smtp_server, app, session,
                                                         policy, clock, book, request_tour, guides):
    """Long subjects with accents are folded by the sender: the bytes received decode to the catalog's text."""
    from flask_babel import force_locale, gettext

    from booking.notifications import deliver
    from booking.notifications.emails import render
    from booking.presentation import museum_facts

    language = museum_language
    make_every_email(session, policy, clock, book, request_tour, language)
    rows = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    with app.app_context():
        expected = {row.message_id: render(row) for row in rows}
        with force_locale(language):
            links_subject = gettext("Your bookings at the %(museum)s: your private links",
                                    museum=museum_facts(language)["name"])
        report = deliver(session, clock.now())
    assert len(report.sent) >= len(EMAIL_KINDS) - 2  # a few are due later
    received = smtp_server.wait_for(len(report.sent))
    assert len(received) == len(report.sent)
    for message in received:
        sent = expected[message["Message-ID"]]
        # Folding may start the value on the next line ("Subject:" CRLF SP …); that space is not text.
        assert message["Subject"].strip() == sent.subject, message["Subject"]
        assert message["From"] == sent.sender and message["Reply-To"] == sent.reply_to
    assert links_subject in [message["Subject"].strip() for message in received]


PRIVATE_LINK = re.compile(r"https?://[^\s\"<]+/(?:g|b|w|staff/password/reset)/[^\s\"<]+")


def test_every_email_has_an_html_part_with_its_link_behind_a_button_and_text_that_wraps(app, session, policy, clock,
                                                                                       book, request_tour, guides):
    from booking.notifications.emails import render

    make_every_email(session, policy, clock, book, request_tour, "en")
    rows = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    with app.app_context():
        for row in rows:
            message = render(row)
            assert message.html, row.kind
            # The body wraps long words (a private link has nowhere to break) instead of widening the mail.
            assert "overflow-wrap:anywhere" in message.html.replace(" ", ""), row.kind
            buttons = {html.unescape(href) for href, text in re.findall(
                r'<a href="([^"]+)"[^>]*class="button"[^>]*>(.*?)</a>', message.html) if "://" not in text}
            for link in PRIVATE_LINK.findall(message.body):
                assert link in buttons, f"{row.kind}: {link} is not behind a button"
    session.rollback()
