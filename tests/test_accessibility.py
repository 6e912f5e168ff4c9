"""axe-core in headless Chromium: no WCAG 2.2 A/AA violation on the public, private and staff pages, in each language.

Every page a visitor, a teacher or the front desk sees is checked in French, Dutch, English and German: the
public pages (also the forms after a post with errors, submitted in the browser so that the CSRF token is
valid), a visit's and a tour's private pages (in the booking's language, and with ?lang= in the others), and
the staff sign-in, request list, week, day (with check-in) and day sheet. The app runs as a real HTTP
server on loopback with CSRF on; SQLite only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.conftest import local

pytestmark = pytest.mark.browser

# The shared fixtures, bound here so that pytest finds them for this module.
database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser
app = browser_fixtures.app

LANGUAGES = ["fr", "nl", "en", "de"]
BROWSER_LOCALES = {"fr": "fr-BE", "nl": "nl-BE", "en": "en-GB", "de": "de-BE"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
BOOKING_LANGUAGE = "fr"  # the private pages' own language; the other three are reached with ?lang=
# WCAG 1.4.10 (reflow): content fits 320 CSS px without scrolling sideways.
NARROW_PHONE = {"viewport": {"width": 320, "height": 720}, "is_mobile": True, "has_touch": True}
# On the narrow phone, pages whose content another checked page shows too (the same form with its errors,
# the month calendar under the chosen day) are left out, to keep the module quick.
NARROW_SKIPS = {"booking form", "group form", "staff sign-in", "move page"}
MIN_DETAIL_WIDTH = 160  # px: a booking's detail (a date, an address) stays readable, not a letter per line
STAFF_EMAIL, STAFF_PASSWORD = "desk@museum.example", "correct horse battery"

AXE = Axe()


@dataclass(frozen=True)
class Private:
    """Paths of the private pages, created through the services in the live app's database."""

    visit: str
    tour: str
    proposal: str


@pytest.fixture
def private(live_server, session, guides) -> Private:
    """A visit on Tuesday 2 March at 10:00 and one today, a pending guided tour, a confirmed one, one with another
    time proposed, a staff account."""
    from booking.access import AccessNeeds
    from booking.context import now, policy, rules
    from booking.links import tour_path, visit_path
    from booking.services.bookings import VisitRequest, book_visit
    from booking.services.staff import create_staff
    from booking.services.tours import TourApplication, confirm_tour, propose_time, request_tour

    def tour_application(start: str, organisation: str) -> TourApplication:
        return TourApplication(
            guided=True, starts=[local(start)], organisation=organisation, contact_name="Sophie Lambert",
            email="sophie@school.example", phone="+32 470 11 22 33", pupils=18, adults=2, group_kind="secondary",
            language=BOOKING_LANGUAGE, tour_language="nl", address="Rue Van Lint 1", postcode="1070",
            needs="Un élève en fauteuil roulant.", topic="La presse clandestine.",
            access_needs=AccessNeeds.of(["wheelchair", "hearing"]),
        )

    with live_server.app.app_context():
        visit, _ = book_visit(session, rules(), now(), VisitRequest(
            start=local("2027-03-02T10:00"), party_size=3, name="Anne Martin", email="anne@example.be",
            language=BOOKING_LANGUAGE, note="Une poussette.",
            access_needs=AccessNeeds.of(["mobility", "other"], "Un chien guide")))
        pending, _ = request_tour(session, policy(), now(),
                                  tour_application("2027-03-16T10:00", "Athénée Royal d'Anderlecht"))
        confirmed, _ = request_tour(session, policy(), now(),
                                    tour_application("2027-03-23T13:00", "Sint-Jozefscollege"))
        confirm_tour(session, policy(), now(), confirmed.id)
        proposed, _ = request_tour(session, policy(), now(),
                                   tour_application("2027-03-30T10:00", "Koninklijk Atheneum"))
        propose_time(session, policy(), now(), proposed.id, local("2027-03-31T10:00"))
        # Today's visit, so that the staff day page shows its check-in buttons.
        book_visit(session, rules(), now(), VisitRequest(
            start=local("2027-03-01T11:00"), party_size=2, name="Luc Peeters", email="luc@example.be",
            language="nl", note="Rolstoel.", access_needs=AccessNeeds.of(["wheelchair", "vision"])))
        # An admin, so that the audit log is checked too.
        create_staff(session, STAFF_EMAIL, STAFF_PASSWORD, name="Front desk", role="admin")
        return Private(visit=visit_path(visit), tour=tour_path(pending), proposal=tour_path(proposed))


