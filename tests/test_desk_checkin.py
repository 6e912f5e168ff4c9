"""Check-in by reference at the desk: the reference typed or scanned marks its party arrived, once;
unknown, cancelled and other-day references are refused with a sentence that says whose they are,
in the staff member's language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking.models import AuditEntry, Booking, TourRequest
from booking.services.attendance import CheckInRefused, check_in_by_reference, reference_candidates
from booking.services.bookings import cancel_booking
from tests.conftest import local

TODAY = local("2027-03-01T09:00").date()  # conftest's NOW


def _audits(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- the service -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "expected"), [
    ("NMR-7KQ3PX", ["NMR-7KQ3PX"]), ("nmr-7kq3px", ["NMR-7KQ3PX"]), (" nmr 7kq 3px\n", ["NMR-7KQ3PX"]),
    ("NMR7KQ3PX", ["NMR-7KQ3PX"]), ("grp-7kq3px", ["GRP-7KQ3PX"]), ("7kq3px", ["NMR-7KQ3PX", "GRP-7KQ3PX"]),
    ("NMR-7KQ3P", []), ("NMR-7KQ3P0", []), ("https://museum.test/b/NMR-7KQ3PX/token", []), ("", []),
])
def test_what_the_desk_types_is_read_as_a_reference_whatever_its_case_and_spaces(typed, expected):
    assert reference_candidates(typed) == expected


def test_a_reference_checks_its_visitors_in_once(session, rules, clock, book, staff_user):
    booking = book("2027-03-01T10:00", name="Anne Martin")
    result = check_in_by_reference(session, rules, clock.now(), staff_user, booking.reference.lower(), TODAY)
    assert (result.already, result.visit.attendance) == (False, "arrived")
    (entry,) = _audits(session, "booking.attendance")
    assert entry.details == {"attendance": "arrived", "previous": None, "via": "reference"}

    again = check_in_by_reference(session, rules, clock.now(), staff_user, booking.reference, TODAY)
    assert again.already and again.visit.id == booking.id
    assert len(_audits(session, "booking.attendance")) == 1  # the second scan changed nothing


def test_a_group_is_checked_in_by_its_reference_and_a_no_show_who_comes_after_all_too(
        session, rules, clock, staff_user, guides, request_tour, policy):
    from booking.services.attendance import mark

    tour = request_tour("2027-03-16T10:00")
    clock.set(local("2027-03-16T09:30"))
    mark(session, rules, clock.now(), staff_user, tour, "no_show")
    result = check_in_by_reference(session, rules, clock.now(), staff_user, tour.reference[4:],
                                   local("2027-03-16T10:00").date())
    assert not result.already and isinstance(result.visit, TourRequest)
    session.expire_all()
    assert session.get(TourRequest, tour.id).attendance == "arrived"


@pytest.mark.parametrize("code", ["unknown", "cancelled", "other_day", "empty"])
def test_unknown_cancelled_other_day_and_empty_references_are_refused_and_mark_nothing(
        session, rules, clock, book, staff_user, code):
    booking = book("2027-03-01T10:00") if code != "other_day" else book("2027-03-02T10:00")
    if code == "cancelled":
        cancel_booking(session, rules, clock.now(), booking.id)
    typed = {"unknown": "NMR-XXXXXX", "empty": "   "}.get(code, booking.reference)
    with pytest.raises(CheckInRefused) as refused:
        check_in_by_reference(session, rules, clock.now(), staff_user, typed, TODAY)
    assert refused.value.code == code
    if code in ("cancelled", "other_day"):
        assert refused.value.visit.id == booking.id
    session.expire_all()
    assert session.get(Booking, booking.id).attendance is None
    assert _audits(session, "booking.attendance") == []


# --- the day page ------------------------------------------------------------------------------------

def test_the_day_of_today_opens_with_the_reference_field_and_a_later_day_without_it(staff_client):
    today = staff_client.get("/staff/day/2027-03-01?lang=en").get_data(as_text=True)
    assert 'id="checkin-reference" name="reference"' in today and "autofocus" in today
    assert 'action="/staff/day/2027-03-01/checkin"' in today
    later = staff_client.get("/staff/day/2027-03-02?lang=en").get_data(as_text=True)
    assert 'id="checkin-reference"' not in later


@pytest.mark.parametrize(("lang", "arrived", "already", "unknown", "cancelled", "other_day"), [
    ("en", "{ref} · Anne Martin, 2 people, 10:00: arrived, checked in at 09:00.",
     "{ref} · Anne Martin, 2 people, 10:00: already arrived at 09:00.",
     "No booking or group has the reference NMR-XXXXXX.",
     "{ref} · Bart Peeters, 2 people, 11:00: this visit is cancelled; it cannot be checked in.",
     "{ref} · Chloé Dubois, 2 people, 10:00: this visit is on Tuesday 2 March 2027, not on this day."),
    ("fr", "{ref} · Anne Martin, 2 personnes, 10:00\u202f: arrivée enregistrée à 09:00.",
     "{ref} · Anne Martin, 2 personnes, 10:00\u202f: arrivée déjà enregistrée à 09:00.",
     "Aucune réservation ni aucun groupe n’a la référence NMR-XXXXXX.",
     "{ref} · Bart Peeters, 2 personnes, 11:00\u202f: cette visite est annulée\u202f; impossible de l’enregistrer.",
     "{ref} · Chloé Dubois, 2 personnes, 10:00\u202f: cette visite a lieu le mardi 2 mars 2027, pas ce jour-ci."),
])
def test_the_desk_reads_each_outcome_in_its_language_without_javascript(
        staff_client, session, rules, clock, book, lang, arrived, already, unknown, cancelled, other_day):
    anne = book("2027-03-01T10:00", name="Anne Martin")
    bart = book("2027-03-01T11:00", name="Bart Peeters")
    cancel_booking(session, rules, clock.now(), bart.id)
    chloe = book("2027-03-02T10:00", name="Chloé Dubois")
    staff_client.get(f"/staff/calendar?lang={lang}")  # the staff member's language, kept for the session

    def scan(typed: str) -> str:
        response = staff_client.post("/staff/day/2027-03-01/checkin", data={"reference": typed})
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/day/2027-03-01#checkin"
        return staff_client.get(response.headers["Location"]).get_data(as_text=True)

    page = scan(f"  {anne.reference.lower()} ")
    assert arrived.format(ref=anne.reference) in page
    assert 'class="flash flash-success"' in page
    assert already.format(ref=anne.reference) in scan(anne.reference)
    assert unknown in scan("nmr-xxxxxx")
    assert cancelled.format(ref=bart.reference) in scan(bart.reference)
    assert other_day.format(ref=chloe.reference) in scan(chloe.reference)
    session.expire_all()
    assert [session.get(Booking, visit.id).attendance for visit in (anne, bart, chloe)] == ["arrived", None, None]


def test_the_script_gets_the_outcome_and_the_rows_new_state_as_json(staff_client, session, book, guides,
                                                                    request_tour, clock):
    tour = request_tour("2027-03-16T10:00", organisation="Sint-Jozefscollege")
    clock.set(local("2027-03-16T09:40"))
    response = staff_client.post("/staff/day/2027-03-16/checkin?lang=en", data={"reference": tour.reference},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["outcome"] == "arrived" and body["row"] == f"tour-{tour.id}"
    assert body["message"].startswith(f"{tour.reference} · Sint-Jozefscollege, 20 pupils + 2 adults, 10:00–12:00")
    assert "Arrived at 09:40" in body["html"]
    refused = staff_client.post("/staff/day/2027-03-16/checkin?lang=en", data={"reference": "GRP-XXXXXX"},
                                headers={"Accept": "application/json"})
    assert refused.status_code == 422
    assert refused.get_json() == {"outcome": "unknown", "message": "No booking or group has the reference GRP-XXXXXX.",
                                  "row": None, "html": None}


def test_a_later_days_page_refuses_a_check_in_posted_to_it(staff_client, session, book):
    booking = book("2027-03-02T10:00")
    response = staff_client.post("/staff/day/2027-03-02/checkin?lang=en", data={"reference": booking.reference},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["message"] == "A visit on a later day cannot be marked yet."
    session.expire_all()
    assert session.get(Booking, booking.id).attendance is None
