"""What's on: staff manage exhibitions and events; the home page, the confirmations and the public
events feed show them."""

from __future__ import annotations

import datetime as dt
import io

import icalendar
import sqlalchemy as sa

from booking.models import AuditEntry, Event, Exhibition
from tests.conftest import local

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def exhibition_form(**changes) -> dict:
    form = {"title_fr": "Le Faux Soir", "title_nl": "De Valse Soir", "title_en": "The Fake Soir", "title_de": "",
            "description_fr": "", "description_nl": "", "description_en": "How the fake newspaper was made.",
            "description_de": "", "starts_on": "2027-02-01", "ends_on": "2027-03-31",
            "panel_languages": ["fr", "nl"]}
    form.update(changes)
    return form


def event_form(**changes) -> dict:
    form = {"title_fr": "Table ronde", "title_nl": "Rondetafel", "title_en": "Round table",
            "title_de": "Gesprächsrunde",
            "description_en": "Historians discuss the clandestine press.", "date": "2027-03-10",
            "start_time": "18:30", "end_time": "20:00", "place": "Auditorium"}
    form.update(changes)
    return form


def test_staff_add_an_exhibition_with_an_image_and_the_home_page_shows_it(staff_client, client, session):
    response = staff_client.post("/staff/whats-on/exhibitions/new", data={
        **exhibition_form(), "image": (io.BytesIO(PNG), "poster.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    exhibition = session.scalars(sa.select(Exhibition)).one()
    assert exhibition.titles == {"fr": "Le Faux Soir", "nl": "De Valse Soir", "en": "The Fake Soir"}
    assert exhibition.panel_language_list == ["fr", "nl"] and exhibition.image.endswith(".png")
    assert session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("exhibition.%"))).all() == ["exhibition.save"]

    # (One language per test: the `session` fixture's app context keeps the first request's locale.)
    response = client.get("/en/")
    assert response.status_code == 200
    home = response.get_data(as_text=True)
    assert "The Fake Soir" in home and f"/media/{exhibition.image}" in home
    image = client.get(f"/media/{exhibition.image}")
    assert image.status_code == 200 and image.data == PNG
    assert client.get("/media/../secret_key").status_code == 404
    assert exhibition.title("nl") == "De Valse Soir"
    assert exhibition.title("de") == "The Fake Soir"  # no German title: another language


def test_an_image_that_is_not_one_is_refused_next_to_the_field(staff_client, session):
    response = staff_client.post("/staff/whats-on/exhibitions/new", data={
        **exhibition_form(), "image": (io.BytesIO(b"<svg onload=alert(1)>"), "poster.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a JPEG, PNG or WebP image." in response.get_data(as_text=True)
    assert session.scalars(sa.select(Exhibition)).all() == []


def test_an_exhibition_needs_a_title_and_an_end_after_its_start(staff_client, session):
    response = staff_client.post("/staff/whats-on/exhibitions/new", data=exhibition_form(
        title_fr="", title_nl="", title_en="", ends_on="2027-01-01"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Give a title in at least one language." in page
    assert session.scalars(sa.select(Exhibition)).all() == []


def test_the_confirmation_lists_the_exhibitions_on_show_that_day(staff_client, client, session, book, app):
    staff_client.post("/staff/whats-on/exhibitions/new", data=exhibition_form())
    staff_client.post("/staff/whats-on/exhibitions/new", data=exhibition_form(
        title_en="Later show", title_fr="", title_nl="", starts_on="2027-04-01", ends_on=""))
    booking = book("2027-03-02T10:00", language="en")
    with app.app_context():
        from booking.links import visit_path
        from booking.models import OutboxMessage
        from booking.notifications.emails import render

        page = client.get(visit_path(booking)).get_data(as_text=True)
        row = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "visit_confirmed")).one()
        email = render(row).body
    assert "The Fake Soir" in page and "Later show" not in page
    assert "The Fake Soir" in email and "Later show" not in email


def test_staff_add_edit_and_delete_an_event_and_the_public_feed_follows(staff_client, client, session):
    assert staff_client.post("/staff/whats-on/events/new", data=event_form()).status_code == 302
    event = session.scalars(sa.select(Event)).one()
    assert event.start_at == local("2027-03-10T18:30") and event.booking_needed is False

    home = client.get("/en/").get_data(as_text=True)
    assert "Round table" in home and "During the event, visits to the museum need no appointment." in home
    feed = icalendar.Calendar.from_ical(client.get("/events.ics?lang=de").data)
    [entry] = feed.walk("VEVENT")
    assert str(entry["summary"]) == "Gesprächsrunde"
    assert entry.decoded("dtstart") == local("2027-03-10T18:30")

    assert staff_client.post(f"/staff/whats-on/events/{event.id}", data=event_form(
        end_time="18:00")).status_code == 422  # ends before it starts
    assert staff_client.post(f"/staff/whats-on/events/{event.id}",
                             data=event_form(booking_needed="y")).status_code == 302
    session.expire_all()
    assert session.get(Event, event.id).booking_needed is True
    assert staff_client.post(f"/staff/whats-on/events/{event.id}/delete").status_code == 302
    assert client.get("/events.ics").data.count(b"BEGIN:VEVENT") == 0


def test_past_exhibitions_leave_the_home_page(staff_client, client, clock):
    staff_client.post("/staff/whats-on/exhibitions/new", data=exhibition_form(ends_on="2027-03-05"))
    assert "The Fake Soir" in client.get("/en/").get_data(as_text=True)
    clock.set(clock.now() + dt.timedelta(days=5))
    assert "The Fake Soir" not in client.get("/en/").get_data(as_text=True)
