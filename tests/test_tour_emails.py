"""A group visit's whole journey by email, through a real SMTP server on loopback.

Request, staff's proposal, the teacher's answer from the emailed link, an unanswered proposal that
the run-jobs command expires, and a cancellation: each step sends exactly the emails it should, to the
teacher (with the private link, and a calendar entry once confirmed or cancelled) and to the museum.
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

import icalendar
import pytest
import sqlalchemy as sa

from booking.models import GuideAssignment, OutboxMessage, TourRequest
from booking.services.tours import confirm_tour, propose_time
from tests.conftest import local, slot_booked

BASE_URL = "http://museum.test"
DESK = "desk@museum.example"
TEACHER = "sophie@school.example"
LINK = re.compile(re.escape(BASE_URL) + r"(/g/GRP-[0-9A-Z]+/[\w-]+)")
QUIET = 0.5  # seconds to wait for an email that must not come


@pytest.fixture(autouse=True)
def museum_desk(smtp_config):
    """Mail goes through the loopback SMTP server; the museum's notifications go to DESK."""
    smtp_config["MUSEUM_NOTIFY_EMAIL"] = DESK
    return smtp_config


def tour_form(**changes) -> dict:
    data = {"kind": "guided", "duration_minutes": "120", "start_1_date": "2027-03-16", "start_1_time": "10:00",
            "start_2_date": "", "start_2_time": "10:00", "start_3_date": "", "start_3_time": "10:00",
            "organisation": "Athénée Royal d'Anderlecht", "address": "Rue de l'École 1", "postcode": "1070",
            "contact_name": "Sophie Lambert", "contact_role": "History teacher", "email": TEACHER,
            "phone": "+32 470 11 22 33", "leader_name": "", "pupils": "24", "adults": "2",
            "group_kind": "secondary", "tour_language": "fr", "needs": "", "topic": "", "notes": "",
            "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(changes)
    return data


API_TOUR = {"kind": "guided", "starts": ["2027-03-16T10:00:00+01:00"], "organisation": "Sint-Lukas",
            "postcode": "1000", "contact_name": "Jef Peeters", "email": TEACHER, "phone": "0470 12 34 56",
            "pupils": 22, "adults": 2, "group_kind": "secondary", "tour_language": "nl", "language": "nl"}


# --- helpers -------------------------------------------------------------------------------------

def _exactly(smtp_server, count: int) -> list[EmailMessage]:
    """Wait for `count` deliveries in all, then make sure no further one follows."""
    messages = smtp_server.wait_for(count)
    assert len(messages) == count, [(m["To"], m["Subject"]) for m in messages]
    later = smtp_server.wait_for(count + 1, timeout=QUIET)
    assert len(later) == count, [(m["To"], m["Subject"]) for m in later[count:]]
    return messages


def _one_to(messages: list[EmailMessage], recipient: str) -> EmailMessage:
    found = [m for m in messages if m["To"] == recipient]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in messages]
    return found[0]


