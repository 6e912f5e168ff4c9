"""Group visits through the pages, the staff page and the API."""

import re
import uuid

import pytest
import sqlalchemy as sa

from booking.models import TourRequest
from tests.conftest import sign_in, slot_booked


def tour_form(**changes):
    data = {"kind": "guided", "duration_minutes": "120", "start_1_date": "2027-03-16", "start_1_time": "10:00",
            "start_2_date": "", "start_2_time": "10:00", "start_3_date": "", "start_3_time": "10:00",
            "organisation": "Athénée Royal d'Anderlecht", "address": "Rue de l'École 1", "postcode": "1070",
            "contact_name": "Sophie Lambert", "contact_role": "History teacher", "email": "sophie@school.example",
            "phone": "+32 470 11 22 33", "leader_name": "", "pupils": "24", "adults": "2",
            "group_kind": "secondary", "tour_language": "fr", "needs": "One pupil uses a wheelchair.",
            "topic": "The underground press", "notes": "", "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def count(session):
    n = session.scalar(sa.select(sa.func.count()).select_from(TourRequest))
    session.commit()
    return n


def test_the_form_states_the_rules_before_the_teacher_types(client):
    page = client.get("/en/groups").get_data(as_text=True)
    assert "14 days" in page and "40 pupils" in page and "15 pupils" in page and "not yet a confirmation" in page
    french = client.get("/fr/groups").get_data(as_text=True)
    assert "14 jours" in french and "pas encore une confirmation" in french


def test_a_request_from_the_form_lands_on_its_private_page(client, guides, session):
    response = client.post("/nl/groups", data=tour_form())
    assert response.status_code == 302
    assert re.fullmatch(r"/g/GRP-[0-9A-Z]{6}/[\w-]{32}", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Aanvraag ontvangen" in page and '<html lang="nl">' in page
    tour = session.scalars(sa.select(TourRequest)).one()
    assert tour.language == "nl" and tour.tour_language == "fr" and tour.status == "pending"
    assert slot_booked(session, "2027-03-16T10:00") == 26 and slot_booked(session, "2027-03-16T11:00") == 26


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"start_1_date": "2027-03-05"}, "start_1_date", "at least 14 days"),
    ({"pupils": "0"}, "pupils", "from 1 to 999"),
    ({"pupils": "400"}, "pupils", "at most 40 pupils"),
    ({"pupils": "41", "adults": "3"}, "pupils", "at most 40 pupils"),
    ({"pupils": "20", "adults": "1", "group_kind": "primary"}, "adults", "one accompanying adult for every 15"),
    ({"start_1_date": "2027-03-20"}, "start_1_date", "closed at weekends"),
    ({"start_1_date": "2027-03-29"}, "start_1_date", "public holidays"),
    ({"start_1_time": "16:00"}, "start_1_time", "15:00 at the latest"),
    ({"tour_language": "es"}, "tour_language", ""),
    ({"phone": ""}, "phone", "phone number"),
    ({"email": "sophie"}, "email", "valid email"),
    ({"consent": None}, "consent", "privacy notice"),
])
def test_bad_requests_are_explained_next_to_the_field_and_nothing_is_stored(client, guides, session, changes,
                                                                            field, text):
    response = client.post("/en/groups", data=tour_form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and text in page
    assert 'value="Sophie Lambert"' in page or field == "contact_name"
    assert count(session) == 0


def test_when_no_time_fits_the_teacher_reads_why_next_to_each_time(client, guides, session, request_tour):
    request_tour("2027-03-16T10:00", pupils=40, adults=3)
    response = client.post("/en/groups", data=tour_form(start_2_date="2027-03-16", start_2_time="11:00"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert page.count("No guide is free at this time.</p>") == 2  # next to each time (and in the summary)
    assert count(session) == 1


def test_the_same_form_posted_twice_makes_one_request(client, guides, session):
    data = tour_form()
    first = client.post("/en/groups", data=data)
    second = client.post("/en/groups", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(session) == 1


def test_a_forged_tour_link_is_not_found(client, guides):
    path = client.post("/en/groups", data=tour_form()).headers["Location"]
    assert client.get(path[:-2] + "xx").status_code == 404
    assert client.post(path[:-2] + "xx/cancel").status_code == 404


def test_the_teacher_cancels_from_the_link_until_seven_days_before(client, guides, session, clock):
    from tests.conftest import local

    path = client.post("/en/groups", data=tour_form()).headers["Location"]
    clock.set(local("2027-03-09T11:00"))  # 7 days minus one hour before
    page = client.get(path).get_data(as_text=True)
    assert "Cancel this group visit" not in page and "+32 2 522 40 41" in page
    client.post(path + "/cancel")
    assert session.scalars(sa.select(TourRequest.status)).one() == "pending"
    clock.set(local("2027-03-09T09:00"))
    client.post(path + "/cancel")
    assert session.scalars(sa.select(TourRequest.status)).one() == "cancelled"
    assert slot_booked(session, "2027-03-16T10:00") == 0


@pytest.fixture
def one_day_rules(config_overrides):
    """Settings of one: a day ahead, a day to cancel, one group per tour, a day's retention, flagged after a day."""
    config_overrides.update({"TOUR_MIN_DAYS_AHEAD": 1, "TOUR_CANCEL_DAYS_BEFORE": 1, "TOUR_MAX_GUIDES": 1,
                             "RETENTION_DAYS": 1, "TOUR_FLAG_AFTER_WORKING_DAYS": 0})


def test_settings_of_one_day_or_one_group_are_worded_in_the_singular(one_day_rules, app, client, guides, session,
                                                                     clock, staff_login):
    from booking.messages import explain_tour
    from tests.conftest import local

    page = client.get("/en/groups").get_data(as_text=True)
    assert "Ask at least 1 day and at most 180 days before the visit." in page
    assert "up to 20 pupils in 1 group, plus their adults." in page
    french = client.get("/fr/groups").get_data(as_text=True)
    assert "au moins 1 jour et au plus 180 jours" in french and "20 élèves en 1 groupe," in french
    assert "1 day after your visit, your personal data" in client.get("/en/privacy").get_data(as_text=True)
    with app.test_request_context("/?lang=en"):
        assert explain_tour("too_soon") == "Group visits are requested at least 1 day ahead."
        assert explain_tour("too_late_to_change").startswith("Your visit is less than 1 day away:")

    path = client.post("/en/groups", data=tour_form(pupils="18")).headers["Location"]
    clock.set(local("2027-03-02T10:00"))  # Tuesday: the request has waited one working day
    sign_in(client, *staff_login)
    assert "waiting 1 working day<" in client.get("/staff/requests?lang=en").get_data(as_text=True)
    clock.set(local("2027-03-15T11:00"))  # 23 hours before the visit
    assert "Your visit is less than 1 day away: to cancel or change it" in client.get(path).get_data(as_text=True)


# --- staff ---------------------------------------------------------------------------------------

@pytest.fixture
def staff_login(session):
    from booking.services.staff import create_staff

    create_staff(session, "desk@museum.example", "correct horse battery")
    return "desk@museum.example", "correct horse battery"


def test_a_wrong_password_does_not_sign_in(client, staff_login):
    response = client.post("/staff/login", data={"email": staff_login[0], "password": "wrong"})
    assert response.status_code == 401
    assert client.get("/staff/").status_code == 302


def test_staff_see_pending_requests_and_confirm_one(client, guides, session, staff_login):
    client.post("/en/groups", data=tour_form(pupils="18"))
    assert sign_in(client, *staff_login).status_code == 302
    page = client.get("/staff/requests").get_data(as_text=True)
    assert "Athénée Royal d&#39;Anderlecht" in page and "One pupil uses a wheelchair." in page
    tour = session.scalars(sa.select(TourRequest)).one()
    assert [g.name for g in tour.guides] == ["Pieter Janssens"]
    response = client.post(f"/staff/tours/{tour.id}/confirm", data={"guides": [guides[1].id], "message": "Hi"})
    assert response.status_code == 302
    session.expire_all()
    tour = session.get(TourRequest, tour.id)
    assert tour.status == "confirmed" and [g.name for g in tour.guides] == ["Marie Dubois"]


def test_staff_decline_needs_a_reason(client, guides, session, staff_login):
    client.post("/en/groups", data=tour_form())
    sign_in(client, *staff_login)
    tour = session.scalars(sa.select(TourRequest)).one()
    client.post(f"/staff/tours/{tour.id}/decline", data={"reason": ""})
    assert session.scalars(sa.select(TourRequest.status)).one() == "pending"
    client.post(f"/staff/tours/{tour.id}/decline", data={"reason": "Closed for works."})
    session.expire_all()
    assert session.scalars(sa.select(TourRequest.status)).one() == "declined"


def test_staff_propose_and_the_teacher_accepts_from_the_link(client, guides, session, staff_login):
    path = client.post("/en/groups", data=tour_form()).headers["Location"]
    sign_in(client, *staff_login)
    tour = session.scalars(sa.select(TourRequest)).one()
    client.post(f"/staff/tours/{tour.id}/propose", data={"date": "2027-03-18", "time": "13:00", "message": ""})
    session.expire_all()
    assert session.get(TourRequest, tour.id).status == "proposed"
    page = client.get(path).get_data(as_text=True)
    assert "Accept this time" in page and "13:00" in page
    client.post(path + "/accept")
    client.post(path + "/accept")  # twice changes nothing
    session.expire_all()
    tour = session.get(TourRequest, tour.id)
    assert tour.status == "confirmed"
    assert slot_booked(session, "2027-03-18T13:00") == 26 and slot_booked(session, "2027-03-16T10:00") == 0


# --- API -----------------------------------------------------------------------------------------

API_TOUR = {"kind": "guided", "starts": ["2027-03-16T10:00:00+01:00"], "organisation": "Sint-Lukas",
            "postcode": "1000", "contact_name": "Jef", "email": "jef@school.example", "phone": "0470 12 34 56",
            "pupils": 22, "adults": 2, "group_kind": "secondary", "tour_language": "nl", "language": "nl"}


def test_the_api_takes_a_tour_request(client, guides, session):
    response = client.post("/api/tour-requests", json=API_TOUR)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["reference"].startswith("GRP-")
    assert body["start"] == "2027-03-16T10:00:00+01:00"


def test_a_self_guided_request_needs_no_tour_language(client, session):
    body = {k: v for k, v in API_TOUR.items() if k != "tour_language"}
    response = client.post("/api/tour-requests", json={**body, "kind": "self_guided", "duration_minutes": 60})
    assert response.status_code == 201
    assert session.scalars(sa.select(TourRequest.tour_language)).one() is None


def test_the_api_says_which_constraint_failed(client, guides, request_tour):
    request_tour("2027-03-16T10:00", pupils=40, adults=3)
    response = client.post("/api/tour-requests", json=API_TOUR)
    assert response.status_code == 409
    assert response.get_json()["reason"] == "no_guide"


@pytest.mark.parametrize(("changes", "field"), [
    ({"starts": []}, "starts"),
    ({"starts": ["not a date"]}, "starts"),
    ({"starts": ["2027-03-05T10:00:00+01:00"]}, "starts[0]"),
    ({"pupils": 41, "adults": 3}, "pupils"),
    ({"tour_language": "xx"}, "tour_language"),
    ({"tour_language": None}, "tour_language"),
    ({"phone": None}, "phone"),
    ({"group_kind": "primary", "adults": 1}, "adults"),
])
def test_the_api_refuses_bad_tour_requests_with_422(client, guides, session, changes, field):
    body = {k: v for k, v in {**API_TOUR, **changes}.items() if v is not None}
    response = client.post("/api/tour-requests", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert count(session) == 0


@pytest.mark.parametrize(("action", "dutch"), [
    ("accept", "Bedankt: uw groepsbezoek is bevestigd."),
    ("refuse", "U hebt het voorgestelde tijdstip geweigerd. We houden het niet langer vrij."),
    ("cancel", "Uw groepsbezoek is geannuleerd."),
])
def test_the_answer_to_a_teachers_choice_speaks_the_language_of_the_booking(app, client, request_tour, guides,
                                                                            session, policy, clock, action, dutch):
    from booking.links import tour_path
    from booking.services.tours import propose_time
    from tests.conftest import local

    tour = request_tour("2027-03-16T10:00", language="nl")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-18T10:00"))
    with app.app_context():
        path = tour_path(tour)
    english = {"Accept-Language": "en"}
    page = client.post(f"{path}/{action}", headers=english, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert dutch in page


def test_a_request_on_the_calendars_last_day_is_refused_next_to_its_field_not_a_500(client, guides):
    """Found by the thorough Hypothesis pass: 31 December 9999 has no next midnight."""
    response = client.post("/en/groups", data=tour_form(start_1_date="9999-12-31", start_1_time="10:00"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="9999-12-31"' in page and 'id="start_1_date-error"' in page
