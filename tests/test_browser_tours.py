"""End to end in headless Chromium: a teacher requests a guided tour on a phone, then staff confirm it.

The app runs as a real HTTP server on loopback, with CSRF on, and sends its emails to a real SMTP server
(tests/smtp.py). SQLite only: the database_url taken from tests/browser_fixtures.py replaces conftest's, so
the test runs once whatever TEST_DATABASE_URL is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.smtp import calendar_part, plain_text

pytestmark = pytest.mark.browser

# The shared fixtures, bound here so that pytest finds them for this module.
database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser
app = browser_fixtures.app

REFERENCE = re.compile(r"GRP-[346789ABCDEFGHJKMNPQRTUVWXY]{6}")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TEACHER = "sophie@school.example"
STAFF_EMAIL, STAFF_PASSWORD = "desk@museum.example", "correct horse battery"


@pytest.fixture
def staff_account(live_server) -> tuple[str, str]:
    from booking.context import db
    from booking.services.staff import create_staff

    with live_server.app.app_context():
        create_staff(db(), STAFF_EMAIL, STAFF_PASSWORD, name="Front desk")
    return STAFF_EMAIL, STAFF_PASSWORD


_FRENCH = Translations.load(str(Path(__file__).resolve().parent.parent / "translations"), ["fr"])


def fr(text: str) -> str:
    """What the French pages say for `text`, from the app's own catalog."""
    translated = _FRENCH.gettext(text)
    assert translated != text, f"no French translation for {text!r}"
    return translated


def _assert_no_horizontal_scroll(page: Page, width: int) -> None:
    """Nothing sticks out sideways: the page is exactly as wide as the phone's screen."""
    sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert sizes["inner"] == width, sizes
    assert sizes["scroll"] <= sizes["inner"], sizes


def _stored_tour(session, reference: str) -> dict:
    from booking.models import TourRequest

    tour = session.scalars(sa.select(TourRequest).where(TourRequest.reference == reference)).one()
    stored = {"status": tour.status, "language": tour.language, "tour_language": tour.tour_language,
              "guided": tour.guided, "pupils": tour.pupils, "adults": tour.adults, "group_kind": tour.group_kind,
              "guides": sorted(g.name for g in tour.guides)}
    session.commit()  # end the read transaction, so the next read sees what the server wrote since
    return stored


