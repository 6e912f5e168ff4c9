"""Running it in production: start-up refusals, /healthz, logs, sessions that end on the server,
private pages never cached, emails marked automatic, and a fresh install that can take guided tours."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking import create_app
from booking.logs import JSONFormatter
from booking.models import AuditEntry, Guide, OutboxMessage, Setting, StaffSession
from booking.services.health import HEARTBEAT, beat
from booking.startup import StartupRefused, head_revision
from tests.conftest import NOW, SECRET, STAFF_PASSWORD, signed_in

ROOT = Path(__file__).resolve().parent.parent


def _upgrade(url: str, revision: str) -> None:
    """Bring a database to `revision` with the app's own migrations."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from booking.db import create_engine

    config = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _previous_revision() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_revision(head_revision()).down_revision


def _flask(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,  # noqa: S603
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False)


# --- start-up -----------------------------------------------------------------------------------------

def test_a_secret_key_shorter_than_32_characters_refuses_to_start(tmp_path):
    with pytest.raises(StartupRefused, match=r"SECRET_KEY is 31 characters long, and at least 32 are needed"):
        create_app({"SECRET_KEY": "k" * 31, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    "CHECK_SCHEMA": False})


def test_missing_compiled_catalogs_refuse_to_start(tmp_path):
    for path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):  # the sources, not compiled
        target = tmp_path / path.relative_to(ROOT / "translations")
        target.parent.mkdir(parents=True)
        shutil.copy(path, target)
    with pytest.raises(StartupRefused, match=r"translations for fr, nl, de are missing.*pybabel compile"):
        create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    "CHECK_SCHEMA": False, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path)})


def test_a_database_behind_the_migrations_refuses_to_serve_until_init_db_has_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'booking.sqlite3'}"
    previous = _previous_revision()
    _upgrade(url, previous)
    with pytest.raises(StartupRefused, match=rf"schema is at revision {previous} and this code needs "
                                             rf"{head_revision()}: run `flask --app wsgi init-db`"):
        create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url})

    env = {"SECRET_KEY": SECRET, "DATABASE_URL": url, "MAIL_FILE_DIR": str(tmp_path / "mail")}
    refused = _flask("worker", env=env)  # the worker would run jobs on a schema it does not know
    assert refused.returncode != 0 and f"revision {previous}" in refused.stderr

    upgraded = _flask("init-db", env=env)  # command-line tasks are exempt: init-db is the way out
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Database is up to date." in upgraded.stdout
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url})
    app.extensions["booking"].engine.dispose()


def test_wsgi_refuses_in_one_sentence_with_gunicorns_boot_error_code(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False,
                            env={**os.environ, "SECRET_KEY": "too-short",
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert result.returncode == 3  # gunicorn stops its master on a worker's boot error
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("The booking app cannot start: SECRET_KEY is 9 characters")


def test_init_db_gives_a_new_database_the_default_guides_once_so_guided_tours_can_be_requested(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {"SECRET_KEY": SECRET, "DATABASE_URL": url, "MAIL_FILE_DIR": str(tmp_path / "mail")}
    first = _flask("init-db", env=env)
    assert first.returncode == 0, first.stderr
    assert "Added the default guides: Guide 1 (fr, nl, en), Guide 2 (fr, nl, en, de)." in first.stdout
    second = _flask("init-db", env=env)
    assert second.returncode == 0 and "Added" not in second.stdout

    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False})
    engine = app.extensions["booking"].engine
    with engine.connect() as connection:
        guides = connection.execute(sa.select(Guide.name, Guide.language_codes, Guide.active)
                                    .order_by(Guide.name)).all()
        added = connection.scalars(sa.select(AuditEntry.action)).all()
    assert [tuple(row) for row in guides] == [("Guide 1", "fr,nl,en", True), ("Guide 2", "fr,nl,en,de", True)]
    assert added == ["guide.add", "guide.add"]
    page = app.test_client().get("/en/groups").get_data(as_text=True)
    assert 'value="guided"' in page and "No guide can take a guided tour" not in page
    engine.dispose()


def test_without_an_active_guide_the_group_form_says_so_and_offers_self_guided_visits(client, session):
    page = client.get("/fr/groups")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Aucun guide ne peut assurer de visite guidée pour le moment" in text
    assert 'value="guided"' not in text
    assert re.search(r'<input checked [^>]*value="self_guided"', text)

    sent = client.post("/en/groups", data={"kind": "guided"})
    assert sent.status_code == 422
    assert re.search(r'id="kind-error">No guide can take a guided tour at the moment[^<]*\+32 2 522 40 41',
                     sent.get_data(as_text=True))


def test_staff_rename_a_default_guide_and_change_their_languages(app, session, staff_client):
    from booking.services.roster import add_default_guides

    first, _second = add_default_guides(session, NOW)
    form = staff_client.get(f"/staff/guides/{first.id}?lang=en").get_data(as_text=True)
    assert 'value="Guide 1"' in form
    saved = staff_client.post(f"/staff/guides/{first.id}", data={"guide-name": "Pieter Janssens",
                                                                   "guide-languages": ["nl", "de"]})
    assert saved.status_code == 302
    session.expire_all()
    guide = session.get(Guide, first.id)
    assert (guide.name, guide.languages) == ("Pieter Janssens", ["nl", "de"])
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "guide.edit")).one()
    assert entry.details["before"] == {"name": "Guide 1", "languages": ["fr", "nl", "en"], "email": None,
                                       "language": "fr"}

    clash = staff_client.post(f"/staff/guides/{first.id}", data={"guide-name": "guide 2", "guide-languages": ["fr"]})
    assert clash.status_code == 422 and "A guide with this name already exists." in clash.get_data(as_text=True)
    assert staff_client.get("/staff/guides/999999").status_code == 404


