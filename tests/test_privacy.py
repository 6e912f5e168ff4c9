"""Privacy: the notice, the purge after RETENTION_DAYS, and a visitor deleting their own data."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import sqlalchemy as sa

from booking import schedule
from booking.links import tour_path, visit_path
from booking.models import AuditEntry, Booking, OutboxMessage, Slot, TourRequest
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


# --- the audit log keeps what staff did, not what they typed about the visitor -----------------------

VISITOR = {"name": "Zéphyrine Vandercammen", "email": "zephyrine.vdc@example.be", "phone": "+32 499 87 65 43",
           "note": "Brings her guide dog Archibald"}
TEACHER = {"contact_name": "Wilhelmina Oosterbroek", "email": "w.oosterbroek@school.example",
           "phone": "+32 2 555 01 23", "notes": "Pupil Noor Haddad comes in a wheelchair"}
VISIT_REASON = "The Vandercammen cousins, all ten of them"
MOVE_MESSAGE = "As Zéphyrine asked on +32 499 87 65 43"
CANCEL_MESSAGE = "Dear Mrs Vandercammen, the lift is broken"
GROUP_REASON = "Mrs Oosterbroek's class, her husband called"
GROUP_MESSAGE = "Wilhelmina, the bus company rang us at 02 555 01 23"
TYPED = [VISIT_REASON, MOVE_MESSAGE, CANCEL_MESSAGE, GROUP_REASON, GROUP_MESSAGE]
PERSONAL = [*VISITOR.values(), *TEACHER.values(), *TYPED, "Vandercammen", "Zéphyrine", "zephyrine", "Archibald",
            "499 87 65 43", "Oosterbroek", "Wilhelmina", "Noor Haddad", "555 01 23"]


def _audit_rows(session) -> list[dict]:
    """Every column of every audit entry, details decoded (JSON escapes would hide accented names)."""
    session.expire_all()
    rows = [dict(row._mapping) for row in session.execute(
        sa.select(AuditEntry.__table__).order_by(AuditEntry.__table__.c.id))]
    session.commit()
    return rows


def _personal_left(session, text: str | None = None) -> list[str]:
    text = (text if text is not None else json.dumps(_audit_rows(session), default=str, ensure_ascii=False))
    return [value for value in PERSONAL if value.casefold() in text.casefold()]


def _bare(rows: list[dict]) -> list[tuple]:
    """What the log is for: which action, when, by whom, on which visit."""
    return [(row["id"], row["action"], row["at"], row["actor"], row["staff_id"], row["booking_id"], row["tour_id"])
            for row in rows]


def _actions(rows: list[dict]) -> list[str]:
    """The actions in order, but the staff member's own sign-in."""
    return [row["action"] for row in rows if row["action"] != "staff.sign_in"]


def _details(rows: list[dict], action: str) -> list[dict]:
    return [row["details"] for row in rows if row["action"] == action]


