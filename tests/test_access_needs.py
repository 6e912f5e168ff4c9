"""Access needs (wheelchair, mobility, vision, hearing, another): asked on every booking form and the
API, stored per visit, shown to staff, answered in the confirmation, erased by the purge, and never
shown on a public page."""

import csv
import email
import email.policy
import html as html_text
import io
import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking.access import AccessNeeds
from booking.models import AuditEntry, Booking, TourRequest
from booking.services.tours import TourApplication, confirm_tour
from booking.services.tours import request_tour as request_tour_service
from tests.conftest import local
from tests.test_public_pages import form_data
from tests.test_staff_bookings import desk_form, group_form
from tests.test_tour_pages import tour_form

WHEELCHAIR_EN = "The museum has accessible facilities for visitors with reduced mobility."
WHEELCHAIR_FR = "Le musée dispose d'aménagements accessibles aux visiteurs à mobilité réduite."
HEARING_EN = "We will get in touch before your visit to prepare it with you."
HEARING_FR = "Nous vous contacterons avant votre visite pour la préparer avec vous."
OTHER_TEXT = "Guide dog Max comes along"


def _only(session, model):
    session.expire_all()
    rows = session.scalars(sa.select(model)).all()
    session.commit()
    return rows


def _book_with_needs(client, lang="en", **changes):
    data = form_data(access_needs=["wheelchair", "hearing", "other"], access_needs_other=OTHER_TEXT, **changes)
    response = client.post(f"/{lang}/book", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _tour_with_needs(session, policy, clock, start="2027-03-16T10:00", language="en"):
    tour, _created = request_tour_service(session, policy, clock.now(), TourApplication(
        guided=True, starts=[local(start)], organisation="Sint-Jozefscollege", contact_name="Els Peeters",
        email="els@school.example", phone="+32 470 12 34 56", pupils=20, adults=2, group_kind="secondary",
        language=language, tour_language="fr",
        access_needs=AccessNeeds.of(["wheelchair", "vision"]),
    ))
    return tour


# --- stored ----------------------------------------------------------------------------------------

def test_the_booking_form_stores_the_needs_ticked_and_the_other_text(client, session):
    _book_with_needs(client)
    booking = _only(session, Booking)[0]
    assert booking.access_needs == AccessNeeds(("wheelchair", "hearing", "other"), OTHER_TEXT)
    assert (booking.access_wheelchair, booking.access_mobility, booking.access_vision,
            booking.access_hearing, booking.access_other) == (True, False, False, True, True)


def test_a_booking_without_needs_stores_none(client, session):
    assert client.post("/en/book", data=form_data()).status_code == 302
    assert not _only(session, Booking)[0].access_needs


def test_a_text_typed_for_another_need_without_its_box_counts_as_another_need(client, session):
    assert client.post("/en/book", data=form_data(access_needs_other="A pushchair")).status_code == 302
    assert _only(session, Booking)[0].access_needs == AccessNeeds(("other",), "A pushchair")


def test_the_group_form_stores_the_needs(client, guides, session):
    response = client.post("/en/groups", data=tour_form(access_needs=["mobility", "vision"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _only(session, TourRequest)[0].access_needs == AccessNeeds(("mobility", "vision"))


def test_the_desk_forms_store_the_needs(staff_client, guides, session):
    response = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(access_needs=["vision"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _only(session, Booking)[0].access_needs == AccessNeeds(("vision",))
    response = staff_client.post("/staff/groups/new?lang=en",
                                 data=group_form(access_needs=["other"], access_needs_other="Two pupils in crutches"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _only(session, TourRequest)[0].access_needs == AccessNeeds(("other",), "Two pupils in crutches")


def test_the_api_takes_the_needs_as_a_list_and_answers_without_them(client, session):
    body = {"start": "2027-03-02T10:00:00+01:00", "party_size": 2, "name": "Anne Martin",
            "email": "anne@example.be", "language": "en", "access_needs": ["mobility", "other"],
            "access_needs_other": OTHER_TEXT}
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 201, response.get_json()
    assert set(response.get_json()) == {"reference", "status", "start", "party_size"}
    assert _only(session, Booking)[0].access_needs == AccessNeeds(("mobility", "other"), OTHER_TEXT)


def test_the_group_api_takes_the_needs(client, guides, session):
    body = {"kind": "guided", "starts": ["2027-03-16T10:00:00+01:00"], "pupils": 20, "adults": 2,
            "group_kind": "secondary", "tour_language": "fr", "organisation": "Athénée", "postcode": "1070",
            "contact_name": "Sophie Lambert", "email": "sophie@school.example", "phone": "+32 470 11 22 33",
            "language": "fr", "access_needs": ["hearing"]}
    response = client.post("/api/tour-requests", json=body)
    assert response.status_code == 201, response.get_json()
    assert "access" not in json.dumps(response.get_json())
    assert _only(session, TourRequest)[0].access_needs == AccessNeeds(("hearing",))


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"access_needs": ["stairs"]}, "access_needs", "not a valid choice"),
    ({"access_needs": "wheelchair"}, "access_needs", "Give a list of: wheelchair, mobility, vision, hearing, other."),
    ({"access_needs": ["wheelchair", 3]}, "access_needs", "Give a list of"),
    ({"access_needs": None}, "access_needs", "Give a list of"),
    ({"access_needs": ["other"], "access_needs_other": 7}, "access_needs_other", "Please say which other need"),
    ({"access_needs": ["other"]}, "access_needs_other", "Please say which other need you have"),
    ({"access_needs": ["other"], "access_needs_other": "x" * 201}, "access_needs_other", "200 characters"),
])
def test_the_api_refuses_bad_needs_by_field(client, session, changes, field, text):
    body = {"start": "2027-03-02T10:00:00+01:00", "party_size": 2, "name": "Anne Martin",
            "email": "anne@example.be", "language": "en", **changes}
    response = client.post("/api/bookings", json=body)
    assert response.status_code == 422
    assert text in response.get_json()["errors"][field]
    assert _only(session, Booking) == []


def test_the_database_refuses_another_need_without_its_text_and_a_text_without_the_need(session, client):
    _book_with_needs(client)
    booking_id = _only(session, Booking)[0].id
    for values in ({"access_other_text": ""}, {"access_other": False}):
        with pytest.raises(IntegrityError):
            session.execute(sa.update(Booking).where(Booking.id == booking_id).values(**values))
            session.flush()
        session.rollback()


# --- validation on the pages -----------------------------------------------------------------------

def test_another_need_without_its_text_is_explained_next_to_the_field_and_the_form_kept(client, session):
    response = client.post("/en/book", data=form_data(access_needs=["wheelchair", "other"], name="Anne Martin"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ('<p class="error" id="access_needs_other-error">Please say which other need you have, or untick '
            '“Another need”.</p>') in page
    other_input = re.search(r'<input[^>]*id="access_needs_other"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in other_input and "access_needs_other-error" in other_input
    assert re.search(r'<input checked id="access_needs-0" name="access_needs" type="checkbox" value="wheelchair">',
                     page)
    assert 'value="Anne Martin"' in page
    assert _only(session, Booking) == []


def test_the_message_speaks_french_with_its_typography(client):
    page = client.post("/fr/book", data=form_data(access_needs=["other"])).get_data(as_text=True)
    assert "Dites-nous de quel autre besoin il s'agit, ou décochez «\u202fUn autre besoin\u202f»." in \
        page.replace("&#39;", "'")


def test_a_too_long_other_text_is_refused_and_kept(client, session):
    response = client.post("/en/book", data=form_data(access_needs=["other"], access_needs_other="y" * 201))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please keep this to 200 characters at most." in page and "y" * 201 in page


def test_the_forms_show_the_fieldset_with_a_legend_and_a_box_per_need(client, staff_client):
    for path, c in (("/en/book?start=2027-03-02T10:00", client), ("/en/groups", client),
                    ("/staff/bookings/new?lang=en", staff_client), ("/staff/groups/new?lang=en", staff_client)):
        page = c.get(path).get_data(as_text=True)
        assert "<legend>Access needs (optional)</legend>" in page, path
        for code in ("wheelchair", "mobility", "vision", "hearing", "other"):
            assert f'name="access_needs" type="checkbox" value="{code}"' in page, (path, code)
        assert '<label for="access_needs_other">The other need</label>' in page, path


# --- shown to staff --------------------------------------------------------------------------------

def test_staff_see_the_marks_on_the_day_view_the_day_sheet_and_the_booking_pages(
        client, staff_client, session, policy, clock, guides):
    _book_with_needs(client, start="2027-03-16T10:00")
    tour = _tour_with_needs(session, policy, clock, start="2027-03-16T11:00")
    booking = _only(session, Booking)[0]
    for path in ("/staff/day/2027-03-16?lang=en", "/staff/day/2027-03-16/sheet?lang=en",
                 f"/staff/bookings/{booking.reference}?lang=en"):
        page = staff_client.get(path).get_data(as_text=True)
        assert '<span class="access-mark">Wheelchair</span>' in page, path
        assert '<span class="access-mark">Hearing</span>' in page, path
        assert f'<span class="access-other">{OTHER_TEXT}</span>' in page, path
    group_page = staff_client.get(f"/staff/bookings/{tour.reference}?lang=en").get_data(as_text=True)
    assert '<span class="access-mark">Vision</span>' in group_page
    day = staff_client.get("/staff/day/2027-03-16?lang=en").get_data(as_text=True)
    assert day.count('<span class="access-mark">Vision</span>') == 1  # the group's, beside the visitor's marks
    french = staff_client.get("/staff/day/2027-03-16?lang=fr").get_data(as_text=True)
    assert "<strong>Besoins d'accessibilité\u202f:</strong>" in french.replace("&#39;", "'")
    assert '<span class="access-mark">Fauteuil roulant</span>' in french


def test_the_staff_calendar_feed_leaves_the_needs_out(staff_client, session, policy, clock, guides):
    tour = _tour_with_needs(session, policy, clock)
    confirm_tour(session, policy, clock.now(), tour.id)
    html = staff_client.get("/staff/exports?lang=en").get_data(as_text=True)
    path = re.search(r'<code class="feed-url">([^<]+)</code>', html).group(1).removeprefix("http://museum.test")
    feed = staff_client.get(path.replace("&amp;", "&")).get_data(as_text=True)
    assert "BEGIN:VEVENT" in feed and "Sint-Jozefscollege" in feed
    assert "Wheelchair" not in feed and "Vision" not in feed and "access" not in feed.lower()


# --- never on a public page ------------------------------------------------------------------------

def test_no_public_page_or_api_answer_shows_a_visitors_needs(client, session, policy, clock, guides):
    _book_with_needs(client)
    _tour_with_needs(session, policy, clock)
    paths = ["/en/", "/en/visit", "/en/visit?month=2027-03", "/en/visit/2027-03-02", "/en/groups", "/en/embed",
             "/en/accessibility", "/en/privacy", "/api/availability?from=2027-03-01&to=2027-03-31",
             "/api/whatson", "/events.ics?lang=en", "/en/book?start=2027-03-02T10:00"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert OTHER_TEXT not in text, path
        for word in ("access-mark", "access-other", "For your access needs", WHEELCHAIR_EN, HEARING_EN):
            assert word not in text, (path, word)


# --- the confirmation says what the museum offers -----------------------------------------------

@pytest.mark.parametrize(("lang", "wheelchair", "hearing", "heading"), [
    ("en", WHEELCHAIR_EN, HEARING_EN, "For your access needs:"),
    ("fr", WHEELCHAIR_FR, HEARING_FR, "Pour vos besoins d'accessibilité\u202f:"),
])
def test_the_confirmation_email_says_what_the_museum_offers_in_the_visitors_language(
        smtp_config, smtp_server, app, client, session, lang, wheelchair, hearing, heading):
    manage = _book_with_needs(client, lang=lang)
    message = smtp_server.wait_for(1)[0]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content().replace("&#39;", "'")
    assert heading in text
    assert wheelchair in text and hearing in text and OTHER_TEXT in text
    assert wheelchair in html and hearing in html
    assert "Blind or low vision" not in text and "Aveugle ou malvoyant" not in text  # only the needs ticked
    page = client.get(manage).get_data(as_text=True).replace("&#39;", "'")
    assert wheelchair in page and hearing in page


def test_the_group_confirmations_say_what_the_museum_offers(app, client, session, policy, clock, guides, runner,
                                                             mail_dir):
    tour = _tour_with_needs(session, policy, clock, language="fr")
    with app.app_context():
        from booking.links import tour_path

        page = client.get(tour_path(tour)).get_data(as_text=True).replace("&#39;", "'")
    assert "Pour vos besoins d'accessibilité" in page and WHEELCHAIR_FR in page and "Aveugle ou malvoyant" in page
    confirm_tour(session, policy, clock.now(), tour.id)
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in mail_dir.glob("*.eml")]
    teacher = [message for message in messages if message["To"] == "els@school.example"]
    assert len(teacher) == 2  # received, then confirmed
    for message in teacher:
        text = message.get_body(("plain",)).get_content()
        assert WHEELCHAIR_FR in text and "Aveugle ou malvoyant" in text
    museum = [message for message in messages if message["To"] != "els@school.example"]
    assert museum and all(WHEELCHAIR_FR not in message.get_body(("plain",)).get_content() for message in museum)


def test_an_admin_edits_the_texts_and_the_next_confirmation_uses_them(
        smtp_config, smtp_server, app, client, admin_client, staff_client, session):
    page = admin_client.get("/staff/accessibility/needs?lang=en").get_data(as_text=True)
    assert WHEELCHAIR_EN in page and WHEELCHAIR_FR in page.replace("&#39;", "'")
    fields = dict(re.findall(r'<textarea id="(offer_[a-z]+_[a-z]{2})"[^>]*>\s*([^<]*)</textarea>', page))
    assert len(fields) == 20
    fields = {name: html_text.unescape(value).strip() for name, value in fields.items()}
    fields["offer_wheelchair_en"] = "Ring the bell at the side door: a colleague opens the ramp for you."
    response = admin_client.post("/staff/accessibility/needs?lang=en", data=fields)
    assert response.status_code == 302
    entry = _only(session, AuditEntry)[-1]
    assert entry.action == "access_offers.edit" and entry.details["changed"] == ["wheelchair:en"]
    assert staff_client.get("/staff/accessibility/needs?lang=en").status_code == 403

    _book_with_needs(client)
    text = smtp_server.wait_for(1)[0].get_body(preferencelist=("plain",)).get_content()
    assert "Ring the bell at the side door" in text and WHEELCHAIR_EN not in text
    assert HEARING_EN in text  # the others keep their default

    fields["offer_wheelchair_en"] = ""  # empty: back to the default
    assert admin_client.post("/staff/accessibility/needs?lang=en", data=fields).status_code == 302
    assert "Ring the bell" not in admin_client.get("/staff/accessibility/needs?lang=en").get_data(as_text=True)


# --- privacy ---------------------------------------------------------------------------------------

def test_the_purge_erases_the_needs_with_the_rest_of_the_personal_data(client, session, policy, clock, guides,
                                                                         runner):
    _book_with_needs(client)
    tour = _tour_with_needs(session, policy, clock)
    result = runner.invoke(args=["purge-personal-data", "--now", "2027-07-01T12:00"])
    assert result.exit_code == 0, result.output
    booking = _only(session, Booking)[0]
    group = _only(session, TourRequest)[0]
    assert booking.anonymised_at is not None and group.id == tour.id and group.anonymised_at is not None
    for row in (booking, group):
        assert not row.access_needs
        assert (row.access_wheelchair, row.access_mobility, row.access_vision, row.access_hearing,
                row.access_other, row.access_other_text) == (False, False, False, False, False, "")


def test_the_person_export_includes_the_needs(client, staff_client, session):
    _book_with_needs(client)
    response = staff_client.post("/staff/exports/person?lang=en", data={"person_email": "anne@example.be"})
    data = json.loads(response.get_data(as_text=True))
    visit = data["bookings"][0]
    assert visit["access_wheelchair"] is True and visit["access_hearing"] is True
    assert visit["access_vision"] is False and visit["access_other_text"] == OTHER_TEXT


def test_the_bookings_csv_holds_the_needs_beside_the_note_as_it_holds_names_and_phones(
        client, staff_client, session, policy, clock, guides):
    _book_with_needs(client, note="Comes with a toddler")
    _tour_with_needs(session, policy, clock)
    response = staff_client.post("/staff/exports/bookings?lang=en", data={"start": "2027-03-01", "end": "2027-03-31"})
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    visit, group = records
    assert visit["Note or needs"] == (f"Access needs: Wheelchair, Hearing, Other ({OTHER_TEXT})\n"
                                      "Comes with a toddler")
    assert group["Note or needs"] == "Access needs: Wheelchair, Vision"


def test_the_needs_are_never_logged(client, caplog):
    caplog.set_level("DEBUG")
    _book_with_needs(client)
    assert OTHER_TEXT not in caplog.text and "wheelchair" not in caplog.text


def test_needs_of_an_unknown_code_are_refused_by_the_rules():
    with pytest.raises(ValueError):
        AccessNeeds.of(["stairs"])
    assert AccessNeeds.of(["other", "wheelchair"], " ").codes == ("wheelchair", "other")
    assert AccessNeeds.of(["vision"], "").columns()["access_vision"] is True


@pytest.mark.parametrize("needs", [[""], ["", "wheelchair"], ["ramp"]])
def test_an_unknown_or_empty_access_need_is_refused_by_the_api_not_a_500(client, needs):
    """Found by the thorough Hypothesis pass: [""] slipped past the form and raised in the service."""
    response = client.post("/api/bookings", json={
        "start": "2027-03-02T10:00:00+01:00", "party_size": 2, "name": "Anne Martin", "email": "anne@example.be",
        "language": "en", "access_needs": needs})
    assert response.status_code == 422
    assert "access_needs" in response.get_json()["errors"]


def test_an_empty_access_need_on_the_booking_form_is_refused_next_to_the_field(client):
    response = client.post("/en/book", data={"start": "2027-03-02T10:00", "party_size": "2", "name": "Anne Martin",
                                             "email": "anne@example.be", "consent": "y", "access_needs": ""})
    assert response.status_code == 422
    assert "Access needs" in response.get_data(as_text=True)
