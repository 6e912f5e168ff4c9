"""The back office's bookings: search, a booking's page with its history, acting for the visitor or
the teacher, and bookings taken by phone or at the desk with knowingly overridden rules."""

from __future__ import annotations

import re
import uuid
from functools import partial

import pytest
import sqlalchemy as sa

from booking import links, schedule
from booking.models import AuditEntry, Booking, Guide, GuideAssignment, OutboxMessage, Slot, TourRequest
from booking.services.tours import confirm_tour
from tests.conftest import STAFF_PASSWORD, local, slot_booked
from tests.racing import race
from tests.smtp import calendar_part, plain_text

QUIET = 0.5  # seconds to wait for an email that must not come


@pytest.fixture
def staff_user(session):
    """conftest's desk agent, with a cheap password hash: signing in on every test stays fast."""
    from werkzeug.security import generate_password_hash

    from booking.models import StaffUser

    user = StaffUser(email="desk@museum.example", name="Desk Agent", role="staff",
                     password_hash=generate_password_hash(STAFF_PASSWORD, method="pbkdf2:sha256:1000"))
    session.add(user)
    session.commit()
    return user


# --- helpers -------------------------------------------------------------------------------------

def _text(response) -> str:
    return response.get_data(as_text=True)


def _audit(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    rows = list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
    session.commit()
    return rows


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def _fresh(session, model, item_id):
    session.expire_all()
    item = session.get(model, item_id)
    session.commit()
    return item


def _only(session, model):
    session.expire_all()
    rows = list(session.scalars(sa.select(model).order_by(model.id)))
    session.commit()
    return rows


def _fill(session, start: str, booked: int, capacity: int = 50) -> None:
    """Make the slot at `start` hold `booked` places of `capacity`, as earlier bookings would have."""
    session.add(Slot(start=schedule.to_utc(local(start)), capacity=capacity, capacity_custom=False, booked=booked))
    session.commit()


def _slot(session, start: str) -> Slot:
    session.expire_all()
    slot = session.scalars(sa.select(Slot).where(Slot.start == schedule.to_utc(local(start)))).one()
    session.commit()
    return slot


def desk_form(**changes) -> dict:
    data = {"form_id": uuid.uuid4().hex, "date": "2027-03-02", "time": "10:00", "party_size": "3",
            "name": "Jan Claes", "email": "", "phone": "+32 470 00 00 00", "language": "nl", "note": "",
            "override_reason": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def group_form(**changes) -> dict:
    data = {"form_id": uuid.uuid4().hex, "kind": "guided", "duration_minutes": "120", "date": "2027-03-16",
            "time": "10:00", "organisation": "Collège Saint-Pierre", "contact_name": "Luc Dupont", "email": "",
            "phone": "02 123 45 67", "pupils": "20", "adults": "2", "group_kind": "secondary",
            "tour_language": "fr", "language": "fr", "notes": "", "override_reason": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _manage_paths(app, items) -> list[str]:
    with app.app_context():
        return [links.visit_path(item) if isinstance(item, Booking) else links.tour_path(item) for item in items]


def _assert_no_manage_link(page: str, app, items) -> None:
    assert "/b/" not in page and "/g/" not in page
    for path in _manage_paths(app, items):
        token = path.rsplit("/", 1)[1]
        assert token not in page


def test_an_unknown_reference_is_not_found(staff_client):
    assert staff_client.get("/staff/bookings/NMR-XXXXXX?lang=en").status_code == 404
    assert staff_client.get("/staff/bookings/NMR-%00?lang=en").status_code == 404
    assert staff_client.get("/staff/bookings?q=NMR-%00&lang=en").status_code == 404
    assert staff_client.get("/staff/bookings/GRP-XXXXXX?lang=en").status_code == 404


# --- search --------------------------------------------------------------------------------------

def test_search_finds_a_visit_by_its_reference_with_or_without_prefix_in_any_case(staff_client, book):
    wanted = book("2027-03-02T10:00", name="Anne Martin")
    other = book("2027-03-03T10:00", name="Bert Smet", email="bert@example.be")
    code = wanted.reference.removeprefix("NMR-")
    for query in (wanted.reference, wanted.reference.lower(), code, code.lower(), f" nmr-{code.lower()} "):
        page = _text(staff_client.get("/staff/bookings", query_string={"q": query, "lang": "en"}))
        assert wanted.reference in page, query
        assert other.reference not in page, query
    # Part of a reference is not a reference: no match.
    page = _text(staff_client.get("/staff/bookings", query_string={"q": code[:4], "lang": "en"}))
    assert wanted.reference not in page


def test_search_matches_name_email_and_organisation_case_insensitively(staff_client, book, request_tour, guides):
    visit = book("2027-03-02T10:00", name="Anne Martin", email="anne.martin@example.be")
    other = book("2027-03-02T11:00", name="Bert Smet", email="bert@example.be")
    tour = request_tour("2027-03-16T10:00", organisation="Sint-Jozefscollege Aalst")
    page = _text(staff_client.get("/staff/bookings?q=MARTIN&lang=en"))
    assert visit.reference in page and other.reference not in page and tour.reference not in page
    page = _text(staff_client.get("/staff/bookings?q=anne.martin@EXAMPLE&lang=en"))
    assert visit.reference in page and other.reference not in page
    page = _text(staff_client.get("/staff/bookings?q=jozefs&lang=en"))
    assert tour.reference in page and visit.reference not in page
    page = _text(staff_client.get(f"/staff/bookings?q={tour.reference.lower()}&lang=en"))
    assert tour.reference in page and visit.reference not in page
    page = _text(staff_client.get("/staff/bookings?q=els%40school&lang=en"))  # the teacher's email
    assert tour.reference in page
    page = _text(staff_client.get("/staff/bookings?q=100%25&lang=en"))  # LIKE wildcards are plain text
    assert "No booking matches." in page


def test_search_filters_by_dates_and_status_and_lists_the_newest_visit_first(staff_client, book, session, rules,
                                                                              clock):
    from booking.services.bookings import cancel_booking

    early = book("2027-03-02T10:00", name="Early Visitor")
    late = book("2027-03-10T10:00", name="Late Visitor")
    middle = book("2027-03-05T10:00", name="Middle Visitor")
    cancel_booking(session, rules, clock.now(), middle.id)
    page = _text(staff_client.get("/staff/bookings?q=visitor&lang=en"))
    assert page.index(late.reference) < page.index(middle.reference) < page.index(early.reference)
    page = _text(staff_client.get("/staff/bookings?q=visitor&date_from=2027-03-03&date_to=2027-03-05&lang=en"))
    assert middle.reference in page and early.reference not in page and late.reference not in page
    page = _text(staff_client.get("/staff/bookings?q=visitor&status=cancelled&lang=en"))
    assert middle.reference in page and early.reference not in page and late.reference not in page
    page = _text(staff_client.get("/staff/bookings?status=pending&lang=en"))  # a groups-only status
    assert "NMR-" not in page
    page = _text(staff_client.get("/staff/bookings?lang=en"))
    assert "New individual booking" in page and "New group visit" in page


def test_search_says_when_there_are_more_results_than_it_shows(staff_client, book, monkeypatch):
    from booking.views.staff import bookings as view

    monkeypatch.setattr(view, "SEARCH_LIMIT", 2)
    made = [book(f"2027-03-0{day}T10:00", name="Same Name") for day in (2, 3, 4)]
    page = _text(staff_client.get("/staff/bookings?q=same&lang=en"))
    assert "More than 2 bookings match" in page
    assert made[2].reference in page and made[1].reference in page and made[0].reference not in page
    page = _text(staff_client.get("/staff/bookings?q=same&date_from=2027-03-03&lang=en"))
    assert "More than" not in page


def test_a_bad_date_in_the_search_is_explained_not_a_crash(staff_client):
    response = staff_client.get("/staff/bookings?q=x&date_from=not-a-date&lang=en")
    assert response.status_code == 422
    assert 'class="error"' in _text(response)


# --- a booking's page ----------------------------------------------------------------------------

def test_a_visits_page_shows_its_details_and_history_but_never_its_manage_link(app, staff_client, book, session):
    visit = book("2027-03-02T10:00", party_size=3, name="Anne Martin", note="Wheelchair")
    page = _text(staff_client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    for text in ("Anne Martin", "anne@example.be", "Wheelchair", "website", "Confirmed", "not recorded",
                 "Created", "Confirmation email"):
        assert text in page, text
    _assert_no_manage_link(page, app, [visit])
    # The lower-case reference finds it too.
    assert staff_client.get(f"/staff/bookings/{visit.reference.lower()}?lang=en").status_code == 200


def test_a_groups_page_shows_the_group_and_its_guides(app, staff_client, request_tour, guides, session, policy,
                                                      clock):
    tour = request_tour("2027-03-16T10:00", pupils=24, adults=2, organisation="Sint-Jozefscollege")
    confirm_tour(session, policy, clock.now(), tour.id)
    page = _text(staff_client.get(f"/staff/bookings/{tour.reference}?lang=en"))
    for text in ("Sint-Jozefscollege", "Els Peeters", "els@school.example", "confirmed", tour.guides[0].name,
                 "Email: request received", "Email: visit confirmed", "Save the guides", "Cancel the group visit"):
        assert text in page, text
    _assert_no_manage_link(page, app, [tour])


# --- acting for the visitor ----------------------------------------------------------------------

def test_staff_cancel_a_visit_for_the_visitor_who_is_emailed_in_their_language(
        smtp_config, smtp_server, app, staff_client, book, session):
    visit = book("2027-03-02T10:00", party_size=3, language="fr")
    response = staff_client.post(f"/staff/bookings/{visit.reference}/cancel?lang=en",
                                 data={"message": "Une panne de chauffage."})
    assert response.status_code == 302
    cancelled = _fresh(session, Booking, visit.id)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_message) == (
        "cancelled", "museum", "Une panne de chauffage.")
    assert slot_booked(session, "2027-03-02T10:00") == 0
    [entry] = _audit(session, "booking.cancel")
    assert (entry.actor, entry.booking_id, entry.details["message"]) == (
        "desk@museum.example", visit.id, "Une panne de chauffage.")
    # The request sends its own email; the fixture's confirmation, queued outside a request, waits for the worker.
    messages = smtp_server.wait_for(2, timeout=1)
    assert len(messages) == 1
    body = plain_text(messages[0])
    assert "le musée a dû annuler votre visite" in body
    assert "Message du musée\u202f: Une panne de chauffage." in body
    assert "METHOD:CANCEL" in calendar_part(messages[0])
    page = _text(staff_client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    assert "Cancelled by staff for the visitor" in page and "Une panne de chauffage." in page
    assert "Cancellation email" in page and "Cancel the visit" not in page


def test_staff_move_a_visit_and_the_visitor_reads_the_new_time_and_the_message(
        smtp_config, smtp_server, app, staff_client, book, session):
    visit = book("2027-03-02T10:00", party_size=2, language="nl")
    response = staff_client.post(f"/staff/bookings/{visit.reference}/move?lang=en",
                                 data={"date": "2027-03-04", "time": "14:00", "message": "Op uw verzoek."})
    assert response.status_code == 302
    moved = _fresh(session, Booking, visit.id)
    assert moved.start == schedule.to_utc(local("2027-03-04T14:00"))
    assert slot_booked(session, "2027-03-02T10:00") == 0 and slot_booked(session, "2027-03-04T14:00") == 2
    [entry] = _audit(session, "booking.move")
    assert entry.details["message"] == "Op uw verzoek."
    messages = smtp_server.wait_for(2, timeout=1)  # the move's email; the fixture's confirmation waits
    assert len(messages) == 1
    body = plain_text(messages[0])
    assert "Uw bezoek is verplaatst." in body and "Bericht van het museum: Op uw verzoek." in body
    page = _text(staff_client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    assert "Moved by staff for the visitor" in page and "Email about the new time" in page


def test_a_move_that_cannot_be_made_is_explained_next_to_the_date(staff_client, book, session):
    visit = book("2027-03-02T10:00")
    _fill(session, "2027-03-04T14:00", booked=50)
    response = staff_client.post(f"/staff/bookings/{visit.reference}/move?lang=en",
                                 data={"date": "2027-03-04", "time": "14:00", "message": ""})
    assert response.status_code == 409
    assert "not enough places left" in _text(response)
    response = staff_client.post(f"/staff/bookings/{visit.reference}/move?lang=en",
                                 data={"date": "2027-03-06", "time": "14:00", "message": ""})
    assert "closed at weekends" in _text(response)
    assert _fresh(session, Booking, visit.id).start == schedule.to_utc(local("2027-03-02T10:00"))


def test_staff_move_a_visit_onto_a_day_where_the_visitor_holds_the_most_bookings_an_address_may(
        app, client, staff_client, book, session):
    """The visitor may not move it there themselves (the cap of bookings per email a day); staff,
    who may book at the desk beyond it, may."""
    for hour in ("09", "10", "11"):
        book(f"2027-03-02T{hour}:00", email="anne@example.be")
    visit = book("2027-03-04T10:00", email="Anne@Example.be")
    [path] = _manage_paths(app, [visit])
    refused = client.post(path + "/move", data={"start": "2027-03-02T14:00"})
    assert refused.status_code == 422 and "already has 3 bookings on this day" in _text(refused)
    assert _fresh(session, Booking, visit.id).start == schedule.to_utc(local("2027-03-04T10:00"))
    response = staff_client.post(f"/staff/bookings/{visit.reference}/move?lang=en",
                                 data={"date": "2027-03-02", "time": "14:00", "message": ""})
    assert response.status_code == 302
    assert _fresh(session, Booking, visit.id).start == schedule.to_utc(local("2027-03-02T14:00"))
    assert slot_booked(session, "2027-03-02T14:00") == 2 and slot_booked(session, "2027-03-04T10:00") == 0


def test_a_visit_that_has_started_can_no_longer_be_cancelled_by_staff(staff_client, book, session, clock):
    visit = book("2027-03-02T10:00")
    clock.set(local("2027-03-02T10:15"))
    page = _text(staff_client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    assert "Cancel the visit" not in page and "can no longer be moved or cancelled" in page
    response = staff_client.post(f"/staff/bookings/{visit.reference}/cancel?lang=en", data={"message": ""})
    assert response.status_code == 409
    assert "already started" in _text(response)
    assert _fresh(session, Booking, visit.id).status == "confirmed"


# --- desk bookings: individual visits ------------------------------------------------------------

def test_a_desk_booking_without_email_sends_nothing_and_records_who_booked(app, staff_client, session, staff_user):
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(note="Rolstoel"))
    assert response.status_code == 302
    [visit] = _only(session, Booking)
    assert response.headers["Location"].endswith(f"/staff/bookings/{visit.reference}")
    assert (visit.source, visit.created_by_id, visit.email, visit.phone, visit.language, visit.party_size) == (
        "staff", staff_user.id, None, "+32 470 00 00 00", "nl", 3)
    assert slot_booked(session, "2027-03-02T10:00") == 3
    assert _outbox(session) == []
    [entry] = _audit(session, "booking.create")
    assert entry.details["source"] == "staff" and "overrides" not in entry.details
    page = _text(staff_client.get(response.headers["Location"] + "?lang=en"))
    assert "staff (phone or desk)" in page and "Booked by staff" in page and "Desk Agent" in page
    _assert_no_manage_link(page, app, [visit])


def test_a_desk_booking_with_email_sends_the_confirmation_with_link_and_calendar(
        smtp_config, smtp_server, app, staff_client, session):
    response = staff_client.post("/staff/bookings/new?lang=en",
                                 data=desk_form(email="jan@example.be", language="en"))
    assert response.status_code == 302
    [visit] = _only(session, Booking)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "jan@example.be" and visit.reference in message["Subject"]
    [path] = _manage_paths(app, [visit])
    assert f"http://museum.test{path}" in plain_text(message)
    assert "BEGIN:VEVENT" in calendar_part(message)
    page = _text(staff_client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    _assert_no_manage_link(page, app, [visit])


def test_the_same_desk_form_posted_twice_books_once(staff_client, session):
    data = desk_form()
    first = staff_client.post("/staff/bookings/new?lang=en", data=data)
    second = staff_client.post("/staff/bookings/new?lang=en", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_only(session, Booking)) == 1 and slot_booked(session, "2027-03-02T10:00") == 3


def test_bad_desk_input_is_explained_next_to_the_field_and_kept(staff_client, session):
    response = staff_client.post("/staff/bookings/new?lang=en",
                                 data=desk_form(name="", email="not-an-email", party_size="0"))
    page = _text(response)
    assert response.status_code == 422
    assert "Please give the visitor&#39;s name." in page and "valid email address" in page
    assert 'value="not-an-email"' in page
    assert _only(session, Booking) == []


def test_a_started_slot_needs_the_lead_time_override_and_a_reason(staff_client, session, clock):
    clock.set(local("2027-03-02T10:20"))  # a walk-in during the 10:00 slot
    form = desk_form(date="2027-03-02", time="10:00")
    response = staff_client.post("/staff/bookings/new?lang=en", data=form)
    assert response.status_code == 422 and "This time has already passed" in _text(response)
    response = staff_client.post("/staff/bookings/new?lang=en", data={**form, "override_lead_time": "y"})
    assert response.status_code == 422 and "Give the reason for overriding the rule" in _text(response)
    assert _only(session, Booking) == []
    response = staff_client.post("/staff/bookings/new?lang=en",
                                 data={**form, "override_lead_time": "y", "override_reason": "Walk-in family"})
    assert response.status_code == 302
    [visit] = _only(session, Booking)
    [entry] = _audit(session, "booking.create")
    assert entry.details["overrides"] == ["lead_time"] and entry.details["reason"] == "Walk-in family"
    assert entry.booking_id == visit.id
    # A slot that has ended stays closed, override or not.
    clock.set(local("2027-03-02T11:00"))
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(
        date="2027-03-02", time="10:00", override_lead_time="y", override_reason="Late"))
    assert response.status_code == 422 and "already passed" in _text(response)


def test_more_than_eight_people_needs_the_group_size_override(staff_client, session):
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="12"))
    assert response.status_code == 422 and "Choose between 1 and 8 people." in _text(response)
    response = staff_client.post("/staff/bookings/new?lang=en",
                                 data=desk_form(party_size="12", override_group_size="y",
                                                override_reason="Family reunion"))
    assert response.status_code == 302
    assert slot_booked(session, "2027-03-02T10:00") == 12
    [entry] = _audit(session, "booking.create")
    assert entry.details["overrides"] == ["group_size"]


def test_the_capacity_override_allows_only_a_few_places_beyond_capacity(staff_client, session, app):
    assert app.config["STAFF_OVERBOOK_MAX"] == 5
    _fill(session, "2027-03-02T10:00", booked=48)
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="4"))
    assert response.status_code == 409 and "not enough places left" in _text(response)
    overbook = {"override_capacity": "y", "override_reason": "School trip came early"}
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="4", **overbook))
    assert response.status_code == 302
    slot = _slot(session, "2027-03-02T10:00")
    assert (slot.booked, slot.capacity, slot.capacity_custom) == (52, 52, True)
    # 3 more would make 5 beyond the original 50: allowed; then nothing more.
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="3", **overbook))
    assert response.status_code == 302
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="1", **overbook))
    assert response.status_code == 409
    assert "at most 5 places can be booked beyond the capacity" in _text(response)
    slot = _slot(session, "2027-03-02T10:00")
    assert (slot.booked, slot.capacity) == (55, 55)
    assert [e.details["places"] for e in _audit(session, "slot.overbook")] == [2, 3]
    assert [e.details.get("overflow") for e in _audit(session, "booking.create")] == [2, 3]


