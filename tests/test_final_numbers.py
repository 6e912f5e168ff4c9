"""A teacher's final numbers for a confirmed group visit, from the private link, until the cancellation limit.

Fewer people give their places back at once and release a guide no longer needed; more are accepted
only when the places, the guides and the adult ratio allow, all or nothing, otherwise a clear
refusal. The teacher gets a confirmation and the museum hears of every change.
"""

from __future__ import annotations

import threading

import icalendar
import pytest
import sqlalchemy as sa

from booking.links import tour_path
from booking.models import OutboxMessage, TourRequest
from booking.services.tours import (
    TourInputError,
    TourStateError,
    change_group_size,
    confirm_tour,
    free_guides,
)
from tests.conftest import local, slot_booked
from tests.smtp import plain_text

DESK = "desk@museum.example"


@pytest.fixture(autouse=True)
def museum_desk(config_overrides):
    config_overrides["MUSEUM_NOTIFY_EMAIL"] = DESK
    return config_overrides


@pytest.fixture
def confirmed(session, policy, clock, request_tour, guides):
    """Confirm a group visit on Tuesday 16 March (10:00–12:00 by default)."""

    def _confirmed(start: str = "2027-03-16T10:00", **kwargs) -> TourRequest:
        tour = request_tour(start, **kwargs)
        return confirm_tour(session, policy, clock.now(), tour.id)

    return _confirmed


def change(session, policy, clock, tour, pupils, adults):
    return change_group_size(session, policy, clock.now(), tour.id, pupils, adults)


def guide_names(session, tour_id: int) -> list[str]:
    tour = session.get(TourRequest, tour_id, populate_existing=True)
    session.refresh(tour, ["assignments"])
    names = sorted(g.name for g in tour.guides)
    session.commit()
    return names


def slots(session, start: str = "2027-03-16") -> list[int]:
    return [slot_booked(session, f"{start}T{hour}:00") for hour in (10, 11)]


def outbox(session, kind: str) -> list[OutboxMessage]:
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id)).all()
    session.commit()
    return rows


def test_more_pupils_take_places_and_a_second_guide(session, policy, clock, confirmed):
    tour = confirmed(pupils=20, adults=2, language="nl")
    assert guide_names(session, tour.id) == ["Pieter Janssens"]  # the least versatile guide first
    assert slots(session) == [22, 22]

    change(session, policy, clock, tour, 30, 3)

    assert slots(session) == [33, 33]
    assert guide_names(session, tour.id) == ["Marie Dubois", "Pieter Janssens"]
    tour = session.get(TourRequest, tour.id, populate_existing=True)
    assert (tour.pupils, tour.adults, tour.status) == (30, 3, "confirmed")
    [teacher] = outbox(session, "tour_numbers_changed")
    assert (teacher.recipient, teacher.language) == ("els@school.example", "nl")
    museum = [row for row in outbox(session, "museum_tour_update") if row.payload.get("event") == "numbers_changed"]
    assert len(museum) == 1 and museum[0].recipient == DESK
    assert museum[0].payload["old"] == {"pupils": 20, "adults": 2}
    assert museum[0].payload["new"] == {"pupils": 30, "adults": 3}
    assert museum[0].payload["guides_added"] == ["Marie Dubois"]


def test_the_numbers_emails_count_one_pupil_or_adult_in_the_singular(app, session, policy, clock, confirmed):
    from booking.notifications.emails import render

    tour = confirmed(pupils=1, adults=1, language="en")
    change(session, policy, clock, tour, 12, 1)
    [teacher] = outbox(session, "tour_numbers_changed")
    [museum] = [row for row in outbox(session, "museum_tour_update") if row.payload.get("event") == "numbers_changed"]
    [confirmation] = outbox(session, "tour_confirmed")  # rendered as the group stands now
    with app.app_context():
        to_teacher, to_museum = render(teacher).body, render(museum).body
        [ics] = render(confirmation).attachments
    [event] = icalendar.Calendar.from_ical(ics.data).walk("VEVENT")
    assert f"Group visit {tour.reference}: 12 pupils and 1 adult. Details:" in str(event["description"])
    assert ("Your group's numbers are updated: 12 pupils or participants and 1 accompanying adult "
            "(before: 1 and 1).") in to_teacher
    assert museum.language == "fr"
    assert "Avant la modification\u202f: 1 élève ou participant et 1 adulte." in to_museum


