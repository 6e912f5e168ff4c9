"""Fixtures: an app on SQLite and (with TEST_DATABASE_URL) PostgreSQL, a clock the tests set, factories."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient

from booking import create_app, schedule
from booking.clock import FixedClock
from booking.db import Base, create_engine, normalise_url
from booking.schedule import Rules
from tests import hypothesis_profiles  # noqa: F401  (registers and loads the Hypothesis profile)

BRUSSELS = Rules().tz
# Monday 1 March 2027, 09:00 in Brussels: every test's "now" unless it moves the clock.
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=BRUSSELS)
SECRET = "test-secret-key-not-for-production"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def local(text: str) -> dt.datetime:
    """A Brussels wall-clock time written as ISO 8601, as an aware datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


class BufferedClient(FlaskClient):
    """Reads and closes every response as a real server does, so call_on_close work runs."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        if has_app_context():
            # The `session` fixture keeps an app context open, which Flask reuses for every request:
            # without this, one request's signed-in user and locale (cached in `g`) would leak into
            # the next. The database session stays shared, as the tests read what requests wrote.
            for name in [name for name in vars(g) if name != "db_session"]:
                g.pop(name)
        return super().open(*args, **kwargs)


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def _postgres_url() -> str:
    """TEST_DATABASE_URL, with a database per xdist worker so parallel runs do not collide."""
    url = sa.make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    suffix = _worker_suffix()
    if not suffix:
        return url.render_as_string(hide_password=False)
    name = f"{url.database}{suffix}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _fresh_schema(url: str) -> None:
    """Drop whatever a previous run left, then build the schema with the migrations."""
    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url, "CHECK_SCHEMA": False, "TESTING": True})
    with app.app_context():
        from booking.cli import upgrade_database

        upgrade_database(app)
    app.extensions["booking"].engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    else:
        url = _postgres_url()
    _fresh_schema(url)
    return url


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def config_overrides(database_url, clock, mail_dir) -> dict:
    """What every test app gets; a test may extend it before `app` is built."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "MAIL_SERVER": None,
        "MAIL_FILE_DIR": str(mail_dir),
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://museum.test",
        # Tests move the clock by days with a member of staff signed in; the expiry has its own tests.
        "STAFF_SESSION_HOURS": 24 * 400,
        "RATELIMIT_ENABLED": False,  # tests/test_abuse.py switches limits on
        "SESSION_COOKIE_SECURE": False,  # the test client and browsers use plain http
    }


@pytest.fixture
def app(config_overrides):
    app = create_app(config_overrides)
    app.test_client_class = BufferedClient
    yield app
    engine = app.extensions["booking"].engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session inside the app's context, for calling services directly."""
    with app.app_context():
        from booking.context import db

        yield db()


@pytest.fixture
def db_session(app):
    """A database session of the test's own, opened outside any app context: for reading what requests
    committed (roll back or expire first) without the app context's session (`session`), whose
    objects may be those a request has just changed."""
    db_session = app.extensions["booking"].sessions()
    yield db_session
    db_session.close()


@pytest.fixture
def rules(app) -> Rules:
    return app.extensions["booking"].rules


@pytest.fixture
def book(app, session, rules, clock):
    """Book a visit through the service: book("2027-03-02T10:00", party_size=3)."""
    from booking.services.bookings import VisitRequest, book_visit

    def _book(start: str, party_size: int = 2, name: str = "Anne Martin", email: str = "anne@example.be",
              language: str = "en", note: str = ""):
        booking, _created = book_visit(session, rules, clock.now(), VisitRequest(
            start=local(start), party_size=party_size, name=name, email=email, language=language, note=note,
        ))
        return booking

    return _book


def slot_booked(session, start: str) -> int:
    """How many places the slot starting at `start` (Brussels) has taken, 0 if it has no row."""
    from booking.models import Slot

    value = session.scalar(sa.select(Slot.booked).where(Slot.start == schedule.to_utc(local(start))))
    session.commit()
    return value or 0


@pytest.fixture
def smtp_server():
    """A running SMTP server on loopback; point the app at it with `smtp_config`."""
    from tests.smtp import RecordingSMTPServer

    server = RecordingSMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_config(smtp_server, config_overrides) -> dict:
    """Config overrides that send mail through `smtp_server`; extend before using `app`."""
    config_overrides.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT": 5})
    return config_overrides


@pytest.fixture
def guides(session):
    """The default roster: two guides who speak French, Dutch and English, one also German."""
    from booking.models import Guide

    roster = [Guide(name="Pieter Janssens", language_codes="fr,nl,en"),
              Guide(name="Marie Dubois", language_codes="fr,nl,en,de")]
    session.add_all(roster)
    session.commit()
    return roster


@pytest.fixture
def policy(app):
    with app.app_context():
        from booking.context import policy

        return policy()


@pytest.fixture
def request_tour(session, policy, clock):
    """Request a group visit through the service, e.g. request_tour("2027-03-16T10:00", pupils=25)."""
    from booking.services.tours import TourApplication
    from booking.services.tours import request_tour as service

    def _request(*starts: str, pupils: int = 20, adults: int = 2, guided: bool = True, tour_language: str = "fr",
                 group_kind: str = "secondary", language: str = "nl", duration_minutes: int | None = None,
                 organisation: str = "Sint-Jozefscollege"):
        tour, _created = service(session, policy, clock.now(), TourApplication(
            guided=guided, starts=[local(s) for s in starts], organisation=organisation,
            contact_name="Els Peeters", email="els@school.example", phone="+32 470 12 34 56", pupils=pupils,
            adults=adults, group_kind=group_kind, language=language,
            tour_language=tour_language if guided else None, duration_minutes=duration_minutes,
        ))
        return tour

    return _request


STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_user(session):
    """A signed-up member of staff (role "staff"); password STAFF_PASSWORD."""
    from booking.services.staff import create_staff

    return create_staff(session, "desk@museum.example", STAFF_PASSWORD, name="Desk Agent")


@pytest.fixture
def admin_user(session):
    """An admin; password STAFF_PASSWORD."""
    from booking.services.staff import create_staff

    return create_staff(session, "admin@museum.example", STAFF_PASSWORD, role="admin", name="Admin")


CSRF_TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path`, as a browser would send it back."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_TOKEN.search(page)
    assert match, page
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = STAFF_PASSWORD, with_csrf: bool = False):
    """Post the real sign-in form (in English); `with_csrf` when the app checks CSRF tokens."""
    data = {"email": email, "password": password}
    if with_csrf:
        data["csrf_token"] = csrf_token(client, "/staff/login?lang=en")
    return client.post("/staff/login?lang=en", data=data)


def signed_in(app, user, with_csrf: bool = False) -> FlaskClient:
    """A new test client signed in as `user` through the real sign-in form."""
    client = app.test_client()
    response = sign_in(client, user.email, with_csrf=with_csrf)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def staff_client(app, staff_user):
    return signed_in(app, staff_user)


@pytest.fixture
def admin_client(app, admin_user):
    return signed_in(app, admin_user)