def test_a_capacity_override_that_is_not_needed_raises_nothing(staff_client, session):
    response = staff_client.post("/staff/bookings/new?lang=en",
                                 data=desk_form(override_capacity="y", override_reason="Just in case"))
    assert response.status_code == 302
    slot = _slot(session, "2027-03-02T10:00")
    assert (slot.booked, slot.capacity, slot.capacity_custom) == (3, 50, False)
    assert _audit(session, "slot.overbook") == []


def test_closed_days_and_hours_are_never_overridden(staff_client, session):
    from booking.models import Closure

    every = {"override_lead_time": "y", "override_group_size": "y", "override_capacity": "y",
             "override_reason": "Trying everything"}
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(date="2027-03-06", **every))
    assert response.status_code == 422 and "closed at weekends" in _text(response)
    session.add(Closure(start_at=schedule.to_utc(local("2027-03-03T09:00")),
                        end_at=schedule.to_utc(local("2027-03-03T12:00")), reasons={"en": "Works"}))
    session.commit()
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(date="2027-03-03", **every))
    assert response.status_code == 422 and "closed at that time: Works" in _text(response)
    assert _only(session, Booking) == []


def _desk_overbook(index: int, state, session) -> tuple[str, None]:
    """One member of staff overbooking 3 places in the full 10:00 slot."""
    from booking.services import SlotFull
    from booking.services.desk import DeskVisit, Overrides, book_at_desk

    try:
        book_at_desk(session, state.rules, state.clock.now(),
                     DeskVisit(start=local("2027-03-02T10:00"), party_size=3, name=f"Caller {index}", language="fr"),
                     Overrides(capacity=True, reason="Race"), None, 5)
    except SlotFull as error:
        return error.code, None
    return "booked", None


