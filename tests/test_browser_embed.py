"""In Chromium: the snippet on a page of another origin (the museum's website) shows the coming days
and links each hour to the booking page, in the page's language; an origin not listed sees the link.

The museum's site is a second HTTP server on loopback, reached as `localhost` while the app is
`127.0.0.1`: two origins, so the browser applies CORS for real.
"""

from __future__ import annotations

import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import render_template
from playwright.sync_api import Browser, expect

from tests import browser_fixtures
from tests.browser_fixtures import TIMEOUT_MS

pytestmark = pytest.mark.browser

database_url = browser_fixtures.database_url
live_server = browser_fixtures.live_server
browser = browser_fixtures.browser


class Site:
    """A static website on loopback: pages written to a folder and served as they are."""

    def __init__(self, directory):
        self.directory = directory
        handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *args: None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, lang: str, snippet: str) -> str:
        (self.directory / name).write_text(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Museum</title></head>'
            f"<body><h1>Museum</h1>{snippet}</body></html>", encoding="utf-8")
        return f"{self.url}/{name}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def museum_site(tmp_path):
    site = Site(tmp_path)
    yield site
    site.stop()


@pytest.fixture
def stranger_site(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("stranger"))
    yield site
    site.stop()


@pytest.fixture
def config_overrides(config_overrides, museum_site):
    config_overrides["EMBED_ORIGINS"] = (museum_site.url,)
    return config_overrides


def _snippet(app, lang: str) -> str:
    with app.test_request_context():
        return render_template("public/_embed_snippet.html", lang=lang, base=app.config["PUBLIC_BASE_URL"])


@pytest.mark.parametrize("lang, locale, day_name, places, heading", [
    ("fr", "fr-BE", "mardi 2 mars", re.compile(r"^\d\d:\d\d · 50 places$"), "Réservez votre visite"),
    ("en", "en-GB", "Tuesday 2 March", re.compile(r"^\d\d:\d\d · 50 places$"), "Book your visit"),
])
def test_the_snippet_on_the_museums_site_shows_days_and_links_to_the_booking_page(
        live_server, museum_site, browser: Browser, lang, locale, day_name, places, heading):
    url = museum_site.page(f"visit-{lang}.html", lang, _snippet(live_server.app, lang))
    context = browser.new_context(locale=locale, timezone_id="America/New_York")  # any visitor's clock
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(url)
        box = page.locator("[data-nmr-booking]")
        expect(box).to_have_attribute("data-nmr-ready", "")
        days = box.locator(".nmr-day-name")
        expect(days).to_have_count(5)
        expect(days.nth(1)).to_have_text(day_name)  # the day after the app's "now" (Monday 1 March 2027)
        tuesday = box.locator(".nmr-day").nth(1)
        first = tuesday.locator("a").first
        expect(first).to_have_text(places)
        assert first.get_attribute("href").startswith(f"{live_server.url}/{lang}/book?start=2027-03-02T09%3A00")
        first.click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/{lang}/book\?start="))
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    finally:
        context.close()


def test_a_site_not_listed_keeps_the_plain_link(live_server, stranger_site, browser: Browser):
    url = stranger_site.page("visit.html", "fr", _snippet(live_server.app, "fr"))
    context = browser.new_context(locale="fr-BE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        box = page.locator("[data-nmr-booking]")
        expect(box.locator("a")).to_have_count(1)
        expect(box.locator("a")).to_have_attribute("href", f"{live_server.url}/fr/visit")
        assert box.get_attribute("data-nmr-ready") is None
        assert any("/api/availability" in failed_url for failed_url in failed)  # refused by CORS
    finally:
        context.close()
