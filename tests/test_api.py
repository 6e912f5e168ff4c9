"""The JSON API: availability, bookings and the OpenAPI document."""

import pytest
import sqlalchemy as sa

from booking.models import Booking
from tests.conftest import slot_booked

GOOD = {"start": "2027-03-02T10:00:00+01:00", "party_size": 2, "name": "Jan Peeters",
        "email": "jan@example.be", "language": "nl"}


def test_availability_lists_days_with_slots_and_places(client, book):
    book("2027-03-02T10:00", party_size=5)
    body = client.get("/api/availability?from=2027-03-01&to=2027-03-07").get_json()
    assert body["timezone"] == "Europe/Brussels"
    days = {day["date"]: day for day in body["days"]}
    assert len(days) == 7
    tuesday = days["2027-03-02"]
    assert tuesday["open"] is True and tuesday["closed_reason"] is None
    starts = [slot["start"] for slot in tuesday["slots"]]
    assert starts[:2] == ["2027-03-02T09:00:00+01:00", "2027-03-02T10:00:00+01:00"]
    ten = tuesday["slots"][1]
    assert ten == {"start": "2027-03-02T10:00:00+01:00", "end": "2027-03-02T11:00:00+01:00", "capacity": 50,
                   "remaining": 45, "bookable": True}
    assert days["2027-03-06"]["open"] is False and days["2027-03-06"]["slots"] == []
    assert days["2027-03-06"]["closed_reason"]


def test_availability_names_holidays_and_crosses_the_change_to_summer_time(client):
    body = client.get("/api/availability?from=2027-03-26&to=2027-03-30&language=fr").get_json()
    days = {day["date"]: day for day in body["days"]}
    assert days["2027-03-29"]["closed_reason"] == "Lundi de Pâques"
    assert days["2027-03-26"]["slots"][0]["start"].endswith("+01:00")
    assert days["2027-03-30"]["slots"][0]["start"].endswith("+02:00")


@pytest.mark.parametrize(("language", "name"), [
    ("fr", "Fête de l'Iris (Région de Bruxelles-Capitale)"), ("nl", "Irisfeest (Brussels Hoofdstedelijk Gewest)"),
    ("en", "Iris Day (Brussels-Capital Region)"), ("de", "Irisfest (Region Brüssel-Hauptstadt)")])
def test_the_eighth_of_may_is_named_in_the_language_asked(client, staff_client, language, name):
    body = client.get(f"/api/availability?from=2028-05-08&to=2028-05-08&language={language}").get_json()
    assert body["days"][0]["closed_reason"] == name
    week = staff_client.get(f"/staff/calendar?date=2028-05-08&lang={language}").get_data(as_text=True)
    assert name.replace("'", "&#39;") in week


@pytest.mark.parametrize(("query", "field"), [
    ("from=2027-03-01&to=", "to"),  # left out, `to` is three weeks on; given, it must be a date
    ("from=yesterday&to=2027-03-01", "from"),
    ("from=2027-03-10&to=2027-03-01", "to"),
    ("from=2027-03-01&to=2027-06-01", "to"),  # 93 days
])
def test_availability_refuses_bad_ranges_with_field_errors(client, query, field):
    response = client.get(f"/api/availability?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_availability_accepts_92_days(client):
    response = client.get("/api/availability?from=2027-03-01&to=2027-05-31")
    assert response.status_code == 200 and len(response.get_json()["days"]) == 92


def test_booking_through_the_api(client, session):
    response = client.post("/api/bookings", json=GOOD)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed" and body["party_size"] == 2
    assert body["start"] == "2027-03-02T10:00:00+01:00"
    assert body["reference"].startswith("NMR-")
    assert session.scalars(sa.select(Booking.language)).one() == "nl"
    assert slot_booked(session, "2027-03-02T10:00") == 2


def test_a_start_in_utc_means_the_same_slot(client, session):
    response = client.post("/api/bookings", json={**GOOD, "start": "2027-03-02T09:00:00Z"})
    assert response.status_code == 201
    assert response.get_json()["start"] == "2027-03-02T10:00:00+01:00"


def test_a_full_slot_answers_409_slot_full(client, book, session):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=8)
    response = client.post("/api/bookings", json={**GOOD, "party_size": 3})
    assert response.status_code == 409
    assert response.get_json()["error"] == "slot_full"
    assert slot_booked(session, "2027-03-02T10:00") == 48