def test_concurrent_overbookings_never_go_beyond_the_few_places(database_url, session):
    _fill(session, "2027-03-02T10:00", booked=50)
    outcomes = race(database_url, [(index, partial(_desk_overbook, index)) for index in range(3)])
    assert sorted(outcome for _index, outcome, _detail in outcomes) == ["booked"] + ["overbook_limit"] * 2
    slot = _slot(session, "2027-03-02T10:00")
    assert (slot.booked, slot.capacity) == (53, 53)


# --- desk bookings: group visits -----------------------------------------------------------------

def test_a_desk_group_is_confirmed_at_once_with_the_chosen_guide_and_no_email(staff_client, session, guides,
                                                                              staff_user):
    marie = next(g for g in guides if g.name == "Marie Dubois")
    response = staff_client.post("/staff/groups/new?lang=en", data=group_form(guides=[str(marie.id)]))
    assert response.status_code == 302
    [tour] = _only(session, TourRequest)
    assert response.headers["Location"].endswith(f"/staff/bookings/{tour.reference}")
    assert (tour.status, tour.source, tour.created_by_id, tour.email) == ("confirmed", "staff", staff_user.id, None)
    assert [g.name for g in tour.guides] == ["Marie Dubois"]
    assert slot_booked(session, "2027-03-16T10:00") == 22 and slot_booked(session, "2027-03-16T11:00") == 22
    assert _outbox(session) == []
    [entry] = _audit(session, "tour.create")
    assert entry.tour_id == tour.id and entry.details["guides"] == ["Marie Dubois"]


