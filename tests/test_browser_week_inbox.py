"""The week and the requests inbox in headless Chromium, as the front desk uses them on a desktop screen.

A member of staff reads a group's name in its hour of the week, opens the hour and the day, and confirms
a tour request from the inbox. axe-core finds nothing on either page in French and English, and at
1024 px (and 1280 px) neither scrolls sideways. The app runs as a real HTTP server on loopback with
CSRF on; SQLite only (tests/browser_fixtures.py).
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import local

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser
app = browser_fixtures.app

STAFF_EMAIL, STAFF_PASSWORD = "desk@museum.example", "correct horse battery"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
LOCALES = {"fr": "fr-BE", "en": "en-GB"}


@pytest.fixture
def week_of_groups(live_server, session, guides) -> dict[str, str]:
    """The week of Monday 15 March: a pending guided request, a confirmed group, bookings, a closed hour."""
    from booking.context import now, policy, rules
    from booking.models import Closure
    from booking.schedule import to_utc
    from booking.services.bookings import VisitRequest, book_visit
    from booking.services.staff import create_staff
    from booking.services.tours import TourApplication, confirm_tour, request_tour

    def group(start: str, organisation: str, language: str, pupils: int):
        tour, _ = request_tour(session, policy(), now(), TourApplication(
            guided=True, starts=[local(start)], organisation=organisation, contact_name="Sophie Lambert",
            email="sophie@school.example", phone="+32 470 11 22 33", pupils=pupils, adults=2,
            group_kind="secondary", language="fr", tour_language=language, needs="Un élève en fauteuil roulant."))
        return tour

    with live_server.app.app_context():
        pending = group("2027-03-16T10:00", "Sint-Lukas Brussel", "nl", 20)
        confirmed = group("2027-03-18T13:00", "Athénée Royal d'Anderlecht", "fr", 18)
        confirm_tour(session, policy(), now(), confirmed.id)
        for hour, size in (("09", 6), ("10", 8), ("10", 7), ("14", 4)):
            book_visit(session, rules(), now(), VisitRequest(
                start=local(f"2027-03-16T{hour}:00"), party_size=size, name="Anne Martin", email="anne@example.be",
                language="fr"))
        session.add(Closure(kind="closed", start_at=to_utc(local("2027-03-17T12:00")),
                            end_at=to_utc(local("2027-03-17T13:00")),
                            reasons={"fr": "Formation du personnel", "en": "Staff training"}))
        session.commit()
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD, name="Front desk")
    return {"pending": pending.reference, "confirmed": confirmed.reference}


def sign_in(page: Page, base: str, lang: str = "en") -> None:
    browser_fixtures.sign_in(page, base, STAFF_EMAIL, STAFF_PASSWORD, lang)


def assert_no_horizontal_scroll(page: Page, width: int) -> None:
    sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert sizes == {"scroll": width, "inner": width}, f"{page.url} scrolls sideways: {sizes}"


def test_staff_read_a_group_in_its_hour_open_the_day_and_confirm_a_request(
        live_server, browser: Browser, session, week_of_groups):
    from booking.models import TourRequest

    base = live_server.url
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, base)
        page.get_by_label("Week of the date").fill("2027-03-17")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Week of 15 March 2027")

        # The group's name, size, language and guide are in its hour, with the hour's fill as text.
        ten = page.locator('a.cell[href="/staff/day/2027-03-16#slot-1000"]')
        expect(ten).to_contain_text("Sint-Lukas Brussel")
        expect(ten).to_contain_text("20 + 2 · NL")
        expect(ten).to_contain_text("37 / 50")  # 15 visitors and the group of 22
        expect(ten).to_contain_text("provisional")
        expect(page.locator('a.cell[href="/staff/day/2027-03-17#slot-1200"]')).to_have_text(
            re.compile(r"Closed: Staff training"))
        table_width = page.locator("table.week").evaluate("table => table.getBoundingClientRect().width")
        assert table_width > 1200, f"the week is {table_width} px wide in a 1280 px window"
        assert_no_horizontal_scroll(page, 1280)

        # One click opens the hour in its day; the day's name opens the day.
        ten.click()
        expect(page).to_have_url(f"{base}/staff/day/2027-03-16#slot-1000")
        expect(page.locator("main")).to_contain_text("Sint-Lukas Brussel")
        page.go_back()
        page.get_by_role("link", name="Tue 16 Mar", exact=True).click()
        expect(page).to_have_url(f"{base}/staff/day/2027-03-16")
        # The desk's day is wider than a reading page: its header and footer keep to its column.
        edges = page.evaluate("""() => [".site-header .wrap", "main", ".site-footer .wrap"].map(
            selector => Math.round(document.querySelector(selector).getBoundingClientRect().left))""")
        assert len(set(edges)) == 1, f"header, day and footer start at {edges} px"

        # The inbox: the pending request's card, its guides with their languages, then Confirm.
        page.get_by_role("navigation", name="Back office").get_by_role("link", name="Group requests").click()
        card = page.locator("article.card").filter(
            has=page.get_by_role("heading", name=re.compile(week_of_groups["pending"])))
        expect(card).to_have_count(1)
        expect(card).to_contain_text("20 pupils + 2 adults")
        expect(card).to_contain_text("Un élève en fauteuil roulant.")
        expect(card.locator(".guide-choices li")).to_have_count(2)
        expect(card.locator(".guide-choices")).to_contain_text("held for this request")
        expect(card.locator(".guide-choices")).to_contain_text("FR · NL · EN")
        assert_no_horizontal_scroll(page, 1280)
        card.get_by_role("button", name="Confirm", exact=True).click()
        expect(page.locator(".flash-success")).to_contain_text(f"{week_of_groups['pending']} is confirmed")
        expect(page.locator("article.card")).to_have_count(0)
        page.locator(".state-tabs").get_by_role("link", name=re.compile("^Confirmed")).click()
        expect(page.locator("article.card h2")).to_contain_text([week_of_groups["pending"],
                                                                 week_of_groups["confirmed"]])
    finally:
        context.close()
    session.expire_all()
    statuses = {tour.reference: tour.status for tour in session.query(TourRequest)}
    assert statuses == {week_of_groups["pending"]: "confirmed", week_of_groups["confirmed"]: "confirmed"}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_week_and_inbox_have_no_wcag_violations_and_fit_1024_pixels(lang, live_server, browser: Browser,
                                                                    week_of_groups):
    base = live_server.url
    axe = Axe()
    problems = []
    for width in (1024, 1280):
        context = browser.new_context(locale=LOCALES[lang], timezone_id="Europe/Brussels",
                                      viewport={"width": width, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            sign_in(page, base, lang)
            for path in ("/staff/calendar?date=2027-03-15", "/staff/calendar", "/staff/requests",
                         "/staff/requests?state=confirmed"):
                page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                expect(page.locator("html")).to_have_attribute("lang", lang)
                sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, "
                                      "inner: window.innerWidth})")
                if sizes["scroll"] > sizes["inner"]:
                    problems.append(f"{path} at {width} px scrolls sideways: {sizes}")
                if width == 1024:
                    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
                    problems += [f"{path}: [{v['id']}] {v['help']}: "
                                 + "; ".join(node["html"][:160] for node in v["nodes"][:5]) for v in violations]
        finally:
            context.close()
    assert not problems, "\n".join(problems)
