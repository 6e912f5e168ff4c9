"""No email lost: real worker and SMTP server processes, killed mid-delivery (SIGKILL) and restarted.

The worker runs as `python -m flask --app wsgi worker` on the test database; its clock is fixed with
CLOCK_NOW, and each restart moves it on, so leases and back-off expire without waiting for them. The
SMTP server (tests/smtp_process.py) stores every raw delivery it accepts: duplicates are counted by
Message-ID, never merged.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking.models import AuditEntry, OutboxMessage
from tests.conftest import NOW, SECRET
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
LEASE = dt.timedelta(minutes=5)  # booking.notifications.LEASE
BASE = dt.timedelta(seconds=60)  # MAIL_RETRY_BASE_SECONDS


def wait_until(condition, what: str, timeout: float = 60.0):
    """Poll `condition` (a real process is doing the work) until it holds, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class SMTPProcess:
    """tests/smtp_process.py on a fixed port, started, killed and restarted by the test."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, *options: str) -> SMTPProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        for marker in ("ready", "paused", "holding"):
            (self.directory / marker).unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.smtp_process", "--port", str(self.port), "--dir", str(self.directory),
             *options], cwd=ROOT)
        wait_until(lambda: (self.directory / "ready").exists() or self.process.poll() is not None, "SMTP server")
        assert self.process.poll() is None, "the SMTP server did not start"
        return self

    def reached(self, marker: str) -> bool:
        return (self.directory / marker).exists()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None

    def delivered(self) -> list[str]:
        """The Message-ID of every delivery accepted so far, repeats included, in order."""
        ids = []
        for path in sorted(self.directory.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            ids.append(message["Message-ID"])
        return ids


class Worker:
    """`flask --app wsgi worker` as a real process on the test database, with a fixed clock."""

    def __init__(self, database_url: str, smtp: SMTPProcess, log: Path, **config: str):
        self.env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=SECRET, MAIL_SERVER="127.0.0.1",
                        MAIL_PORT=str(smtp.port), MAIL_TIMEOUT="10", MAIL_FILE_DIR=str(log.parent / "mail"),
                        MAIL_RETRY_BASE_SECONDS=str(int(BASE.total_seconds())), PYTHONUNBUFFERED="1", **config)
        self.log = log
        self.process: subprocess.Popen | None = None
        self.runs = 0

    def start(self, clock: dt.datetime) -> Worker:
        self.runs += 1
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.05"],
                cwd=ROOT, env=dict(self.env, CLOCK_NOW=clock.isoformat()), stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None


@pytest.fixture
def smtp_process(tmp_path, config_overrides):
    """The SMTP server process (not started); the test app sends through it too."""
    server = SMTPProcess(tmp_path / "smtp")
    config_overrides.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_TIMEOUT": 5})
    yield server
    server.stop()


@pytest.fixture
def worker(app, database_url, smtp_process, tmp_path):
    process = Worker(database_url, smtp_process, tmp_path / "worker.log")
    yield process
    process.stop()


def _rows(session) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def _queue(book, count: int) -> None:
    """`count` bookings, each with its confirmation queued (due at NOW) and not yet sent."""
    for number in range(count):
        book("2027-03-02T10:00", party_size=1, name=f"Visitor {number}", email=f"visitor{number}@example.be")


def _in_flight(session) -> set[str]:
    """Messages claimed by a worker and not marked: sent or not, the worker did not live to say."""
    return {row.message_id for row in _rows(session) if row.status == "pending" and row.attempts > 0}


def test_killing_the_worker_mid_batch_loses_no_email_and_repeats_at_most_the_one_in_flight(
        app, session, book, smtp_process, worker, tmp_path):
    queued = 20
    _queue(book, queued)
    message_ids = {row.message_id for row in _rows(session)}
    # The 5th message is stored and its 250 held back; the 12th hangs before it is stored.
    smtp_process.start("--pause-after", "5", "--hold-at", "12")

    worker.start(NOW)
    wait_until(lambda: smtp_process.reached("paused"), "the 5th delivery")
    worker.kill()  # accepted by the server, not marked sent: the unavoidable window
    accepted_unmarked = _in_flight(session)
    assert len(accepted_unmarked) == 1
    assert sum(row.status == "sent" for row in _rows(session)) == 4

    worker.start(NOW + LEASE + dt.timedelta(minutes=1))  # the dead worker's lease has run out
    wait_until(lambda: smtp_process.reached("holding"), "the 12th delivery")
    worker.kill()  # mid-delivery, before the server accepted it
    not_accepted = _in_flight(session)
    assert len(not_accepted) == 1 and not_accepted != accepted_unmarked

    worker.start(NOW + 2 * (LEASE + dt.timedelta(minutes=1)))
    wait_until(lambda: all(row.status == "sent" for row in _rows(session)), "every email marked sent")
    worker.stop()

    delivered = smtp_process.delivered()
    counts = Counter(delivered)
    duplicates = {message_id for message_id, n in counts.items() if n > 1}
    print(f"\nworker killed twice mid-batch: queued {queued}, deliveries {len(delivered)}, "
          f"distinct {len(counts)}, duplicates {len(delivered) - len(counts)} (worker runs {worker.runs})")
    assert set(counts) == message_ids  # every email delivered, nothing else
    assert duplicates == accepted_unmarked  # only the one accepted but not marked, once more
    assert counts[next(iter(accepted_unmarked))] == 2
    assert counts[next(iter(not_accepted))] == 1
    assert all(row.last_error is None for row in _rows(session))


def test_killing_the_smtp_server_mid_delivery_backs_off_and_delivers_everything_once_it_is_back(
        app, session, book, smtp_process, worker):
    queued = 8
    _queue(book, queued)
    smtp_process.start("--hold-at", "3")

    worker.start(NOW)
    wait_until(lambda: smtp_process.reached("holding"), "the 3rd delivery")
    smtp_process.kill()  # dies while the worker is sending the 3rd message

    def all_tried(attempts: int, clock: dt.datetime):
        """The messages left, once each has failed `attempts` times (and none is claimed any more)."""
        waiting = [row for row in _rows(session) if row.status != "sent"]
        done = all(row.attempts == attempts and row.last_error and row.next_attempt_at != clock + LEASE
                   for row in waiting)
        return waiting if waiting and done else None

    first = wait_until(lambda: all_tried(1, NOW), "a first failed attempt at every message left")
    worker.stop()
    assert len(first) == queued - 2
    first_wait = first[0].next_attempt_at - NOW
    assert all(row.status == "pending" and row.next_attempt_at == NOW + BASE for row in first)
    assert "Disconnected" in first[0].last_error or "closed" in first[0].last_error, first[0].last_error
    assert "Connection refused" in first[1].last_error or "Errno" in first[1].last_error, first[1].last_error

    second_start = NOW + BASE + dt.timedelta(seconds=1)
    worker.start(second_start)  # still down: each is tried again, and waits twice as long
    second = wait_until(lambda: all_tried(2, second_start), "a second failed attempt at every message left")
    worker.stop()
    assert all(row.next_attempt_at == second_start + 2 * BASE for row in second)
    assert second[0].next_attempt_at - second_start == 2 * first_wait  # the back-off doubles

    smtp_process.start()  # the mail server is back
    worker.start(second_start + 2 * BASE + dt.timedelta(seconds=1))
    wait_until(lambda: all(row.status == "sent" for row in _rows(session)), "every email marked sent")
    worker.stop()

    delivered = smtp_process.delivered()
    counts = Counter(delivered)
    print(f"\nSMTP server killed mid-delivery: queued {queued}, deliveries {len(delivered)}, "
          f"distinct {len(counts)}, duplicates {len(delivered) - len(counts)}")
    assert set(counts) == {row.message_id for row in _rows(session)}
    assert len(delivered) == queued  # the message it died on had not been accepted: no repeat
    assert {row.attempts for row in _rows(session)} == {1, 3}


@pytest.fixture
def few_attempts(config_overrides):
    config_overrides["MAIL_MAX_ATTEMPTS"] = 3


def test_a_message_that_keeps_failing_ends_failed_and_staff_resend_it(
        smtp_process, few_attempts, app, session, book, runner, clock, staff_client, staff_user):
    smtp_process.start("--refuse", "bounce@example.be")
    book("2027-03-02T10:00", name="Anne Martin", email="anne@example.be")
    book("2027-03-02T10:00", name="Bram Peeters", email="bounce@example.be")

    def send() -> str:
        result = runner.invoke(args=["outbox", "send"])
        assert result.exit_code == 0, result.output
        return result.output

    assert "sent 1, retrying 1, failed 0" in send()  # one refused recipient does not hold up the other
    bad = next(row for row in _rows(session) if row.recipient == "bounce@example.be")
    assert (bad.status, bad.attempts, bad.next_attempt_at) == ("pending", 1, clock.now() + BASE)
    page = staff_client.get("/staff/emails?lang=en").get_data(as_text=True)
    assert "bounce@example.be" in page and "Waiting" in page

    clock.advance(seconds=BASE.total_seconds())
    assert "sent 0, retrying 1, failed 0" in send()
    bad = next(row for row in _rows(session) if row.id == bad.id)
    assert (bad.attempts, bad.next_attempt_at) == (2, clock.now() + 2 * BASE)

    clock.advance(seconds=2 * BASE.total_seconds())
    assert "sent 0, retrying 0, failed 1" in send()
    bad = next(row for row in _rows(session) if row.id == bad.id)
    assert (bad.status, bad.attempts) == ("failed", 3)
    assert "550" in bad.last_error
    clock.advance(hours=3)
    assert "sent 0, retrying 0, failed 0" in send()  # failed stays failed

    page = staff_client.get("/staff/emails?lang=en").get_data(as_text=True)
    assert "Failed" in page and "bounce@example.be" in page and "visit_confirmed" in page
    assert "550" in page and ">3<" in page and "Resend" in page
    assert "anne@example.be" not in page  # delivered: not listed
    assert 'href="/staff/emails"' in page  # in the menu

    smtp_process.stop()
    smtp_process.start()  # the recipient's mailbox exists again
    response = staff_client.post(f"/staff/emails/{bad.id}/resend")
    assert response.status_code == 302
    bad = next(row for row in _rows(session) if row.id == bad.id)
    assert (bad.status, bad.attempts, bad.last_error) == ("sent", 1, None)  # delivered after the response
    assert smtp_process.delivered().count(bad.message_id) == 1
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "email.resend")).one()
    assert entry.actor == staff_user.email and entry.details["previous_status"] == "failed"
    assert entry.booking_id == bad.booking_id
    session.commit()
    assert "Every email has been delivered." in staff_client.get("/staff/emails?lang=en").get_data(as_text=True)
    assert staff_client.post(f"/staff/emails/{bad.id}/resend").status_code == 302  # a sent one: refused
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "email.resend")) == 1


def test_two_workers_on_one_outbox_send_each_email_once(app, session, book, smtp_process, database_url, tmp_path):
    """Workers on two hosts share the outbox: each message is claimed by one conditional UPDATE."""
    queued = 40
    _queue(book, queued)
    message_ids = {row.message_id for row in _rows(session)}
    smtp_process.start()
    workers = [Worker(database_url, smtp_process, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        for worker in workers:
            worker.start(NOW)
        wait_until(lambda: all(row.status == "sent" for row in _rows(session)), "every email marked sent")
    finally:
        for worker in workers:
            worker.stop()
    delivered = smtp_process.delivered()
    counts = Counter(delivered)
    sent_by = [sum("email sent" in line for line in worker.log.read_text().splitlines()) for worker in workers]
    print(f"\ntwo workers, one outbox: queued {queued}, deliveries {len(delivered)}, distinct {len(counts)}, "
          f"sent by each {sent_by}")
    assert set(counts) == message_ids and len(delivered) == queued  # every email, each once
    assert sum(sent_by) == queued
