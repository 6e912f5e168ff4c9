"""The visitor's pages: home, calendar, day, booking form, and a booking's private page."""

import re
import uuid

import pytest
import sqlalchemy as sa

from booking.models import Booking, OutboxMessage
from tests.conftest import local, slot_booked


def form_data(**changes):
    data = {"start": "2027-03-02T10:00", "party_size": "3", "name": "Anne Martin",
            "email": "anne@example.be", "note": "", "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def booking_count(session):
    count = session.scalar(sa.select(sa.func.count()).select_from(Booking))
    session.commit()
    return count


def test_root_follows_the_browser_language(client):
    assert client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).headers["Location"] == "/nl/"
    assert client.get("/", headers={"Accept-Language": "de"}).headers["Location"] == "/de/"
    assert client.get("/", headers={"Accept-Language": "ja"}).headers["Location"] == "/en/"


def test_an_unknown_language_prefix_is_not_found(client):
    assert client.get("/es/").status_code == 404


def test_home_page_gives_the_facts_and_the_two_actions(client):
    page = client.get("/en/").get_data(as_text=True)
    for text in ["National Museum of the Resistance", "Rue Van Lint 14B", "1070", "Clemenceau", "Conseil",
                 "Brussels-Midi", "+32 2 522 40 41", "info@museumresistance.be", "9:00 to 17:00",
                 "reduced mobility", "Book a visit", "Request a guided tour for a group"]:
        assert text in page, text
    assert '<html lang="en">' in page


def test_the_calendar_links_bookable_days_and_explains_closed_ones(client):
    page = client.get("/en/visit?month=2027-03").get_data(as_text=True)
    assert 'href="/en/visit/2027-03-02"' in page
    assert 'href="/en/visit/2027-03-06"' not in page  # Saturday
    assert 'href="/en/visit/2027-03-29"' not in page  # Easter Monday
    assert "Easter Monday" in page
    assert 'href="/en/visit?month=2027-04"' in page


def test_the_calendar_does_not_go_before_this_month_or_past_the_horizon(client):
    past = client.get("/en/visit?month=2026-01").get_data(as_text=True)
    assert "March 2027" in past and "month=2027-02" not in past
    far = client.get("/en/visit?month=2027-09").get_data(as_text=True)
    assert "May 2027" in far and "month=2027-06" not in far
    assert client.get("/en/visit?month=garbage").status_code == 200


def test_a_full_day_is_shown_but_not_clickable(client, book):
    for hour in range(9, 17):
        for _ in range(6):
            book(f"2027-03-02T{hour:02d}:00", party_size=8)
        book(f"2027-03-02T{hour:02d}:00", party_size=2)
    calendar = client.get("/en/visit?month=2027-03").get_data(as_text=True)
    assert 'href="/en/visit/2027-03-02"' not in calendar
    day = client.get("/en/visit/2027-03-02").get_data(as_text=True)
    assert day.count("Full") == 8
    assert "/en/book?start=2027-03-02" not in day


def test_the_day_page_lists_slots_with_places_left(client, book):
    book("2027-03-02T10:00", party_size=5)
    page = client.get("/en/visit/2027-03-02").get_data(as_text=True)
    assert 'href="/en/book?start=2027-03-02T10:00"' in page
    assert "45 places left" in page
    assert page.count("/en/book?start=") == 8


def test_a_closed_day_page_gives_the_reason(client):
    page = client.get("/fr/visit/2027-03-29").get_data(as_text=True)
    assert "Lundi de Pâques" in page
    assert client.get("/en/visit/not-a-date").status_code == 404


def test_booking_through_the_form_redirects_to_the_private_page_with_the_reference(client, session):
    response = client.post("/en/book", data=form_data())
    assert response.status_code == 302
    assert re.fullmatch(r"/b/NMR-[0-9A-Z]{6}/[\w-]{32}", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"NMR-[0-9A-Z]{6}", page)
    assert "Your visit is confirmed" in page
    assert slot_booked(session, "2027-03-02T10:00") == 3
    booking = session.scalars(sa.select(Booking)).one()
    assert booking.language == "en" and booking.name == "Anne Martin"