def test_fewer_pupils_free_places_and_a_guide_at_once(session, policy, clock, confirmed, rules):
    tour = confirmed(pupils=35, adults=3)
    assert guide_names(session, tour.id) == ["Marie Dubois", "Pieter Janssens"]
    assert slots(session) == [38, 38]
    start = local("2027-03-16T10:00")
    assert free_guides(session, rules, start, 120, "de") == []

    change(session, policy, clock, tour, 15, 2)

    assert slots(session) == [17, 17]
    # The German speaker is the one let go: she is the likeliest to be wanted by another group.
    assert guide_names(session, tour.id) == ["Pieter Janssens"]
    assert [g.name for g in free_guides(session, rules, start, 120, "de")] == ["Marie Dubois"]
    [museum] = [row for row in outbox(session, "museum_tour_update") if row.payload.get("event") == "numbers_changed"]
    assert museum.payload["guides_released"] == ["Marie Dubois"]
    assert museum.payload["old"] == {"pupils": 35, "adults": 3}


def test_fewer_adults_only_frees_places(session, policy, clock, confirmed):
    tour = confirmed(pupils=20, adults=4, guided=False, duration_minutes=60)
    change(session, policy, clock, tour, 20, 2)
    assert slot_booked(session, "2027-03-16T10:00") == 22
    assert guide_names(session, tour.id) == []


def test_more_people_than_the_places_left_are_refused_and_nothing_changes(session, policy, clock, confirmed, book):
    tour = confirmed(pupils=20, adults=2)
    for _ in range(3):
        book("2027-03-16T11:00", party_size=8)  # 22 + 24 = 46 of 50 at 11:00
    with pytest.raises(TourStateError) as refused:
        change(session, policy, clock, tour, 20, 7)  # 5 more: 27 at 10:00 fits, 51 at 11:00 does not
    assert refused.value.code == "numbers_capacity"
    assert slots(session) == [22, 46]
    tour = session.get(TourRequest, tour.id, populate_existing=True)
    assert (tour.pupils, tour.adults) == (20, 2)
    assert outbox(session, "tour_numbers_changed") == []
    change(session, policy, clock, tour, 20, 6)  # 4 more: the last places left at 11:00
    assert slots(session) == [26, 50]


def test_more_pupils_without_a_free_guide_are_refused(session, policy, clock, confirmed, request_tour):
    tour = confirmed(pupils=20, adults=2)
    other = request_tour("2027-03-16T11:00", pupils=10, adults=1)  # holds the other guide from 11:00
    assert guide_names(session, other.id) == ["Marie Dubois"]
    with pytest.raises(TourStateError) as refused:
        change(session, policy, clock, tour, 25, 2)
    assert refused.value.code == "numbers_no_guide"
    assert slots(session) == [22, 33]  # the places taken before the refusal were given back
    assert guide_names(session, tour.id) == ["Pieter Janssens"]
    change(session, policy, clock, tour, 20, 5)  # more adults need no guide
    assert slots(session) == [25, 36]


def test_too_few_adults_or_too_many_pupils_are_explained_by_field(session, policy, clock, confirmed):
    tour = confirmed(pupils=20, adults=2)
    with pytest.raises(TourInputError) as refused:
        change(session, policy, clock, tour, 31, 2)  # 31 secondary pupils need 3 adults
    assert refused.value.errors == {"adults": "adults_ratio"}
    with pytest.raises(TourInputError) as refused:
        change(session, policy, clock, tour, 41, 3)
    assert refused.value.errors == {"pupils": "pupils_max_guided"}
    with pytest.raises(TourStateError) as refused:
        change(session, policy, clock, tour, 20, 2)
    assert refused.value.code == "numbers_unchanged"
    assert slots(session) == [22, 22]


def test_numbers_change_only_when_confirmed_and_until_the_cancellation_limit(session, policy, clock, confirmed,
                                                                          request_tour):
    pending = request_tour("2027-03-17T10:00", pupils=10, adults=1)
    with pytest.raises(TourStateError):
        change(session, policy, clock, pending, 12, 1)
    tour = confirmed(pupils=20, adults=2)
    clock.set(local("2027-03-09T10:00"))  # exactly 7 days before: still allowed
    change(session, policy, clock, tour, 19, 2)
    clock.set(local("2027-03-09T10:01"))
    with pytest.raises(TourStateError) as refused:
        change(session, policy, clock, tour, 18, 2)
    assert refused.value.code == "too_late_to_change"
    assert slots(session) == [21, 21]