def _desk_visit(client, session, **changes) -> Booking:
    data = {"form_id": uuid.uuid4().hex, "date": "2027-03-02", "time": "10:00", "party_size": "10",
            "language": "en", "override_group_size": "y", "override_reason": VISIT_REASON, **VISITOR, **changes}
    response = client.post("/staff/bookings/new?lang=en", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return session.scalars(sa.select(Booking).where(Booking.email == VISITOR["email"])).one()


def _desk_group(client, session, date: str) -> TourRequest:
    data = {"form_id": uuid.uuid4().hex, "kind": "guided", "duration_minutes": "120", "date": date,
            "time": "10:00", "organisation": "Atheneum Ukkel", "pupils": "20", "adults": "2",
            "group_kind": "secondary", "tour_language": "fr", "language": "fr", "override_lead_time": "y",
            "override_reason": GROUP_REASON, **TEACHER}
    response = client.post("/staff/groups/new?lang=en", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return session.scalars(sa.select(TourRequest).where(TourRequest.email == TEACHER["email"])).one()


def _fail_and_resend(client, session, column, item_id: int, address: str) -> None:
    """The item's first email bounced (the error quotes the address); staff send it again."""
    session.expire_all()
    row = session.scalars(sa.select(OutboxMessage).where(column == item_id).order_by(OutboxMessage.id)).first()
    row.status, row.last_error = "failed", f"550 5.1.1 <{address}>: Mailbox full"
    session.commit()
    assert client.post(f"/staff/emails/{row.id}/resend").status_code == 302


def _forget_flashes(client) -> None:
    """Drop the messages the staff actions above left for their next page ("… goes to <address>")."""
    with client.session_transaction() as cookie:
        cookie.pop("_flashes", None)


def _other_guide(session, tour: TourRequest, guides) -> str:
    session.expire_all()
    held = {guide.id for guide in session.get(TourRequest, tour.id).guides}
    session.commit()
    return str(next(guide.id for guide in guides if guide.id not in held))


def test_the_purge_erases_what_staff_typed_about_visitors_from_the_audit_log_and_keeps_the_entries(
        app, admin_client, session, guides, runner):
    # The 10:00 slot has 45 of its 50 places taken: the desk books 10 people with two overrides.
    session.add(Slot(start=schedule.to_utc(local("2027-03-02T10:00")), capacity=50, capacity_custom=False,
                     booked=45))
    session.commit()
    visit = _desk_visit(admin_client, session, override_capacity="y")
    _fail_and_resend(admin_client, session, OutboxMessage.booking_id, visit.id, VISITOR["email"])
    assert admin_client.post(f"/staff/bookings/{visit.reference}/move", data={
        "date": "2027-03-03", "time": "14:00", "message": MOVE_MESSAGE}).status_code == 302
    assert admin_client.post(f"/staff/bookings/{visit.reference}/cancel",
                             data={"message": CANCEL_MESSAGE}).status_code == 302
    group = _desk_group(admin_client, session, "2027-03-05")
    assert admin_client.post(f"/staff/bookings/{group.reference}/guides",
                             data={"guides": [_other_guide(session, group, guides)]}).status_code == 302
    assert admin_client.post(f"/staff/bookings/{group.reference}/cancel",
                             data={"message": GROUP_MESSAGE}).status_code == 302
    assert admin_client.post("/staff/exports/person", data={"person_email": VISITOR["email"]}).status_code == 200
    before = _audit_rows(session)
    assert set(TYPED) <= set(_personal_left(session))  # what staff typed is in the log until the purge
    # Never there: the bounce (it quotes the address) and the address of the person exported.
    assert _details(before, "email.resend") == [{"kind": "visit_confirmed", "previous_status": "failed"}]
    assert _details(before, "privacy.export") == [{"bookings": 1, "group_visits": 0,
                                                   "references": [visit.reference]}]
    assert _actions(before) == ["slot.overbook", "booking.create", "email.resend", "booking.move", "booking.cancel",
                                "tour.create", "tour.guides", "tour.cancel", "privacy.export"]

    # 20 June 2027: both visits (2–5 March) ended more than 90 days ago.
    result = runner.invoke(args=["purge-personal-data", "--now", "2027-06-20T12:00"])
    assert result.exit_code == 0, result.output
    assert "anonymised 1 bookings and 1 group visits" in result.output, result.output

    after = _audit_rows(session)
    assert _personal_left(session) == []
    assert _bare(after[:len(before)]) == _bare(before)  # every entry stays, on its visit
    assert [row["action"] for row in after[len(before):]] == ["privacy.purge"]
    assert _details(after, "booking.create") == [{"source": "staff", "start": "2027-03-02T09:00:00+00:00",
                                                  "party_size": 10, "overrides": ["group_size", "capacity"],
                                                  "overflow": 5}]
    assert _details(after, "slot.overbook") == [{"slot": "2027-03-02T09:00:00+00:00", "places": 5}]
    assert _details(after, "booking.move") == [{"previous_start": "2027-03-02T09:00:00+00:00",
                                                "start": "2027-03-03T13:00:00+00:00"}]
    assert _details(after, "booking.cancel") == [{"reasons": {}}]
    assert _details(after, "email.resend") == [{"kind": "visit_confirmed", "previous_status": "failed"}]
    assert _details(after, "tour.create")[0]["overrides"] == ["lead_time"]
    assert _details(after, "tour.cancel") == [{"previous_status": "confirmed"}]
    assert _details(after, "privacy.export") == [{"bookings": 1, "group_visits": 0,
                                                  "references": [visit.reference]}]

    # The log and each visit's history still read well, and show nothing of the visitors.
    _forget_flashes(admin_client)
    page = admin_client.get("/staff/audit?lang=en")
    assert page.status_code == 200 and visit.reference in page.get_data(as_text=True)
    assert _personal_left(session, page.get_data(as_text=True)) == []
    page = admin_client.get(f"/staff/bookings/{visit.reference}?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Moved by staff for the visitor" in text and "Cancelled by staff for the visitor" in text
    assert "Slot capacity raised (override)" in text and _personal_left(session, text) == []
    page = admin_client.get(f"/staff/bookings/{group.reference}?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Cancelled by staff for the teacher" in text and "Guides changed" in text
    assert _personal_left(session, text) == []


def test_deleting_my_data_erases_what_staff_typed_about_my_visit_from_the_audit_log(
        app, admin_client, client, session, mail_dir):
    visit = _desk_visit(admin_client, session)
    _fail_and_resend(admin_client, session, OutboxMessage.booking_id, visit.id, VISITOR["email"])
    assert admin_client.post(f"/staff/bookings/{visit.reference}/move", data={
        "date": "2027-03-04", "time": "11:00", "message": MOVE_MESSAGE}).status_code == 302
    before = _audit_rows(session)
    assert {VISIT_REASON, MOVE_MESSAGE} <= set(_personal_left(session))

    assert client.post(f"{visit_path(_fresh(session, Booking, visit.id))}/delete").status_code == 302
    erased = _fresh(session, Booking, visit.id)
    assert erased.anonymised_at is not None and erased.status == "cancelled"
    after = _audit_rows(session)
    assert _personal_left(session) == []
    assert _bare(after[:len(before)]) == _bare(before)
    assert _actions(after) == [
        "booking.create", "email.resend", "booking.move", "privacy.erase_request", "privacy.erase"]
    assert all(row["booking_id"] == visit.id for row in after if row["action"] in _actions(after)[:4])
    assert _details(after, "booking.create")[0]["overrides"] == ["group_size"]
    _forget_flashes(admin_client)
    page = admin_client.get(f"/staff/bookings/{visit.reference}?lang=en")
    assert page.status_code == 200 and "Moved by staff for the visitor" in page.get_data(as_text=True)
    assert _personal_left(session, page.get_data(as_text=True)) == []


def test_a_teacher_deleting_their_data_erases_what_staff_typed_about_the_group_from_the_audit_log(
        app, admin_client, client, session, guides, mail_dir):
    group = _desk_group(admin_client, session, "2027-03-10")  # 9 days ahead: the teacher may still cancel
    _fail_and_resend(admin_client, session, OutboxMessage.tour_id, group.id, TEACHER["email"])
    assert admin_client.post(f"/staff/bookings/{group.reference}/guides",
                             data={"guides": [_other_guide(session, group, guides)]}).status_code == 302
    assert admin_client.post(f"/staff/bookings/{group.reference}/cancel",
                             data={"message": GROUP_MESSAGE}).status_code == 302
    before = _audit_rows(session)
    assert {GROUP_REASON, GROUP_MESSAGE} <= set(_personal_left(session))

    assert client.post(f"{tour_path(_fresh(session, TourRequest, group.id))}/delete").status_code == 302
    assert _fresh(session, TourRequest, group.id).anonymised_at is not None
    after = _audit_rows(session)
    assert _personal_left(session) == []
    assert _bare(after[:len(before)]) == _bare(before)
    assert _actions(after) == [
        "tour.create", "email.resend", "tour.guides", "tour.cancel", "privacy.erase_request", "privacy.erase"]
    assert all(row["tour_id"] == group.id for row in after if row["action"] in _actions(after)[:5])
    assert _details(after, "tour.cancel") == [{"previous_status": "confirmed"}]
    _forget_flashes(admin_client)
    page = admin_client.get(f"/staff/bookings/{group.reference}?lang=en")
    assert page.status_code == 200 and "Cancelled by staff for the teacher" in page.get_data(as_text=True)
    assert _personal_left(session, page.get_data(as_text=True)) == []


def test_the_purge_deletes_the_waiting_list_of_past_slots_with_its_emails(session, rules, clock, book, runner):
    from booking.models import Slot, WaitlistEntry
    from booking.services.waitlist import WaitRequest, join_waitlist

    for start in ("2027-03-02T10:00", "2027-05-20T10:00"):  # two full slots
        book(start, party_size=2)
        session.execute(sa.update(Slot).where(Slot.start == local(start)).values(capacity=2, capacity_custom=True))
    for start, name in (("2027-03-02T10:00", "Wanda Wachter"), ("2027-05-20T10:00", "Lena Later")):
        join_waitlist(session, rules, clock.now(), WaitRequest(start=local(start), people=2, name=name,
                                                               email=f"{name.split()[0].lower()}@example.be",
                                                               language="nl"))
    session.commit()
    old = session.scalars(sa.select(WaitlistEntry).where(WaitlistEntry.name == "Wanda Wachter")).one()
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.waitlist_id == old.id)) == 1  # "you are on the list"

    result = runner.invoke(args=["purge-personal-data", "--now", "2027-06-01T12:00"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 waiting-list entries" in result.output
    session.expire_all()
    names = session.scalars(sa.select(WaitlistEntry.name)).all()
    assert names == ["Lena Later"]
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.recipient == "wanda@example.be")) == 0