def test_a_desk_group_with_email_gets_the_confirmation(smtp_config, smtp_server, app, staff_client, session,
                                                       guides):
    response = staff_client.post("/staff/groups/new?lang=en",
                                 data=group_form(email="luc@school.example", language="fr"))
    assert response.status_code == 302
    [tour] = _only(session, TourRequest)
    assert len(tour.guides) == 1  # a free guide is picked when staff tick none
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "luc@school.example" and "confirmée" in message["Subject"]
    assert len(smtp_server.wait_for(2, timeout=QUIET)) == 1  # no "received", no notice to the museum
    page = _text(staff_client.get(f"/staff/bookings/{tour.reference}?lang=en"))
    _assert_no_manage_link(page, app, [tour])


def test_a_walk_in_group_needs_the_lead_time_override_and_a_reason(staff_client, session, guides, clock):
    clock.set(local("2027-03-02T10:30"))
    form = group_form(date="2027-03-02", time="10:00", kind="self_guided", duration_minutes="60")
    response = staff_client.post("/staff/groups/new?lang=en", data=form)
    assert response.status_code == 422 and "at least 14 days ahead" in _text(response)
    response = staff_client.post("/staff/groups/new?lang=en", data={**form, "override_lead_time": "y"})
    assert response.status_code == 422 and "Give the reason" in _text(response)
    response = staff_client.post("/staff/groups/new?lang=en",
                                 data={**form, "override_lead_time": "y", "override_reason": "Walk-in class"})
    assert response.status_code == 302
    [entry] = _audit(session, "tour.create")
    assert entry.details["overrides"] == ["lead_time"] and entry.details["reason"] == "Walk-in class"
    # Once its hour is over, the slot is past even with the override.
    response = staff_client.post("/staff/groups/new?lang=en", data=group_form(
        date="2027-03-02", time="09:00", kind="self_guided", duration_minutes="60", override_lead_time="y",
        override_reason="Too late"))
    assert response.status_code == 422 and "already passed" in _text(response)


