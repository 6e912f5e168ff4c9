"""Performance budgets that hold on any machine: SQL statements per request, and bytes per page.

Statements are counted with SQLAlchemy's before_cursor_execute event on the app's engine, one
request at a time, each in its own app context as under a real server (a new session, closed at
the end). They include SQLite's BEGIN, which the app issues itself; PostgreSQL's BEGIN is implicit
in psycopg and its pool's pre-ping is not a cursor statement, so neither is counted there.
Emails are left to the worker (MAIL_DELIVER_AFTER_COMMIT off, as bench/ runs the app), so a
booking's count is its own transaction. The pages' counts must not grow with the history: the
same request costs the same statements with 10 bookings in the database and with 10,000.

The staff week and day views, the requests inbox and the statistics page are measured with a
signed-in client, on a week that also holds two groups (one guided, with its guides; one on the day
measured), so their counts cover every query the views make; the statistics over the year that holds
the whole history (its charts and its occupancy by weekday and hour included).
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
import re
import uuid
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bench.seed import open_slot_starts, seed_slots
from booking import schedule
from booking.models import Booking
from tests.conftest import NOW, local, signed_in

PAGE_BUDGET = 3  # statements for the month calendar and the day page
BOOKING_BUDGET = 8  # statements for a booking POST, JSON or form
STAFF_WEEK_BUDGET = 5  # statements for the staff week view: the user, then slots with closures, groups, guides
STAFF_DAY_BUDGET = 6  # statements for the staff day view (the desk's working screen)
STAFF_INBOX_BUDGET = 6  # statements for the requests inbox, guides' languages and free hours included
STATS_BUDGET = 6  # statements for the staff statistics page: a year of figures, charts and occupancy
TRANSFER_BUDGET = 30_000  # bytes, gzip-compressed: the booking page and what it loads
HISTORY = 10_000


@pytest.fixture
def config_overrides(config_overrides):
    return {**config_overrides, "MAIL_DELIVER_AFTER_COMMIT": False}


@contextmanager
def recorded_statements(app):
    engine = app.extensions["booking"].engine
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def measure(app, send, expected_status: int) -> list[str]:
    """The statements of one request, sent in a fresh app context that is torn down afterwards."""
    with recorded_statements(app) as statements, app.app_context():
        response = send()
    assert response.status_code == expected_status, response.get_data(as_text=True)[:500]
    return list(statements)


def requests_of(client, round_: int, staff_client=None) -> dict:
    """name -> (send, expected status, budget); each round books other slots (3 and 4 March)."""
    day = f"2027-03-{3 + round_:02d}"
    staff = {} if staff_client is None else {
        "staff week view GET /staff/calendar?date=2027-03-15": (
            lambda: staff_client.get("/staff/calendar?date=2027-03-15"), 200, STAFF_WEEK_BUDGET),
        "staff day view GET /staff/day/2027-03-16": (
            lambda: staff_client.get("/staff/day/2027-03-16"), 200, STAFF_DAY_BUDGET),
        "staff statistics GET /staff/stats?year=2027": (
            lambda: staff_client.get("/staff/stats?year=2027"), 200, STATS_BUDGET),
        "staff requests inbox GET /staff/requests": (
            lambda: staff_client.get("/staff/requests"), 200, STAFF_INBOX_BUDGET),
        "staff requests inbox, a state and dates GET /staff/requests?state=waiting&from=…&to=…": (
            lambda: staff_client.get("/staff/requests?state=waiting&from=2027-03-15&to=2027-03-19"), 200,
            STAFF_INBOX_BUDGET)}
    return {**staff,
        "month calendar GET /en/visit?month=2027-03": (
            lambda: client.get("/en/visit?month=2027-03"), 200, PAGE_BUDGET),
        "day page GET /en/visit/2027-03-02": (lambda: client.get("/en/visit/2027-03-02"), 200, PAGE_BUDGET),
        "booking POST /api/bookings": (
            lambda: client.post("/api/bookings", json={
                "start": f"{day}T10:00:00+01:00", "party_size": 3, "name": "Anne Martin",
                "email": "anne@example.be", "language": "en"}), 201, BOOKING_BUDGET),
        "booking POST /en/book (form)": (
            lambda: client.post("/en/book", data={
                "start": f"{day}T11:00", "party_size": "2", "name": "Luc Peeters", "email": "luc@example.be",
                "consent": "y", "form_id": uuid.uuid4().hex}), 302, BOOKING_BUDGET),
    }


def grow_history(session, rules, total: int) -> None:
    """Bulk-insert bookings up to `total`, in past and future slots with room, as bench/ seeds them."""
    today = schedule.local_today(NOW, rules)
    kept_free = {schedule.to_utc(local(f"2027-03-0{day}T{hour}:00")) for day in (3, 4) for hour in (10, 11)}
    past = [s for s in open_slot_starts(rules, dt.date(2026, 6, 1), today) if s <= NOW]
    future = [s for s in open_slot_starts(rules, today, schedule.last_bookable_day(NOW, rules))
              if s > NOW and s not in kept_free]
    rng = random.Random(10_000)
    connection = session.connection()
    existing = connection.scalar(sa.select(sa.func.count()).select_from(Booking))
    future_share = (total - existing) * 3 // 10
    seed_slots(connection, rules, NOW, future, 0.2, 0.6, rng, max_bookings=future_share)
    existing = connection.scalar(sa.select(sa.func.count()).select_from(Booking))
    seed_slots(connection, rules, NOW, past, 0.6, 0.95, rng, max_bookings=total - existing)
    session.commit()


def booking_count(session) -> int:
    count = session.scalar(sa.select(sa.func.count()).select_from(Booking))
    session.commit()
    return count


@pytest.fixture
def quick_cleanup(app):
    """TRUNCATE on PostgreSQL after the test: the app fixture's row-by-row DELETE of 10,000 bookings is
    slow there, each row's ON DELETE CASCADE scanning the outbox (outbox.booking_id has no index)."""
    yield
    engine = app.extensions["booking"].engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "TRUNCATE outbox, audit_entry, waitlist_entry, guide_assignment, tour_request, booking, slot, closure")


