"""Outbox delivery: render each email in its recipient's language when it is sent, retry with back-off."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field
from pathlib import Path

import flask_mail
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from booking.db import write_transaction
from booking.models import OutboxMessage
from booking.notifications.emails import render

log = logging.getLogger("booking.mail")

LEASE = dt.timedelta(minutes=5)  # a claimed message is retried after this if its worker died
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


class _Connection(flask_mail.Connection):
    """Flask-Mail's connection with a timeout, so a hanging SMTP server cannot stall the worker."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT"]
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _FileTransport:
    """Development delivery: each email becomes an .eml file in MAIL_FILE_DIR."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message: flask_mail.Message) -> None:
        name = message.msgId.strip("<>").split("@")[0]
        (self.directory / f"{name}.eml").write_bytes(message.as_bytes())


def _transport():
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return _FileTransport(config["MAIL_FILE_DIR"])
    return _Connection(current_app.extensions["mail"])


def backoff(attempts: int) -> dt.timedelta:
    base = dt.timedelta(seconds=current_app.config["MAIL_RETRY_BASE_SECONDS"])
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    """Take a due message for this worker; another worker's claim or a sent message makes it False."""
    with write_transaction(session):
        result = session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
                   OutboxMessage.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def _finish(session: Session, message_id: int, **values) -> None:
    with write_transaction(session):
        session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
            .execution_options(synchronize_session=False)
        )


def _describe(row: OutboxMessage) -> str:
    """What a log line says of an email: its id, kind, language and reference; never the address
    (the error text, which may quote it, stays in the outbox row, which the purge clears)."""
    about = row.booking or row.tour or row.waitlist
    reference = f" ref={about.reference}" if about is not None else ""
    return f"id={row.id} kind={row.kind} lang={row.language}{reference}"


def deliver(session: Session, now: dt.datetime, ids: list[int] | None = None, limit: int = 100) -> DeliveryReport:
    """One pass over due messages (or just `ids`): claim, render, send, mark. Never raises for SMTP."""
    report = DeliveryReport()
    if session.in_transaction():
        session.commit()
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
    ).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    with session.begin():
        due = list(session.scalars(query))
    if not due:
        return report

    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    transport = None
    try:
        for message_id in due:
            if not _claim(session, message_id, now):
                continue
            with session.begin():
                row = session.get(OutboxMessage, message_id, populate_existing=True)
                try:
                    message = render(row)
                except Exception as error:  # a bug in a template must not stop the other messages
                    log.exception("could not render outbox message %s", message_id)
                    message, render_error = None, error
                attempts = row.attempts
                about = _describe(row)
            if message is None:
                _finish(session, message_id, status="failed", last_error=f"render: {render_error}"[:500])
                report.failed.append(message_id)
                log.error("email failed %s: could not be rendered", about)
                continue
            try:
                if transport is None:
                    transport = _transport()
                    transport.__enter__()
                transport.send(message)
            except (OSError, smtplib.SMTPException) as error:
                transport = None  # a failed connection is not reused
                error_text = f"{type(error).__name__}: {error}"[:500]
                if attempts >= max_attempts:
                    _finish(session, message_id, status="failed", last_error=error_text)
                    report.failed.append(message_id)
                    log.error("email failed %s after %s attempts: %s", about, attempts, type(error).__name__)
                else:
                    retry_in = backoff(attempts)
                    _finish(session, message_id, next_attempt_at=now + retry_in, last_error=error_text)
                    report.retrying.append(message_id)
                    log.warning("email retrying %s in %ss (attempt %s): %s", about, int(retry_in.total_seconds()),
                                attempts, type(error).__name__)
                if not isinstance(error, smtplib.SMTPRecipientsRefused):
                    break  # the server is down: leave the rest for the next pass
                continue
            _finish(session, message_id, status="sent", sent_at=now, last_error=None)
            report.sent.append(message_id)
            log.info("email sent %s", about)
    finally:
        if transport is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                transport.__exit__(None, None, None)
    return report
