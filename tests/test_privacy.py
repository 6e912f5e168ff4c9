"""Privacy: the notice, the purge after RETENTION_DAYS, and a visitor deleting their own data."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from booking.links import tour_path, visit_path
from booking.models import AuditEntry, Booking, OutboxMessage, TourRequest
from booking.services.privacy import mail_file_name
from booking.services.tours import confirm_tour
from tests.conftest import local, slot_booked
from tests.smtp import RecordingSMTPServer, free_port, plain_text


def _fresh(session, model, id_):
    session.expire_all()
    row = session.get(model, id_)
    session.commit()
    return row


def _outbox(session, **where) -> list[OutboxMessage]:
    session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    rows = list(session.scalars(query))
    session.commit()
    return rows


def _send_outbox(runner) -> str:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("lang", ["fr", "nl", "en", "de"])
def test_the_privacy_notice_says_what_why_how_long_and_whom_to_ask(client, lang):
    response = client.get(f"/{lang}/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert "info@museumresistance.be" in page  # who to contact
    assert "90" in page  # how long: RETENTION_DAYS
    assert page.count("<h2") >= 5  # what, why, how long, who sees it, rights


def test_purge_anonymises_visits_past_the_retention_period_and_keeps_the_counts(
        app, session, book, request_tour, guides, runner, mail_dir, clock):
    old = book("2027-03-02T10:00", party_size=3, name="Anne Martin", email="anne@example.be", note="wheelchair")
    recent = book("2027-05-20T10:00", party_size=2, name="Bram Peeters", email="bram@example.be")
    tour = request_tour("2027-03-16T10:00", pupils=24, adults=2)
    assert "sent 4" in _send_outbox(runner)  # 2 confirmations, the teacher's summary and the museum's notice
    files = sorted(path.name for path in mail_dir.glob("*.eml"))
    assert len(files) == 4
    old_files = {mail_file_name(row.message_id) for row in _outbox(session, booking_id=old.id)}
    old_files |= {mail_file_name(row.message_id) for row in _outbox(session, tour_id=tour.id)}
    # The files' age counts on the machine's clock: make them recent, so only their visit decides.
    recent_time = local("2027-06-01T00:00").timestamp()
    for path in mail_dir.glob("*.eml"):
        os.utime(path, (recent_time, recent_time))
    stray = mail_dir / "stray.eml"  # an email of no visit, written long ago
    stray.write_text("From: someone")
    long_ago = local("2027-01-01T00:00").timestamp()
    os.utime(stray, (long_ago, long_ago))

    # 1 June 2027: the 2 March visit ended 91 days ago, the group's (16 March) 77 days ago.
    result = runner.invoke(args=["purge-personal-data", "--now", "2027-06-01T12:00"])
    assert result.exit_code == 0, result.output
    print(result.output)
    assert "deleted 1 emails from the outbox and 2 mail files" in result.output
    assert "anonymised 1 bookings and 0 group visits" in result.output
    gone = _fresh(session, Booking, old.id)
    assert (gone.name, gone.email, gone.phone, gone.note) == ("", None, "", "")
    assert gone.anonymised_at is not None
    assert (gone.party_size, gone.status, gone.language, gone.source) == (3, "confirmed", "en", "web")
    assert gone.start == local("2027-03-02T10:00")
    kept = _fresh(session, Booking, recent.id)
    assert (kept.name, kept.email, kept.anonymised_at) == ("Bram Peeters", "bram@example.be", None)
    assert _outbox(session, booking_id=old.id) == []
    assert len(_outbox(session, booking_id=recent.id)) == 1
    remaining = {path.name for path in mail_dir.glob("*.eml")}
    assert not stray.exists()
    assert mail_file_name(_outbox(session, booking_id=recent.id)[0].message_id) in remaining
    assert len(remaining) == 3

    # Later: the group's visit is past the retention period too.
    result = runner.invoke(args=["purge-personal-data", "--now", "2027-06-20T12:00"])
    assert result.exit_code == 0, result.output
    assert "anonymised 0 bookings and 1 group visits" in result.output
    group = _fresh(session, TourRequest, tour.id)
    assert (group.contact_name, group.email, group.phone, group.needs, group.address) == ("", None, "", "", "")
    assert (group.pupils, group.adults, group.group_kind, group.tour_language) == (24, 2, "secondary", "fr")
    assert _outbox(session, tour_id=tour.id) == []
    assert not old_files & {path.name for path in mail_dir.glob("*.eml")}

    # Idempotent: nothing more to do, and what statistics count is unchanged.
    result = runner.invoke(args=["purge-personal-data", "--now", "2027-06-20T12:00"])
    assert "anonymised 0 bookings and 0 group visits; deleted 0 emails" in result.output, result.output
    people = session.scalar(sa.select(sa.func.sum(Booking.party_size)))
    assert people == 5
    actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["privacy.purge", "privacy.purge"]
    session.commit()
    page = app.test_client().get(visit_path(gone)).get_data(as_text=True)
    assert "personal data was deleted" in page and "Anne Martin" not in page


def test_a_visitor_deletes_their_data_the_visit_is_cancelled_and_the_email_goes_first(
        smtp_config, smtp_server, app, client, session, book, runner):
    booking = book("2027-03-02T10:00", party_size=3, name="Anne Martin")
    assert "sent 1" in _send_outbox(runner)
    path = visit_path(booking)
    assert "Delete my data" in client.get(f"{path}?lang=en").get_data(as_text=True)
    confirm = client.get(f"{path}/delete")
    assert confirm.status_code == 200
    assert "cancelled first" in confirm.get_data(as_text=True)
    assert slot_booked(session, "2027-03-02T10:00") == 3  # a GET changes nothing

    response = client.post(f"{path}/delete")
    assert response.status_code == 302 and response.headers["Location"] == path
    messages = smtp_server.wait_for(2)
    assert len(messages) == 2
    cancellation = messages[1]
    assert cancellation["To"] == "anne@example.be"
    assert "Anne Martin" in plain_text(cancellation) and "cancelled" in cancellation["Subject"]
    erased = _fresh(session, Booking, booking.id)
    assert erased.status == "cancelled" and erased.cancelled_by == "visitor"
    assert (erased.name, erased.email) == ("", None)
    assert slot_booked(session, "2027-03-02T10:00") == 0
    assert _outbox(session, booking_id=booking.id) == []
    page = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "personal data was deleted." in page
    assert "Anne Martin" not in page and "anne@example.be" not in page and "Delete my data" not in page
    assert client.post(f"{path}/delete").status_code == 302  # again: nothing left to do


@pytest.fixture
def smtp_down(config_overrides):
    """An SMTP server on a fixed port that is not listening yet; start() it to bring mail back."""
    server = RecordingSMTPServer(free_port())
    config_overrides.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_TIMEOUT": 5})
    yield server
    server.stop()


def test_with_mail_down_the_erasure_waits_for_the_cancellation_email(
        smtp_down, app, client, session, book, runner, clock):
    server = smtp_down
    booking = book("2027-03-02T10:00", name="Anne Martin")
    path = visit_path(booking)
    assert client.post(f"{path}/delete").status_code == 302
    waiting = _fresh(session, Booking, booking.id)
    assert waiting.status == "cancelled" and waiting.email == "anne@example.be"
    assert waiting.erase_requested_at is not None and waiting.anonymised_at is None
    assert "as soon as our last email" in client.get(f"{path}?lang=en").get_data(as_text=True)

    server.start()
    clock.advance(minutes=10)
    assert "sent 2" in _send_outbox(runner)  # the confirmation and the cancellation, in order
    kinds = [message["Subject"] for message in server.wait_for(2)]
    assert "booked" in kinds[0] and "cancelled" in kinds[1]
    result = runner.invoke(args=["run-jobs"])
    assert booking.reference in result.output, result.output
    erased = _fresh(session, Booking, booking.id)
    assert (erased.name, erased.email) == ("", None)
    assert _outbox(session, booking_id=booking.id) == []


def test_a_past_visit_is_erased_at_once(app, client, session, book, clock):
    booking = book("2027-03-01T14:00", name="Anne Martin")
    clock.advance(days=1)
    path = visit_path(booking)
    assert client.post(f"{path}/delete").status_code == 302
    erased = _fresh(session, Booking, booking.id)
    assert erased.status == "confirmed" and erased.name == "" and erased.email is None


def test_a_teacher_deletes_a_group_visits_data(app, client, session, request_tour, guides, mail_dir):
    tour = request_tour("2027-03-16T10:00", pupils=24, adults=2)
    path = tour_path(tour)
    assert "Delete my data" in client.get(f"{path}?lang=en").get_data(as_text=True)
    assert client.post(f"{path}/delete").status_code == 302
    erased = _fresh(session, TourRequest, tour.id)
    assert erased.status == "cancelled"
    assert (erased.contact_name, erased.email, erased.phone) == ("", None, "")
    assert (erased.pupils, erased.adults) == (24, 2)
    assert slot_booked(session, "2027-03-16T10:00") == 0
    assert _outbox(session, tour_id=tour.id) == []
    assert list(mail_dir.glob("*.eml")) == []  # the sent copies went with the data
    page = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "personal data was deleted" in page and "Els Peeters" not in page


def test_a_confirmed_group_visit_too_close_to_cancel_keeps_its_contact(
        app, client, session, request_tour, guides, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    confirm_tour(session, policy, clock.now(), tour.id)
    clock.set(local("2027-03-12T09:00"))  # four days before: teachers call to cancel
    path = tour_path(tour)
    assert "Delete my data" not in client.get(f"{path}?lang=en").get_data(as_text=True)
    response = client.post(f"{path}/delete", follow_redirects=True)
    assert response.status_code == 200
    kept = _fresh(session, TourRequest, tour.id)
    assert kept.status == "confirmed" and kept.email == "els@school.example" and kept.erase_requested_at is None
