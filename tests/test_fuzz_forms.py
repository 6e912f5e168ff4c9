"""No 500 on any input: every public form (and the staff sign-in) posted arbitrary text, numbers, dates,
unicode, NUL bytes and very long strings. Each answer is a redirect, or a page that says what is wrong.

The number of examples comes from the Hypothesis profile (tests/hypothesis_profiles.py).
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.links import tour_path, visit_path
from booking.services.tours import propose_time
from tests.conftest import local

SPECIAL = ["", " ", "\x00", "a\x00b", "\r\n", "\u202e", "\ud7ff", "\ufeff", "😀" * 30, "<script>alert(1)</script>",
           "' OR 1=1 --", "%00", "../../etc/passwd", "-1", "0", "1e309", "NaN", "99999999999999999999999",
           "2027-03-02T10:00", "2027-03-02T10:00:00+01:00", "2027-02-30T10:00", "2027-03-02", "9999-12-31",
           "0001-01-01", "2999-12-31", "0001-01-01T00:00", "10:00", "25:61", "anne@example.be", "a@b", "@",
           "x" * 100_000, "\x00" * 5000]

text = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
            max_size=50),
    st.integers().map(str),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "é" * n),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)


def fields(names: list[str], valid: dict[str, str]):
    """A form: a valid one with some fields replaced or left out, or nothing but junk."""
    junk = st.fixed_dictionaries({}, optional={name: text for name in names})
    return st.one_of(junk, junk.map(lambda changes: {**valid, **changes}))


def assert_answered(response, *, allow=(200, 302, 303, 400, 401, 404, 405, 409, 413, 422)):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:2000]
    assert response.status_code in allow, response.status_code
    if 400 <= response.status_code < 500:
        says_why = ('class="error"' in body or 'class="flash' in body
                    or ("<h1>" in body and "Back to the home page" in body))
        assert says_why, body[:2000]


VISIT = {"start": "2027-03-02T10:00", "party_size": "2", "name": "Anne Martin", "email": "anne@example.be",
         "note": "", "consent": "y", "form_id": ""}
LANGS = st.sampled_from(["en", "fr", "nl", "de", "xx", "EN", "\x00", "é"])


@given(lang=LANGS, data=fields(list(VISIT), VISIT))
def test_booking_form(client, lang, data):
    if data.get("form_id") == "":
        data["form_id"] = uuid.uuid4().hex
    assert_answered(client.post(f"/{lang}/book", data=data))


@given(query=text, month=text)
def test_pages_that_read_the_query_string(client, query, month):
    assert_answered(client.get("/en/book", query_string={"start": query}))
    assert_answered(client.get("/en/visit", query_string={"month": month}))
    assert_answered(client.get(f"/en/visit/{query[:200].replace('/', '')}"))


GROUP = {"kind": "guided", "duration_minutes": "120", "start_1_date": "2027-03-16", "start_1_time": "10:00",
         "start_2_date": "", "start_2_time": "10:00", "start_3_date": "", "start_3_time": "10:00",
         "organisation": "Athénée Royal", "address": "Rue de l'École 1", "postcode": "1070",
         "contact_name": "Sophie Lambert", "contact_role": "Teacher", "email": "sophie@school.example",
         "phone": "+32 470 11 22 33", "leader_name": "", "pupils": "24", "adults": "2", "group_kind": "secondary",
         "tour_language": "fr", "needs": "", "topic": "", "notes": "", "consent": "y", "form_id": ""}


@given(data=fields(list(GROUP), GROUP))
def test_group_request_form(client, guides, data):
    assert_answered(client.post("/en/groups", data=data))


@pytest.fixture
def visit_link(app, book):
    with app.app_context():
        return visit_path(book("2027-03-03T11:00", party_size=1))


@given(start=text, day=text, month=text, junk=text)
def test_manage_move_cancel_and_delete(client, visit_link, start, day, month, junk):
    assert_answered(client.post(f"{visit_link}/move", data={"start": start}))
    assert_answered(client.get(f"{visit_link}/move", query_string={"day": day, "month": month}))
    assert_answered(client.post(f"{visit_link}/cancel", data={"x": junk}))
    assert_answered(client.get(f"{visit_link}/delete", query_string={"lang": junk}))
    reference, token = visit_link.split("/")[2:4]
    assert_answered(client.get(f"/b/{junk[:300].replace('/', '')}x/{token}"))
    assert_answered(client.post(f"/b/{reference}/{junk[:300].replace('/', '')}x/move", data={"start": start}))


@pytest.fixture
def tour_link(app, request_tour, guides, session, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    with app.app_context():
        return tour_path(tour)


@given(action=st.sampled_from(["accept", "refuse", "cancel", "delete"]), junk=text)
def test_group_accept_refuse_cancel(client, tour_link, action, junk):
    assert_answered(client.post(f"{tour_link}/{action}", data={"confirm": junk}))
    assert_answered(client.get(tour_link, query_string={"lang": junk}))
    reference = tour_link.split("/")[2]
    assert_answered(client.post(f"/g/{reference}/{junk[:300].replace('/', '')}x/{action}"))


# Each sign-in hashes a password on purpose (slow): a tenth of the profile's examples.
@settings(max_examples=max(10, settings().max_examples // 10))
@given(data=fields(["email", "password"], {"email": "desk@museum.example", "password": "wrong"}), next_=text)
def test_staff_sign_in(client, staff_user, data, next_):
    response = client.post("/staff/login", data=data, query_string={"next": next_})
    assert_answered(response)
    if response.status_code == 302:
        location = response.headers["Location"]
        assert location.startswith("/staff"), location  # never sent to another site


@pytest.fixture
def csrf_on(config_overrides):
    config_overrides["WTF_CSRF_ENABLED"] = True


@given(path=st.sampled_from(["/en/book", "/en/groups", "/staff/login"]), token=text, name=text)
def test_forms_with_a_forged_or_missing_csrf_token(csrf_on, client, path, token, name):
    assert_answered(client.post(path, data={"csrf_token": token, "name": name, "start": "2027-03-02T10:00"}))


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)


def json_bodies(valid: dict):
    changes = st.fixed_dictionaries({}, optional={name: json_value for name in valid})
    return st.one_of(json_value, changes, changes.map(lambda c: {**valid, **c}))


API_VISIT = {"start": "2027-03-02T10:00", "party_size": 2, "name": "Anne Martin", "email": "anne@example.be",
             "language": "en", "note": ""}
API_TOUR = {"starts": ["2027-03-16T10:00"], "organisation": "Athénée Royal", "postcode": "1070",
            "contact_name": "Sophie Lambert", "email": "sophie@school.example", "phone": "+32 470 11 22 33",
            "pupils": 24, "adults": 2, "group_kind": "secondary", "tour_language": "fr", "language": "fr",
            "kind": "guided", "duration_minutes": 120}


def assert_api_answered(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and (body.get("message") or body.get("errors")), response.get_data()[:500]


@given(body=json_bodies(API_VISIT), key=text)
def test_api_bookings_from_a_valid_body_with_any_field_changed(client, body, key):
    headers = {"Idempotency-Key": key} if key.isprintable() and key.isascii() else {}
    assert_api_answered(client.post("/api/bookings", json=body, headers=headers))


@given(body=json_bodies(API_TOUR))
def test_api_tour_requests_from_a_valid_body_with_any_field_changed(client, guides, body):
    assert_api_answered(client.post("/api/tour-requests", json=body))
