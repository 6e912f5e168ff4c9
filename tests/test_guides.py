"""Guides as people: their private page and link, their unavailability, a fair share, their feed and emails."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
import sqlalchemy as sa

from booking.models import AuditEntry, Guide, GuideUnavailability, OutboxMessage
from booking.services.guides import add_unavailability, guide_token, reissue_link
from booking.services.tours import cancel_tour_by_staff, reassign_guide
from tests.conftest import SECRET

BASE_URL = "http://museum.test"
LINK = re.compile(re.escape(BASE_URL) + r"(/guide/[\w-]+)")


@pytest.fixture
def people(session):
    """Two guides who speak the same languages, with addresses and languages of their own."""
    roster = [Guide(name="Anna Claes", language_codes="fr,nl", email="anna@guides.example", language="nl"),
              Guide(name="Luc Dupont", language_codes="fr,nl", email="luc@guides.example", language="fr")]
    session.add_all(roster)
    session.commit()
    return roster


def page_of(guide) -> str:
    return f"/guide/{guide_token(SECRET, guide)}"


def test_add_guide_takes_an_email_and_a_language_and_guide_link_prints_the_private_link(runner, session):
    result = runner.invoke(args=["add-guide", "Els Wouters", "--languages", "nl,en", "--email",
                                 "els@guides.example", "--language", "nl"])
    assert result.exit_code == 0, result.output
    guide = session.scalars(sa.select(Guide).where(Guide.name == "Els Wouters")).one()
    assert (guide.email, guide.language, guide.languages) == ("els@guides.example", "nl", ["nl", "en"])
    result = runner.invoke(args=["guide-link", "els wouters"])
    assert result.exit_code == 0, result.output
    assert f"{BASE_URL}/guide/{guide_token(SECRET, guide)}" in result.output
    assert runner.invoke(args=["add-guide", "Jan", "--languages", "fr"]).exit_code == 0  # as before: no email
    assert runner.invoke(args=["guide-link", "Nobody"]).exit_code != 0


def test_the_page_speaks_the_guides_language_unless_the_url_asks_for_another(client, people):
    anna = people[0]
    assert "Uw rondleidingen" in client.get(page_of(anna)).get_data(as_text=True)
    assert "Your tours" in client.get(page_of(anna) + "?lang=en").get_data(as_text=True)


def test_a_forged_or_revoked_link_opens_nothing(client, session, people, clock):
    anna = people[0]
    old = page_of(anna)
    assert client.get(old).status_code == 200
    assert client.get(f"/guide/{anna.id}-forged").status_code == 404
    assert client.get("/guide/nothing").status_code == 404
    reissue_link(session, clock.now(), None, anna.id)
    assert client.get(old).status_code == 404
    assert client.get(old + "/calendar.ics").status_code == 404
    assert client.get(page_of(anna)).status_code == 200
    assert session.scalars(sa.select(AuditEntry.action)).all()[-1] == "guide.link_reissue"


def test_a_request_never_holds_a_guide_who_is_away_then(session, rules, clock, people, request_tour):
    anna, luc = people
    add_unavailability(session, rules, clock.now(), anna.id, dt.date(2027, 3, 16), "morning")
    add_unavailability(session, rules, clock.now(), luc.id, dt.date(2027, 3, 16), "afternoon")
    morning = request_tour("2027-03-16T10:00", pupils=10)
    afternoon = request_tour("2027-03-16T14:00", pupils=10)
    assert [g.name for g in morning.guides] == ["Luc Dupont"]
    assert [g.name for g in afternoon.guides] == ["Anna Claes"]
    from booking.services.tours import NoTimeFits

    with pytest.raises(NoTimeFits) as refused:
        request_tour("2027-03-16T12:00", pupils=10)  # across noon: both are away for half of it
    assert refused.value.reasons == ["no_guide"]


def test_the_guide_with_fewer_hours_that_week_gets_the_next_tour(session, people, request_tour):
    first = request_tour("2027-03-16T10:00", pupils=10)
    second = request_tour("2027-03-17T10:00", pupils=10)
    assert {first.guides[0].name, second.guides[0].name} == {"Anna Claes", "Luc Dupont"}


def test_a_limit_per_day_is_kept_when_configured(session, people, clock, policy):
    from dataclasses import replace

    from booking.guide_rules import GuideLimits
    from booking.services.tours import NoTimeFits, TourApplication, request_tour
    from tests.conftest import local

    limited = replace(policy, guide_limits=GuideLimits(per_day=1))

    def ask(start):
        return request_tour(session, limited, clock.now(), TourApplication(
            guided=True, starts=[local(start)], organisation="School", contact_name="Els", email="els@school.example",
            phone="0470", pupils=10, adults=1, group_kind="secondary", language="nl", tour_language="fr"))[0]

    ask("2027-03-16T09:00")
    ask("2027-03-16T11:00")
    with pytest.raises(NoTimeFits):
        ask("2027-03-16T14:00")


def test_the_limits_come_from_configuration(app):
    from booking.guide_rules import GuideLimits

    app.config.update(GUIDE_MAX_TOURS_PER_DAY=2, GUIDE_MAX_TOURS_PER_WEEK=6)
    from booking.policy import Policy

    assert Policy.from_config(app.config).guide_limits == GuideLimits(2, 6)


def test_marking_a_half_day_on_the_page_lists_it_and_removing_it_frees_it(client, session, people):
    anna = people[0]
    response = client.post(page_of(anna) + "/unavailable?lang=en", data={"day": "2027-03-18", "part": "afternoon",
                                                                            "note": "Dentist"})
    assert response.status_code == 302
    page = client.get(page_of(anna) + "?lang=en").get_data(as_text=True)
    assert "Thursday 18 March 2027, afternoon (13:00–17:00) – Dentist" in page
    entry = session.scalars(sa.select(GuideUnavailability)).one()
    assert (entry.guide_id, entry.part, entry.entered_by_id, entry.conflict) == (anna.id, "afternoon", None, False)
    assert client.post(page_of(anna) + f"/unavailable/{entry.id}/remove").status_code == 302
    session.expire_all()
    assert session.scalars(sa.select(GuideUnavailability)).all() == []


@pytest.mark.parametrize(("day", "message"), [
    ("2027-02-26", "Deze dag is voorbij"),
    ("2027-03-20", "In het weekend is het museum gesloten"),
])
def test_a_past_or_closed_day_is_refused_next_to_the_field_in_the_guides_language(client, people, day, message):
    response = client.post(page_of(people[0]) + "/unavailable", data={"day": day, "part": "day", "note": "Weg"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{day}"' in page and "Weg</textarea>" in page


def test_away_when_already_guiding_is_a_conflict_and_the_tour_stands(client, session, people, request_tour):
    tour = request_tour("2027-03-16T10:00", pupils=30)  # both guides
    response = client.post(page_of(people[0]) + "/unavailable?lang=en", data={"day": "2027-03-16", "part": "day"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "you already guide a tour at that time" in page and tour.reference in page
    assert "The tour stands until the museum gives it to another guide" in page
    session.expire_all()
    assert session.scalars(sa.select(GuideUnavailability.conflict)).one() is True
    assert {g.name for g in tour.guides} == {"Anna Claes", "Luc Dupont"}


def test_the_page_shows_what_the_guide_needs_of_each_tour(client, people, request_tour):
    tour = request_tour("2027-03-16T10:00", pupils=12, adults=2, organisation="Sint-Jozefscollege")
    guide = tour.guides[0]
    page = client.get(page_of(guide) + "?lang=en").get_data(as_text=True)
    for text in ("Tuesday 16 March 2027", "10:00–12:00", "Sint-Jozefscollege", "Secondary school",
                 "12 pupils, 2 adults", "Français", "Not yet confirmed"):
        assert text in page, text
    dutch = client.get(page_of(guide) + "?lang=nl").get_data(as_text=True)
    assert "Niveau: Secundair onderwijs" in dutch and "Groep: Sint-Jozefscollege" in dutch


def test_the_feed_lists_exactly_the_guides_tours_with_one_stable_uid_each(client, people, request_tour):
    first = request_tour("2027-03-16T10:00", pupils=10)
    second = request_tour("2027-03-16T10:00", pupils=10, organisation="Other school")
    guide = first.guides[0]
    feed = client.get(page_of(guide) + "/calendar.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{first.reference}-guide-{guide.id}@museumresistance.be"]
    again = icalendar.Calendar.from_ical(client.get(page_of(guide) + "/calendar.ics").data).walk("VEVENT")
    assert str(again[0]["UID"]) == str(events[0]["UID"])
    other = second.guides[0]
    assert other.id != guide.id
    summaries = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(
        client.get(page_of(other) + "/calendar.ics").data).walk("VEVENT")]
    label = {"nl": "Rondleiding: ", "fr": "Visite guidée\u202f: "}[other.language]
    assert summaries == [f"{label}Other school ({second.reference})"]


def test_a_guide_without_an_email_gets_none_and_the_feed_still_works(client, session, people, request_tour):
    for guide in people:
        guide.email = None
    session.commit()
    tour = request_tour("2027-03-16T10:00", pupils=10)
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.guide_id.is_not(None))) == 0
    feed = icalendar.Calendar.from_ical(client.get(page_of(tour.guides[0]) + "/calendar.ics").data)
    assert len(feed.walk("VEVENT")) == 1


def _ics(message) -> icalendar.Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_assignment_reassignment_and_withdrawal_are_emailed_in_the_guides_language_with_ics(
        smtp_config, app, client, session, people, request_tour, policy, clock, smtp_server, staff_user):
    tour = request_tour("2027-03-16T10:00", pupils=10)
    held = tour.guides[0]
    other = next(g for g in people if g.id != held.id)
    from booking.cli import _deliver_all

    with app.app_context():
        _deliver_all(clock.now())
    to_guide = [m for m in smtp_server.messages if m["To"] == held.email]
    assert len(to_guide) == 1
    assigned = to_guide[0]
    first = _ics(assigned)
    assert first["METHOD"] == "REQUEST"
    event = first.walk("VEVENT")[0]
    uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
    assert uid == f"{tour.reference}-guide-{held.id}@museumresistance.be"
    body = assigned.get_body(("plain",)).get_content()
    link = LINK.search(body).group(1)
    assert client.get(link).status_code == 200
    expected = {"nl": "Een rondleiding voor u", "fr": "Une visite guidée pour vous"}[held.language]
    assert expected in str(assigned["Subject"])

    reassign_guide(session, policy, clock.now(), tour.id, held.id, other.id, staff_user)
    with app.app_context():
        _deliver_all(clock.now())
    withdrawn = [m for m in smtp_server.messages if m["To"] == held.email][-1]
    cancel = _ics(withdrawn)
    assert cancel["METHOD"] == "CANCEL"
    assert str(cancel.walk("VEVENT")[0]["UID"]) == uid
    assert int(cancel.walk("VEVENT")[0]["SEQUENCE"]) > sequence
    new = [m for m in smtp_server.messages if m["To"] == other.email]
    assert len(new) == 1 and _ics(new[0])["METHOD"] == "REQUEST"

    cancel_tour_by_staff(session, policy, clock.now(), tour.id, staff_user, "")
    with app.app_context():
        _deliver_all(clock.now())
    last = [m for m in smtp_server.messages if m["To"] == other.email][-1]
    assert _ics(last)["METHOD"] == "CANCEL"


def test_two_staff_reassigning_at_once_one_wins_and_the_other_is_told(session, people, request_tour, policy, clock,
                                                                        staff_user, guides):
    from booking.services.tours import TourStateError

    tour = request_tour("2027-03-16T10:00", pupils=10)
    held = tour.guides[0]
    others = [g for g in people + guides if g.id != held.id]
    reassign_guide(session, policy, clock.now(), tour.id, held.id, others[0].id, staff_user)
    with pytest.raises(TourStateError) as second:
        reassign_guide(session, policy, clock.now(), tour.id, held.id, others[1].id, staff_user)
    assert second.value.code == "guides_changed"
    session.expire_all()
    assert [g.id for g in tour.guides] == [others[0].id]


def test_staff_see_hours_conflicts_and_enter_absences_and_reassign_on_the_guides_pages(
        app, session, people, request_tour, staff_user, clock, rules):
    from tests.conftest import signed_in

    tour = request_tour("2027-03-16T10:00", pupils=10)
    held = tour.guides[0]
    other = next(g for g in people if g.id != held.id)
    staff = signed_in(app, staff_user)
    listing = staff.get("/staff/capacity?lang=en").get_data(as_text=True)
    assert "Guided hours this week / this month" in listing
    response = staff.post(f"/staff/guides/{held.id}/away?lang=en", data={"away-day": "2027-03-16", "away-part": "day"})
    assert response.status_code == 302
    assert "Away during a tour: reassign it" in staff.get("/staff/capacity?lang=en").get_data(as_text=True)
    page = staff.get(f"/staff/guides/{held.id}?lang=en").get_data(as_text=True)
    assert tour.reference in page and "Away during a tour: reassign it" in page
    response = staff.post(f"/staff/guides/{held.id}/reassign/{tour.id}?lang=en",
                          data={"from_guide": held.id, "to_guide": other.id})
    assert response.status_code == 302
    again = staff.post(f"/staff/guides/{held.id}/reassign/{tour.id}?lang=en",
                       data={"from_guide": held.id, "to_guide": other.id})
    assert again.status_code == 409
    assert "Someone changed the guides of this visit meanwhile" in again.get_data(as_text=True)
    session.expire_all()
    assert [g.id for g in tour.guides] == [other.id]
    assert "Away during a tour" not in staff.get("/staff/capacity?lang=en").get_data(as_text=True)


def test_staff_edit_a_guides_email_and_language_and_give_a_new_link(app, client, session, people, staff_user):
    from tests.conftest import signed_in

    anna = people[0]
    old = page_of(anna)
    staff = signed_in(app, staff_user)
    response = staff.post(f"/staff/guides/{anna.id}", data={
        "guide-name": "Anna Claes", "guide-languages": ["fr", "nl"], "guide-email": "anna@new.example",
        "guide-language": "de"})
    assert response.status_code == 302
    session.expire_all()
    assert (anna.email, anna.language) == ("anna@new.example", "de")
    assert staff.post(f"/staff/guides/{anna.id}/link").status_code == 302
    session.expire_all()
    assert client.get(old).status_code == 404
    assert "Ihre Führungen" in client.get(page_of(anna)).get_data(as_text=True)


def test_the_requests_page_flags_a_request_whose_guide_is_away(app, session, people, request_tour, staff_user,
                                                               clock, rules):
    from tests.conftest import signed_in

    tour = request_tour("2027-03-16T10:00", pupils=10)
    staff = signed_in(app, staff_user)
    assert "Away during a tour" not in staff.get("/staff/requests?lang=en").get_data(as_text=True)
    add_unavailability(session, rules, clock.now(), tour.guides[0].id, dt.date(2027, 3, 16), "morning")
    page = staff.get("/staff/requests?lang=en").get_data(as_text=True)
    assert f"Away during a tour: reassign it ({tour.guides[0].name})" in page


def test_the_week_view_flags_a_group_whose_guide_is_away_then_until_it_is_reassigned(
        app, session, people, request_tour, staff_user, clock, rules, policy):
    from booking.services.tours import reassign_guide
    from tests.conftest import signed_in

    tour = request_tour("2027-03-16T10:00", pupils=10)  # 10:00-12:00, in the morning
    guide = tour.guides[0]
    staff = signed_in(app, staff_user)
    week = "/staff/calendar?date=2027-03-15&lang=en"
    assert "Away during a tour" not in staff.get(week).get_data(as_text=True)
    add_unavailability(session, rules, clock.now(), guide.id, dt.date(2027, 3, 16), "afternoon")
    assert "Away during a tour" not in staff.get(week).get_data(as_text=True)  # the tour is in the morning
    add_unavailability(session, rules, clock.now(), guide.id, dt.date(2027, 3, 16), "morning")
    page = staff.get(week).get_data(as_text=True)
    assert page.count(f"Away during a tour: reassign it ({guide.name})") == 1  # its first hour, not "↳"
    other = next(person for person in people if person.id != guide.id)
    reassign_guide(session, policy, clock.now(), tour.id, guide.id, other.id, staff_user)
    assert "Away during a tour" not in staff.get(week).get_data(as_text=True)


def test_each_email_to_a_guide_about_a_tour_raises_the_sequence_of_its_one_calendar_entry(
        session, people, request_tour, policy, clock):
    from booking.services.tours import answer_proposal, propose_time
    from tests.conftest import local

    tour = request_tour("2027-03-16T10:00", pupils=10)
    guide = tour.guides[0]
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-17T10:00"))
    answer_proposal(session, policy, clock.now(), tour.id, accept=True)
    session.expire_all()
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.guide_id == guide.id)
                           .order_by(OutboxMessage.id)).all()
    assert rows[0].kind == "guide_assigned"
    assert [row.payload["sequence"] for row in rows] == list(range(len(rows)))
    assert len(rows) >= 2 and {row.language for row in rows} == {guide.language}


def test_an_absence_over_a_held_tour_tells_the_teacher_nothing(client, session, people, request_tour):
    tour = request_tour("2027-03-16T10:00", pupils=10)
    before = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    session.commit()
    client.post(page_of(tour.guides[0]) + "/unavailable", data={"day": "2027-03-16", "part": "day"})
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before
    assert tour.status == "pending" and tour.guides