# --- the pages, each a step that leaves the page as axe should see it -----------------------------------

def _private_query(lang: str) -> str:
    return "" if lang == BOOKING_LANGUAGE else f"?lang={lang}"


def _book_with_errors(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/{lang}/book?start=2027-03-02T10:00")
    page.locator("#name").fill("")
    page.locator("#email").fill("not-an-email")
    page.locator("#access_needs-4").check()  # another need, without saying which
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#access_needs_other-error")).to_be_visible()


def _groups_with_errors(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/{lang}/groups")
    page.locator("#email").fill("not-an-email")
    page.locator("#pupils").fill("0")
    page.locator("#access_needs-0").check()
    page.locator("#access_needs-4").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#access_needs_other-error")).to_be_visible()
    expect(page.locator("#access_needs-0")).to_be_checked()  # what was ticked is kept


def _staff_login_with_errors(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/staff/login?lang={lang}")
    page.locator("#email").fill(STAFF_EMAIL)
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#password-error")).to_be_visible()


def _staff_requests(page: Page, base: str, lang: str) -> None:
    browser_fixtures.sign_in(page, base, STAFF_EMAIL, STAFF_PASSWORD, lang)
    page.goto(f"{base}/staff/requests?lang={lang}")
    # The pending request, its confirm, propose and decline forms in view (axe skips what is not rendered).
    expect(page.locator("article.card")).to_have_count(1)
    expect(page.locator("article.card form")).to_have_count(3)


def _staff_page(page: Page, base: str, lang: str, path: str) -> None:
    """A staff page, signing in first if this browser context is not signed in yet."""
    url = f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"
    page.goto(url)
    if "/staff/login" in page.url:
        page.locator("#email").fill(STAFF_EMAIL)
        page.locator("#password").fill(STAFF_PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page).not_to_have_url(re.compile("/staff/login"))
        page.goto(url)


def _staff_day(page: Page, base: str, lang: str) -> None:
    _staff_page(page, base, lang, "/staff/day/2027-03-01")
    expect(page.locator("form.checkin-form[action*='/checkin/']")).to_have_count(1)
    expect(page.locator(".walk-ins form.checkin-form")).to_have_count(16)  # +1 and +n in each of 8 hours


def _staff_stats(page: Page, base: str, lang: str) -> None:
    """The year's charts, with the tables folded under them opened: axe skips what is not rendered."""
    _staff_page(page, base, lang, "/staff/stats?year=2027")
    expect(page.locator("svg.chart[role=img]")).not_to_have_count(0)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def _embed_demo(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/{lang}/embed")
    expect(page.locator("[data-nmr-ready]")).to_have_count(1)  # the days are shown, links and all


def _pages(base: str, lang: str, private: Private) -> list[tuple[str, Callable[[Page], object]]]:
    def visit(path: str) -> Callable[[Page], object]:
        return lambda page: page.goto(f"{base}{path}")

    query = _private_query(lang)
    joiner = "&" if query else "?"
    return [
        ("home", visit(f"/{lang}/")),
        ("calendar", visit(f"/{lang}/visit")),
        ("day", visit(f"/{lang}/visit/2027-03-02")),
        ("closed day", visit(f"/{lang}/visit/2027-03-29")),
        ("booking form", visit(f"/{lang}/book?start=2027-03-02T10:00")),
        ("booking form with errors", lambda page: _book_with_errors(page, base, lang)),
        ("group form", visit(f"/{lang}/groups")),
        ("group form with errors", lambda page: _groups_with_errors(page, base, lang)),
        ("privacy", visit(f"/{lang}/privacy")),
        ("accessibility statement", visit(f"/{lang}/accessibility")),
        ("the snippet for the museum's website", lambda page: _embed_demo(page, base, lang)),
        ("not found", visit(f"/{lang}/no-such-page")),
        ("visit page", visit(f"{private.visit}{query}")),
        ("move page", visit(f"{private.visit}/move{query}")),
        ("move page, a day chosen", visit(f"{private.visit}/move{query}{joiner}day=2027-03-02")),
        ("tour page", visit(f"{private.tour}{query}")),
        ("tour page with a proposal", visit(f"{private.proposal}{query}")),
        ("cancel group visit question", visit(f"{private.tour}/cancel{query}")),
        ("staff sign-in", visit(f"/staff/login?lang={lang}")),
        ("staff sign-in with errors", lambda page: _staff_login_with_errors(page, base, lang)),
        ("staff requests", lambda page: _staff_requests(page, base, lang)),
        ("staff requests, another time proposed",
         lambda page: _staff_page(page, base, lang, "/staff/requests?state=proposed")),
        ("staff requests, confirmed", lambda page: _staff_page(page, base, lang, "/staff/requests?state=confirmed")),
        ("staff week", lambda page: _staff_page(page, base, lang, "/staff/calendar")),
        ("staff week with groups", lambda page: _staff_page(page, base, lang, "/staff/calendar?date=2027-03-22")),
        ("staff day with check-in", lambda page: _staff_day(page, base, lang)),
        ("staff day with a group", lambda page: _staff_page(page, base, lang, "/staff/day/2027-03-23")),
        ("staff day sheet", lambda page: _staff_page(page, base, lang, "/staff/day/2027-03-23/sheet")),
        ("staff accessibility statement", lambda page: _staff_page(page, base, lang, "/staff/accessibility")),
        ("staff audit log", lambda page: _staff_page(page, base, lang, "/staff/audit")),
        ("staff statistics", lambda page: _staff_stats(page, base, lang)),
        ("staff statistics of an empty month",
         lambda page: _staff_page(page, base, lang, "/staff/stats?year=2030&month=8")),
    ]


# --- reporting ------------------------------------------------------------------------------------------

def _describe(name: str, url: str, violations: list[dict]) -> str:
    lines = [f"{name} ({url}): {len(violations)} violation(s)"]
    for violation in violations:
        lines.append(f"  [{violation['id']}] ({violation.get('impact')}) {violation['help']}")
        lines.append(f"      {violation['helpUrl']}")
        for node in violation["nodes"][:8]:
            lines.append(f"      - {node['target']}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"      … and {len(violation['nodes']) - 8} more node(s)")
    return "\n".join(lines)


def _axe_report(page: Page, name: str) -> tuple[int, str | None]:
    """The number of failing nodes on the page as it is now, and a readable report of them (None if none)."""
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    return sum(len(v["nodes"]) for v in violations), (_describe(name, page.url, violations) if violations else None)


def _reflow_report(page: Page, name: str) -> str | None:
    """At 320 CSS px (WCAG 1.4.10), nothing scrolls sideways and no detail is squeezed into a narrow column."""
    sizes = page.evaluate("""() => ({
        scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        narrowest: Math.min(...[...document.querySelectorAll('dl.details dd')]
                                .map(dd => dd.getBoundingClientRect().width)) })""")
    problems = []
    if sizes["scroll"] > sizes["inner"]:
        problems.append(f"the page scrolls sideways: {sizes['scroll']} px wide in a {sizes['inner']} px window")
    if sizes["narrowest"] < MIN_DETAIL_WIDTH:  # Infinity when the page has no details
        problems.append(f"a detail of a <dl class=details> is only {sizes['narrowest']:.0f} px wide")
    return f"{name} ({page.url}): " + "; ".join(problems) if problems else None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_wcag_violations(lang: str, live_server, browser: Browser, private: Private):
    context = browser.new_context(locale=BROWSER_LOCALES[lang], timezone_id="Europe/Brussels")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    reports, counts = [], {}
    try:
        for name, show in _pages(live_server.url, lang, private):
            show(page)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            counts[name], report = _axe_report(page, name)
            reports += [report] if report else []
    finally:
        context.close()
    print(f"\naxe, {lang}: {sum(counts.values())} failing node(s) on {len(counts)} pages {counts}")
    assert not reports, f"axe found WCAG violations in {lang!r}:\n\n" + "\n\n".join(reports)


def test_no_wcag_violations_on_a_narrow_phone(live_server, browser: Browser, private: Private):
    """German (the longest words) at 320 CSS px: axe again, and the page reflows into one column."""
    lang = "de"
    context = browser.new_context(locale=BROWSER_LOCALES[lang], timezone_id="Europe/Brussels", **NARROW_PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    reports, counts = [], {}
    try:
        for name, show in _pages(live_server.url, lang, private):
            if name in NARROW_SKIPS:
                continue
            show(page)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            counts[name], report = _axe_report(page, name)
            reports += [report for report in (report, _reflow_report(page, name)) if report]
    finally:
        context.close()
    print(f"\naxe, {lang} at 320 px: {sum(counts.values())} failing node(s) on {len(counts)} pages")
    assert not reports, "problems at 320 CSS px:\n\n" + "\n\n".join(reports)