@pytest.mark.parametrize(("changes", "field"), [
    ({"start": "2027-03-06T10:00:00+01:00"}, "start"),   # weekend
    ({"start": "2027-03-29T10:00:00+02:00"}, "start"),   # Easter Monday
    ({"start": "2027-02-26T10:00:00+01:00"}, "start"),   # past
    ({"start": "2027-08-02T10:00:00+02:00"}, "start"),   # too far
    ({"start": "2027-03-02T17:00:00+01:00"}, "start"),   # closing time
    ({"start": "2027-03-02T10:30:00+01:00"}, "start"),   # not a slot
    ({"start": "soon"}, "start"),
    ({"start": None}, "start"),
    ({"party_size": 0}, "party_size"),
    ({"party_size": 9}, "party_size"),
    ({"party_size": "two"}, "party_size"),
    ({"party_size": True}, "party_size"),
    ({"email": "no-at-sign"}, "email"),
    ({"name": "<img src=x>"}, "name"),
    ({"name": "n" * 10_000}, "name"),
    ({"language": "es"}, "language"),
])
def test_everything_else_wrong_answers_422_with_the_field(client, session, changes, field):
    body = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors and errors[field]
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", "null", '"text"'])
def test_a_body_that_is_not_an_object_answers_422(client, payload):
    response = client.post("/api/bookings", data=payload, content_type="application/json")
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]


def test_errors_speak_the_language_of_the_request(client):
    response = client.post("/api/bookings", json={**GOOD, "language": "fr", "start": "2027-03-29T10:00:00+02:00"})
    assert "Lundi de Pâques" in response.get_json()["errors"]["start"]


def test_an_idempotency_key_makes_a_retry_return_the_first_booking(client, session):
    headers = {"Idempotency-Key": "retry-1"}
    first = client.post("/api/bookings", json=GOOD, headers=headers)
    second = client.post("/api/bookings", json=GOOD, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert slot_booked(session, "2027-03-02T10:00") == 2
    third = client.post("/api/bookings", json=GOOD, headers={"Idempotency-Key": "retry-2"})
    assert third.get_json()["reference"] != first.get_json()["reference"]


@pytest.fixture
def csrf_enabled(config_overrides):
    config_overrides["WTF_CSRF_ENABLED"] = True


def test_the_api_needs_no_csrf_token_even_when_forms_do(csrf_enabled, app):
    assert app.test_client().post("/api/bookings", json=GOOD).status_code == 201


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert client.get("/api/bookings").status_code == 405


@pytest.mark.parametrize(("path", "allowed"), [("/api/bookings", {"POST", "OPTIONS"}),
                                               ("/api/availability", {"GET", "HEAD", "OPTIONS"}),
                                               ("/en/lost-link", {"GET", "HEAD", "POST", "OPTIONS"})])
def test_a_405_answer_names_the_allowed_methods(client, path, allowed):
    response = client.delete(path)
    assert response.status_code == 405
    assert {method.strip() for method in response.headers["Allow"].split(",")} == allowed


def test_the_openapi_document_describes_every_path(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/availability", "/api/bookings", "/api/tour-requests", "/api/openapi.json"} <= set(document["paths"])
    assert {"201", "409", "422"} <= set(document["paths"]["/api/tour-requests"]["post"]["responses"])
    responses = document["paths"]["/api/bookings"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(responses)
    required = document["components"]["schemas"]["BookingRequest"]["required"]
    assert set(required) == {"start", "party_size", "name", "email", "language"}


CODE_FIELDS = {"language", "tour_language", "group_kind", "kind"}


def test_the_openapi_document_says_what_the_api_accepts_and_refuses(client):
    document = client.get("/api/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("BookingRequest", "TourRequest"):
        schema = schemas[name]
        for field, spec in schema["properties"].items():
            if field in CODE_FIELDS:
                assert spec.get("enum"), f"{name}.{field} has no enum"
            if field in schema["required"] and spec.get("type") == "string" and "enum" not in spec:
                assert spec.get("minLength", 0) >= 1 and spec.get("pattern") == r"\S", f"{name}.{field}"
    language = next(p for p in document["paths"]["/api/availability"]["get"]["parameters"] if p["name"] == "language")
    assert language["schema"]["enum"] == ["fr", "nl", "en", "de"]
    bookings = document["paths"]["/api/bookings"]["post"]["responses"]
    for refusal in ("past", "closed", "not a slot"):
        assert refusal in bookings["422"]["description"]
    assert "full" in bookings["409"]["description"]
    tours = document["paths"]["/api/tour-requests"]["post"]["responses"]
    refusals = tours["409"]["description"] + tours["422"]["description"]
    assert all(refusal in refusals for refusal in ("past", "closed", "full"))
    for path in ("/api/bookings", "/api/tour-requests"):
        too_many = document["paths"][path]["post"]["responses"]["429"]
        assert "Retry-After" in too_many["headers"]