def test_a_teacher_requests_a_tour_on_a_phone_and_staff_confirm_it(live_server, smtp_server, browser: Browser,
                                                                  session, guides, staff_account):
    base = live_server.url
    app = live_server.app

    # --- the teacher, on a phone: home page → request form -------------------------------------------
    phone = browser.new_context(locale="fr-BE", timezone_id="Europe/Brussels", **PHONE)
    phone.set_default_timeout(TIMEOUT_MS)
    page = phone.new_page()
    page.goto(f"{base}/fr/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("link", name=fr("Request a guided tour for a group")).click()
    expect(page).to_have_url(f"{base}/fr/groups")
    expect(page.get_by_role("heading", name=fr("Request a group visit"), level=1)).to_be_visible()
    _assert_no_horizontal_scroll(page, 390)

    page.get_by_role("radio", name=fr("Guided tour (2 hours, with a guide)")).check()
    page.get_by_label(fr("Preferred date"), exact=True).fill("2027-03-16")
    page.get_by_label(fr("Preferred start time"), exact=True).select_option("10:00")
    page.get_by_label(fr("Language of the tour"), exact=True).select_option("en")
    page.get_by_label(fr("Kind of group"), exact=True).select_option("secondary")
    page.get_by_label(fr("Number of pupils or participants"), exact=True).fill("24")
    page.get_by_label(fr("Number of accompanying adults"), exact=True).fill("2")
    page.get_by_label(fr("School or organisation"), exact=True).fill("Athénée Royal d'Anderlecht")
    page.get_by_label(fr("Postcode"), exact=True).fill("1070")
    page.get_by_label(fr("Contact person"), exact=True).fill("Sophie Lambert")
    page.get_by_label(fr("Email address"), exact=True).fill(TEACHER)
    page.get_by_label(fr("Mobile phone"), exact=True).fill("+32 470 11 22 33")
    consent = "I have read the privacy notice and agree that these details are kept to organise the visit."
    page.get_by_label(fr(consent)).check()
    _assert_no_horizontal_scroll(page, 390)
    page.get_by_role("button", name=fr("Send my request")).click()

    # --- the private page: held, not yet confirmed ----------------------------------------------------
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/g/{REFERENCE.pattern}/[\w-]+$"))
    expect(page.get_by_text(fr("Request received."), exact=True)).to_be_visible()
    expect(page.locator(".reference")).to_contain_text(REFERENCE)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    reference = REFERENCE.search(page.locator(".reference").inner_text()).group(0)
    private_url = page.url
    _assert_no_horizontal_scroll(page, 390)
    assert _stored_tour(session, reference) == {
        "status": "pending", "language": "fr", "tour_language": "en", "guided": True, "pupils": 24, "adults": 2,
        "group_kind": "secondary", "guides": ["Marie Dubois", "Pieter Janssens"]}

    # --- two emails: "request received" to the teacher, a notification to the museum ------------------
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2, [m["To"] for m in messages]
    museum_email = app.config["MUSEUM_NOTIFY_EMAIL"]
    assert sorted(m["To"] for m in messages) == sorted([TEACHER, museum_email])
    received = next(m for m in messages if m["To"] == TEACHER)
    notification = next(m for m in messages if m["To"] == museum_email)
    assert reference in received["Subject"] and reference in plain_text(received)
    assert reference in notification["Subject"] or reference in plain_text(notification)
    assert not [p for p in received.iter_attachments() if p.get_content_type() == "text/calendar"]
    links = re.findall(rf"{re.escape(base)}/g/{re.escape(reference)}/[^\s/]+", plain_text(received))
    assert links == [private_url], plain_text(received)

    # --- staff, at a desk: sign in, find the request, confirm it with the held guides -----------------
    desk = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels", **DESKTOP)
    desk.set_default_timeout(TIMEOUT_MS)
    staff = desk.new_page()
    staff.goto(f"{base}/staff/login")
    staff.get_by_label("Email address").fill(staff_account[0])
    staff.get_by_label("Password").fill(staff_account[1])
    staff.get_by_role("button", name="Sign in").click()
    expect(staff).not_to_have_url(re.compile("/staff/login"))
    staff.goto(f"{base}/staff/requests")

    card = staff.locator("article.card").filter(has=staff.get_by_role("heading", name=re.compile(reference)))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Athénée Royal d'Anderlecht")
    for guide in guides:
        expect(card.get_by_label(guide.name, exact=True)).to_be_checked()
    card.get_by_role("button", name="Confirm", exact=True).click()

    expect(staff).to_have_url(f"{base}/staff/requests")
    expect(staff.locator(".flash-success")).to_contain_text(f"{reference} is confirmed")
    expect(staff.locator("article.card")).to_have_count(0)
    staff.locator(".state-tabs").get_by_role("link", name=re.compile("^Confirmed")).click()
    expect(staff.locator("article.card")).to_contain_text(reference)
    desk.close()
    assert _stored_tour(session, reference)["status"] == "confirmed"

    # --- the teacher opens the link from the first email: confirmed -----------------------------------
    page.goto(links[0])
    expect(page.get_by_text(fr("Your group visit is confirmed."), exact=True)).to_be_visible()
    expect(page.locator(".reference")).to_contain_text(reference)
    _assert_no_horizontal_scroll(page, 390)
    phone.close()

    # --- the confirmation email, with the calendar entry -----------------------------------------------
    messages = smtp_server.wait_for(3)
    assert len(messages) == 3, [m["To"] for m in messages]
    confirmation = messages[2]
    assert confirmation["To"] == TEACHER
    assert [m["To"] for m in messages].count(TEACHER) == 2
    assert reference in confirmation["Subject"]
    ics = calendar_part(confirmation)
    assert "METHOD:REQUEST" in ics
    assert reference in ics


def _offered_times(page: Page, label: str) -> list[str]:
    """The start times a person can pick: the options neither hidden nor disabled."""
    return page.get_by_label(label, exact=True).evaluate(
        "select => Array.from(select.options).filter(o => !o.hidden && !o.disabled).map(o => o.value)")


def test_the_group_form_offers_only_the_times_and_the_length_that_fit_the_kind_of_visit(live_server,
                                                                                         browser: Browser, guides):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Brussels", **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/en/groups")
    length = page.get_by_role("group", name="Length of a self-guided visit")
    language = page.get_by_label("Language of the tour", exact=True)
    every_hour = [f"{hour:02d}:00" for hour in range(9, 17)]

    # Guided (the default): a 2-hour tour starts at 15:00 at the latest, and its length is not asked.
    expect(page.get_by_role("radio", name="Guided tour (2 hours, with a guide)")).to_be_checked()
    for label in ("Preferred start time", "First alternative start time", "Second alternative start time"):
        assert _offered_times(page, label) == every_hour[:-1]
    expect(length).to_be_hidden()
    expect(language).to_be_visible()

    # Self-guided: the length appears; two hours still end by 17:00, one hour may start at 16:00.
    page.get_by_role("radio", name="Self-guided visit (no guide)").check()
    expect(length).to_be_visible()
    expect(language).to_be_hidden()
    expect(page.get_by_role("radio", name="2 hours", exact=True)).to_be_checked()
    assert _offered_times(page, "Preferred start time") == every_hour[:-1]
    page.get_by_role("radio", name="1 hour", exact=True).check()
    assert _offered_times(page, "Preferred start time") == every_hour
    page.get_by_label("Preferred start time", exact=True).select_option("16:00")

    # Back to guided: 16:00 is no longer offered, and the choice moves to the last time that fits.
    page.get_by_role("radio", name="Guided tour (2 hours, with a guide)").check()
    assert "16:00" not in _offered_times(page, "Preferred start time")
    expect(page.get_by_label("Preferred start time", exact=True)).to_have_value("15:00")
    expect(length).to_be_hidden()
    context.close()

    # Without JavaScript every choice shows, and the server answers for what does not fit.
    plain = browser.new_context(locale="en-GB", java_script_enabled=False, **DESKTOP)
    plain.set_default_timeout(TIMEOUT_MS)
    page = plain.new_page()
    page.goto(f"{live_server.url}/en/groups")
    assert _offered_times(page, "Preferred start time") == every_hour
    expect(page.get_by_role("group", name="Length of a self-guided visit")).to_be_visible()
    plain.close()
