"""End to end in headless Chromium: a visitor books from the home page, then cancels from the email's link.

The app runs as a real HTTP server on loopback and sends its emails to a real SMTP server (tests/smtp.py).
SQLite only: the database_url taken from tests/browser_fixtures.py replaces conftest's, so the test runs once
whatever TEST_DATABASE_URL is.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from booking import schedule
from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import local
from tests.smtp import calendar_part

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"NMR-[346789ABCDEFGHJKMNPQRTUVWXY]{6}")

# The shared fixtures, bound here so that pytest finds them for this module.
database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser


def _stored(app, reference: str, start: str) -> tuple[str, int]:
    """The booking's status and the `booked` counter of its slot (starting at `start`, Brussels), from the DB."""
    from booking.context import db
    from booking.models import Booking, Slot

    with app.app_context():
        session = db()
        booking = session.scalars(sa.select(Booking).where(Booking.reference == reference)).one()
        slot = session.scalars(sa.select(Slot).where(Slot.start == schedule.to_utc(local(start)))).one()
        assert booking.start == slot.start
        return booking.status, slot.booked


def test_visitor_books_then_cancels_from_the_emailed_link(live_server, smtp_server, browser: Browser):
    base = live_server.url
    app = live_server.app

    # --- book: home page → calendar → day → slot → form ------------------------------------------
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/en/")
    page.get_by_role("link", name="Book a visit").click()

    expect(page.get_by_role("heading", name="March 2027")).to_be_visible()
    tuesday = page.locator("table.calendar td.available a").filter(
        has=page.locator(".num", has_text=re.compile(r"^2$")))
    tuesday.click()
    expect(page).to_have_url(f"{base}/en/visit/2027-03-02")

    page.get_by_role("link", name=re.compile(r"10:00–11:00")).click()
    expect(page.get_by_role("heading", name="Book your visit")).to_be_visible()
    expect(page.locator(".chosen-slot")).to_contain_text("10:00–11:00")

    page.get_by_label("Number of people").fill("3")
    page.get_by_label("Your name").fill("Anne Martin")
    page.get_by_label("Email address").fill("anne@example.be")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Confirm my booking").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/b/{REFERENCE.pattern}/[^/?#]+$"))
    expect(page.locator(".reference")).to_contain_text(REFERENCE)
    expect(page.get_by_text("Your visit is confirmed")).to_be_visible()
    reference = REFERENCE.search(page.locator(".reference").inner_text()).group(0)
    assert _stored(app, reference, "2027-03-02T10:00") == ("confirmed", 3)

    # --- the confirmation email: an .ics and the private link -------------------------------------
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    confirmation = messages[0]
    assert confirmation["To"] == "anne@example.be"
    ics = calendar_part(confirmation)
    assert "METHOD:REQUEST" in ics
    assert reference in ics
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(rf"{re.escape(base)}/b/{re.escape(reference)}/[^\s/]+", text)
    assert links, text
    private_link = links[0]
    assert private_link == page.url
    context.close()

    # --- cancel from the link, in a fresh browser (as if opened from the email app) --------------
    mail_app = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
    mail_app.set_default_timeout(TIMEOUT_MS)
    page = mail_app.new_page()
    page.goto(private_link)
    expect(page.get_by_text("Your visit is confirmed")).to_be_visible()
    page.get_by_role("link", name="Cancel this visit").click()  # asks once more
    expect(page.get_by_role("heading", name="Cancel this visit?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel my visit").click()

    expect(page.get_by_text("This visit is cancelled.")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel this visit")).to_have_count(0)
    assert page.url == private_link
    mail_app.close()

    messages = smtp_server.wait_for(2)
    assert len(messages) == 2
    cancellation = messages[1]
    assert cancellation["To"] == "anne@example.be"
    ics = calendar_part(cancellation)
    assert "METHOD:CANCEL" in ics
    assert reference in ics
    assert _stored(app, reference, "2027-03-02T10:00") == ("cancelled", 0)
