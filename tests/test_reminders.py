"""Reminders through `run-jobs --now` and a real SMTP server: the right ones, at the right run, once.

Visitors hear from us VISIT_REMINDER_HOURS (24) before their visit, in their language, with the time,
the address, the way there and the link to cancel; teachers TOUR_REMINDER_DAYS (10) before, to confirm
their final numbers before the cancellation limit. Running the jobs twice, or in two processes at
the same moment, sends each reminder once.
"""

from __future__ import annotations

import re
from functools import partial

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask_babel import force_locale, gettext

from booking.dates import pattern
from booking.models import Booking, OutboxMessage
from booking.services.bookings import cancel_booking, move_booking
from booking.services.tours import confirm_tour
from tests.conftest import local
from tests.racing import race
from tests.smtp import plain_text

BASE_URL = "http://museum.test"
DESK = "desk@museum.example"
LANGUAGES = ["fr", "nl", "de", "en"]


@pytest.fixture(autouse=True)
def mail_through_smtp(smtp_config):
    smtp_config["MUSEUM_NOTIFY_EMAIL"] = DESK
    return smtp_config


def run_jobs(runner, when: str) -> str:
    result = runner.invoke(args=["run-jobs", "--now", when])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(session, kind: str) -> list[OutboxMessage]:
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id)).all()
    session.commit()
    return rows


def delivered(smtp_server, session, kind: str) -> list:
    """The emails of `kind` the SMTP server received (run-jobs delivers before it returns)."""
    ids = {row.message_id for row in reminders(session, kind)}
    return [m for m in smtp_server.messages if m["Message-ID"] in ids]


def in_language(app, language: str, text: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(text)


# --- visitors ------------------------------------------------------------------------------------

def test_a_visit_is_reminded_a_day_before_and_not_earlier(app, runner, session, book, smtp_server):
    visit = book("2027-03-02T10:00", party_size=3, language="en")  # booked Monday 1 March at 09:00

    output = run_jobs(runner, "2027-03-01T09:59")
    assert "visit reminders: 0\n" in output
    assert reminders(session, "visit_reminder") == []

    output = run_jobs(runner, "2027-03-01T10:00")
    assert f"visit reminders: 1 ({visit.reference})" in output
    assert "emails: sent" in output
    [email] = delivered(smtp_server, session, "visit_reminder")
    assert email["To"] == "anne@example.be"
    assert visit.reference in email["Subject"] and "10:00" in email["Subject"]
    text = plain_text(email)
    # The time, the address, the way there, and the link to cancel.
    assert "10:00" in text and "Rue Van Lint 14B" in text and "1070 Anderlecht" in text
    assert "Clemenceau" in text and "Brussels-Midi" in text
    assert re.search(re.escape(BASE_URL) + r"/b/" + visit.reference + r"/[\w-]+", text)
    assert "cancel" in text
    assert not [part for part in email.iter_attachments() if part.get_content_type() == "text/calendar"]
    row = session.get(Booking, visit.id, populate_existing=True)
    assert row.reminder_sent_at == local("2027-03-01T10:00")
    assert row.updated_at == local("2027-03-01T09:00")  # a reminder is not a change of the visit

    # Run again, then later the same day: nothing more.
    for when in ("2027-03-01T10:00", "2027-03-01T10:05", "2027-03-02T09:55"):
        assert "visit reminders: 0\n" in run_jobs(runner, when)
    assert len(reminders(session, "visit_reminder")) == 1
    assert len(delivered(smtp_server, session, "visit_reminder")) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reminder_speaks_the_visitors_language(app, runner, session, book, smtp_server, language):
    visit = book("2027-03-02T10:00", language=language)
    run_jobs(runner, "2027-03-01T12:00")
    [email] = delivered(smtp_server, session, "visit_reminder")
    day = format_date(local("2027-03-02T10:00").date(), pattern("day", language), locale=language)
    assert day in email["Subject"], email["Subject"]
    text = plain_text(email)
    assert day in text
    colon = "\u202f:" if language == "fr" else ":"  # French sets a narrow no-break space before it
    assert f"{in_language(app, language, 'How to get there')}{colon}" in text
    assert f"{in_language(app, language, 'Arrival time')}{colon} 10:00" in text
    assert email.get_body(preferencelist=("html",)).get_content().count(f'lang="{language}"') == 1
    assert visit.reference in email["Subject"]


def test_a_late_booking_cancelled_one_or_one_without_email_gets_no_reminder(app, runner, session, book, clock,
                                                                             rules, smtp_server):
    cancelled = book("2027-03-02T11:00", email="gone@example.be")
    cancel_booking(session, rules, clock.now(), cancelled.id)
    book("2027-03-02T12:00", email=None)  # taken by phone at the desk
    clock.set(local("2027-03-02T08:00"))
    late = book("2027-03-02T10:00", email="late@example.be")  # two hours ahead: its confirmation is enough
    assert late.created_at == local("2027-03-02T08:00")
    for when in ("2027-03-02T08:05", "2027-03-02T09:30"):
        assert "visit reminders: 0\n" in run_jobs(runner, when)
    assert reminders(session, "visit_reminder") == []


def test_a_moved_visit_is_reminded_again_for_its_new_time(app, runner, session, book, clock, rules, smtp_server):
    visit = book("2027-03-02T10:00")
    assert f"visit reminders: 1 ({visit.reference})" in run_jobs(runner, "2027-03-01T10:00")
    move_booking(session, rules, clock.now(), visit.id, local("2027-03-04T14:00"))
    assert "visit reminders: 0\n" in run_jobs(runner, "2027-03-03T13:59")
    assert f"visit reminders: 1 ({visit.reference})" in run_jobs(runner, "2027-03-03T14:00")
    assert "visit reminders: 0\n" in run_jobs(runner, "2027-03-03T15:00")
    emails = delivered(smtp_server, session, "visit_reminder")
    assert len(emails) == 2
    assert "14:00" in emails[1]["Subject"]


def _run_jobs(moment: str, state, session) -> tuple[str, list[str]]:
    """Every due job once as of `moment`; the references reminded."""
    from booking.cli import run_jobs
    from booking.schedule import parse_start

    done = dict(run_jobs(parse_start(moment, state.rules)))
    return "ok", done["visit reminders"] + done["tour reminders"]


def test_two_workers_at_the_same_moment_send_each_reminder_once(app, runner, session, book, request_tour, policy,
                                                               clock, guides, database_url, smtp_server):
    visits = [book(f"2027-03-09T{9 + i % 8:02d}:00", email=f"visitor{i}@example.be") for i in range(24)]
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2)
    confirm_tour(session, policy, clock.now(), tour.id)
    # Let the confirmations go first, so that only reminders are left to count.
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0

    # Monday 8 March, 16:00: every visit of Tuesday is within 24 hours, the tour 8 days ahead.
    collected = race(database_url, [(i, partial(_run_jobs, "2027-03-08T16:00")) for i in range(2)])
    claimed = [reference for _index, _ok, references in collected for reference in references]
    expected = sorted([visit.reference for visit in visits] + [tour.reference])
    assert sorted(claimed) == expected  # each one by exactly one worker
    rows = reminders(session, "visit_reminder") + reminders(session, "tour_reminder")
    assert sorted(row.booking.reference if row.booking else row.tour.reference for row in rows) == expected

    # Both workers' jobs already ran: another run, and delivery, send each once.
    output = run_jobs(runner, "2027-03-08T16:00")
    assert "visit reminders: 0\n" in output and "tour reminders: 0\n" in output
    assert "emails: sent 25, retrying 0, failed 0" in output
    emails = (delivered(smtp_server, session, "visit_reminder")
              + delivered(smtp_server, session, "tour_reminder"))
    assert sorted(m["To"] for m in emails) == sorted([f"visitor{i}@example.be" for i in range(24)]
                                                      + ["els@school.example"])


