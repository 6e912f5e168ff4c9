"""Capacity under real concurrency: separate processes, each with its own app and connection pool.

Each worker builds its own app with create_app, opens its database connection, then waits on a
barrier so that every request hits the same nearly-full slot at the same moment. Runs on SQLite
(BEGIN IMMEDIATE) and, with TEST_DATABASE_URL, on PostgreSQL (row locks on the slot).
"""

from __future__ import annotations

import multiprocessing
import queue as queue_lib
import time
import traceback

import sqlalchemy as sa

from booking import schedule
from booking.models import Booking, Slot
from tests.conftest import NOW, SECRET, local, slot_booked

CAPACITY = 50
PARTY = 2
WORKERS = 12
# Spawning 12 interpreters that each import Flask and SQLAlchemy takes ~1 s of CPU apiece: on a busy
# two-core machine everyone reaches the barrier only after 10-30 s. Generous limits, never a hang.
BARRIER_TIMEOUT = 120
RACE_TIMEOUT = 180


def _worker_overrides(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "CLOCK_NOW": NOW.isoformat(),  # each process gets a FixedClock at the same moment
        "MAIL_SERVER": None,
        "MAIL_DELIVER_AFTER_COMMIT": False,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://museum.test",
    }


def _book_worker(database_url: str, start: str, index: int, barrier, results) -> None:
    """One visitor: its own app and client; after the barrier, POST /api/bookings once."""
    from booking import create_app

    engine = None
    try:
        app = create_app(_worker_overrides(database_url))
        engine = app.extensions["booking"].engine
        client = app.test_client()
        # Warm up: open a pooled connection and load everything, so the race is on the POST alone.
        day = start[:10]
        warm = client.get(f"/api/availability?from={day}&to={day}")
        assert warm.status_code == 200, warm.status_code
        barrier.wait(timeout=BARRIER_TIMEOUT)
        response = client.post("/api/bookings", json={
            "start": start, "party_size": PARTY, "name": f"Racer {index}",
            "email": f"racer{index}@example.be", "language": "en",
        })
        results.put((index, response.status_code, response.get_json()))
    except BaseException:
        results.put((index, "error", traceback.format_exc()))
    finally:
        if engine is not None:
            engine.dispose()


def _move_worker(database_url: str, booking_id: int, target: str, barrier, results) -> None:
    """One visitor moving their booking into the target slot, through the service, after the barrier."""
    from booking import create_app
    from booking.context import db
    from booking.services import SlotFull
    from booking.services.bookings import move_booking

    engine = None
    try:
        app = create_app(_worker_overrides(database_url))
        engine = app.extensions["booking"].engine
        state = app.extensions["booking"]
        with app.app_context():
            session = db()
            session.execute(sa.select(1))  # open the connection before the race
            session.commit()
            barrier.wait(timeout=BARRIER_TIMEOUT)
            try:
                moved = move_booking(session, state.rules, state.clock.now(), booking_id, local(target))
            except SlotFull:
                results.put((booking_id, "slot_full", None))
            else:
                results.put((booking_id, "moved", moved.start.isoformat()))
    except BaseException:
        results.put((booking_id, "error", traceback.format_exc()))
    finally:
        if engine is not None:
            engine.dispose()


def _run(target, args_list: list[tuple]) -> list[tuple]:
    """Start one spawned process per argument tuple, all behind one barrier; collect their results."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_list))
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results), daemon=True) for args in args_list]
    for process in processes:
        process.start()
    collected = []
    deadline = time.monotonic() + RACE_TIMEOUT
    try:
        while len(collected) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                collected.append(results.get(timeout=remaining))
            except queue_lib.Empty:
                break
        for process in processes:
            process.join(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
        results.close()
        results.join_thread()
    assert len(collected) == len(processes), f"only {len(collected)} of {len(processes)} workers answered"
    errors = [result[2] for result in collected if result[1] == "error"]
    assert not errors, "\n".join(errors)
    assert all(process.exitcode == 0 for process in processes), [process.exitcode for process in processes]
    return collected


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

    results = _run(_book_worker, [(database_url, start, index) for index in range(WORKERS)])

    statuses = sorted(status for _index, status, _body in results)
    winners = [body for _index, status, body in results if status == 201]
    losers = [(status, body) for _index, status, body in results if status != 201]
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

    results = _run(_move_worker, [(database_url, booking_id, target) for booking_id in movers])

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
