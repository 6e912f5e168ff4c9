"""Emails go out once the transaction that queued them commits, whoever committed it; a rollback sends nothing.

The routes here are the test's own: they call services and commit, and never ask for delivery, as
no view of the app does (booking/notifications/dispatch.py hooks the session's commit).
"""

from __future__ import annotations

import sqlalchemy as sa

from booking.db import write_transaction
from booking.models import OutboxMessage, enqueue_email, take_queued
from tests.conftest import local


class Refused(Exception):
    pass


def _visit():
    from booking.services.bookings import VisitRequest

    return VisitRequest(start=local("2027-03-02T10:00"), party_size=2, name="Anne Martin",
                        email="anne@example.be", language="en")


def _add_routes(app):
    from booking.context import db, now, rules
    from booking.services.bookings import book_visit

    @app.post("/test/book")
    def test_book():
        booking, _created = book_visit(db(), rules(), now(), _visit())
        return booking.reference

    @app.post("/test/rolled-back")
    def test_rolled_back():
        try:
            with write_transaction(db()):
                enqueue_email(db(), "visit_confirmed", recipient="bram@example.be", language="en", now=now())
                raise Refused()
        except Refused:
            pass
        left = take_queued(db())
        return {"queued_after_rollback": left}


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def test_a_service_commit_in_a_request_sends_its_email_with_no_view_asking(smtp_config, smtp_server, app, session):
    _add_routes(app)
    response = app.test_client().post("/test/book")
    assert response.status_code == 200
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1 and messages[0]["To"] == "anne@example.be"
    assert response.get_data(as_text=True) in messages[0]["Subject"]
    [row] = _outbox(session)
    assert (row.status, row.message_id) == ("sent", messages[0]["Message-ID"])


def test_a_rolled_back_transaction_sends_nothing_and_forgets_its_queue(smtp_config, smtp_server, app, session):
    _add_routes(app)
    response = app.test_client().post("/test/rolled-back")
    assert response.status_code == 200 and response.get_json() == {"queued_after_rollback": []}
    smtp_server.wait_for(1, timeout=0.5)
    assert smtp_server.messages == [] and _outbox(session) == []


def test_outside_a_request_the_worker_sends_what_a_commit_queued(smtp_config, smtp_server, app, session, rules,
                                                                 clock, runner):
    from booking.services.bookings import book_visit

    book_visit(session, rules, clock.now(), _visit())
    assert take_queued(session) == []  # the commit took its queue: nothing lingers for a later request
    assert [row.status for row in _outbox(session)] == ["pending"]
    assert "sent 1," in runner.invoke(args=["outbox", "send"]).output
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["anne@example.be"]


def test_the_message_id_domain_is_configured_or_else_the_senders(app, config_overrides):
    from booking import create_app
    from booking.context import db, now, rules
    from booking.services.bookings import book_visit

    for extra, domain in (({"MAIL_DEFAULT_SENDER": "Museum desk <desk@museum.example>"}, "museum.example"),
                          ({"MAIL_DEFAULT_SENDER": ("Museum desk", "desk@museum.example"),
                            "MAIL_MESSAGE_ID_DOMAIN": "mail.museum.example"}, "mail.museum.example")):
        other = create_app({**config_overrides, **extra})
        with other.app_context():
            book_visit(db(), rules(), now(), _visit())
            assert _outbox(db())[-1].message_id.endswith(f"@{domain}>")
        other.extensions["booking"].engine.dispose()