def test_two_groups_asking_for_the_last_places_at_once_get_them_once(app, session, policy, clock, confirmed,
                                                                    request_tour, book):
    first = confirmed("2027-03-16T10:00", pupils=10, adults=1)
    second = confirmed("2027-03-16T10:00", pupils=10, adults=1)
    for _ in range(3):
        book("2027-03-16T10:00", party_size=8)  # 22 + 24 = 46: four places left
    barrier = threading.Barrier(2)
    outcomes = {}

    def grow(tour_id):
        with app.app_context():
            from booking.context import db

            thread_session = db()
            barrier.wait(timeout=30)
            try:
                change_group_size(thread_session, policy, clock.now(), tour_id, 13, 1)
                outcomes[tour_id] = "ok"
            except TourStateError as error:
                outcomes[tour_id] = error.code

    threads = [threading.Thread(target=grow, args=(tour.id,)) for tour in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["numbers_capacity", "ok"]
    assert slot_booked(session, "2027-03-16T10:00") == 49


# --- the teacher's page --------------------------------------------------------------------------

def test_the_page_changes_the_numbers_and_both_sides_hear_of_it(smtp_server, smtp_config, app, client, session,
                                                                confirmed):
    tour = confirmed(pupils=20, adults=2, language="en")
    with app.test_request_context():
        path = tour_path(tour)
    page = client.get(path).get_data(as_text=True)
    assert "Final numbers" in page and f'action="{path}/numbers"' in page
    assert 'name="pupils"' in page and 'value="20"' in page

    response = client.post(f"{path}/numbers", data={"pupils": "15", "adults": "2"})
    assert response.status_code == 302 and response.headers["Location"] == path
    page = client.get(path).get_data(as_text=True)
    assert "Your numbers are updated" in page
    assert slots(session) == [17, 17]

    messages = smtp_server.wait_for(2)
    to_teacher = [m for m in messages if m["To"] == "els@school.example"]
    to_museum = [m for m in messages if m["To"] == DESK]
    assert len(to_teacher) == 1 and len(to_museum) == 1
    assert "15" in plain_text(to_teacher[0]) and "(before: 20 and 2)" in plain_text(to_teacher[0])
    museum_text = plain_text(to_museum[0])
    assert tour.reference in to_museum[0]["Subject"]
    assert "20" in museum_text and "15" in museum_text


def test_a_refusal_is_shown_next_to_the_field_with_the_numbers_kept(app, client, session, confirmed, request_tour):
    tour = confirmed(pupils=20, adults=2, language="en")
    with app.test_request_context():
        path = tour_path(tour)
    response = client.post(f"{path}/numbers", data={"pupils": "31", "adults": "2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "at least one accompanying adult for every 15 pupils" in page
    assert 'value="31"' in page and 'aria-invalid="true"' in page
    response = client.post(f"{path}/numbers", data={"pupils": "", "adults": "x"})
    assert response.status_code == 422
    request_tour("2027-03-16T10:00", pupils=5, adults=1)  # holds the other guide
    response = client.post(f"{path}/numbers", data={"pupils": "25", "adults": "2"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "need another guide, and none is free at this time. Your numbers are unchanged" in page
    assert 'value="25"' in page
    assert slots(session) == [28, 28]
    # Confirming the numbers we have changes nothing and says thank you.
    response = client.post(f"{path}/numbers", data={"pupils": "20", "adults": "2"})
    assert response.status_code == 302 and response.headers["Location"] == path
    assert "your numbers are confirmed" in client.get(path).get_data(as_text=True)
    assert outbox(session, "tour_numbers_changed") == []


def test_no_form_after_the_cancellation_limit(app, client, session, clock, confirmed):
    tour = confirmed(pupils=20, adults=2, language="en")
    with app.test_request_context():
        path = tour_path(tour)
    clock.set(local("2027-03-10T09:00"))
    page = client.get(path).get_data(as_text=True)
    assert "Final numbers" not in page and "please call us" in page
    response = client.post(f"{path}/numbers", data={"pupils": "15", "adults": "2"})
    assert response.status_code == 302 and response.headers["Location"] == path
    assert "please call us on +32 2 522 40 41 to change your numbers" in client.get(path).get_data(as_text=True)
    assert slots(session) == [22, 22]
