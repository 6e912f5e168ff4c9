"""Booking, cancelling and moving visits through the services, on every database."""

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking.models import Booking, OutboxMessage, Slot
from booking.services import BookingClosed, BookingError, NotBookable, SlotFull
from booking.services.availability import days_between
from booking.services.bookings import VisitRequest, book_visit, cancel_booking, move_booking
from booking.services.closures import add_closure
from tests.conftest import local, slot_booked


def outbox_kinds(session):
    kinds = list(session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    session.commit()
    return kinds


def test_a_booking_is_confirmed_takes_its_places_and_queues_its_email(book, session):
    booking = book("2027-03-02T10:00", party_size=3)
    assert booking.status == "confirmed"
    assert booking.start == local("2027-03-02T10:00")
    assert slot_booked(session, "2027-03-02T10:00") == 3
    assert outbox_kinds(session) == ["visit_confirmed"]


def test_the_last_places_can_be_booked_and_then_the_slot_refuses_one_more_visitor(book, session, rules):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=8)
    book("2027-03-02T10:00", party_size=2)
    assert slot_booked(session, "2027-03-02T10:00") == rules.slot_capacity
    with pytest.raises(SlotFull):
        book("2027-03-02T10:00", party_size=1)
    assert slot_booked(session, "2027-03-02T10:00") == 50
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 7


def test_a_party_larger_than_the_places_left_is_refused_but_a_smaller_one_fits(book, session):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=8)  # 48 of 50
    with pytest.raises(SlotFull):
        book("2027-03-02T10:00", party_size=3)
    book("2027-03-02T10:00", party_size=2)
    assert slot_booked(session, "2027-03-02T10:00") == 50


@pytest.mark.parametrize(("start", "code"), [
    ("2027-03-01T08:00", "not_a_slot"),    # before opening
    ("2027-03-02T17:00", "not_a_slot"),    # closing time is not an arrival time
    ("2027-03-02T10:30", "not_a_slot"),
    ("2027-03-01T09:00", "past"),          # starts right now
    ("2027-02-26T10:00", "past"),
    ("2027-03-06T10:00", "closed_weekend"),
    ("2027-03-29T10:00", "closed_holiday"),  # Easter Monday
    ("2027-05-31T10:00", "too_far"),       # 91 days ahead
])
def test_starts_the_calendar_refuses(book, session, start, code):
    with pytest.raises(NotBookable) as refused:
        book(start)
    assert refused.value.code == code
    assert refused.value.field == "start"
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
    assert outbox_kinds(session) == []


def test_the_last_day_of_the_horizon_can_be_booked(book):
    assert book("2027-05-28T16:00").status == "confirmed"  # Friday, day 88


def test_a_slot_later_today_can_still_be_booked(book):
    assert book("2027-03-01T10:00").status == "confirmed"


@pytest.mark.parametrize("party_size", [0, 9, -1, 500])
def test_party_sizes_outside_one_to_eight_are_refused(book, party_size):
    with pytest.raises(BookingError) as refused:
        book("2027-03-02T10:00", party_size=party_size)
    assert refused.value.field == "party_size"


def test_a_closure_entered_by_staff_closes_its_hours_with_the_reason(book, session, rules, clock):
    add_closure(session, rules, dt.date(2027, 3, 3), {"en": "Staff training", "fr": "Formation"},
                start_time=dt.time(12), end_time=dt.time(14))
    with pytest.raises(NotBookable) as refused:
        book("2027-03-03T13:00")
    assert refused.value.code == "closed" and refused.value.detail == "Staff training"
    assert book("2027-03-03T14:00").status == "confirmed"
    day = days_between(session, rules, clock.now(), dt.date(2027, 3, 3), dt.date(2027, 3, 3), "fr")[0]
    assert day.open
    closed = [slot.start.astimezone(rules.tz).hour for slot in day.slots if slot.closed_reason == "Formation"]
    assert closed == [12, 13]