# --- teachers ------------------------------------------------------------------------------------

def test_a_teacher_is_asked_for_final_numbers_ten_days_before(app, runner, session, request_tour, policy, clock,
                                                              guides, smtp_server):
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2, language="nl")
    confirm_tour(session, policy, clock.now(), tour.id)

    assert "tour reminders: 0\n" in run_jobs(runner, "2027-03-06T09:59")
    assert f"tour reminders: 1 ({tour.reference})" in run_jobs(runner, "2027-03-06T10:00")
    assert "tour reminders: 0\n" in run_jobs(runner, "2027-03-06T10:00")
    assert "tour reminders: 0\n" in run_jobs(runner, "2027-03-08T10:00")
    [email] = delivered(smtp_server, session, "tour_reminder")
    assert email["To"] == "els@school.example"
    assert format_date(local("2027-03-16T10:00").date(), "full", locale="nl") in email["Subject"]
    text = plain_text(email)
    assert re.search(re.escape(BASE_URL) + r"/g/" + tour.reference + r"/[\w-]+", text)
    # The deadline for changes: the cancellation limit, 7 days before.
    assert format_date(local("2027-03-09T10:00").date(), "full", locale="nl") in text
    assert f"{in_language(app, 'nl', 'Pupils or participants')}: 20" in text
    assert "+32 2 522 40 41" in text


def test_no_tour_reminder_once_numbers_can_no_longer_change_nor_for_unconfirmed(app, runner, session, request_tour,
                                                                               policy, clock, guides, smtp_server):
    confirmed = request_tour("2027-03-16T10:00", pupils=20, adults=2)
    confirm_tour(session, policy, clock.now(), confirmed.id)
    request_tour("2027-03-17T10:00", pupils=10, adults=1)  # still pending
    # The job did not run between 6 and 9 March: past the cancellation limit, asking is pointless.
    assert "tour reminders: 0\n" in run_jobs(runner, "2027-03-09T10:01")
    assert reminders(session, "tour_reminder") == []
    assert "tour reminders: 1" in run_jobs(runner, "2027-03-09T10:00")  # at the limit, still in time


def test_the_worker_runs_the_jobs_and_sends_their_emails(runner, session, book, clock, smtp_server, monkeypatch):
    import time
    import types

    import booking.cli

    visit = book("2027-03-02T10:00")
    clock.set(local("2027-03-01T10:00"))

    def stop_after_one_pass(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(booking.cli, "time", types.SimpleNamespace(monotonic=time.monotonic,
                                                                   sleep=stop_after_one_pass))
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 0, result.output
    assert f"visit reminders: 1 ({visit.reference})" in result.output
    assert "sent 2, retrying 0, failed 0" in result.output  # the confirmation and the reminder
    assert "Worker stopped." in result.output
    assert len(delivered(smtp_server, session, "visit_reminder")) == 1


def test_run_jobs_refuses_a_bad_time(runner):
    result = runner.invoke(args=["run-jobs", "--now", "tomorrow"])
    assert result.exit_code != 0 and "ISO 8601" in result.output
