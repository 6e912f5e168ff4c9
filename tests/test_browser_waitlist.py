"""In headless Chromium: a visitor joins a full slot's waiting list, a cancellation frees places,
and the visitor books them from the offer's emailed link."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import local
from tests.smtp import plain_text

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser

SLOT = "2027-03-02T10:00"


@pytest.fixture
def smtp_config(smtp_config):
    smtp_config["SLOT_CAPACITY"] = 4
    return smtp_config


def test_join_the_waiting_list_then_accept_the_emailed_offer(live_server, smtp_server, browser: Browser):
    from booking.context import db, now, rules
    from booking.models import Booking, Slot
    from booking.notifications import deliver
    from booking.services.bookings import VisitRequest, book_visit, cancel_booking

    base, app = live_server.url, live_server.app
    with app.app_context():
        session = db()
        first = [book_visit(session, rules(), now(), VisitRequest(
            start=local(SLOT), party_size=2, name=f"Visitor {i}", email=f"v{i}@example.be", language="en"))[0]
            for i in range(2)]
        deliver(session, now())
    smtp_server.wait_for(2)

    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/en/visit/2027-03-02")
    page.get_by_role("link", name=re.compile("Join the waiting list.*10:00")).click()
    expect(page.get_by_role("heading", name="Join the waiting list")).to_be_visible()
    page.get_by_label("Number of people").fill("2")
    page.get_by_label("Your name").fill("Chloé Dupont")
    page.get_by_label("Email address").fill("chloe@example.be")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Put me on the waiting list").click()
    expect(page.get_by_text("You are on the waiting list. If places free up")).to_be_visible()
    joined = smtp_server.wait_for(3)[-1]
    assert joined["To"] == "chloe@example.be"

    with app.app_context():
        cancel_booking(db(), rules(), now(), first[0].id)
        deliver(db(), now())
    offer = smtp_server.wait_for(5)
    offer_mail = next(m for m in offer if m["To"] == "chloe@example.be" and "free for you" in m["Subject"])
    link = re.search(r"http://\S+/w/WL-\S+", plain_text(offer_mail)).group(0)

    page.goto(link)
    expect(page.get_by_text("Places are free for you")).to_be_visible()
    page.get_by_role("button", name="Book these places").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/b/NMR-"))
    expect(page.get_by_text("Your visit is confirmed")).to_be_visible()

    with app.app_context():
        session = db()
        booking = session.scalars(sa.select(Booking).where(Booking.email == "chloe@example.be")).one()
        slot = session.scalars(sa.select(Slot)).one()
        assert (booking.status, booking.party_size, slot.booked, slot.capacity) == ("confirmed", 2, 4, 4)
    context.close()