def test_the_booking_stores_the_language_of_the_pages(client, session):
    client.post("/nl/book", data=form_data())
    assert session.scalars(sa.select(Booking.language)).one() == "nl"


def test_the_same_form_posted_twice_books_once_and_shows_the_first_booking(client, session):
    data = form_data()
    first = client.post("/en/book", data=data)
    second = client.post("/en/book", data=data)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert booking_count(session) == 1
    assert slot_booked(session, "2027-03-02T10:00") == 3


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"party_size": "0"}, "party_size", "between 1 and 8"),
    ({"party_size": "9"}, "party_size", "between 1 and 8"),
    ({"party_size": "many"}, "party_size", ""),
    ({"email": "anne.example.be"}, "email", "valid email"),
    ({"email": ""}, "email", "email address"),
    ({"name": "x" * 10_000}, "name", "100 characters at most"),
    ({"name": "<script>alert(1)</script>"}, "name", "without the characters &lt; and &gt;"),
    ({"name": ""}, "name", "your name"),
    ({"consent": None}, "consent", "privacy notice"),
    ({"start": "2027-03-02T17:00"}, "start", "not one of the museum"),
    ({"start": "2027-02-26T10:00"}, "start", "already passed"),
    ({"start": "2027-03-06T10:00"}, "start", "closed at weekends"),
    ({"start": "2027-03-29T10:00"}, "start", "Easter Monday"),
    ({"start": "2027-08-02T10:00"}, "start", "90 days"),
    ({"start": "tomorrow"}, "start", "arrival times"),
])
def test_bad_input_is_explained_next_to_its_field_and_books_nothing(client, session, changes, field, message):
    data = form_data(**changes)
    response = client.post("/en/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert booking_count(session) == 0
    # what the visitor typed is kept
    if field != "name":
        assert 'value="Anne Martin"' in page
    if field != "email" and data.get("email"):
        assert f'value="{data["email"]}"' in page


def test_html_in_a_name_is_never_rendered_as_html(client):
    page = client.post("/en/book", data=form_data(name="<b>Bold</b>")).get_data(as_text=True)
    assert "<b>Bold</b>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page


def test_a_full_slot_is_explained_and_keeps_the_form(client, book, session):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=8)
    response = client.post("/en/book", data=form_data(party_size="3"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "not enough places left" in page and 'value="anne@example.be"' in page
    assert slot_booked(session, "2027-03-02T10:00") == 48


def test_the_form_for_a_closed_slot_says_so_before_the_visitor_types(client):
    page = client.get("/en/book?start=2027-03-29T10:00").get_data(as_text=True)
    assert "Easter Monday" in page
    assert client.get("/en/book").status_code == 302


@pytest.fixture
def csrf_app_overrides(config_overrides):
    config_overrides["WTF_CSRF_ENABLED"] = True
    return config_overrides


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_missing_or_forged_csrf_token_books_nothing_and_keeps_the_form(csrf_app_overrides, app, session, token):
    client = app.test_client()
    client.get("/en/book?start=2027-03-02T10:00")  # the session gets a real token
    data = form_data()
    if token:
        data["csrf_token"] = token
    response = client.post("/en/book", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "expired" in page and 'value="anne@example.be"' in page
    assert booking_count(session) == 0


def test_a_form_with_its_real_csrf_token_books(csrf_app_overrides, app, session):
    client = app.test_client()
    page = client.get("/en/book?start=2027-03-02T10:00").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/en/book", data=form_data(csrf_token=token))
    assert response.status_code == 302
    assert booking_count(session) == 1


def manage_path(client):
    return client.post("/en/book", data=form_data()).headers["Location"]


def test_the_private_page_speaks_the_booking_language_unless_the_visitor_switches(client):
    path = client.post("/fr/book", data=form_data()).headers["Location"]
    page = client.get(path).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert '<html lang="de">' in client.get(path + "?lang=de").get_data(as_text=True)


@pytest.mark.parametrize("tamper", [
    lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),   # forged token
    lambda p: p.replace("/b/NMR-", "/b/NMR-X")[:-1],      # unknown reference
    lambda p: p.rsplit("/", 1)[0] + "/short",
    lambda p: p.replace("/b/NMR-", "/b/NMR-%00"),             # a NUL, which PostgreSQL cannot compare
])
def test_a_forged_link_is_not_found_and_reveals_nothing(client, tamper):
    path = manage_path(client)
    response = client.get(tamper(path))
    assert response.status_code == 404
    assert "Anne" not in response.get_data(as_text=True)
    assert client.post(tamper(path) + "/cancel").status_code == 404


def test_a_link_of_an_older_version_is_revoked(client, session):
    path = manage_path(client)
    booking = session.scalars(sa.select(Booking)).one()
    booking.token_version += 1
    session.commit()
    assert client.get(path).status_code == 404


def test_cancelling_from_the_private_page(client, session):
    path = manage_path(client)
    response = client.post(path + "/cancel")
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "This visit is cancelled." in page
    assert "Cancel this visit" not in page
    assert slot_booked(session, "2027-03-02T10:00") == 0
    client.post(path + "/cancel")  # a second click changes nothing
    assert slot_booked(session, "2027-03-02T10:00") == 0


def test_moving_from_the_private_page(client, session):
    path = manage_path(client)
    chooser = client.get(path + "/move?day=2027-03-04").get_data(as_text=True)
    assert 'value="2027-03-04T15:00"' in chooser
    response = client.post(path + "/move", data={"start": "2027-03-04T15:00"})
    assert response.status_code == 302
    assert "15:00" in client.get(path).get_data(as_text=True)
    assert slot_booked(session, "2027-03-02T10:00") == 0
    assert slot_booked(session, "2027-03-04T15:00") == 3


def test_moving_to_a_closed_day_explains_why(client, session):
    path = manage_path(client)
    response = client.post(path + "/move", data={"start": "2027-03-29T10:00"})
    assert response.status_code == 422
    assert "Easter Monday" in response.get_data(as_text=True)
    assert slot_booked(session, "2027-03-02T10:00") == 3


def test_a_move_onto_a_day_where_the_address_holds_its_most_bookings_is_refused_in_french(client, session):
    for hour, email in (("09", "anne@example.be"), ("10", "Anne@Example.be"), ("11", "ANNE@example.be")):
        assert client.post("/fr/book", data=form_data(start=f"2027-03-02T{hour}:00", email=email)).status_code == 302
    path = client.post("/fr/book", data=form_data(start="2027-03-04T10:00")).headers["Location"]
    before = session.scalars(sa.select(OutboxMessage.kind)).all()
    session.commit()
    response = client.post(path + "/move", data={"start": "2027-03-02T14:00"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="start-error" role="alert">([^<]*)</p>', page)
    assert error and error.group(1).startswith(
        "Cette adresse e-mail a déjà 3 réservations ce jour-là, le maximum que nous acceptons.")
    assert '<html lang="fr">' in page
    session.expire_all()
    moved = session.scalars(sa.select(Booking).where(Booking.start >= local("2027-03-03T00:00"))).one()
    assert moved.start == local("2027-03-04T10:00") and moved.sequence == 0
    assert session.scalars(sa.select(OutboxMessage.kind)).all() == before == ["visit_confirmed"] * 4
    session.commit()
    assert slot_booked(session, "2027-03-02T14:00") == 0 and slot_booked(session, "2027-03-04T10:00") == 3
    # Another hour of its own day is no growth of that day: it moves.
    assert client.post(path + "/move", data={"start": "2027-03-04T15:00"}).status_code == 302


def test_a_started_visit_offers_no_changes(client, clock):
    path = manage_path(client)
    clock.set(local("2027-03-02T10:05"))
    page = client.get(path).get_data(as_text=True)
    assert "Cancel this visit" not in page and "can no longer be changed" in page
    assert client.get(path + "/move").status_code == 302


def test_responses_carry_security_headers(client):
    headers = client.get("/en/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_first_field_in_error_takes_the_focus_without_javascript(client):
    page = client.post("/en/book", data=form_data(name="", email="nope")).get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*id="name"|<input[^>]*id="name"[^>]*autofocus', page)
    assert page.count("autofocus") == 1
    assert 'aria-describedby="email-hint email-error"' in page
    consent_only = client.post("/en/book", data=form_data(consent=None)).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="consent"[^>]*autofocus|<input[^>]*autofocus[^>]*id="consent"', consent_only)
