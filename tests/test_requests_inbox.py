"""The staff's requests inbox: filtered by state and visit date, a card per request, decisions in view."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import refresh

from booking.models import TourRequest
from booking.services.inbox import requests_inbox
from booking.services.tours import answer_proposal, confirm_tour, decline_tour, expire_proposals, propose_time
from tests.conftest import local


@pytest.fixture
def inbox_requests(session, policy, clock, guides, request_tour):
    """Six requests in every state the inbox shows, made on Monday 1 March; the clock then moves on two days."""
    waiting = request_tour("2027-03-16T10:00", tour_language="nl", organisation="Sint-Lukas")
    other_day = request_tour("2027-03-17T10:00", organisation="Athénée Royal")
    confirmed = request_tour("2027-03-18T10:00", organisation="Collège Saint-Pierre")
    confirm_tour(session, policy, clock.now(), confirmed.id)
    declined = request_tour("2027-03-19T10:00", organisation="Lycée Émile Jacqmain")
    decline_tour(session, policy, clock.now(), declined.id, "Closed for works.")
    proposed = request_tour("2027-03-22T10:00", organisation="Don Bosco")
    propose_time(session, policy, clock.now(), proposed.id, local("2027-03-23T13:00"))
    expired = request_tour("2027-03-24T10:00", organisation="GO! Atheneum")
    propose_time(session, policy, clock.now(), expired.id, local("2027-03-25T13:00"))
    refused = request_tour("2027-03-26T10:00", organisation="Koninklijk Atheneum")
    propose_time(session, policy, clock.now(), refused.id, local("2027-03-30T13:00"))
    answer_proposal(session, policy, clock.now(), refused.id, accept=False)
    session.execute(sa.update(TourRequest).where(TourRequest.id == expired.id)
                    .values(proposal_expires_at=clock.now()))
    session.commit()
    expire_proposals(session, policy, clock.now())
    session.execute(sa.update(TourRequest).where(TourRequest.id == waiting.id).values(
        access_wheelchair=True, needs="One pupil uses a wheelchair.", contact_role="History teacher",
        leader_name="Jan Leider"))
    session.commit()
    clock.advance(days=2)
    return {"waiting": waiting, "other_day": other_day, "confirmed": confirmed, "declined": declined,
            "proposed": proposed, "expired": expired, "refused": refused}


def organisations(page: str) -> list[str]:
    return re.findall(r'<h2 id="tour-\d+">(?:<a [^>]*>)?[A-Z]+-\w+(?:</a>)? · ([^<]+)</h2>', page)


def tab_counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'state=(\w+)[^"]*"[^>]*>[^<]+<span class="count">(\d+)</span>', page))


def test_the_inbox_shows_each_state_apart_with_its_count(staff_client, inbox_requests):
    page = staff_client.get("/staff/requests?lang=en").get_data(as_text=True)
    assert organisations(page) == ["Sint-Lukas", "Athénée Royal"]  # waiting, oldest first
    assert tab_counts(page) == {"waiting": "2", "proposed": "1", "confirmed": "1", "declined": "2", "expired": "1"}
    assert 'href="/staff/requests?state=waiting" aria-current="page"' in page and '<body class="wide">' in page
    for state, expected in (("proposed", ["Don Bosco"]), ("confirmed", ["Collège Saint-Pierre"]),
                            ("declined", ["Koninklijk Atheneum", "Lycée Émile Jacqmain"]),
                            ("expired", ["GO! Atheneum"])):
        shown = staff_client.get(f"/staff/requests?state={state}&lang=en").get_data(as_text=True)
        assert organisations(shown) == expected, state
    declined = staff_client.get("/staff/requests?state=declined&lang=en").get_data(as_text=True)
    assert "Closed for works." in declined and "proposal refused" in declined and "/staff/tours/" not in declined


def test_the_inbox_filters_by_the_visits_date_without_javascript(staff_client, inbox_requests):
    page = staff_client.get("/staff/requests?from=2027-03-17&to=2027-03-17&lang=en").get_data(as_text=True)
    assert organisations(page) == ["Athénée Royal"]
    assert tab_counts(page)["waiting"] == "1" and tab_counts(page)["confirmed"] == "0"
    assert '<form method="get" action="/staff/requests" class="inbox-filter">' in page
    assert 'name="from" value="2027-03-17"' in page and 'href="/staff/requests?state=waiting"' in page
    assert "state=confirmed&amp;from=2027-03-17&amp;to=2027-03-17" in page  # the tabs keep the dates
    later = staff_client.get("/staff/requests?state=confirmed&from=2027-03-18&lang=en").get_data(as_text=True)
    assert organisations(later) == ["Collège Saint-Pierre"]
    none = staff_client.get("/staff/requests?from=2027-04-01&to=2027-04-02&lang=en").get_data(as_text=True)
    assert "No request in this state for these dates." in none
    # Nonsense is read as no filter, never an error.
    odd = staff_client.get("/staff/requests?state=lost&from=soon&to=&page=x&lang=en")
    assert odd.status_code == 200 and organisations(odd.get_data(as_text=True)) == ["Sint-Lukas", "Athénée Royal"]


def test_a_card_tells_who_asks_for_what_and_how_long_it_has_waited(staff_client, inbox_requests):
    page = staff_client.get("/staff/requests?lang=en").get_data(as_text=True)
    card = page.split(f'id="tour-{inbox_requests["waiting"].id}"', 1)[1].split("</article>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))
    for expected in ("Els Peeters (History teacher)", "els@school.example", "Sint-Lukas",
                     "20 pupils + 2 adults · Secondary school", "Jan Leider", "Guided tour: Nederlands",
                     "emails in Nederlands", "Wheelchair", "One pupil uses a wheelchair.",
                     "Tuesday 16 March 2027, 10:00–12:00", "waiting for 2 days", "pending"):
        assert expected in text, expected
    # The decisions are buttons with their forms in view, none folded away.
    assert "<details" not in page
    for button in ("Confirm</button>", "Propose this time</button>", "Decline the request</button>"):
        assert card.count(button) == 1, button
    refresh()
    french = staff_client.get("/staff/requests?lang=fr").get_data(as_text=True)
    assert "en attente depuis 2\u00a0jours" in french or "en attente depuis 2 jours" in french


def test_the_guides_list_shows_languages_and_who_is_free_at_that_time(staff_client, session, guides, request_tour):
    pieter, marie = guides
    dutch = request_tour("2027-03-16T10:00", tour_language="nl", organisation="Sint-Lukas")  # holds Pieter
    german = request_tour("2027-03-16T10:00", tour_language="de", organisation="Goethe-Schule")  # holds Marie
    english = request_tour("2027-03-16T14:00", tour_language="en", organisation="British School")  # holds Pieter
    page = staff_client.get("/staff/requests?lang=en").get_data(as_text=True)

    def choice(tour, guide) -> str:
        key = f"{tour.id}-{guide.id}"
        item = page.split(f'id="guides-{key}"', 1)[0].rsplit("<li", 1)[1] + page.split(f'id="guides-{key}"', 1)[1]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item.split("</li>", 1)[0])).strip()

    assert "Pieter Janssens FR · NL · EN · held for this request" in choice(dutch, pieter)
    assert f"Marie Dubois FR · NL · EN · DE · busy with {german.reference}" in choice(dutch, marie)
    assert f"busy with {dutch.reference}" in choice(german, pieter)
    assert "Marie Dubois FR · NL · EN · DE · free" in choice(english, marie)
    # A busy guide cannot be ticked; a free one can.
    assert re.search(rf'value="{marie.id}" id="guides-{dutch.id}-{marie.id}"[^>]* disabled', page)
    assert not re.search(rf'id="guides-{english.id}-{marie.id}"[^>]* disabled', page)
    assert "(1 needed)" in page


def test_a_decision_returns_to_the_inbox_as_it_was_filtered(staff_client, session, inbox_requests):
    tour = inbox_requests["waiting"]
    page = staff_client.get("/staff/requests?from=2027-03-16&lang=en").get_data(as_text=True)
    assert f'action="/staff/tours/{tour.id}/confirm?from=2027-03-16"' in page
    response = staff_client.post(f"/staff/tours/{tour.id}/confirm?from=2027-03-16&state=waiting", data={})
    assert response.headers["Location"] == "/staff/requests?state=waiting&from=2027-03-16"
    session.expire_all()
    assert session.get(TourRequest, tour.id).status == "confirmed"
    refused = staff_client.post(f"/staff/tours/{tour.id}/decline?from=2027-03-16", data={"reason": "Too late"})
    assert refused.headers["Location"] == f"/staff/requests?from=2027-03-16#tour-{tour.id}"


def test_the_inbox_pages_through_a_long_list(session, policy, clock, guides, request_tour):
    for day in range(15, 20):
        for hour in ("09", "11", "13", "15"):
            request_tour(f"2027-03-{day}T{hour}:00", guided=False, duration_minutes=60)
    for day in (22, 23):
        for hour in ("09", "11", "13"):
            request_tour(f"2027-03-{day}T{hour}:00", guided=False, duration_minutes=60)
    first = requests_inbox(session, policy, clock.now())
    second = requests_inbox(session, policy, clock.now(), page=2)
    assert (len(first.cards), first.has_more, len(second.cards), second.has_more) == (25, True, 1, False)
    assert first.counts["waiting"] == 26


def test_confirmed_visits_start_from_today_unless_asked_for_earlier(staff_client, session, clock, inbox_requests):
    clock.set(local("2027-03-19T09:00"))  # the confirmed visit of 18 March is past
    page = staff_client.get("/staff/requests?state=confirmed&lang=en").get_data(as_text=True)
    assert organisations(page) == [] and 'name="from" value="2027-03-19"' in page
    earlier = staff_client.get("/staff/requests?state=confirmed&from=2027-03-01&lang=en").get_data(as_text=True)
    assert organisations(earlier) == ["Collège Saint-Pierre"]