# --- /healthz -----------------------------------------------------------------------------------------

def _health(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_healthz_is_200_with_every_check_when_the_worker_beats(client, session, clock):
    beat(session, clock.now())
    status, body = _health(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"catalogs", "database", "schema", "outbox", "worker"}
    assert body["checks"]["schema"] == {"ok": True, "revision": head_revision(), "expected": head_revision()}
    assert body["checks"]["outbox"] == {"ok": True, "pending": 0, "oldest_pending_seconds": None}
    assert body["checks"]["worker"] == {"ok": True, "last_heartbeat_seconds": 0}


def test_healthz_names_the_worker_when_it_never_beat_or_stopped_beating(client, session, clock):
    status, body = _health(client)
    assert (status, body["failing"]) == (503, ["worker"])
    assert body["checks"]["worker"] == {"ok": False, "last_heartbeat_seconds": None}

    beat(session, clock.now())
    clock.advance(seconds=120)
    assert _health(client)[0] == 200  # at the limit (WORKER_HEARTBEAT_MAX_SECONDS, 120)
    clock.advance(seconds=1)
    status, body = _health(client)
    assert (status, body["failing"], body["checks"]["worker"]["last_heartbeat_seconds"]) == (503, ["worker"], 121)


@pytest.fixture
def cron_config(config_overrides):
    config_overrides["WORKER_HEARTBEAT_MAX_SECONDS"] = 0
    return config_overrides


def test_without_a_worker_expected_healthz_ignores_the_heartbeat(cron_config, client):
    status, body = _health(client)
    assert status == 200 and body["checks"]["worker"] == {"ok": True, "expected": False}


def test_healthz_names_the_outbox_when_an_email_waits_too_long_and_never_shows_the_address(
        client, session, clock, book):
    beat(session, clock.now())
    book("2027-03-02T10:00", email="zoe.private@example.be")  # its confirmation waits in the outbox
    clock.advance(seconds=900)
    beat(session, clock.now())
    assert _health(client)[1]["checks"]["outbox"] == {"ok": True, "pending": 1, "oldest_pending_seconds": 900}
    clock.advance(seconds=1)
    beat(session, clock.now())
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["outbox"]
    assert "zoe" not in response.get_data(as_text=True) and "@" not in response.get_data(as_text=True)


def test_healthz_names_the_schema_when_the_database_is_at_another_revision(client, session, clock):
    beat(session, clock.now())
    session.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    session.commit()
    try:
        status, body = _health(client)
        assert (status, body["failing"]) == (503, ["schema"])
        assert body["checks"]["schema"]["revision"] == "0001"
    finally:
        session.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
        session.commit()


def test_healthz_names_the_catalogs_when_they_disappear(app, client, session, clock, tmp_path):
    beat(session, clock.now())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    status, body = _health(client)
    assert (status, body["failing"]) == (503, ["catalogs"])
    assert body["checks"]["catalogs"] == {"ok": False, "missing": ["fr", "nl", "de"]}


def test_healthz_names_the_database_when_it_cannot_be_reached(tmp_path):
    app = create_app({"SECRET_KEY": SECRET, "TESTING": True, "CHECK_SCHEMA": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["database"] and body["checks"]["database"]["ok"] is False


def test_healthz_costs_one_statement(app, client, session, clock):
    beat(session, clock.now())
    statements = []
    engine = app.extensions["booking"].engine

    def record(_connection, _cursor, statement, *_args):
        if statement.strip().upper() not in {"BEGIN", "ROLLBACK", "COMMIT"}:
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            assert app.test_client().get("/healthz").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements


def test_two_workers_beating_for_the_first_time_at_once_leave_one_heartbeat(app, session, clock):
    from tests.racing import race

    results = race(app.config["DATABASE_URL"], [(index, _beat_once) for index in range(4)])
    assert sorted(outcome for _key, outcome, _detail in results) == ["beat"] * 4
    session.expire_all()
    rows = session.scalars(sa.select(Setting).where(Setting.key == HEARTBEAT)).all()
    assert len(rows) == 1 and rows[0].updated_at == NOW


def _beat_once(state, session):
    beat(session, state.clock.now())
    return "beat", None


# --- logs ---------------------------------------------------------------------------------------------

def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "booking.request"]


def test_a_private_link_request_logs_one_line_with_its_token_redacted(app, client, book, caplog):
    from booking.links import visit_path

    booking = book("2027-03-02T10:00")
    with app.test_request_context():
        path = visit_path(booking)
    token = path.rsplit("/", 1)[1]
    caplog.set_level(logging.INFO, logger="booking")
    assert client.get(path + "?lang=fr").status_code == 200
    lines = _request_lines(caplog)
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert re.fullmatch(rf"GET /b/{booking.reference}/REDACTED 200 \d+\.\dms ref={booking.reference}", message)
    assert token not in message and token not in json.dumps(lines[0].fields)
    assert lines[0].fields == {"method": "GET", "path": f"/b/{booking.reference}/REDACTED", "status": 200,
                               "duration_ms": lines[0].fields["duration_ms"], "reference": booking.reference}


def test_secrets_in_other_routes_and_in_unknown_paths_are_redacted_too(client, caplog):
    caplog.set_level(logging.INFO, logger="booking")
    client.get("/staff/password/reset/a-reset-token-to-hide")
    client.get("/staff/feed/the-feed-secret-to-hide.ics")
    client.get("/b/NMR-7KQ3PX/some-token-to-hide/no-such-page")
    client.get("/en/visit?month=2027-03&email=someone@example.be")
    messages = [record.getMessage() for record in _request_lines(caplog)]
    assert len(messages) == 4
    assert not [m for m in messages if "hide" in m or "@" in m], messages
    assert messages[0].startswith("GET /staff/password/reset/REDACTED 404")
    assert messages[2].startswith("GET /b/NMR-7KQ3PX/REDACTED 404")
    assert messages[3].startswith("GET /en/visit 200")  # no query string: it can hold a name or an address


def test_a_booking_made_through_the_api_logs_its_reference(client, caplog):
    caplog.set_level(logging.INFO, logger="booking")
    response = client.post("/api/bookings", json={"start": "2027-03-02T10:00:00+01:00", "party_size": 2,
                                                  "name": "Anne Martin", "email": "anne@example.be",
                                                  "language": "fr"})
    assert response.status_code == 201
    line = _request_lines(caplog)[0].getMessage()
    assert line.startswith("POST /api/bookings 201 ") and line.endswith(f"ref={response.get_json()['reference']}")


def test_each_email_sent_retried_or_failed_logs_a_line_without_the_address(smtp_config, app, session, book, clock,
                                                                            caplog, smtp_server):
    from booking.notifications import deliver

    caplog.set_level(logging.INFO, logger="booking")
    booking = book("2027-03-02T10:00", email="private.person@example.be")
    with app.app_context():
        deliver(session, clock.now())
    mail = [record.getMessage() for record in caplog.records if record.name == "booking.mail"]
    assert mail == [f"email sent id={_outbox_id(session)} kind=visit_confirmed lang=en ref={booking.reference}"]

    caplog.clear()
    book("2027-03-02T11:00", email="private.person@example.be")
    smtp_server.stop()
    with app.app_context():
        deliver(session, clock.now())
    mail = [record for record in caplog.records if record.name == "booking.mail"]
    assert len(mail) == 1 and mail[0].levelname == "WARNING"
    assert re.fullmatch(r"email retrying id=\d+ kind=visit_confirmed lang=en ref=NMR-\w{6} in 60s \(attempt 1\): "
                        r"\w+", mail[0].getMessage())
    assert "private.person" not in mail[0].getMessage()


def _outbox_id(session) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.min(OutboxMessage.id)))


