"""End to end in headless Chromium: staff close a day that has a booking; the visitor's page says why.

A visitor books (Dutch), a staff member signs in through the real form, closes that day with a reason
in English and Dutch, sees the booking listed and confirms its cancellation; the visitor then opens the
link of the email they received and reads, in Dutch, that the museum cancelled the visit and why.
SQLite only (tests/browser_fixtures.py).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import STAFF_PASSWORD, local
from tests.smtp import calendar_part, plain_text

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser

REASON_EN = "Burst water pipe"
REASON_NL = "Gesprongen waterleiding"


def _book_and_make_staff(app):
    from booking.context import db, rules
    from booking.services.bookings import VisitRequest, book_visit
    from booking.services.staff import create_staff

    with app.app_context():
        session = db()
        booking, _ = book_visit(session, rules(), app.extensions["booking"].clock.now(), VisitRequest(
            start=local("2027-03-16T11:00"), party_size=4, name="Joke Maes", email="joke@example.be",
            language="nl"))
        create_staff(session, "desk@museum.example", STAFF_PASSWORD, name="Desk")
        return booking.reference


def _manage_link(app, reference: str) -> str:
    from booking.context import db
    from booking.links import visit_url
    from booking.models import Booking

    with app.app_context():
        return visit_url(db().scalars(sa.select(Booking).where(Booking.reference == reference)).one())


def _status(app, reference: str) -> tuple[str, str | None]:
    from booking.context import db
    from booking.models import Booking

    with app.app_context():
        booking = db().scalars(sa.select(Booking).where(Booking.reference == reference)).one()
        return booking.status, booking.cancelled_by


def test_staff_close_a_booked_day_and_the_visitor_reads_why_in_their_language(
        live_server, smtp_server, browser: Browser):
    base, app = live_server.url, live_server.app
    reference = _book_and_make_staff(app)

    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    browser_fixtures.sign_in(page, base, "desk@museum.example", STAFF_PASSWORD)

    page.get_by_role("link", name="Closures").click()
    expect(page.get_by_role("heading", name="Close the museum")).to_be_visible()
    page.get_by_label("First day").fill("2027-03-16")
    page.get_by_label("Reason in English").fill(REASON_EN)
    page.get_by_label("Reason in Dutch").fill(REASON_NL)
    page.get_by_role("button", name="Close", exact=True).click()

    # Nothing is closed yet: the booking is shown and the cancellation must be confirmed.
    expect(page.get_by_role("heading", name="Confirm the closure")).to_be_visible()
    expect(page.get_by_role("cell", name=reference)).to_be_visible()
    expect(page.get_by_role("cell", name="Joke Maes")).to_be_visible()
    assert _status(app, reference) == ("confirmed", None)
    page.get_by_label("Message to the visitors (optional)").fill("Sorry!")
    page.get_by_role("button", name="Close and cancel this booking").click()

    expect(page.locator(".flash-success")).to_contain_text("1 visit was cancelled")
    expect(page.get_by_role("cell", name="Tuesday 16 March 2027", exact=True)).to_be_visible()
    assert _status(app, reference) == ("cancelled", "museum")
    context.close()

    # The visitor's email: one cancellation, in Dutch, with the reason.
    delivered = smtp_server.wait_for(1, timeout=30)
    cancellations = [m for m in delivered if "METHOD:CANCEL" in calendar_part(m)]
    assert len(cancellations) == 1
    email = cancellations[0]
    assert email["To"] == "joke@example.be"
    body = plain_text(email)
    assert REASON_NL in body and REASON_EN not in body
    link = _manage_link(app, reference)  # the private link of the confirmation email and the .ics
    assert link.startswith(f"{base}/b/{reference}/")

    mail_app = browser.new_context(locale="nl-BE", timezone_id="Europe/Brussels")
    mail_app.set_default_timeout(TIMEOUT_MS)
    page = mail_app.new_page()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    notice = page.locator(".status-cancelled")
    expect(notice).to_contain_text(REASON_NL)
    expect(notice).to_contain_text("Sorry!")
    expect(notice).not_to_contain_text(REASON_EN)
    expect(page.get_by_role("button", name=re.compile("annuleren", re.I))).to_have_count(0)
    mail_app.close()
