"""The front desk in headless Chromium: a typical day's sheet prints on one A4 page; check-in on a tablet.

The app runs as a real HTTP server on loopback with CSRF on; staff sign in through the real form.
SQLite only (tests/browser_fixtures.py).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
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
TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}
NAMES = ["Marie-Christine Van den Bossche", "Mohamed El Amrani-Vermeulen", "Anne-Sophie de Wouters d'Oplinter",
         "Jean-Baptiste Vandenberghe", "Fatima Zahra Benali", "Pieter-Jan Goossens", "Léa Dumont-Lambert",
         "Wouter Van Hoeylandt"]
NOTES = ["", "Wheelchair user: needs the lift to the first floor", "", "One visitor is hard of hearing",
         "We come with a pushchair and a toddler", ""]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/staff/login?lang=en")
    page.locator("#email").fill(STAFF_EMAIL)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/calendar"))


@pytest.fixture
def typical_day(live_server, session, guides) -> str:
    """Tuesday 16 March: four groups (three guided) and forty individual bookings, long names and needs."""
    from booking.context import now, policy, rules
    from booking.models import Booking
    from booking.services import SlotFull
    from booking.services.bookings import VisitRequest, book_visit
    from booking.services.staff import create_staff
    from booking.services.tours import TourApplication, confirm_tour, request_tour

    groups = [
        ("2027-03-16T09:00", True, "fr", 20, "Athénée Royal d'Anderlecht – section secondaire", "primary"),
        ("2027-03-16T09:00", True, "nl", 18, "Sint-Jozefscollege Hasselt, derde graad", "secondary"),
        ("2027-03-16T11:00", False, None, 24, "Haute École Bruxelles-Brabant, histoire", "higher"),
        ("2027-03-16T13:00", True, "en", 19, "European School Brussels IV, Year 5", "secondary"),
    ]
    with live_server.app.app_context():
        for index, (start, guided, language, pupils, organisation, kind) in enumerate(groups):
            tour, _ = request_tour(session, policy(), now(), TourApplication(
                guided=guided, starts=[local(start)], organisation=organisation,
                contact_name="Sophie Lambert-Vandamme", email="sophie@school.example", phone="+32 470 11 22 33",
                pupils=pupils, adults=2, group_kind=kind, language="fr", tour_language=language,
                duration_minutes=None if guided else 120, leader_name="Jan Vermeersch",
                needs="Two pupils use wheelchairs; one is hard of hearing and stays near the guide." if index % 2
                else "Allergies: no food in the rooms; a quiet break halfway, please."))
            if index < 3:
                confirm_tour(session, policy(), now(), tour.id)
        hours = [f"2027-03-16T{hour:02d}:00" for hour in range(9, 17)]
        booked = 0
        attempt = 0
        while booked < 40:
            start = hours[attempt % len(hours)]
            attempt += 1
            try:
                book_visit(session, rules(), now(), VisitRequest(
                    start=local(start), party_size=1 + attempt % 4, name=NAMES[attempt % len(NAMES)],
                    email=f"visitor{attempt}@example.be", language="fr", note=NOTES[attempt % len(NOTES)]))
            except SlotFull:
                continue
            booked += 1
        session.execute(sa.update(Booking).values(phone="+32 475 12 34 56"))
        session.commit()
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD, name="Front desk")
    return "2027-03-16"


def test_a_typical_day_sheet_prints_on_one_a4_page(live_server, browser: Browser, typical_day, tmp_path):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/staff/day/{typical_day}/sheet?lang=en")
        tables = page.locator("table.sheet-table")
        expect(tables.nth(0).locator("tbody tr")).to_have_count(4)
        expect(tables.nth(1).locator("tbody tr")).to_have_count(40)
        pdf = page.pdf(format="A4", print_background=False)
    finally:
        context.close()
    (tmp_path / "day-sheet.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert pages == 1, f"the day sheet prints on {pages} pages (see {tmp_path / 'day-sheet.pdf'})"


@contextmanager
def todays_page_on_a_tablet(browser: Browser, base: str):
    """A tablet signed in, on the day page of today (Monday 1 March 2027)."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels", **TABLET)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, base)
        page.get_by_role("link", name=re.compile(r"Mon 1 Mar")).click()
        yield page
    finally:
        context.close()