def test_json_logs_are_one_object_per_line_with_the_request_fields():
    record = logging.LogRecord("booking.request", logging.INFO, __file__, 1, "GET /fr/ 200 1.0ms", None, None)
    record.fields = {"method": "GET", "path": "/fr/", "status": 200, "duration_ms": 1.0}
    line = JSONFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "booking.request" and entry["level"] == "INFO"
    assert entry["message"] == "GET /fr/ 200 1.0ms" and entry["status"] == 200 and entry["path"] == "/fr/"


# --- sessions that end on the server ---------------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, session, staff_user):
    client = signed_in(app, staff_user)
    copied = _cookie(client)
    assert _with_cookie(app, copied).get("/staff/calendar").status_code == 200

    assert client.post("/staff/logout").status_code == 302
    replayed = _with_cookie(app, copied).get("/staff/calendar")
    assert replayed.status_code == 302 and "/staff/login" in replayed.headers["Location"]
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0


def test_sign_out_everywhere_ends_this_browsers_session_and_every_other(app, session, staff_user):
    desk, tablet = signed_in(app, staff_user), signed_in(app, staff_user)
    other = signed_in(app, _another_staff(session))
    response = desk.post("/staff/logout/everywhere?lang=en")
    assert response.status_code == 302
    follow = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out on 2 browsers." in follow
    for client in (desk, tablet):
        assert client.get("/staff/calendar").status_code == 302
    assert other.get("/staff/calendar").status_code == 200  # another account keeps its session
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.sign_out_everywhere")).one()
    assert entry.details == {"sessions": 2}