def _plain(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _link_path(message: EmailMessage) -> str:
    match = LINK.search(_plain(message))
    assert match, _plain(message)
    assert match.group(0) in message.get_body(preferencelist=("html",)).get_content()
    return match.group(1)


def _calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def _event(message: EmailMessage, method: str) -> icalendar.Event:
    (part,) = _calendar_parts(message)
    assert part.get_content_disposition() == "attachment"
    assert part.get_param("method") == method
    raw = part.get_payload(decode=True)
    assert f"METHOD:{method}".encode() in raw
    calendar = icalendar.Calendar.from_ical(raw)
    assert str(calendar["METHOD"]) == method
    (event,) = calendar.walk("VEVENT")
    return event


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()  # the session keeps objects across commits (expire_on_commit=False)
    rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def _tour(session) -> TourRequest:
    session.expire_all()
    tour = session.scalars(sa.select(TourRequest)).one()
    session.commit()
    return tour


def _event_label(app, event: str) -> str:
    """The museum's label for `event` in the museum's language, whatever the catalogs say."""
    from flask_babel import force_locale

    from booking.notifications.emails import museum_event_label

    with app.test_request_context(), force_locale(app.config["MUSEUM_NOTIFY_LANGUAGE"]):
        return museum_event_label(event)


def _in(app, language: str, text: str) -> str:
    """`text` as the app shows it in `language` (the catalogs may or may not translate it yet)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(text)


def _assert_museum_notice(app, message: EmailMessage, reference: str, event: str) -> None:
    assert message["To"] == DESK
    assert reference in message["Subject"]
    assert _event_label(app, event) in message["Subject"]
    body = _plain(message)
    assert reference in body and f"{BASE_URL}/staff/" in body
    assert "/g/" not in body  # the teacher's private link stays with the teacher
    assert _calendar_parts(message) == []


def _signed_in_staff(app, session):
    from booking.services.staff import create_staff

    create_staff(session, "staff@museum.example", "correct horse battery")
    staff = app.test_client()
    response = staff.post("/staff/login", data={"email": "staff@museum.example", "password": "correct horse battery"})
    assert response.status_code == 302
    return staff


def _flashes(page: str, category: str) -> list[str]:
    return re.findall(rf'<p class="flash flash-{category}">(.*?)</p>', page)


# --- the journeys --------------------------------------------------------------------------------

def test_request_then_proposal_accepted_from_the_emailed_link(app, client, session, smtp_server, guides):
    assert app.config["MUSEUM_NOTIFY_EMAIL"] == DESK and app.config["MAIL_SERVER"] == "127.0.0.1"

    # 1. The teacher sends the form in Dutch: one email to them, one to the museum.
    response = client.post("/nl/groups", data=tour_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    tour = _tour(session)
    reference = tour.reference
    assert path.startswith(f"/g/{reference}/")

    messages = _exactly(smtp_server, 2)
    received = _one_to(messages, TEACHER)
    assert reference in received["Subject"]
    assert _link_path(received) == path
    assert _calendar_parts(received) == []  # not a confirmation yet: nothing for the calendar
    types = [part.get_content_type() for part in received.walk()]
    assert "text/plain" in types and "text/html" in types
    _assert_museum_notice(app, _one_to(messages, DESK), reference, "requested")
    rows = _outbox(session)
    assert [(row.kind, row.recipient, row.language, row.status) for row in rows] == [
        ("tour_received", TEACHER, "nl", "sent"),
        ("museum_tour_update", DESK, app.config["MUSEUM_NOTIFY_LANGUAGE"], "sent"),
    ]
    assert rows[1].payload == {"event": "requested"}
    assert [received["Message-ID"], messages[1]["Message-ID"]] == [row.message_id for row in rows]

    # 2. Staff propose Thursday 18 March at 13:00: the teacher gets the link again, the museum nothing.
    staff = _signed_in_staff(app, session)
    response = staff.post(f"/staff/tours/{tour.id}/propose",
                          data={"date": "2027-03-18", "time": "13:00", "message": "The morning is full."})
    assert response.status_code == 302
    assert _tour(session).status == "proposed"
    messages = _exactly(smtp_server, 3)
    proposal = messages[2]
    assert proposal["To"] == TEACHER
    assert reference in proposal["Subject"]
    assert "The morning is full." in _plain(proposal)
    assert _calendar_parts(proposal) == []
    assert _link_path(proposal) == path  # the same private link

    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _in(app, "nl", "Accept this time") in text and "13:00" in text and f'action="{path}/accept"' in text

    # 3. The teacher accepts from the link: a confirmation with a calendar entry, and the museum is told.
    response = client.post(f"{path}/accept")
    assert response.status_code == 302 and response.headers["Location"] == path
    messages = _exactly(smtp_server, 5)
    confirmation = _one_to(messages[3:], TEACHER)
    assert reference in confirmation["Subject"]
    assert _link_path(confirmation) == path
    event = _event(confirmation, "REQUEST")
    assert str(event["UID"]) == f"{reference}@museumresistance.be"
    assert event.decoded("DTSTART") == local("2027-03-18T13:00")
    assert event.decoded("DTEND") == local("2027-03-18T15:00")
    assert int(event["SEQUENCE"]) == 1  # the proposal moved it once
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ATTENDEE"]) == f"mailto:{TEACHER}"
    _assert_museum_notice(app, _one_to(messages[3:], DESK), reference, "accepted")
    assert _outbox(session)[-1].payload == {"event": "accepted"}

    page = client.get(path).get_data(as_text=True)
    assert _flashes(page, "success") and not _flashes(page, "error")
    assert _in(app, "nl", "Accept this time") not in page
    assert _tour(session).status == "confirmed"
    assert [slot_booked(session, f"2027-03-18T{hour}:00") for hour in (13, 14)] == [26, 26]
    assert [slot_booked(session, f"2027-03-16T{hour}:00") for hour in (10, 11)] == [0, 0]

    # Accepting again changes nothing and sends nothing.
    client.post(f"{path}/accept")
    assert _flashes(client.get(path).get_data(as_text=True), "error")
    _exactly(smtp_server, 5)
    assert all(row.status == "sent" and row.attempts == 1 for row in _outbox(session))


def test_an_unanswered_proposal_expires_once_and_can_no_longer_be_accepted(app, client, session, smtp_server,
                                                                             guides, policy, clock, runner):
    # A request by the API, in Dutch: the teacher and the museum are told.
    response = client.post("/api/tour-requests", json=API_TOUR)
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]
    received = _one_to(_exactly(smtp_server, 2), TEACHER)
    path = _link_path(received)
    tour = _tour(session)
    assert (tour.reference, tour.language) == (reference, "nl")

    # Staff propose Wednesday 17 March at 10:00 (directly through the service); the worker sends it.
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0" in result.output
    proposal = _exactly(smtp_server, 3)[2]
    assert proposal["To"] == TEACHER and reference in proposal["Subject"]
    assert _link_path(proposal) == path
    assert _in(app, "nl", "Accept this time") in client.get(path).get_data(as_text=True)
    assert [slot_booked(session, f"2027-03-17T{hour}:00") for hour in (10, 11)] == [24, 24]
    deadline = _tour(session).proposal_expires_at
    assert deadline == local("2027-03-08T23:59")  # the end of the day the email names

    # Just before the deadline the job leaves it alone.
    result = runner.invoke(args=["run-jobs", "--now", "2027-03-08T23:58"])
    assert result.exit_code == 0, result.output
    assert reference not in result.output
    assert _tour(session).status == "proposed"

    # Eight days later, the job expires it, frees the hold and sends the two emails.
    clock.set(local("2027-03-09T09:00"))
    result = runner.invoke(args=["run-jobs", "--now", "2027-03-09T09:00"])
    assert result.exit_code == 0, result.output
    assert f"expired proposals: 1 ({reference})" in result.output
    assert "emails: sent 2, retrying 0, failed 0" in result.output
    assert _tour(session).status == "expired"
    for hour in (10, 11):
        assert slot_booked(session, f"2027-03-17T{hour}:00") == 0
        assert slot_booked(session, f"2027-03-16T{hour}:00") == 0
    assert session.scalars(sa.select(GuideAssignment)).all() == []
    session.commit()

    messages = _exactly(smtp_server, 5)
    expired = _one_to(messages[3:], TEACHER)
    assert reference in expired["Subject"]
    assert f"{BASE_URL}/nl/groups" in _plain(expired)  # an invitation to ask again, in the form's language
    assert _calendar_parts(expired) == []
    _assert_museum_notice(app, _one_to(messages[3:], DESK), reference, "expired")

    # Running the job (and the worker) again expires nothing and sends nothing more.
    result = runner.invoke(args=["run-jobs", "--now", "2027-03-09T09:00"])
    assert result.exit_code == 0 and "expired proposals: 0\n" in result.output, result.output
    assert "emails: sent 0," in result.output
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0, retrying 0, failed 0" in result.output
    messages = _exactly(smtp_server, 5)
    kinds = {row.message_id: row.kind for row in _outbox(session)}
    assert [(m["To"], kinds[m["Message-ID"]]) for m in messages].count((TEACHER, "tour_expired")) == 1

    # The teacher's link: no more "Accept"; accepting anyway is refused and confirms nothing.
    assert _in(app, "nl", "Accept this time") not in client.get(path).get_data(as_text=True)
    response = client.post(f"{path}/accept")
    assert response.status_code == 302 and response.headers["Location"] == path
    page = client.get(path).get_data(as_text=True)
    assert _flashes(page, "error") and not _flashes(page, "success")
    assert _in(app, "nl", "The time we proposed has expired; we no longer hold it for you.") in page
    assert _tour(session).status == "expired"
    assert slot_booked(session, "2027-03-17T10:00") == 0
    _exactly(smtp_server, 5)


def test_the_teacher_cancels_a_confirmed_visit_from_the_link(app, client, session, smtp_server, guides, policy,
                                                             clock, runner):
    response = client.post("/nl/groups", data=tour_form())
    assert response.status_code == 302
    path = response.headers["Location"]
    tour = _tour(session)
    reference = tour.reference
    _exactly(smtp_server, 2)

    confirm_tour(session, policy, clock.now(), tour.id)
    assert "sent 1, retrying 0, failed 0" in runner.invoke(args=["outbox", "send"]).output
    confirmation = _exactly(smtp_server, 3)[2]
    assert confirmation["To"] == TEACHER and reference in confirmation["Subject"]
    assert _link_path(confirmation) == path
    event = _event(confirmation, "REQUEST")
    assert str(event["UID"]) == f"{reference}@museumresistance.be"
    assert event.decoded("DTSTART") == local("2027-03-16T10:00")
    assert int(event["SEQUENCE"]) == 0

    # Seven days and one hour before the visit the teacher may still cancel from the link.
    clock.set(local("2027-03-09T09:00"))
    page = client.get(path).get_data(as_text=True)
    assert _in(app, "nl", "Cancel this group visit") in page
    response = client.post(f"{path}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == path
    assert _flashes(client.get(path).get_data(as_text=True), "success")
    assert _tour(session).status == "cancelled"
    assert [slot_booked(session, f"2027-03-16T{hour}:00") for hour in (10, 11)] == [0, 0]

    messages = _exactly(smtp_server, 5)
    cancellation = _one_to(messages[3:], TEACHER)
    assert reference in cancellation["Subject"]
    event = _event(cancellation, "CANCEL")
    assert str(event["UID"]) == f"{reference}@museumresistance.be"  # the same entry, removed
    assert int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("DTSTART") == local("2027-03-16T10:00")
    _assert_museum_notice(app, _one_to(messages[3:], DESK), reference, "cancelled")

    # Cancelling twice changes nothing and sends nothing.
    client.post(f"{path}/cancel")
    _exactly(smtp_server, 5)
    assert [row.kind for row in _outbox(session)] == [
        "tour_received", "museum_tour_update", "tour_confirmed", "tour_cancelled", "museum_tour_update"]


def test_a_request_cancelled_before_any_answer_sends_no_calendar_entry(app, client, session, smtp_server, guides):
    path = client.post("/nl/groups", data=tour_form()).headers["Location"]
    _exactly(smtp_server, 2)
    assert client.post(f"{path}/cancel").status_code == 302
    messages = _exactly(smtp_server, 4)
    cancellation = _one_to(messages[2:], TEACHER)
    assert _tour(session).reference in cancellation["Subject"]
    assert _calendar_parts(cancellation) == []  # it never was in the teacher's calendar
    _assert_museum_notice(app, _one_to(messages[2:], DESK), _tour(session).reference, "cancelled")


def test_a_proposal_is_held_until_the_end_of_the_day_it_names_and_says_the_time(app, client, session, policy,
                                                                                clock, request_tour, guides):
    """Proposed on Monday 1 March at 09:00 with 7 days to answer: held all Monday 8 March, to 23:59."""
    from booking.links import tour_path
    from booking.notifications.emails import render
    from booking.services.tours import expire_proposals

    tour = request_tour("2027-03-16T10:00", language="en")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-18T10:00"))
    assert tour.proposal_expires_at == local("2027-03-08T23:59")
    with app.app_context():
        row = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "tour_proposed")).one()
        assert "until Monday 8 March 2027 at 23:59" in render(row).body
        assert "until Monday 8 March 2027 at 23:59" in client.get(tour_path(tour)).get_data(as_text=True)
    assert expire_proposals(session, policy, local("2027-03-08T20:00")) == []  # the evening of the day said
    assert expire_proposals(session, policy, local("2027-03-09T00:00")) == [tour.reference]