def test_statement_counts_stay_the_same_with_10000_bookings_and_within_budget(
        app, client, session, book, rules, quick_cleanup, guides, request_tour, staff_user):
    staff_client = signed_in(app, staff_user)
    request_tour("2027-03-16T09:00", pupils=20)
    request_tour("2027-03-17T13:00", pupils=30, adults=2, guided=False, duration_minutes=120)
    for start in ("2027-03-02T09:00", "2027-03-02T10:00", "2027-03-02T14:00", "2027-03-05T10:00",
                  "2027-03-08T09:00", "2027-03-09T15:00", "2027-03-16T10:00", "2027-03-22T11:00",
                  "2027-04-06T13:00", "2027-05-10T09:00"):
        book(start, party_size=2)
    session.commit()
    assert booking_count(session) == 10
    measure(app, lambda: client.get("/api/availability?from=2027-03-01&to=2027-03-01"), 200)  # connect first

    small = {name: measure(app, send, status)
             for name, (send, status, _budget) in requests_of(client, 0, staff_client).items()}
    grow_history(session, rules, HISTORY)
    assert booking_count(session) == HISTORY
    large = {name: measure(app, send, status)
             for name, (send, status, _budget) in requests_of(client, 1, staff_client).items()}

    problems = []
    for name, (_send, _status, budget) in requests_of(client, 0, staff_client).items():
        print(f"{app.extensions['booking'].engine.dialect.name}: {name}: {len(small[name])} statements with 10 "
              f"bookings, {len(large[name])} with {HISTORY:,} (budget {budget})")
        for statement in large[name]:
            print(f"    {statement[:200]}")
        listing = "\n".join(f"    {statement[:160]}" for statement in large[name])
        if len(small[name]) != len(large[name]):
            small_listing = "\n".join(f"    {statement[:160]}" for statement in small[name])
            problems.append(f"{name}: {len(small[name])} statements with 10 bookings, {len(large[name])} with "
                            f"{HISTORY:,}:\n  10:\n{small_listing}\n  {HISTORY:,}:\n{listing}")
        if len(large[name]) > budget:
            problems.append(f"{name}: {len(large[name])} statements, budget {budget}:\n{listing}")
    assert not problems, "\n".join(problems)


class LinkedAssets(HTMLParser):
    """The stylesheets, scripts and fonts (preloaded or not) that a page makes a browser fetch."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").lower().split()
        if tag == "link" and attributes.get("href") and (
                "stylesheet" in rel or "preload" in rel or "modulepreload" in rel or "icon" in rel):
            self.urls.append(attributes["href"])
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"])


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def test_the_booking_page_with_everything_it_loads_stays_under_30_kb_gzipped(client):
    page_url = "/en/book?start=2027-03-02T10:00"
    page = client.get(page_url)
    assert page.status_code == 200
    sizes = {page_url: len(gzip.compress(page.data))}
    parser = LinkedAssets()
    parser.feed(page.get_data(as_text=True))
    queue = [urljoin(page_url, url) for url in parser.urls]
    while queue:
        url = queue.pop(0)
        if url.startswith("data:") or url in sizes:
            continue
        parts = urlsplit(url)
        assert not parts.netloc, f"the page loads {url} from another site; the budget cannot be checked"
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        sizes[url] = len(gzip.compress(response.data))
        if parts.path.endswith(".css"):
            for match in CSS_URL.finditer(response.get_data(as_text=True)):
                queue.append(urljoin(url, match.group(1) or match.group(2)))
    total = sum(sizes.values())
    detail = ", ".join(f"{url}: {size:,} B" for url, size in sizes.items())
    print(f"booking page transfer, gzipped: {total:,} bytes ({detail})")
    assert total <= TRANSFER_BUDGET, f"{total:,} bytes gzipped > {TRANSFER_BUDGET:,}: {detail}"