def test_a_whole_day_closure_closes_the_day_in_availability(session, rules, clock):
    add_closure(session, rules, dt.date(2027, 3, 3), {"en": "Inventory"}, last_day=dt.date(2027, 3, 4))
    days = days_between(session, rules, clock.now(), dt.date(2027, 3, 2), dt.date(2027, 3, 5))
    assert [(d.date.day, d.open, d.closed_reason) for d in days] == [
        (2, True, None), (3, False, "Inventory"), (4, False, "Inventory"), (5, True, None)]


def test_availability_counts_the_places_left_and_marks_past_slots_unbookable(book, session, rules, clock):
    book("2027-03-01T11:00", party_size=5)
    clock.set(local("2027-03-01T10:15"))
    day = days_between(session, rules, clock.now(), dt.date(2027, 3, 1), dt.date(2027, 3, 1))[0]
    by_hour = {slot.start.astimezone(rules.tz).hour: slot for slot in day.slots}
    assert not by_hour[9].bookable and not by_hour[10].bookable
    assert by_hour[11].bookable and by_hour[11].remaining == 45
    assert by_hour[12].remaining == 50


def test_cancelling_frees_the_places_and_queues_a_cancellation(book, session, rules, clock):
    booking = book("2027-03-02T10:00", party_size=4)
    cancelled = cancel_booking(session, rules, clock.now(), booking.id)
    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    assert slot_booked(session, "2027-03-02T10:00") == 0
    assert outbox_kinds(session) == ["visit_confirmed", "visit_cancelled"]


def test_cancelling_twice_frees_the_places_once(book, session, rules, clock):
    book("2027-03-02T10:00", party_size=3)
    booking = book("2027-03-02T10:00", party_size=4)
    cancel_booking(session, rules, clock.now(), booking.id)
    with pytest.raises(BookingClosed):
        cancel_booking(session, rules, clock.now(), booking.id)
    assert slot_booked(session, "2027-03-02T10:00") == 3


def test_a_visit_cannot_be_cancelled_or_moved_once_it_has_started(book, session, rules, clock):
    booking = book("2027-03-02T10:00")
    clock.set(local("2027-03-02T10:00"))
    with pytest.raises(BookingClosed):
        cancel_booking(session, rules, clock.now(), booking.id)
    with pytest.raises(BookingClosed):
        move_booking(session, rules, clock.now(), booking.id, local("2027-03-03T10:00"))
    assert slot_booked(session, "2027-03-02T10:00") == 2


def test_moving_takes_the_new_places_frees_the_old_and_raises_the_sequence(book, session, rules, clock):
    booking = book("2027-03-02T10:00", party_size=3)
    moved = move_booking(session, rules, clock.now(), booking.id, local("2027-03-04T15:00"))
    assert moved.start == local("2027-03-04T15:00") and moved.sequence == 1
    assert slot_booked(session, "2027-03-02T10:00") == 0
    assert slot_booked(session, "2027-03-04T15:00") == 3
    assert outbox_kinds(session) == ["visit_confirmed", "visit_moved"]


def test_moving_into_a_full_slot_changes_nothing(book, session, rules, clock):
    for _ in range(6):
        book("2027-03-04T15:00", party_size=8)
    booking = book("2027-03-02T10:00", party_size=3)
    with pytest.raises(SlotFull):
        move_booking(session, rules, clock.now(), booking.id, local("2027-03-04T15:00"))
    session.expire_all()
    assert session.get(Booking, booking.id).start == local("2027-03-02T10:00")
    assert slot_booked(session, "2027-03-02T10:00") == 3
    assert slot_booked(session, "2027-03-04T15:00") == 48


def test_moving_to_a_closed_day_or_the_same_slot_is_refused(book, session, rules, clock):
    booking = book("2027-03-02T10:00")
    with pytest.raises(NotBookable):
        move_booking(session, rules, clock.now(), booking.id, local("2027-03-29T10:00"))
    with pytest.raises(BookingError) as same:
        move_booking(session, rules, clock.now(), booking.id, local("2027-03-02T10:00"))
    assert same.value.code == "same_slot"