def test_a_large_guided_group_needs_the_group_size_override_and_enough_guides(staff_client, session, guides):
    form = group_form(pupils="44", adults="3")
    response = staff_client.post("/staff/groups/new?lang=en", data=form)
    assert response.status_code == 422 and "at most 40 pupils" in _text(response)
    overridden = {**form, "override_group_size": "y", "override_reason": "Two classes together"}
    response = staff_client.post("/staff/groups/new?lang=en", data=overridden)
    assert response.status_code == 409 and "No guide on duty" in _text(response)  # 44 pupils need 3 guides
    session.add(Guide(name="Ahmed Benali", language_codes="fr,en"))
    session.commit()
    response = staff_client.post("/staff/groups/new?lang=en", data={**overridden, "form_id": uuid.uuid4().hex})
    assert response.status_code == 302
    [tour] = _only(session, TourRequest)
    assert len(tour.guides) == 3


def test_a_desk_group_is_refused_when_the_chosen_guide_is_busy(staff_client, session, guides, request_tour):
    held = request_tour("2027-03-16T10:00", pupils=20, adults=2)  # holds one guide
    busy = held.guides[0]
    response = staff_client.post("/staff/groups/new?lang=en", data=group_form(guides=[str(busy.id)]))
    assert response.status_code == 409 and "not free then" in _text(response)
    assert len(_only(session, TourRequest)) == 1


