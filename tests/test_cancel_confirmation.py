"""Cancelling a visit from its private link asks once more, on a page that needs no JavaScript."""

from __future__ import annotations

import re

from booking.links import visit_path
from booking.models import Booking


def test_cancel_this_visit_opens_a_confirmation_page_and_changes_nothing(app, client, session, book):
    booking = book("2027-03-02T10:00", language="en")
    with app.app_context():
        path = visit_path(booking)
    page = client.get(path).get_data(as_text=True)
    # The booking's page links to the question; it holds no form that cancels at one tap.
    assert f'<a class="button danger" href="{path}/cancel">Cancel this visit</a>' in page
    assert f'action="{path}/cancel"' not in page
    question = client.get(f"{path}/cancel")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert re.search(rf'<form method="post" action="{re.escape(path)}/cancel">', text)
    assert "Yes, cancel my visit" in text and f'href="{path}">Keep my visit</a>' in text
    session.expire_all()
    assert session.get(Booking, booking.id).status == "confirmed"


def test_confirming_on_that_page_cancels_the_visit(app, client, session, book):
    booking = book("2027-03-02T10:00", language="nl")
    with app.app_context():
        path = visit_path(booking)
    response = client.post(f"{path}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == path
    session.expire_all()
    assert session.get(Booking, booking.id).status == "cancelled"
    assert client.get(f"{path}/cancel").headers.get("Location") == path  # nothing left to ask


# --- a group visit ----------------------------------------------------------------------------------

def _tour_link(app, tour) -> str:
    from booking.links import tour_path

    with app.app_context():
        return tour_path(tour)


def _section(page: str, css_class: str) -> str:
    match = re.search(rf'<section class="{css_class}".*?</section>', page, re.S)
    assert match, f"no section {css_class}"
    return match.group(0)


def test_a_proposal_is_answered_in_its_own_panel_each_choice_saying_what_it_does(app, client, session, request_tour,
                                                                                 guides, policy, clock):
    from booking.services.tours import propose_time
    from tests.conftest import local

    tour = request_tour("2027-03-16T10:00", language="en")
    propose_time(session, policy, clock.now(), tour.id, local("2027-03-18T10:00"))
    path = _tour_link(app, tour)
    page = client.get(path).get_data(as_text=True)
    panel = _section(page, "proposal")
    assert "Thursday 18 March 2027, 10:00–12:00" in panel
    assert "You had asked for: Tuesday 16 March 2027, 10:00." in panel
    assert f'action="{path}/accept"' in panel and "Accept this time" in panel
    assert "Your group visit is then confirmed at this time" in panel
    assert f'action="{path}/refuse"' in panel and "Refuse this time" in panel
    # Refusing ends the request (services/tours/requests.py answer_proposal): the page says so, and does not offer
    # a second button that does the same under another name.
    assert "Your request then ends: we no longer hold any time for your group" in panel
    assert "Cancel this group visit" not in page and f"{path}/cancel" not in page


def test_a_held_group_visit_offers_its_cancellation_apart_with_what_it_does(app, client, request_tour, guides):
    tour = request_tour("2027-03-16T10:00", language="en")
    path = _tour_link(app, tour)
    page = client.get(path).get_data(as_text=True)
    section = _section(page, "cancel-request")
    assert "If you no longer need this visit" in section
    assert "You can cancel the whole group visit here until Tuesday 9 March 2027 at 10:00." in section
    assert f'<a class="button danger" href="{path}/cancel">Cancel this group visit</a>' in section
    assert f'action="{path}/cancel"' not in page  # no form that cancels at one tap


def test_cancel_this_group_visit_asks_once_more_and_changes_nothing(app, client, session, request_tour, guides):
    from booking.models import TourRequest

    tour = request_tour("2027-03-16T10:00", language="fr")
    path = _tour_link(app, tour)
    question = client.get(f"{path}/cancel")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert '<html lang="fr">' in text
    assert re.search(rf'<form method="post" action="{re.escape(path)}/cancel">', text)
    assert "Oui, annuler notre visite de groupe" in text and f'href="{path}">' in text
    session.expire_all()
    assert session.get(TourRequest, tour.id).status == "pending"


def test_confirming_on_the_group_page_cancels_and_the_question_is_not_asked_again(app, client, session,
                                                                                   request_tour, guides, clock):
    from booking.models import TourRequest
    from tests.conftest import local

    tour = request_tour("2027-03-16T10:00", language="en")
    path = _tour_link(app, tour)
    response = client.post(f"{path}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == path
    session.expire_all()
    assert session.get(TourRequest, tour.id).status == "cancelled"
    assert client.get(f"{path}/cancel").headers.get("Location") == path
    late = request_tour("2027-03-17T10:00", language="en")
    clock.set(local("2027-03-10T11:00"))  # less than 7 days before: only by phone
    assert client.get(f"{_tour_link(app, late)}/cancel").headers.get("Location") == _tour_link(app, late)