def test_an_admin_signs_another_account_out_everywhere(app, session, staff_user, admin_user, admin_client):
    desk = signed_in(app, staff_user)
    response = admin_client.post(f"/staff/accounts/{staff_user.id}/sign-out")
    assert response.status_code == 302
    assert desk.get("/staff/calendar").status_code == 302
    assert admin_client.get("/staff/calendar").status_code == 200
    assert signed_in(app, staff_user).get("/staff/calendar").status_code == 200  # they may sign in again


def test_disabling_an_account_deletes_its_sessions(app, session, staff_user, admin_user, admin_client):
    signed_in(app, staff_user)
    admin_client.post(f"/staff/accounts/{staff_user.id}/disable")
    session.expire_all()
    assert session.scalars(sa.select(StaffSession.user_id)).all() == [admin_user.id]


def test_a_session_older_than_the_sign_in_lifetime_opens_nothing_even_with_a_fresh_cookie(
        app, session, staff_user, clock):
    app.config["STAFF_SESSION_HOURS"] = 10
    client = signed_in(app, staff_user)
    clock.advance(hours=10, seconds=1)
    assert client.get("/staff/calendar").status_code == 302


def _another_staff(session):
    from booking.services.staff import create_staff

    return create_staff(session, "guide.desk@museum.example", STAFF_PASSWORD)


# --- private pages, emails ------------------------------------------------------------------------------

def test_private_link_pages_are_never_stored_by_a_cache(app, client, book, request_tour, guides):
    from booking.links import tour_path, visit_path

    booking = book("2027-03-02T10:00")
    tour = request_tour("2027-03-16T10:00")
    with app.test_request_context():
        paths = [visit_path(booking), visit_path(booking) + "/move", tour_path(tour)]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/fr/").headers.get("Cache-Control", "")


def test_waiting_list_pages_are_never_stored_by_a_cache(app, client, session, rules, clock, book):
    from booking.links import waitlist_path
    from booking.services.capacity import set_slot_capacity
    from booking.services.waitlist import WaitRequest, join_waitlist
    from tests.conftest import local

    book("2027-03-02T10:00", party_size=2)
    set_slot_capacity(session, rules, clock.now(), None, local("2027-03-02T10:00"), 2)  # now full
    entry = join_waitlist(session, rules, clock.now(), WaitRequest(
        start=local("2027-03-02T10:00"), people=2, name="Bart Peeters", email="bart@example.be", language="fr"))
    with app.test_request_context():
        path = waitlist_path(entry)
    response = client.get(path)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_every_email_says_it_was_sent_automatically(app, session, book, clock, mail_dir):
    from booking.notifications import deliver

    book("2027-03-02T10:00")
    with app.app_context():
        deliver(session, clock.now())
    [eml] = list(mail_dir.glob("*.eml"))
    assert "\nAuto-Submitted: auto-generated" in eml.read_text().replace("\r\n", "\n")