# --- group visits: guides and cancellation -------------------------------------------------------

@pytest.fixture
def confirmed_tour(session, policy, clock, request_tour, guides):
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2, language="fr")
    return confirm_tour(session, policy, clock.now(), tour.id)


def test_staff_name_other_guides_for_a_confirmed_group(staff_client, session, confirmed_tour, guides):
    before = confirmed_tour.guides[0]
    other = next(g for g in guides if g.id != before.id)
    response = staff_client.post(f"/staff/bookings/{confirmed_tour.reference}/guides?lang=en",
                                 data={"guides": [str(other.id)]})
    assert response.status_code == 302
    assignments = _only(session, GuideAssignment)
    assert {a.guide_id for a in assignments} == {other.id} and len(assignments) == 2
    [entry] = _audit(session, "tour.guides")
    assert entry.details == {"previous": [before.name], "guides": [other.name]}
    page = _text(staff_client.get(f"/staff/bookings/{confirmed_tour.reference}?lang=en"))
    assert "Guides changed" in page


def test_the_number_of_guides_must_stay_what_the_group_needs(staff_client, session, confirmed_tour, guides):
    response = staff_client.post(f"/staff/bookings/{confirmed_tour.reference}/guides?lang=en",
                                 data={"guides": [str(g.id) for g in guides]})
    assert response.status_code == 409 and "Choose exactly 1 guide." in _text(response)
    response = staff_client.post(f"/staff/bookings/{confirmed_tour.reference}/guides?lang=en", data={})
    assert response.status_code == 409
    assert {a.guide_id for a in _only(session, GuideAssignment)} == {confirmed_tour.guides[0].id}
    assert _audit(session, "tour.guides") == []