def test_check_in_on_a_tablet_updates_the_row_without_a_reload(live_server, browser: Browser, session):
    from booking.context import now, rules
    from booking.models import AuditEntry, Booking
    from booking.services.bookings import VisitRequest, book_visit
    from booking.services.staff import create_staff

    app = live_server.app
    with app.app_context():
        booking, _ = book_visit(session, rules(), now(), VisitRequest(
            start=local("2027-03-01T10:00"), party_size=2, name="Anne Martin", email="anne@example.be",
            language="fr"))
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD)
    with todays_page_on_a_tablet(browser, live_server.url) as page:
        row = page.locator(f"#booking-{booking.id}")
        page.evaluate("() => { window.notReloaded = true; }")
        row.get_by_role("button", name="Arrived").tap()
        expect(row.locator(".attendance")).to_have_text("✓ Arrived at 09:00")
        expect(row.get_by_role("button", name="Undo")).to_be_focused()
        assert page.evaluate("() => window.notReloaded") is True
        row.get_by_role("button", name="Undo").tap()
        expect(row.get_by_role("button", name="No-show")).to_be_visible()
        assert page.evaluate("() => window.notReloaded") is True
    with app.app_context():
        session.expire_all()
        assert session.get(Booking, booking.id).attendance is None
        actions = session.scalars(sa.select(AuditEntry.details).where(AuditEntry.action == "booking.attendance")
                                  .order_by(AuditEntry.id)).all()
        assert actions == [{"attendance": "arrived", "previous": None}, {"attendance": None, "previous": "arrived"}]


def test_walk_in_buttons_count_on_a_tablet_without_a_reload(live_server, browser: Browser, session):
    from booking.models import Slot
    from booking.services.staff import create_staff

    app = live_server.app
    with app.app_context():
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD)
    with todays_page_on_a_tablet(browser, live_server.url) as page:
        hour = page.locator("#slot-1000-walk-ins")
        page.evaluate("() => { window.notReloaded = true; }")
        hour.get_by_role("button", name="+1 walk-in").tap()
        expect(hour.locator(".attendance")).to_have_text("1 walk-in (without a booking)")
        hour = page.locator("#slot-1000-walk-ins")
        hour.get_by_label("Walk-ins").fill("4")
        hour.get_by_role("button", name="Add").tap()
        expect(page.locator("#slot-1000-walk-ins .attendance")).to_have_text("5 walk-ins (without a booking)")
        page.locator("#slot-1000-walk-ins").get_by_role("button", name="−1 (undo)").tap()
        expect(page.locator("#slot-1000-walk-ins .attendance")).to_have_text("4 walk-ins (without a booking)")
        assert page.evaluate("() => window.notReloaded") is True
    with app.app_context():
        session.expire_all()
        assert session.scalars(sa.select(Slot.walk_ins)).all() == [4]


# --- the desk's working screen: check-in by reference ---------------------------------------------------

DESK_WIDTHS = {"desktop": {"width": 1280, "height": 900}, "small laptop": {"width": 1024, "height": 768},
               "tablet upright": {"width": 768, "height": 1024}}


def _first_booking_and_group(app, session):
    from booking.models import Booking, TourRequest

    with app.app_context():
        booking = session.scalars(sa.select(Booking).order_by(Booking.start, Booking.id)).first()
        tour = session.scalars(sa.select(TourRequest).where(TourRequest.status == "confirmed")
                               .order_by(TourRequest.start, TourRequest.id)).first()
        session.commit()
        return (booking.id, booking.reference), (tour.id, tour.reference)


def test_the_desk_checks_parties_in_by_typing_their_reference(live_server, browser: Browser, session, typical_day,
                                                              clock, tmp_path):
    from booking.models import Booking, TourRequest

    app = live_server.app
    (booking_id, reference), (tour_id, group_reference) = _first_booking_and_group(app, session)
    clock.set(local("2027-03-16T09:40"))  # the typical day is today
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels", viewport=DESK_WIDTHS["desktop"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/staff/day/{typical_day}?lang=en")
        field = page.get_by_role("textbox", name="Reference")
        expect(field).to_be_focused()  # a scanner types into it at once
        page.evaluate("() => { window.notReloaded = true; }")
        outcome = page.locator("[data-outcome]")

        field.fill(f" {reference.lower().replace('-', ' ')} ")
        field.press("Enter")
        expect(outcome).to_contain_text(f"{reference} · ")
        expect(outcome).to_contain_text("arrived, checked in at 09:40.")
        expect(page.locator(f"#booking-{booking_id} .attendance")).to_have_text("✓ Arrived at 09:40")
        expect(field).to_have_value("")
        expect(field).to_be_focused()

        field.fill(reference)
        field.press("Enter")
        expect(outcome).to_contain_text("already arrived at 09:40.")
        field.fill("NMR-XXXXXX")
        field.press("Enter")
        expect(outcome).to_have_text("No booking or group has the reference NMR-XXXXXX.")
        page.get_by_role("button", name="Check in", exact=True).focus()
        field.fill(group_reference)
        page.get_by_role("button", name="Check in", exact=True).click()
        expect(outcome).to_contain_text(f"{group_reference} · ")
        expect(page.locator(f"#tour-{tour_id} .attendance")).to_have_text("✓ Arrived at 09:40")
        assert page.evaluate("() => window.notReloaded") is True
        # No camera in this browser's world: the Scan button stays hidden, typing works.
        assert page.get_by_role("button", name="Scan", exact=True).count() == 0

        for name, viewport in DESK_WIDTHS.items():
            page.set_viewport_size(viewport)
            page.screenshot(path=str(tmp_path / f"day-{viewport['width']}.png"), full_page=False)
            page.screenshot(path=str(tmp_path / f"day-{viewport['width']}-whole.png"), full_page=True)
            sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
            assert sizes["scroll"] <= sizes["inner"], f"the day scrolls sideways on a {name}: {sizes}"
        print(f"\nscreenshots: {tmp_path}")
    finally:
        context.close()
    with app.app_context():
        session.expire_all()
        assert session.get(Booking, booking_id).attendance == "arrived"
        assert session.get(TourRequest, tour_id).attendance == "arrived"


