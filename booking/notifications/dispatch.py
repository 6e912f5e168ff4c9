"""Deliver the emails a request queued, after its response, so the visitor never waits for SMTP."""

from __future__ import annotations

from flask import after_this_request, current_app

from booking.context import db, now, state


def deliver_after_commit() -> None:
    """Send this request's queued emails once the response is out; the worker retries what fails."""
    ids = db().info.pop("queued_emails", [])
    if not ids or not current_app.config["MAIL_DELIVER_AFTER_COMMIT"]:
        return
    app = current_app._get_current_object()

    @after_this_request
    def _schedule(response):
        def _deliver():
            from booking.notifications import deliver

            with app.app_context():
                session = state().sessions()
                try:
                    deliver(session, now(), ids=ids)
                except Exception:  # delivery must never break a response; the worker retries
                    app.logger.exception("delivery after commit failed")
                finally:
                    session.close()

        response.call_on_close(_deliver)
        return response