def test_a_guide_busy_with_another_group_cannot_be_named(staff_client, session, confirmed_tour, request_tour,
                                                         guides):
    other = request_tour("2027-03-16T11:00", pupils=20, adults=2)  # takes the other guide from 11:00
    busy = other.guides[0]
    response = staff_client.post(f"/staff/bookings/{confirmed_tour.reference}/guides?lang=en",
                                 data={"guides": [str(busy.id)]})
    assert response.status_code == 422  # not even offered: the form refuses it
    page = _text(response)
    assert f'id="guide-{busy.id}"' not in page


def test_staff_cancel_a_group_for_the_teacher_freeing_places_and_guides(
        smtp_config, smtp_server, app, staff_client, session, confirmed_tour):
    response = staff_client.post(f"/staff/bookings/{confirmed_tour.reference}/cancel?lang=en",
                                 data={"message": "Le bus ne vient pas."})
    assert response.status_code == 302
    tour = _fresh(session, TourRequest, confirmed_tour.id)
    assert tour.status == "cancelled"
    assert slot_booked(session, "2027-03-16T10:00") == 0 and _only(session, GuideAssignment) == []
    [entry] = _audit(session, "tour.cancel")
    assert entry.details["message"] == "Le bus ne vient pas." and entry.details["previous_status"] == "confirmed"
    # The cancellation, sent by the request; what the fixtures queued outside a request waits for the worker.
    teacher = [m for m in smtp_server.wait_for(3, timeout=1) if m["To"] == "els@school.example"]
    assert len(teacher) == 1
    body = plain_text(teacher[-1])
    assert "annulée" in teacher[-1]["Subject"]
    assert "Message du musée\u202f: Le bus ne vient pas." in body
    assert "METHOD:CANCEL" in calendar_part(teacher[-1])
    page = _text(staff_client.get(f"/staff/bookings/{confirmed_tour.reference}?lang=en"))
    assert "Cancelled by staff for the teacher" in page and "Cancel the group visit" not in page


