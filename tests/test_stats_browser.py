"""The statistics page in Chromium at the front desk's widths: six charts beside their tables, nothing
scrolling sideways at 1024 px or 1280 px, with a year of visits, groups and walk-ins."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Browser, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS
from tests.test_staff_reports import add_group, add_visit
from tests.test_stats_charts import add_slot

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser

STAFF_EMAIL, STAFF_PASSWORD = "stats@museum.example", "correct horse battery"


def seed_a_year(session) -> None:
    """Visits on the open days of January and February 2027, some marked, some walk-ins; groups of each kind."""
    from booking import schedule
    from booking.context import rules
    from booking.services.staff import create_staff
    from tests.conftest import local

    rng = random.Random(15)
    day = local("2027-01-04T00:00").date()
    while day.month < 3:
        if schedule.calendar_closure(day, rules()) is None:
            for hour in (9, 10, 11, 13, 14, 15):
                start = f"{day.isoformat()}T{hour:02d}:00"
                people = 0
                for _ in range(rng.randint(0, 4)):
                    size = rng.randint(1, 6)
                    people += size
                    add_visit(session, start, size, attendance=rng.choice(["arrived", "arrived", "no_show", None]))
                add_slot(session, start, people, walk_ins=rng.randint(0, 6))
        day = day.fromordinal(day.toordinal() + 1)
    for start, kind, language in (("2027-01-12T10:00", "primary", "fr"), ("2027-01-19T13:00", "secondary", "nl"),
                                  ("2027-02-09T10:00", "higher", "en"), ("2027-02-16T13:00", "adults", "de")):
        add_group(session, start, 20, 2, group_kind=kind, tour_language=language, attendance="arrived")
    add_group(session, "2027-02-23T10:00", 18, 2, guided=False, group_kind="primary")
    create_staff(session, STAFF_EMAIL, STAFF_PASSWORD, name="Statistics", role="staff")


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_statistics_page_fits_the_desk_screen(width, live_server, browser: Browser):
    from booking.context import db

    with live_server.app.app_context():
        seed_a_year(db())
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        browser_fixtures.sign_in(page, live_server.url, STAFF_EMAIL, STAFF_PASSWORD)
        page.goto(f"{live_server.url}/staff/stats?lang=en&year=2027")
        charts = page.locator("svg.chart[role=img]")
        expect(charts).to_have_count(6)
        sizes = page.evaluate("""() => ({
            scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
            charts: [...document.querySelectorAll('svg.chart')].map(svg => svg.getBoundingClientRect().width) })""")
        assert sizes["scroll"] <= sizes["inner"], sizes
        assert all(300 <= chart_width <= width for chart_width in sizes["charts"]), sizes
        expect(page.locator("#visitors-month-chart rect.series-0")).to_have_count(2)  # January and February
        expect(page.locator("#occupancy-chart text.cell")).to_have_count(40)  # 5 days × 8 hours
    finally:
        context.close()
