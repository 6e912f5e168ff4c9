"""End to end in headless Chromium: a guide opens their page from the emailed link and marks a day
away; a request for that day then holds another guide. SQLite only (tests/browser_fixtures.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import local
from tests.smtp import calendar_part, plain_text

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser

ANNA, LUC = "anna@guides.example", "luc@guides.example"


def _request(app, start: str):
    from booking.context import db, now, policy
    from booking.notifications import deliver
    from booking.services.tours import TourApplication, request_tour

    with app.app_context():
        tour, _ = request_tour(db(), policy(), now(), TourApplication(
            guided=True, starts=[local(start)], organisation="Sint-Jozefscollege", contact_name="Els Peeters",
            email="els@school.example", phone="0470 12 34 56", pupils=18, adults=2, group_kind="secondary",
            language="nl", tour_language="fr"))
        names = [guide.name for guide in tour.guides]
        deliver(db(), now())
        return tour.reference, names


def test_a_guide_marks_a_day_away_from_the_emailed_link_and_the_next_request_holds_another_guide(
        live_server, browser: Browser, smtp_server):
    from booking.context import db
    from booking.models import Guide

    app = live_server.app
    with app.app_context():
        # Anna speaks fewer languages, so she is chosen first while she is free.
        db().add_all([Guide(name="Anna Claes", language_codes="fr,nl", email=ANNA, language="nl"),
                      Guide(name="Luc Dupont", language_codes="fr,nl,en", email=LUC, language="fr")])
        db().commit()
    reference, names = _request(app, "2027-03-15T10:00")
    assert names == ["Anna Claes"]
    email = next(m for m in smtp_server.wait_for(2) if m["To"] == ANNA)
    assert "BEGIN:VCALENDAR" in calendar_part(email)
    link = re.search(re.escape(live_server.url) + r"/guide/[\w-]+", plain_text(email)).group(0)

    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Uw rondleidingen, Anna Claes")
    expect(page.locator("#tours")).to_be_visible()
    assert reference in page.content()
    page.fill("#day", "2027-03-17")
    page.check("#part-0")  # the whole day
    page.fill("#note", "Op reis")
    page.click("button.primary")
    expect(page.locator(".flash-success")).to_contain_text("Opgeslagen")
    expect(page.locator("ul.away")).to_contain_text("woensdag 17 maart 2027")
    page.close()

    _reference, names = _request(app, "2027-03-17T10:00")
    assert names == ["Luc Dupont"]
    with app.app_context():
        from booking.models import GuideUnavailability

        entry = db().query(GuideUnavailability).one()
        assert (entry.day, entry.part, entry.note, entry.conflict) == (dt.date(2027, 3, 17), "day", "Op reis", False)