def test_the_search_and_pages_never_show_a_manage_link(app, staff_client, book, request_tour, guides):
    items = [book("2027-03-02T10:00"), request_tour("2027-03-16T10:00")]
    pages = [_text(staff_client.get("/staff/bookings?lang=en")),
             _text(staff_client.get("/staff/bookings?q=example&lang=en"))]
    pages += [_text(staff_client.get(f"/staff/bookings/{item.reference}?lang=en")) for item in items]
    for page in pages:
        assert re.search(r"NMR-|GRP-", page)
        _assert_no_manage_link(page, app, items)


@pytest.fixture
def csrf_on(config_overrides):
    config_overrides["WTF_CSRF_ENABLED"] = True


def test_staff_actions_need_the_forms_csrf_token(csrf_on, app, session, staff_user, book):
    visit = book("2027-03-02T10:00")
    client = app.test_client()
    login = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    assert client.post("/staff/login", data={"email": staff_user.email, "password": STAFF_PASSWORD,
                                             "csrf_token": token}).status_code == 302
    page = _text(client.get(f"/staff/bookings/{visit.reference}?lang=en"))
    assert 'name="csrf_token"' in page
    assert client.post(f"/staff/bookings/{visit.reference}/cancel?lang=en", data={"message": ""}).status_code == 400
    assert client.post("/staff/bookings/new?lang=en", data=desk_form()).status_code == 400
    assert _fresh(session, Booking, visit.id).status == "confirmed" and len(_only(session, Booking)) == 1
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    value = token.group(1) or token.group(2)
    response = client.post(f"/staff/bookings/{visit.reference}/cancel?lang=en",
                           data={"message": "", "csrf_token": value})
    assert response.status_code == 302
    assert _fresh(session, Booking, visit.id).status == "cancelled"
