"""Capacity under real concurrency: separate processes, each with its own app and connection pool.

Each worker builds its own app with create_app, opens its database connection, then waits on a
barrier so that every request hits the same nearly-full slot at the same moment. Runs on SQLite
(BEGIN IMMEDIATE) and, with TEST_DATABASE_URL, on PostgreSQL (row locks on the slot).
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from booking import schedule
from booking.models import Booking, Slot
from tests.conftest import local, slot_booked
from tests.racing import post_race, race

CAPACITY = 50
PARTY = 2
WORKERS = 12


def _move(booking_id: int, target: str, state, session) -> tuple[str, str | None]:
    """One visitor moving their booking into the target slot, through the service."""
    from booking.services import SlotFull
    from booking.services.bookings import move_booking

    try:
        moved = move_booking(session, state.rules, state.clock.now(), booking_id, local(target))
    except SlotFull:
        return "slot_full", None
    return "moved", moved.start.isoformat()


def _confirmed_at(session, start: str) -> list[Booking]:
    session.expire_all()  # the session keeps objects across commits (expire_on_commit=False)
    rows = list(session.scalars(
        sa.select(Booking).where(Booking.start == schedule.to_utc(local(start)), Booking.status == "confirmed")
    ))
    session.commit()
    return rows


def _slot(session, start: str) -> Slot:
    session.expire_all()
    slot = session.scalars(sa.select(Slot).where(Slot.start == schedule.to_utc(local(start)))).one()
    session.commit()
    return slot


def _fill(book, start: str, places: int) -> None:
    """Take `places` in the slot through the service, in parties of at most 8."""
    while places > 0:
        party = min(places, 8)
        book(start, party_size=party, email=f"filler{places}@example.be")
        places -= party


def test_last_places_go_to_exactly_as_many_bookings_as_fit(database_url, session, book, rules):
    assert rules.slot_capacity == CAPACITY
    start = "2027-03-02T10:00"
    _fill(book, start, 44)
    remaining = CAPACITY - slot_booked(session, start)
    assert remaining == 6

    answers = post_race([("/api/bookings", {
        "start": start, "party_size": PARTY, "name": f"Racer {index}", "email": f"racer{index}@example.be",
        "language": "en"}) for index in range(WORKERS)], database_url)

    statuses = sorted(status for status, _body in answers.values())
    winners = [body for status, body in answers.values() if status == 201]
    losers = [(status, body) for status, body in answers.values() if status != 201]
    assert len(winners) == remaining // PARTY == 3, statuses
    assert all(status == 409 and body["error"] == "slot_full" for status, body in losers), losers
    assert len({body["reference"] for body in winners}) == len(winners)

    slot = _slot(session, start)
    assert slot.capacity == CAPACITY
    assert slot.booked == CAPACITY  # exactly full, never more
    confirmed = _confirmed_at(session, start)
    racers = [booking for booking in confirmed if booking.name.startswith("Racer ")]
    assert len(racers) == len(winners)
    assert {booking.reference for booking in racers} == {body["reference"] for body in winners}
    assert sum(booking.party_size for booking in confirmed) == slot.booked


def test_concurrent_moves_into_a_nearly_full_slot_never_overbook(database_url, session, book, rules):
    target = "2027-03-02T12:00"
    _fill(book, target, 44)  # 6 places left: room for three parties of 2
    # Eight bookings of 2 people, each in its own slot, before and after the target in time, so the
    # moves lock their two slots in both orders.
    sources = ["2027-03-02T09:00", "2027-03-02T10:00", "2027-03-02T11:00", "2027-03-02T13:00",
               "2027-03-02T14:00", "2027-03-02T15:00", "2027-03-02T16:00", "2027-03-03T10:00"]
    movers = {}
    for index, source in enumerate(sources):
        book(source, party_size=3, email=f"stays{index}@example.be")  # someone else who stays
        movers[book(source, party_size=PARTY, email=f"mover{index}@example.be").id] = source
    before = {source: slot_booked(session, source) for source in sources}
    assert all(value == 3 + PARTY for value in before.values())

    results = race(database_url, [(booking_id, partial(_move, booking_id, target)) for booking_id in movers])

    moved = {booking_id for booking_id, outcome, _start in results if outcome == "moved"}
    refused = {booking_id for booking_id, outcome, _start in results if outcome == "slot_full"}
    assert len(moved) == (CAPACITY - 44) // PARTY == 3, results
    assert moved | refused == set(movers) and not moved & refused

    target_slot = _slot(session, target)
    assert target_slot.booked == CAPACITY
    assert sum(booking.party_size for booking in _confirmed_at(session, target)) == CAPACITY
    for booking_id, source in movers.items():
        expected = before[source] - (PARTY if booking_id in moved else 0)
        assert slot_booked(session, source) == expected, (source, booking_id in moved)
        assert sum(booking.party_size for booking in _confirmed_at(session, source)) == expected

    session.expire_all()
    bookings = {booking.id: booking for booking in session.scalars(sa.select(Booking).where(Booking.id.in_(movers)))}
    session.commit()
    for booking_id, source in movers.items():
        booking = bookings[booking_id]
        if booking_id in moved:
            assert booking.start == schedule.to_utc(local(target))
            assert booking.sequence == 1
        else:
            assert booking.start == schedule.to_utc(local(source))
            assert booking.sequence == 0
