"""Group requests under real concurrency: separate processes, each with its own app and connection pool.

As in test_race.py, each worker builds its own app with create_app, opens its database connection,
then waits on a barrier so that every request hits the same hours at the same moment. Runs on
SQLite (BEGIN IMMEDIATE) and, with TEST_DATABASE_URL, on PostgreSQL (row locks on the slots, the
UNIQUE(guide_id, start) constraint on guide holds).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking import schedule
from booking.models import Booking, Guide, GuideAssignment, Slot, TourRequest
from tests.conftest import local
from tests.racing import post_race

CAPACITY = 50
DAY = "2027-03-16"
HOURS = [f"{DAY}T{hour}:00" for hour in ("10", "11", "12")]
def _iso(start: str) -> str:
    return local(start).isoformat()  # e.g. 2027-03-16T10:00:00+01:00


def _tour_body(index: int, start: str, *, guided: bool = True, pupils: int = 15, adults: int = 2) -> dict:
    body = {"kind": "guided" if guided else "self_guided", "starts": [_iso(start)],
            "organisation": f"Racing school {index}", "postcode": "1070", "contact_name": "Claire Racine",
            "email": f"teacher{index}@school.example", "phone": "+32 470 00 00 00", "pupils": pupils,
            "adults": adults, "group_kind": "secondary", "language": "fr",
            # Sent for self-guided visits too: without it the API answers 422 (see the report).
            "tour_language": "fr"}
    if not guided:
        body["duration_minutes"] = 120
    return body


def _visit_body(index: int, start: str, party_size: int) -> dict:
    return {"start": _iso(start), "party_size": party_size, "name": "Visitor Racer",
            "email": f"visitor{index}@example.be", "language": "en"}


def _fresh(session, query) -> list:
    session.expire_all()  # the session keeps objects across commits (expire_on_commit=False)
    rows = list(session.scalars(query))
    session.commit()
    return rows


def _slots(session) -> dict[str, Slot]:
    by_start = {slot.start: slot for slot in _fresh(session, sa.select(Slot))}
    return {hour: by_start.get(schedule.to_utc(local(hour))) for hour in HOURS}


def _holding_tours(session) -> list[TourRequest]:
    return _fresh(session, sa.select(TourRequest).where(TourRequest.status.in_(TourRequest.HOLDING)))


def _expected_booked(session, hour: str, rules) -> int:
    """What the slot must hold: confirmed individual visits plus every holding tour that spans it."""
    start = schedule.to_utc(local(hour))
    visits = sum(b.party_size for b in _fresh(session, sa.select(Booking).where(
        Booking.start == start, Booking.status == "confirmed")))
    tours = sum(t.people for t in _holding_tours(session)
                if start in _spanned(t, rules))
    return visits + tours


def _spanned(tour: TourRequest, rules) -> list:
    from booking import tour_rules

    return [schedule.to_utc(s) for s in tour_rules.spanned_slots(tour.start, tour.duration_minutes, rules)]


def _assert_no_guide_held_twice(session) -> None:
    doubles = session.execute(
        sa.select(GuideAssignment.guide_id, GuideAssignment.start, sa.func.count())
        .group_by(GuideAssignment.guide_id, GuideAssignment.start)
        .having(sa.func.count() > 1)
    ).all()
    session.commit()
    assert doubles == []


# With 50 places an hour, the first tour's 22 people and two racers' 17 would not fit at 11:00 either:
# on PostgreSQL a loser that read the guides before the winner committed then waits on the slot's row
# lock and is refused for "capacity", so the guides' UNIQUE(guide_id, start) race is never reached.
# A roomier museum leaves the last free guide as the only thing to race for.
ROOMY = {"SLOT_CAPACITY": 100}


@pytest.fixture
def roomy_museum(config_overrides) -> dict:
    config_overrides.update(ROOMY)
    return ROOMY


def test_the_last_free_guide_goes_to_exactly_one_of_many_simultaneous_requests(
        roomy_museum, database_url, session, guides, request_tour, rules):
    assert rules.slot_capacity == ROOMY["SLOT_CAPACITY"]  # set before the app was built
    first = request_tour(f"{DAY}T10:00", pupils=20, adults=2)  # holds one guide 10:00–12:00
    assert [g.name for g in first.guides] == ["Pieter Janssens"]  # Marie Dubois is the last free one
    session.commit()

    starts = [f"{DAY}T10:00", f"{DAY}T11:00"]  # every pair overlaps at 11:00
    bodies = [_tour_body(index, starts[index % 2]) for index in range(8)]
    results = post_race([("/api/tour-requests", body) for body in bodies], database_url, ROOMY)

    winners = {index: body for index, (status, body) in results.items() if status == 201}
    losers = {index: (status, body) for index, (status, body) in results.items() if status != 201}
    assert len(winners) == 1, sorted(status for status, _body in results.values())
    assert all(status == 409 and body["error"] == "no_time_fits" and body["reason"] == "no_guide"
               and body["reasons"] == ["no_guide"] for status, body in losers.values()), losers
    (winner_index, winner), = winners.items()
    assert winner["status"] == "pending" and winner["start"] == _iso(starts[winner_index % 2])

    # The database: two tours, each guide held once per hour, both guides held at 11:00.
    tours = {t.reference: t for t in _holding_tours(session)}
    assert set(tours) == {first.reference, winner["reference"]}
    assert len(_fresh(session, sa.select(TourRequest))) == 2  # no refused request stored
    won = tours[winner["reference"]]
    assert won.organisation == bodies[winner_index]["organisation"]
    _assert_no_guide_held_twice(session)
    at_eleven = _fresh(session, sa.select(GuideAssignment).where(
        GuideAssignment.start == schedule.to_utc(local(f"{DAY}T11:00"))))
    assert sorted(a.guide.name for a in at_eleven) == ["Marie Dubois", "Pieter Janssens"]
    session.commit()
    held = _fresh(session, sa.select(GuideAssignment).where(GuideAssignment.tour_id == won.id))
    assert {a.guide.name for a in held} == {"Marie Dubois"}
    assert sorted(a.start for a in held) == _spanned(won, rules)
    session.commit()
    assert len(_fresh(session, sa.select(Guide))) == 2

    # Places: the first tour's 22 and the winner's 17, never more than the capacity.
    slots = _slots(session)
    for hour in HOURS:
        booked = slots[hour].booked if slots[hour] else 0
        assert slots[hour] is None or slots[hour].capacity == ROOMY["SLOT_CAPACITY"]
        assert booked <= ROOMY["SLOT_CAPACITY"]
        assert booked == _expected_booked(session, hour, rules), hour
    assert slots[f"{DAY}T11:00"].booked == 22 + 17

    # Only the two requests that were stored queued emails (a loser's rolled-back attempt queued none).
    from booking.models import OutboxMessage

    outbox = _fresh(session, sa.select(OutboxMessage))
    assert sorted((m.tour_id, m.kind) for m in outbox) == sorted(
        [(first.id, "tour_received"), (first.id, "museum_tour_update"),
         (won.id, "tour_received"), (won.id, "museum_tour_update")])


def test_tours_and_individual_visits_share_the_last_places_without_overbooking(database_url, session, guides, book,
                                                                             rules):
    for hour in (f"{DAY}T10:00", f"{DAY}T11:00"):
        for party in (8, 8, 8, 8, 3):  # 35 of 50 taken: 15 left in each hour
            book(hour, party_size=party, email="filler@example.be")
    assert [slot.booked for slot in list(_slots(session).values())[:2]] == [35, 35]

    requests = [
        ("/api/bookings", _visit_body(0, f"{DAY}T10:00", 4)),
        ("/api/bookings", _visit_body(1, f"{DAY}T11:00", 3)),
        ("/api/bookings", _visit_body(2, f"{DAY}T10:00", 2)),
        ("/api/bookings", _visit_body(3, f"{DAY}T11:00", 4)),
        ("/api/tour-requests", _tour_body(4, f"{DAY}T10:00", guided=True, pupils=12, adults=1)),     # 13
        ("/api/tour-requests", _tour_body(5, f"{DAY}T10:00", guided=False, pupils=12, adults=2)),    # 14
        ("/api/tour-requests", _tour_body(6, f"{DAY}T10:00", guided=True, pupils=9, adults=1)),      # 10
        ("/api/tour-requests", _tour_body(7, f"{DAY}T10:00", guided=False, pupils=10, adults=1)),    # 11
    ]
    results = post_race(requests, database_url)

    refused = {index: body for index, (status, body) in results.items() if status != 201}
    assert all(results[index][0] == 409 for index in refused), {i: results[i] for i in refused}
    for index, body in refused.items():
        if requests[index][0] == "/api/bookings":
            assert body["error"] == "slot_full", body
        else:
            assert body["error"] == "no_time_fits" and body["reasons"] == ["capacity"], body
    assert refused, "the demand exceeds the 15 free places of each hour: someone must be refused"
    assert len(refused) < len(requests), "the first request to arrive always fits"

    # What was answered 201 is exactly what is stored.
    won_visits = {body["reference"] for index, (status, body) in results.items()
                  if status == 201 and requests[index][0] == "/api/bookings"}
    won_tours = {body["reference"] for index, (status, body) in results.items()
                 if status == 201 and requests[index][0] == "/api/tour-requests"}
    racers = _fresh(session, sa.select(Booking).where(Booking.name == "Visitor Racer"))
    assert {b.reference for b in racers} == won_visits
    assert all(b.status == "confirmed" for b in racers)
    holding = _holding_tours(session)
    assert {t.reference for t in holding} == won_tours
    assert all(t.status == "pending" for t in holding)
    assert len(_fresh(session, sa.select(TourRequest))) == len(won_tours)
    _assert_no_guide_held_twice(session)

    slots = _slots(session)
    for hour in HOURS[:2]:
        assert slots[hour].capacity == CAPACITY
        assert slots[hour].booked <= CAPACITY, hour
        assert slots[hour].booked == _expected_booked(session, hour, rules), hour
    assert slots[HOURS[2]] is None or slots[HOURS[2]].booked == 0  # the tours end at 12:00

    # Places only ever went down during the race, so whatever was refused still does not fit.
    remaining = {hour: CAPACITY - slots[hour].booked for hour in HOURS[:2]}
    for index in refused:
        path, body = requests[index]
        if path == "/api/bookings":
            hour = next(h for h in HOURS if _iso(h) == body["start"])
            assert body["party_size"] > remaining[hour], (body, remaining)
        else:
            assert body["pupils"] + body["adults"] > min(remaining.values()), (body, remaining)
