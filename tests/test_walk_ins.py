"""Places kept back for visitors without a booking (online bookings, the API, moves and the waiting
list leave them; the desk may use them), and walk-ins counted at the desk for the statistics."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking import schedule
from booking.models import AuditEntry, Booking, Slot, WalkIn
from booking.services import SlotFull
from booking.services.bookings import ByMuseum, cancel_booking, move_booking
from booking.services.capacity import (
    CapacityBelowKeptBack,
    TooManyKeptBack,
    set_default_kept_back,
    set_slot_capacity,
    set_slot_kept_back,
)
from booking.services.reports import Period, visit_statistics
from booking.services.waitlist import WaitRequest, join_waitlist, offer_places
from booking.services.walkins import WalkInError, add_walk_ins, undo_walk_in
from tests.conftest import local, slot_booked
from tests.racing import post_race

SLOT = "2027-03-02T10:00"  # Tuesday, the day after NOW (Monday 1 March 2027, 09:00)
TODAY_SLOT = "2027-03-01T10:00"


def fill(book, start: str, places: int) -> None:
    """Book `places` online, in parties of at most 8."""
    while places > 0:
        party = min(places, 8)
        book(start, party_size=party, email=f"filler{places}@example.be")
        places -= party


def keep_back(session, rules, clock, staff_user, places: int, start: str = SLOT) -> None:
    set_slot_kept_back(session, rules, clock.now(), staff_user, local(start), places)


def fresh(session, statement):
    session.expire_all()
    rows = list(session.scalars(statement))
    session.commit()
    return rows


def api_slot(client, start: str = SLOT) -> dict:
    day = start[:10]
    slots = client.get(f"/api/availability?from={day}&to={day}").get_json()["days"][0]["slots"]
    return next(s for s in slots if s["start"].startswith(start))


def desk_form(**changes) -> dict:
    data = {"form_id": uuid.uuid4().hex, "date": "2027-03-02", "time": "10:00", "party_size": "3",
            "name": "Jan Claes", "email": "", "phone": "+32 470 00 00 00", "language": "nl", "note": "",
            "override_reason": ""}
    return {**data, **changes}


# --- kept-back places -------------------------------------------------------------------------------

def test_online_form_and_api_refuse_the_kept_back_places_and_the_desk_books_them(
        client, staff_client, session, rules, clock, staff_user, book):
    keep_back(session, rules, clock, staff_user, 10)
    fill(book, SLOT, 40)  # 50 places: 40 booked, 10 kept back, none left online
    assert (api_slot(client)["remaining"], api_slot(client)["bookable"]) == (0, False)

    api = client.post("/api/bookings", json={"start": "2027-03-02T10:00:00+01:00", "party_size": 2,
                                             "name": "Anne Martin", "email": "anne@example.be", "language": "en"})
    assert (api.status_code, api.get_json()["error"]) == (409, "slot_full")
    form = client.post("/en/book", data={"start": SLOT, "party_size": "2", "name": "Luc Peeters",
                                         "email": "luc@example.be", "note": "", "consent": "y",
                                         "form_id": uuid.uuid4().hex})
    assert form.status_code == 409
    page = form.get_data(as_text=True)
    assert "not enough places left" in page and 'value="luc@example.be"' in page
    with pytest.raises(SlotFull):
        book(SLOT, party_size=1)
    assert slot_booked(session, SLOT) == 40

    desk = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="8"))
    assert desk.status_code == 302, desk.get_data(as_text=True)
    desk = staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="2"))
    assert desk.status_code == 302
    assert slot_booked(session, SLOT) == 50  # the desk used every kept-back place, and no more
    assert staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="1")).status_code == 409


def test_online_takes_what_is_left_beside_the_kept_back_places(client, session, rules, clock, staff_user, book):
    keep_back(session, rules, clock, staff_user, 10)
    fill(book, SLOT, 36)
    assert api_slot(client)["remaining"] == 4
    with pytest.raises(SlotFull):
        book(SLOT, party_size=5)
    book(SLOT, party_size=4)
    assert slot_booked(session, SLOT) == 40


def test_the_default_kept_back_places_apply_to_new_slots_in_the_booking_statement(
        client, staff_client, session, book):
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "default", "kept-kept_back": "45", "kept-time": "10:00"})
    assert response.status_code == 302
    assert "By default, 45 places are now kept back in each hour." in staff_client.get(
        "/staff/capacity?lang=en").get_data(as_text=True)
    assert api_slot(client)["remaining"] == 5  # a slot without a row yet
    with pytest.raises(SlotFull):
        book(SLOT, party_size=6)
    book(SLOT, party_size=5)
    assert fresh(session, sa.select(Slot.kept_back)) == [45]
    assert api_slot(client)["remaining"] == 0
    entry = fresh(session, sa.select(AuditEntry).where(AuditEntry.action == "kept_back.default"))[0]
    assert (entry.details["old"], entry.details["new"]) == (0, 45)
    # The desk still books the kept-back places of the new slot.
    assert staff_client.post("/staff/bookings/new?lang=en", data=desk_form(party_size="8")).status_code == 302
    assert slot_booked(session, SLOT) == 13


def test_a_whole_day_and_one_hour_keep_places_back_from_the_staff_page(client, staff_client, session):
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "day", "kept-date": "2027-03-02", "kept-time": "10:00", "kept-kept_back": "4"})
    assert response.status_code == 302
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "hour", "kept-date": "2027-03-02", "kept-time": "11:00", "kept-kept_back": "20"})
    assert response.status_code == 302
    slots = fresh(session, sa.select(Slot).order_by(Slot.start))
    assert [(s.kept_back, s.kept_back_custom) for s in slots] == [(4, True)] * 2 + [(20, True)] + [(4, True)] * 5
    assert [api_slot(client, f"2027-03-02T{h}:00")["remaining"] for h in ("09", "10", "11")] == [46, 46, 30]
    page = staff_client.get("/staff/capacity?lang=en").get_data(as_text=True)
    assert "Tuesday 2 March 11:00 now keeps 20 places back." in page
    actions = fresh(session, sa.select(AuditEntry.action).where(AuditEntry.action.like("kept_back.%"))
                    .order_by(AuditEntry.id))
    assert actions == ["kept_back.day", "kept_back.slot"]


def test_kept_back_places_never_cover_places_already_taken(session, rules, clock, staff_user, staff_client, book):
    fill(book, SLOT, 8)
    with pytest.raises(TooManyKeptBack) as refused:
        keep_back(session, rules, clock, staff_user, 43)
    assert refused.value.slots == [(schedule.to_utc(local(SLOT)), 50, 8)]
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "hour", "kept-date": "2027-03-02", "kept-time": "10:00", "kept-kept_back": "43"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tuesday 2 March 10:00 has 8 of 50 places taken: at most 42 can be kept back." in page
    assert 'value="43"' in page  # what staff typed is kept
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "default", "kept-time": "10:00", "kept-kept_back": "51"})
    assert "The default capacity is 50 places: no more can be kept back by default." in response.get_data(
        as_text=True)
    response = staff_client.post("/staff/capacity/kept-back?lang=en", data={
        "kept-scope": "day", "kept-time": "10:00", "kept-kept_back": "2"})
    assert response.status_code == 422 and "Choose a date." in response.get_data(as_text=True)
    keep_back(session, rules, clock, staff_user, 42)
    assert fresh(session, sa.select(Slot.kept_back)) == [42]


def test_a_capacity_cannot_go_below_the_places_kept_back(session, rules, clock, staff_user, staff_client):
    keep_back(session, rules, clock, staff_user, 10)
    with pytest.raises(CapacityBelowKeptBack):
        set_slot_capacity(session, rules, clock.now(), staff_user, local(SLOT), 9)
    response = staff_client.post("/staff/capacity/slot?lang=en", data={
        "slot-date": "2027-03-02", "slot-time": "10:00", "slot-capacity": "9"})
    assert response.status_code == 422
    assert "Tuesday 2 March 10:00 keeps 10 places back: the capacity cannot go below 10." in response.get_data(
        as_text=True)
    set_default_kept_back(session, rules, clock.now(), staff_user, 5)
    response = staff_client.post("/staff/capacity/default?lang=en", data={"default-capacity": "4"})
    assert response.status_code == 422
    assert "5 places are kept back by default: the default capacity cannot go below 5." in response.get_data(
        as_text=True)


def test_the_database_refuses_more_kept_back_than_capacity_and_negative_walk_ins(session, book):
    book(SLOT, party_size=2)
    for values in ({"kept_back": 51}, {"kept_back": -1}, {"walk_ins": -1}):
        with pytest.raises(IntegrityError):
            session.execute(sa.update(Slot).values(**values))
            session.flush()
        session.rollback()


def test_the_waiting_list_is_not_offered_the_kept_back_places(session, rules, clock, staff_user, book):
    keep_back(session, rules, clock, staff_user, 4)
    fill(book, SLOT, 44)
    leaving = book(SLOT, party_size=2, email="leaving@example.be")  # 46 booked: online is full
    # Four places are physically free, but they are kept back: a visitor may join the list.
    entry = join_waitlist(session, rules, clock.now(), WaitRequest(
        start=local(SLOT), people=2, name="Wim Waiter", email="wim@example.be", language="en"))
    assert offer_places(session, rules, clock.now(), local(SLOT)) == []
    assert slot_booked(session, SLOT) == 46
    cancel_booking(session, rules, clock.now(), leaving.id)
    session.expire_all()
    assert session.get(type(entry), entry.id).status == "offered"  # the freed places, not the kept-back ones
    session.commit()
    assert slot_booked(session, SLOT) == 46


def test_a_visitor_move_leaves_the_kept_back_places_and_a_staff_move_may_use_them(
        session, rules, clock, staff_user, book):
    keep_back(session, rules, clock, staff_user, 4)
    fill(book, SLOT, 46)
    visitor = book("2027-03-02T11:00", party_size=2, email="mover@example.be")
    with pytest.raises(SlotFull):
        move_booking(session, rules, clock.now(), visitor.id, local(SLOT))
    moved = move_booking(session, rules, clock.now(), visitor.id, local(SLOT), by=ByMuseum(staff_user))
    assert moved.start == schedule.to_utc(local(SLOT))
    assert slot_booked(session, SLOT) == 48


def test_the_staff_week_and_day_show_kept_back_and_online_places(session, rules, clock, staff_user, staff_client,
                                                                 book):
    keep_back(session, rules, clock, staff_user, 10)
    book(SLOT, party_size=5)
    week = staff_client.get("/staff/calendar?date=2027-03-02&lang=en").get_data(as_text=True)
    assert "Online: 35</span>" in week and "the others are kept back for visitors without a booking" in week
    day = staff_client.get("/staff/day/2027-03-02?lang=en").get_data(as_text=True)
    assert "Left: 45 of 50 (kept back: 10, online: 35)" in day


def test_a_race_of_real_processes_never_takes_the_kept_back_places_online(
        database_url, session, rules, clock, staff_user, book):
    keep_back(session, rules, clock, staff_user, 6)
    fill(book, SLOT, 38)  # 6 places left online, 6 kept back

    answers = post_race([("/api/bookings", {
        "start": SLOT, "party_size": 2, "name": f"Racer {index}", "email": f"racer{index}@example.be",
        "language": "en"}) for index in range(12)], database_url)

    winners = [body for status, body in answers.values() if status == 201]
    losers = [(status, body) for status, body in answers.values() if status != 201]
    assert len(winners) == 3, sorted(status for status, _body in answers.values())
    assert all(status == 409 and body["error"] == "slot_full" for status, body in losers), losers
    assert slot_booked(session, SLOT) == 44  # capacity 50 − 6 kept back, never more
    confirmed = fresh(session, sa.select(Booking.party_size).where(Booking.start == schedule.to_utc(local(SLOT))))
    assert sum(confirmed) == 44


# --- walk-ins ---------------------------------------------------------------------------------------

def post_walk_ins(staff_client, people: str | None = "1", *, day: str = "2027-03-01", time: str = "10:00",
                  undo: bool = False, json: bool = False):
    data = {"time": time} if undo else {"time": time, "people": people}
    headers = {"Accept": "application/json"} if json else {}
    path = f"/staff/day/{day}/walk-ins" + ("/undo" if undo else "")
    return staff_client.post(path + "?lang=en", data=data, headers=headers)


def test_walk_in_buttons_count_undo_and_audit_without_touching_booked(
        session, staff_client, staff_user, rules, clock):
    response = post_walk_ins(staff_client, "1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/day/2027-03-01#slot-1000")
    assert post_walk_ins(staff_client, "3").status_code == 302
    assert post_walk_ins(staff_client, undo=True).status_code == 302

    slot = fresh(session, sa.select(Slot))[0]
    assert (slot.walk_ins, slot.booked) == (3, 0)
    taps = fresh(session, sa.select(WalkIn).order_by(WalkIn.id))
    assert [(tap.people, tap.staff_id, tap.at) for tap in taps] == [(1, staff_user.id, clock.now())] * 1 + [
        (3, staff_user.id, clock.now()), (-1, staff_user.id, clock.now())]
    entries = fresh(session, sa.select(AuditEntry).where(AuditEntry.action.like("walkin.%")).order_by(AuditEntry.id))
    assert [(e.action, e.details["people"], e.details["total"]) for e in entries] == [
        ("walkin.add", 1, 1), ("walkin.add", 3, 4), ("walkin.undo", -1, 3)]
    assert all(e.staff_id == staff_user.id for e in entries)
    page = staff_client.get("/staff/day/2027-03-01?lang=en").get_data(as_text=True)
    assert "3 walk-ins (without a booking)" in page and "−1 (undo)" in page and "+1 walk-in" in page


def test_walk_ins_are_never_refused_for_capacity_and_use_the_kept_back_places_first(
        session, staff_client, staff_user, rules, clock):
    keep_back(session, rules, clock, staff_user, 5, start=TODAY_SLOT)
    assert post_walk_ins(staff_client, "3").status_code == 302
    page = staff_client.get("/staff/day/2027-03-01?lang=en").get_data(as_text=True)
    assert "3 walk-ins (without a booking) · 2 kept-back places left" in page
    for _ in range(2):
        assert post_walk_ins(staff_client, "50").status_code == 302
    assert fresh(session, sa.select(Slot.walk_ins)) == [103]  # more than the capacity: they are at the door


def test_wrong_walk_ins_are_explained_and_change_nothing(session, staff_client, rules, clock):
    for people in ("0", "51", "x"):
        response = post_walk_ins(staff_client, people)
        assert response.status_code == 302
        assert "Give a number from 1 to 50." in staff_client.get("/staff/day/2027-03-01?lang=en").get_data(
            as_text=True) or people == "x"
    post_walk_ins(staff_client, undo=True)
    assert "No walk-in is counted in this hour." in staff_client.get("/staff/day/2027-03-01?lang=en").get_data(
        as_text=True)
    post_walk_ins(staff_client, "2", day="2027-03-02")
    assert "Walk-ins of a later day cannot be counted yet." in staff_client.get(
        "/staff/day/2027-03-02?lang=en").get_data(as_text=True)
    assert fresh(session, sa.select(WalkIn)) == []
    with pytest.raises(WalkInError):
        add_walk_ins(session, rules, clock.now(), None, local("2027-03-01T10:30"), 1)  # not a slot
    with pytest.raises(WalkInError):
        undo_walk_in(session, rules, clock.now(), None, local(TODAY_SLOT))


def test_walk_in_buttons_answer_json_for_the_page_script(staff_client):
    response = post_walk_ins(staff_client, "4", json=True)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["walk_ins"] == 4 and answer["error"] is None
    assert "4 walk-ins (without a booking)" in answer["html"] and 'class="checkin-form' in answer["html"]
    refused = post_walk_ins(staff_client, "60", json=True)
    assert refused.status_code == 409
    assert refused.get_json()["walk_ins"] == 4 and "1 to 50" in refused.get_json()["error"]


def test_statistics_and_their_csv_show_visitors_with_and_without_a_booking(
        session, staff_client, staff_user, rules, clock):
    add_walk_ins(session, rules, clock.now(), staff_user, local(TODAY_SLOT), 7)
    add_walk_ins(session, rules, clock.now(), staff_user, local("2027-03-01T14:00"), 2)
    session.add(Booking(reference="NMR-ARRIVE", start=schedule.to_utc(local("2027-03-01T09:00")), party_size=3,
                        name="Anne Martin", email="anne@example.be", language="en", attendance="arrived"))
    session.commit()

    report = visit_statistics(session, rules, clock.now(), Period(2027, 3))
    assert (report.total.walk_ins, report.total.checked_in) == (9, 3)
    week = next(bucket for bucket in report.weeks if bucket.key == "2027-W09")
    assert (week.figures.walk_ins, week.figures.checked_in) == (9, 3)
    assert [m.figures.walk_ins for m in visit_statistics(session, rules, clock.now(), Period(2027)).months][1:3] == [
        0, 9]

    page = staff_client.get("/staff/stats?lang=en&year=2027&month=3").get_data(as_text=True)
    assert "Walk-ins (visitors without a booking)" in page and "9 people" in page
    response = staff_client.get("/staff/stats.csv?lang=en&year=2027&month=3")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))
    header = next(r for r in rows if r and r[0] == "Total")
    total = rows[rows.index(header) + 1]
    figures = dict(zip(header, total, strict=True))
    assert (figures["Visitors checked in with a booking"], figures["Walk-ins (visitors without a booking)"]) == (
        "3", "9")
    week_row = next(r for r in rows if r and r[0] == "2027-W09")
    assert dict(zip(header[1:], week_row[1:], strict=True))["Walk-ins (visitors without a booking)"] == "9"


def test_a_refused_walk_in_is_explained_in_french_with_its_narrow_space(staff_client):
    staff_client.post("/staff/day/2027-03-01/walk-ins?lang=fr", data={"time": "10:00", "people": "0"})
    page = staff_client.get("/staff/day/2027-03-01?lang=fr").get_data(as_text=True)
    assert "10:00\u202f: Indiquez un nombre de 1 à 50." in page
    assert "0 entrée (sans réservation)" in page  # French counts 0 in the singular
