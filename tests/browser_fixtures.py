"""Fixtures shared by the Playwright tests: the live app on SQLite, and Debian's headless Chromium.

A browser test module binds them to module-level names, which is how pytest finds them:

    from tests import browser_fixtures

    database_url = browser_fixtures.database_url
    live_server = browser_fixtures.live_server
    browser = browser_fixtures.browser
    app = browser_fixtures.app  # where the test seeds data through conftest's fixtures

With `app` bound, conftest's fixtures that take it (`session`, `guides`, `staff_user`, `policy`) act
on the live server's app, as the browser sees it.

`database_url` replaces conftest's fixture (and its PostgreSQL parameter) for the importing module, so
its tests run once, on a SQLite file of their own, whatever TEST_DATABASE_URL is.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error, Page, expect, sync_playwright

from booking import create_app
from booking.db import Base
from tests.conftest import _fresh_schema
from tests.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    """SQLite only, overriding conftest's fixture (and its PostgreSQL parameter) for the importing module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'test.sqlite3'}"
    _fresh_schema(url)
    return url


@pytest.fixture
def live_server(smtp_config):
    """The app, with mail to the SMTP server and links to itself, served on 127.0.0.1 in a thread."""

    def build(base_url: str):
        return create_app({**smtp_config, "PUBLIC_BASE_URL": base_url, "WTF_CSRF_ENABLED": True})

    server = LiveServer.serving(build)
    yield server
    server.stop()
    engine = server.app.extensions["booking"].engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def app(live_server):
    """The live server's app, in place of conftest's own."""
    return live_server.app


@pytest.fixture
def browser():
    """Debian's Chromium, headless; a launch failure fails the test rather than skipping it."""
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Error as error:
            problem = f"Chromium could not be launched from {CHROMIUM}: {error.message}"
        else:
            problem = None
        if problem:
            pytest.fail(problem, pytrace=False)
        yield chromium
        chromium.close()


def sign_in(page: Page, base: str, email: str, password: str, lang: str = "en") -> None:
    """Sign a member of staff in through the login form, and wait until it lets them in."""
    page.goto(f"{base}/staff/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile("/staff/login"))
