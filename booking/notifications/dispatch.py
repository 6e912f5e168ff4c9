"""Deliver the emails a transaction queued once it has committed, by itself: no view asks for it.

An `after_commit` hook on the app's sessions takes the ids `enqueue_email` queued; in a request
they are sent after its response, so the visitor never waits for SMTP. A transaction that rolls
back (or a session closed before its commit) sends nothing and forgets its queue. Outside a request
(command-line jobs, the worker) and with MAIL_DELIVER_AFTER_COMMIT off, the worker sends them;
it also retries whatever fails here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, after_this_request, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from booking.models import MESSAGE_ID_DOMAIN, take_queued
from booking.notifications.message import message_id_domain


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    """Give the app's sessions their Message-ID domain and the hooks that deliver after commit."""
    sessions.configure(info={MESSAGE_ID_DOMAIN: message_id_domain(app.config)})

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        ids = take_queued(session)
        if ids and app.config["MAIL_DELIVER_AFTER_COMMIT"] and has_request_context():
            _after_response(app, ids)

    @event.listens_for(sessions, "after_transaction_end")
    def _ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # rolled back or closed (a commit has taken its ids already)
            take_queued(session)


def _after_response(app: Flask, ids: list[int]) -> None:
    """Send `ids` once this request's response is out, with what its other commits queued."""
    waiting = g.get("emails_after_response")
    if waiting is not None:
        waiting.extend(ids)
        return
    g.emails_after_response = waiting = list(ids)

    @after_this_request
    def _schedule(response):
        g.pop("emails_after_response", None)
        response.call_on_close(lambda: _deliver(app, waiting))
        return response


def _deliver(app: Flask, ids: list[int]) -> None:
    """Send `ids`; then finish the erasures that waited for their last email (a visitor who deleted
    their data is sent the cancellation first, and erased once it is out)."""
    from booking.context import now, state
    from booking.notifications import deliver
    from booking.services.privacy import finish_erasures

    with app.app_context():
        session = state().sessions()
        try:
            deliver(session, now(), ids=ids)
            finish_erasures(session, now(), Path(app.config["MAIL_FILE_DIR"]))
        except Exception:  # delivery must never break a response; the worker retries
            app.logger.exception("delivery after commit failed")
        finally:
            session.close()