def _holds_the_cap_on_tuesday(book):
    """Anne holds three bookings on Tuesday 2 March, the cap, under three spellings of her address."""
    return [book(f"2027-03-02T{hour}:00", email=email)
            for hour, email in (("09", "anne@example.be"), ("10", "Anne@Example.be"), ("11", "ANNE@example.be"))]


def test_a_visitors_move_onto_a_day_where_the_address_holds_the_cap_changes_nothing(book, session, rules, clock):
    tuesday = _holds_the_cap_on_tuesday(book)
    thursday = book("2027-03-04T10:00", party_size=3, email="anne@EXAMPLE.be")
    with pytest.raises(BookingError) as refused:
        move_booking(session, rules, clock.now(), thursday.id, local("2027-03-02T14:00"), email_day_cap=3)
    assert (refused.value.code, refused.value.field, refused.value.detail) == ("email_day_cap", "start", "3")
    session.expire_all()
    kept = session.get(Booking, thursday.id)
    assert (kept.start, kept.sequence) == (local("2027-03-04T10:00"), 0)
    assert slot_booked(session, "2027-03-04T10:00") == 3 and slot_booked(session, "2027-03-02T14:00") == 0
    assert outbox_kinds(session) == ["visit_confirmed"] * 4
    # Below the cap it moves: a cancelled booking no longer counts, and the day ends at the cap.
    cancel_booking(session, rules, clock.now(), tuesday[0].id)
    moved = move_booking(session, rules, clock.now(), thursday.id, local("2027-03-02T14:00"), email_day_cap=3)
    assert moved.start == local("2027-03-02T14:00") and moved.sequence == 1
    session.expire_all()
    stored = session.get(Booking, thursday.id)
    assert (stored.start, stored.sequence, stored.updated_at) == (local("2027-03-02T14:00"), 1, clock.now())
    assert slot_booked(session, "2027-03-02T14:00") == 3 and outbox_kinds(session)[-1] == "visit_moved"


def test_at_the_cap_a_visit_still_moves_to_another_hour_of_its_own_day(book, session, rules, clock):
    tuesday = _holds_the_cap_on_tuesday(book)
    thursday = book("2027-03-04T10:00")
    with pytest.raises(BookingError):
        move_booking(session, rules, clock.now(), thursday.id, local("2027-03-02T15:00"), email_day_cap=3)
    moved = move_booking(session, rules, clock.now(), tuesday[1].id, local("2027-03-02T15:00"), email_day_cap=3)
    assert moved.start == local("2027-03-02T15:00")
    assert slot_booked(session, "2027-03-02T10:00") == 0 and slot_booked(session, "2027-03-02T15:00") == 2
    assert outbox_kinds(session)[-1] == "visit_moved"


def test_the_same_request_key_books_once(session, rules, clock):
    request = VisitRequest(start=local("2027-03-02T10:00"), party_size=2, name="A", email="a@example.be",
                           language="fr", request_key="form:abc")
    first, created = book_visit(session, rules, clock.now(), request)
    again, created_again = book_visit(session, rules, clock.now(), request)
    assert created and not created_again and again.id == first.id
    assert slot_booked(session, "2027-03-02T10:00") == 2


def test_the_database_refuses_an_overbooked_slot_even_without_the_service(book, session):
    book("2027-03-02T10:00", party_size=2)
    with pytest.raises(IntegrityError):
        session.execute(sa.update(Slot).values(booked=51))
        session.commit()
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(sa.update(Slot).values(booked=-1))
        session.commit()
    session.rollback()


def test_times_survive_the_database_as_aware_utc(book, session):
    booking = book("2027-03-30T10:00")  # summer time: 08:00 UTC
    session.expire_all()
    stored = session.get(Booking, booking.id).start
    assert stored.tzinfo is not None
    assert stored == dt.datetime(2027, 3, 30, 8, tzinfo=dt.UTC)