def test_without_javascript_the_reference_field_posts_and_the_page_says_whose_it_is(
        live_server, browser: Browser, session, typical_day, clock):
    (booking_id, reference), _group = _first_booking_and_group(live_server.app, session)
    clock.set(local("2027-03-16T09:40"))
    context = browser.new_context(locale="fr-BE", timezone_id="Europe/Brussels", java_script_enabled=False,
                                  **TABLET)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/staff/day/{typical_day}?lang=fr")
        page.get_by_role("textbox", name="Référence").fill(reference.lower())
        page.get_by_role("textbox", name="Référence").press("Enter")
        expect(page).to_have_url(re.compile(rf"/staff/day/{typical_day}#checkin$"))
        expect(page.locator(".flash-success")).to_contain_text("arrivée enregistrée à 09:40.")
        expect(page.locator(f"#booking-{booking_id} .attendance")).to_have_text("✓ Arrivée enregistrée à 09:40")
        sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
        assert sizes["scroll"] <= sizes["inner"], f"the day scrolls sideways on a tablet: {sizes}"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_axe_finds_no_violation_on_the_desks_day(live_server, browser: Browser, session, typical_day, clock,
                                                 lang):
    from axe_playwright_python.sync_playwright import Axe

    (_booking, reference), _group = _first_booking_and_group(live_server.app, session)
    clock.set(local("2027-03-16T09:40"))
    context = browser.new_context(locale={"fr": "fr-BE", "en": "en-GB"}[lang], timezone_id="Europe/Brussels",
                                  viewport=DESK_WIDTHS["small laptop"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/staff/day/{typical_day}?lang={lang}")
        page.locator("#checkin-reference").fill(reference)
        page.locator("#checkin-reference").press("Enter")
        expect(page.locator("[data-outcome]")).not_to_be_empty()  # axe sees the answer too
        page.locator("details.waiting-list").evaluate_all("(all) => all.forEach(d => { d.open = true; })")
        options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
                   "resultTypes": ["violations"]}
        violations = Axe().run(page, options=options).response["violations"]
    finally:
        context.close()
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"][:5]]) for v in violations]


# A browser with a camera and the Barcode Detection API, as on a phone: the camera is a canvas stream
# and the detector reads the code it is told to, so the test needs neither a camera nor a QR in front of it.
FAKE_CAMERA = """
window.BarcodeDetector = class {
  static getSupportedFormats() { return Promise.resolve(["qr_code", "ean_13"]); }
  constructor(options) { this.formats = options.formats; }
  detect(source) {
    window.detectedFrom = source.tagName;
    return Promise.resolve(window.codeInView ? [{rawValue: window.codeInView, format: "qr_code"}] : []);
  }
};
navigator.mediaDevices.getUserMedia = (constraints) => {
  window.cameraAsked = constraints.video.facingMode;
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, 10, 10);
  return Promise.resolve(canvas.captureStream());
};
"""


def test_where_the_browser_reads_qr_codes_the_scan_button_checks_the_party_in(live_server, browser: Browser,
                                                                             session, typical_day, clock):
    from booking.models import Booking

    (booking_id, reference), _group = _first_booking_and_group(live_server.app, session)
    clock.set(local("2027-03-16T09:40"))
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels", **TABLET)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(FAKE_CAMERA)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/staff/day/{typical_day}?lang=en")
        scan = page.get_by_role("button", name="Scan", exact=True)
        scan.tap()
        expect(scan).to_have_attribute("aria-pressed", "true")
        expect(page.locator("[data-scan-view] video")).to_have_count(1)
        page.evaluate("(code) => { window.codeInView = code; }", reference)  # the visitor shows the phone
        expect(page.locator("[data-outcome]")).to_contain_text("arrived, checked in at 09:40.")
        expect(page.locator(f"#booking-{booking_id} .attendance")).to_have_text("✓ Arrived at 09:40")
        expect(page.locator("[data-scan-view]")).to_be_hidden()  # the camera is off again
        expect(scan).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("() => [window.cameraAsked, window.detectedFrom]") == ["environment", "VIDEO"]
    finally:
        context.close()
    with live_server.app.app_context():
        session.expire_all()
        assert session.get(Booking, booking_id).attendance == "arrived"
