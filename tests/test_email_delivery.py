"""Email delivery through a real SMTP server on loopback: content, calendar entries, retries, failure."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

import icalendar
import pytest
import sqlalchemy as sa

from booking.models import Booking, OutboxMessage
from tests.conftest import local
from tests.smtp import RecordingSMTPServer, free_port

BASE_URL = "http://museum.test"
LINK = re.compile(re.escape(BASE_URL) + r"(/b/[A-Z0-9-]+/[A-Za-z0-9_-]+)")


def _form(start: str = "2027-03-02T10:00", **fields) -> dict:
    data = {"start": start, "party_size": "2", "name": "Anne Martin", "email": "anne@example.be",
            "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(fields)
    return data


def _api_body(start: str = "2027-03-02T10:00") -> dict:
    return {"start": start, "party_size": 2, "name": "Anne Martin", "email": "anne@example.be", "language": "en"}


def _calendar(message: EmailMessage) -> icalendar.Calendar:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [part.get_content_type() for part in message.walk()]
    assert parts[0].get_content_disposition() == "attachment"
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def _event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def _plain(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _link_path(message: EmailMessage) -> str:
    match = LINK.search(_plain(message))
    assert match, _plain(message)
    return match.group(1)


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()  # the session keeps objects across commits (expire_on_commit=False)
    rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def _assert_calendar(message: EmailMessage, reference: str, *, method: str, sequence: int, start: str,
                     status: str) -> None:
    calendar = _calendar(message)
    assert str(calendar["METHOD"]) == method
    event = _event(calendar)
    assert str(event["UID"]) == f"{reference}@museumresistance.be"
    assert int(event["SEQUENCE"]) == sequence
    assert event.decoded("DTSTART") == local(start)
    assert str(event["STATUS"]) == status


def test_booking_by_form_sends_one_confirmation_with_calendar_and_private_link(
        smtp_config, smtp_server, app, client, session, runner):
    response = client.post("/en/book", data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    booking = session.scalars(sa.select(Booking)).one()
    session.commit()
    reference = booking.reference

    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert reference in message["Subject"]
    assert message["To"] == "anne@example.be"
    assert message.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in message.walk()]
    assert "multipart/alternative" in types
    assert "text/plain" in types
    assert "text/html" in types
    assert reference in message.get_body(preferencelist=("html",)).get_content()
    _assert_calendar(message, reference, method="REQUEST", sequence=0, start="2027-03-02T10:00",
                     status="CONFIRMED")

    path = _link_path(message)
    assert path == response.headers["Location"]  # the page the form redirected to
    assert f"{BASE_URL}{path}" in _plain(message)
    page = client.get(path)
    assert page.status_code == 200
    assert reference in page.get_data(as_text=True)
    token = path.rsplit("/", 1)[1]
    tampered = path[: -len(token)] + token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(tampered).status_code == 404
    assert client.get(path.replace(reference, "NMR-333333")).status_code == 404

    (row,) = _outbox(session)
    assert row.status == "sent" and row.attempts == 1 and row.last_error is None
    assert message["Message-ID"] == row.message_id

    # Nothing is left to send: a worker pass delivers no duplicate.
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 0" in result.output
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1


def test_booking_by_api_sends_one_confirmation(smtp_config, smtp_server, app, client, session):
    response = client.post("/api/bookings", json=_api_body())
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]

    messages = smtp_server.wait_for(1)
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1
    message = messages[0]
    assert reference in message["Subject"]
    _assert_calendar(message, reference, method="REQUEST", sequence=0, start="2027-03-02T10:00",
                     status="CONFIRMED")
    assert _link_path(message).startswith(f"/b/{reference}/")
    (row,) = _outbox(session)
    assert row.status == "sent"
    assert message["Message-ID"] == row.message_id


def test_move_and_cancel_send_calendar_updates_with_the_same_uid(smtp_config, smtp_server, app, client, session):
    assert client.post("/en/book", data=_form()).status_code == 302
    confirmation = smtp_server.wait_for(1)[0]
    path = _link_path(confirmation)
    reference = path.split("/")[2]

    moved = client.post(f"{path}/move", data={"start": "2027-03-03T14:00"})
    assert moved.status_code == 302, moved.get_data(as_text=True)
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2
    move_message = messages[1]
    assert reference in move_message["Subject"]
    _assert_calendar(move_message, reference, method="REQUEST", sequence=1, start="2027-03-03T14:00",
                     status="CONFIRMED")
    assert _link_path(move_message) == path  # the private link survives the move

    cancelled = client.post(f"{path}/cancel")
    assert cancelled.status_code == 302
    messages = smtp_server.wait_for(3)
    assert len(messages) == 3
    cancel_message = messages[2]
    assert reference in cancel_message["Subject"]
    _assert_calendar(cancel_message, reference, method="CANCEL", sequence=2, start="2027-03-03T14:00",
                     status="CANCELLED")
    attachment = next(part for part in cancel_message.walk() if part.get_content_type() == "text/calendar")
    assert attachment.get_param("method") == "CANCEL"

    page = client.get(path)
    assert page.status_code == 200
    assert "This visit is cancelled." in page.get_data(as_text=True)

    rows = _outbox(session)
    assert [row.kind for row in rows] == ["visit_confirmed", "visit_moved", "visit_cancelled"]
    assert all(row.status == "sent" for row in rows)
    assert [message["Message-ID"] for message in messages] == [row.message_id for row in rows]
    assert len(smtp_server.wait_for(4, timeout=0.5)) == 3


@pytest.fixture
def smtp_down(config_overrides):
    """An SMTP server on a fixed port that is not listening yet; start() it to bring mail back."""
    server = RecordingSMTPServer(free_port())
    config_overrides.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_TIMEOUT": 5})
    yield server
    server.stop()


def test_smtp_down_keeps_the_booking_and_the_worker_delivers_once_it_is_back(
        smtp_down, app, client, session, runner, clock):
    response = client.post("/api/bookings", json=_api_body())
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]
    assert session.scalars(sa.select(Booking).where(Booking.reference == reference)).one().is_active
    session.commit()

    assert smtp_down.raw == []
    (row,) = _outbox(session)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > clock.now()

    # Back-off not over yet: the worker leaves the message alone.
    smtp_down.start()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 0, retrying 0, failed 0" in result.output
    assert smtp_down.raw == []

    clock.advance(minutes=5)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0" in result.output
    messages = smtp_down.wait_for(1)
    assert len(messages) == 1

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 0" in result.output
    assert len(smtp_down.wait_for(2, timeout=0.5)) == 1  # no duplicate

    (row,) = _outbox(session)
    assert row.status == "sent"
    assert row.attempts == 2
    assert row.last_error is None
    assert row.sent_at == clock.now()
    message = messages[0]
    assert message["Message-ID"] == row.message_id
    assert reference in message["Subject"]
    _assert_calendar(message, reference, method="REQUEST", sequence=0, start="2027-03-02T10:00",
                     status="CONFIRMED")


def test_message_fails_after_max_attempts_and_is_never_sent(
        smtp_down, few_attempts, app, client, session, runner, clock):
    assert app.config["MAIL_MAX_ATTEMPTS"] == 3  # few_attempts set it before the app was built
    response = client.post("/api/bookings", json=_api_body())
    assert response.status_code == 201, response.get_json()
    (row,) = _outbox(session)
    assert (row.status, row.attempts) == ("pending", 1)

    clock.advance(minutes=5)
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0, retrying 1, failed 0" in result.output, result.output
    (row,) = _outbox(session)
    assert (row.status, row.attempts) == ("pending", 2)

    clock.advance(minutes=5)
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0, retrying 0, failed 1" in result.output, result.output
    (row,) = _outbox(session)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Connection" in row.last_error or "Errno" in row.last_error, row.last_error

    # A failed message stays failed, even once the server is back.
    smtp_down.start()
    clock.advance(hours=2)
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0, retrying 0, failed 0" in result.output, result.output
    assert len(smtp_down.wait_for(1, timeout=0.5)) == 0
    (row,) = _outbox(session)
    assert (row.status, row.attempts) == ("failed", 3)
    # The booking itself is untouched by the mail failure.
    assert session.scalars(sa.select(Booking)).one().is_active


@pytest.fixture
def few_attempts(config_overrides):
    config_overrides["MAIL_MAX_ATTEMPTS"] = 3
