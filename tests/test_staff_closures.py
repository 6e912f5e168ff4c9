"""Closures and public holidays, capacity, and the guide roster: services and staff pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask import g

from booking import schedule
from booking.links import visit_path
from booking.models import AuditEntry, Booking, Closure, GuideDuty, OutboxMessage, Setting, Slot, TourRequest
from booking.services import SlotFull
from booking.services.availability import check_bookable, days_between
from booking.services.bookings import VisitRequest, book_visit
from booking.services.capacity import (
    CapacityBelowBooked,
    set_default_capacity,
    set_slot_capacity,
    take_places,
)
from booking.services.closures import (
    ClosureError,
    NeedsConfirmation,
    add_closure,
    close_holiday,
    close_period,
    coming_holidays,
    open_holiday,
    period,
    remove_closure,
)
from booking.services.roster import GuideBusy, add_guide, guides_on_duty, set_guide_active, set_roster
from tests.conftest import NOW, local, slot_booked
from tests.smtp import plain_text

REASONS = {"fr": "Travaux", "nl": "Werken", "en": "Building works", "de": "Bauarbeiten"}
EASTER_MONDAY = dt.date(2027, 3, 29)  # a public holiday on a weekday, within the booking horizon


def fresh(session, query):
    session.expire_all()
    rows = session.scalars(query).all()
    session.commit()
    return rows


def audit_actions(session) -> list[str]:
    return [entry.action for entry in fresh(session, sa.select(AuditEntry).order_by(AuditEntry.id))]


def whole_day(rules, day: str):
    return period(rules, dt.date.fromisoformat(day))


# --- closing a period -----------------------------------------------------------------------------

def test_closing_a_day_with_visits_asks_first_then_cancels_them_all_with_the_closure(
        session, rules, policy, book, guides, request_tour, staff_user, clock):
    visits = [book("2027-03-16T09:00", language="fr", email="fr@example.be"),
              book("2027-03-16T14:00", language="nl", email="nl@example.be", party_size=3)]
    other_day = book("2027-03-17T10:00")
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2)
    start, end = whole_day(rules, "2027-03-16")

    with pytest.raises(NeedsConfirmation) as asked:
        close_period(session, policy, clock.now(), staff_user, start, end, REASONS)
    affected = asked.value.affected
    assert [b.reference for b in affected.bookings] == [v.reference for v in visits]
    assert [t.reference for t in affected.tours] == [tour.reference]
    assert affected.people == 2 + 3 + 22
    assert fresh(session, sa.select(Closure)) == []  # nothing closed yet

    closure, done = close_period(session, policy, clock.now(), staff_user, start, end, REASONS,
                                 message="Sorry.", confirmed=affected.keys())
    assert done.count == 3
    bookings = {b.reference: b for b in fresh(session, sa.select(Booking))}
    for visit in visits:
        cancelled = bookings[visit.reference]
        assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "museum")
        assert cancelled.cancel_reasons == REASONS
    assert bookings[visits[0].reference].cancel_reason("fr") == "Travaux Sorry."
    assert bookings[other_day.reference].status == "confirmed"
    assert fresh(session, sa.select(TourRequest))[0].status == "cancelled"
    assert slot_booked(session, "2027-03-16T10:00") == 0 and slot_booked(session, "2027-03-16T14:00") == 0
    assert fresh(session, sa.select(Closure.created_by_id)) == [staff_user.id]
    assert audit_actions(session).count("booking.cancel") == 2
    entry = fresh(session, sa.select(AuditEntry).where(AuditEntry.action == "closure.add"))[0]
    assert entry.details["cancelled_bookings"] == 2 and entry.details["cancelled_tours"] == 1
    assert entry.staff_id == staff_user.id
    kinds = sorted((m.kind, m.language) for m in fresh(session, sa.select(OutboxMessage))
                   if m.kind in ("visit_cancelled", "tour_cancelled"))
    assert kinds == [("tour_cancelled", "nl"), ("visit_cancelled", "fr"), ("visit_cancelled", "nl")]


def test_a_visit_booked_after_the_list_was_shown_means_asking_again(session, rules, policy, book, staff_user,
                                                                    clock):
    first = book("2027-03-16T09:00")
    start, end = whole_day(rules, "2027-03-16")
    with pytest.raises(NeedsConfirmation) as asked:
        close_period(session, policy, clock.now(), staff_user, start, end, REASONS)
    seen = asked.value.affected.keys()
    book("2027-03-16T11:00", email="late@example.be")
    with pytest.raises(NeedsConfirmation) as again:
        close_period(session, policy, clock.now(), staff_user, start, end, REASONS, confirmed=seen)
    assert again.value.affected.count == 2
    assert fresh(session, sa.select(Closure)) == []
    assert fresh(session, sa.select(Booking.status).where(Booking.id == first.id)) == ["confirmed"]


def test_closing_is_all_or_nothing(session, rules, policy, book, staff_user, clock, monkeypatch):
    book("2027-03-16T09:00")
    book("2027-03-16T10:00", email="b@example.be")
    start, end = whole_day(rules, "2027-03-16")
    from booking.services import closures

    real = closures.cancel_in_transaction
    calls = []

    def cancel_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("mail server on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(closures, "cancel_in_transaction", cancel_then_fail)
    keys = closures.affected_visits(session, rules, clock.now(), start, end).keys()
    session.commit()
    with pytest.raises(RuntimeError):
        close_period(session, policy, clock.now(), staff_user, start, end, REASONS, confirmed=keys)
    assert fresh(session, sa.select(Closure)) == []
    assert fresh(session, sa.select(Booking.status)) == ["confirmed", "confirmed"]
    assert fresh(session, sa.select(OutboxMessage.kind).where(OutboxMessage.kind == "visit_cancelled")) == []
    assert slot_booked(session, "2027-03-16T09:00") == 2


def test_closing_some_hours_cancels_only_the_visits_of_those_hours(session, rules, policy, book, staff_user, clock):
    for hour in ("09", "10", "11", "12"):
        book(f"2027-03-16T{hour}:00", email=f"h{hour}@example.be")
    start, end = period(rules, dt.date(2027, 3, 16), start_time=dt.time(10, 30), end_time=dt.time(12, 0))
    with pytest.raises(NeedsConfirmation) as asked:
        close_period(session, policy, clock.now(), staff_user, start, end, REASONS)
    assert [b.start for b in asked.value.affected.bookings] == [schedule.to_utc(local("2027-03-16T10:00")),
                                                                schedule.to_utc(local("2027-03-16T11:00"))]
    close_period(session, policy, clock.now(), staff_user, start, end, {"en": "Staff meeting"},
                 confirmed=asked.value.affected.keys())
    day = days_between(session, rules, clock.now(), dt.date(2027, 3, 16), dt.date(2027, 3, 16))[0]
    assert [s.closed_reason for s in day.slots] == [None, "Staff meeting", "Staff meeting"] + [None] * 5


def test_a_closure_needs_a_reason_and_a_period_that_ends_after_it_starts(session, rules, policy, staff_user, clock):
    start, end = whole_day(rules, "2027-03-16")
    with pytest.raises(ClosureError) as missing:
        close_period(session, policy, clock.now(), staff_user, start, end, {"en": " ", "fr": ""})
    assert missing.value.code == "reason_missing"
    with pytest.raises(ClosureError):
        period(rules, dt.date(2027, 3, 16), start_time=dt.time(14), end_time=dt.time(10))
    with pytest.raises(ClosureError):
        period(rules, dt.date(2027, 3, 16), last_day=dt.date(2027, 3, 15))


def test_the_command_line_closure_still_works(app, runner, session):
    result = runner.invoke(args=["add-closure", "2027-03-18", "--reason", "Inventory", "--reason-fr", "Inventaire"])
    assert result.exit_code == 0, result.output
    closure = fresh(session, sa.select(Closure))[0]
    assert (closure.kind, closure.reasons) == ("closed", {"en": "Inventory", "fr": "Inventaire"})


def test_removing_a_closure_opens_again_and_is_audited(session, rules, staff_user, clock):
    closure = add_closure(session, rules, dt.date(2027, 3, 18), {"en": "Inventory"})
    with pytest.raises(Exception) as closed:
        check_bookable(session, rules, clock.now(), schedule.to_utc(local("2027-03-18T10:00")))
    assert closed.value.code == "closed"
    remove_closure(session, clock.now(), staff_user, closure.id)
    check_bookable(session, rules, clock.now(), schedule.to_utc(local("2027-03-18T10:00")))
    assert audit_actions(session) == ["closure.remove"]


# --- public holidays --------------------------------------------------------------------------------

def test_the_holidays_of_the_next_twelve_months_are_listed_on_weekdays(session, rules, clock):
    holidays = coming_holidays(session, rules, clock.now(), "en")
    days = [h.day for h in holidays]
    assert EASTER_MONDAY in days
    assert dt.date(2027, 5, 1) not in days  # a Saturday: closed anyway
    assert all(day.weekday() < 5 for day in days)
    assert days[-1] < dt.date(2028, 3, 2)
    assert not any(h.opened for h in holidays)


def test_an_opened_holiday_is_bookable_by_visitors_groups_and_the_api(
        app, client, session, rules, policy, staff_user, clock, guides, request_tour, book):
    start = schedule.to_utc(local("2027-03-29T10:00"))
    with pytest.raises(Exception) as closed:
        check_bookable(session, rules, clock.now(), start)
    assert closed.value.code == "closed_holiday"
    assert "/en/book?start=2027-03-29" not in client.get("/en/visit/2027-03-29").get_data(as_text=True)

    open_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    page = client.get("/en/visit/2027-03-29").get_data(as_text=True)
    assert "/en/book?start=2027-03-29T10:00" in page
    calendar = client.get("/en/visit?month=2027-03").get_data(as_text=True)
    assert "/en/visit/2027-03-29" in calendar
    api = client.get("/api/availability?from=2027-03-29&to=2027-03-29").get_json()["days"][0]
    assert api["open"] is True and api["slots"][0]["bookable"] is True
    booking = book("2027-03-29T10:00")
    assert booking.status == "confirmed"
    tour = request_tour("2027-03-29T13:00")
    assert tour.status == "pending"
    assert [h.opened for h in coming_holidays(session, rules, clock.now()) if h.day == EASTER_MONDAY] == [True]

    with pytest.raises(ClosureError) as refused:
        close_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    assert (refused.value.code, refused.value.detail) == ("has_bookings", "2")
    assert audit_actions(session) == ["holiday.open"]


def test_a_holiday_closed_again_refuses_bookings(session, rules, staff_user, clock, client):
    open_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    with pytest.raises(ClosureError):
        open_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    close_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    page = client.get("/en/visit/2027-03-29").get_data(as_text=True)
    assert "/en/book?start=2027-03-29" not in page
    assert audit_actions(session) == ["holiday.open", "holiday.close"]
    with pytest.raises(ClosureError) as not_holiday:
        open_holiday(session, rules, clock.now(), staff_user, dt.date(2027, 3, 30))
    assert not_holiday.value.code == "not_a_holiday"


def test_an_opened_holiday_still_honours_a_closure_of_some_hours(session, rules, staff_user, clock):
    open_holiday(session, rules, clock.now(), staff_user, EASTER_MONDAY)
    add_closure(session, rules, EASTER_MONDAY, {"en": "Ceremony"}, start_time=dt.time(9), end_time=dt.time(11))
    day = days_between(session, rules, clock.now(), EASTER_MONDAY, EASTER_MONDAY)[0]
    assert day.open and [s.closed_reason for s in day.slots][:3] == ["Ceremony", "Ceremony", None]


# --- capacity ---------------------------------------------------------------------------------------

def test_a_slot_capacity_below_what_is_booked_is_refused_with_the_numbers(session, rules, staff_user, clock, book):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=7)
    with pytest.raises(CapacityBelowBooked) as refused:
        set_slot_capacity(session, rules, clock.now(), staff_user, local("2027-03-02T10:00"), 41)
    assert refused.value.slots == [(schedule.to_utc(local("2027-03-02T10:00")), 42)]
    slot = set_slot_capacity(session, rules, clock.now(), staff_user, local("2027-03-02T10:00"), 42)
    assert (slot.capacity, slot.capacity_custom) == (42, True)
    with pytest.raises(SlotFull):
        book("2027-03-02T10:00", party_size=1)
    entry = fresh(session, sa.select(AuditEntry))[0]
    assert (entry.action, entry.details["new"]) == ("capacity.slot", 42)
    assert list(entry.details["old"].values()) == [50]


def test_the_staff_page_says_which_slots_are_too_full(staff_client, book):
    for _ in range(6):
        book("2027-03-02T10:00", party_size=7)
    book("2027-03-02T14:00", party_size=8)
    response = staff_client.post("/staff/capacity/slot?lang=en", data={
        "slot-date": "2027-03-02", "slot-time": "10:00", "slot-capacity": "40"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Tuesday 2 March 10:00 has 42 places taken: the capacity cannot go below 42." in text
    response = staff_client.post("/staff/capacity/day?lang=en", data={"day-date": "2027-03-02", "day-capacity": "5"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Tuesday 2 March 10:00 has 42 places taken" in text
    assert "Tuesday 2 March 14:00 has 8 places taken: the capacity cannot go below 8." in text
    assert 'value="5"' in text  # the input is kept


def test_a_whole_day_gets_one_capacity(staff_client, session, book):
    book("2027-03-02T10:00", party_size=8)
    response = staff_client.post("/staff/capacity/day?lang=en", data={"day-date": "2027-03-02", "day-capacity": "8"})
    assert response.status_code == 302
    slots = fresh(session, sa.select(Slot).order_by(Slot.start))
    assert [(s.capacity, s.capacity_custom) for s in slots] == [(8, True)] * 8
    assert "capacity.day" in audit_actions(session)


def test_the_default_capacity_is_used_by_new_bookings_and_the_api(session, rules, staff_user, clock, client, book):
    book("2027-03-02T09:00", party_size=2)
    set_slot_capacity(session, rules, clock.now(), staff_user, local("2027-03-02T11:00"), 70)
    changed = set_default_capacity(session, rules, clock.now(), staff_user, 5)
    assert changed == 1  # the 09:00 row follows the default; the 11:00 one keeps its own
    assert fresh(session, sa.select(Setting.value).where(Setting.key == "default_capacity")) == [5]
    api = client.get("/api/availability?from=2027-03-02&to=2027-03-02").get_json()["days"][0]["slots"]
    assert [(s["capacity"], s["remaining"]) for s in api[:3]] == [(5, 3), (5, 5), (70, 70)]
    booking = book("2027-03-02T10:00", party_size=5)
    assert fresh(session, sa.select(Slot.capacity).where(Slot.start == booking.start)) == [5]
    with pytest.raises(SlotFull):
        book("2027-03-02T12:00", party_size=6)  # more than a new slot holds
    book("2027-03-02T11:00", party_size=6)  # the larger slot takes them
    assert slot_booked(session, "2027-03-02T11:00") == 6
    entry = fresh(session, sa.select(AuditEntry).where(AuditEntry.action == "capacity.default"))[0]
    assert (entry.details["old"], entry.details["new"]) == (50, 5)


def test_the_default_cannot_go_below_a_slot_that_follows_it(session, rules, staff_user, clock, book, staff_client):
    book("2027-03-02T09:00", party_size=8)
    with pytest.raises(CapacityBelowBooked):
        set_default_capacity(session, rules, clock.now(), staff_user, 7)
    response = staff_client.post("/staff/capacity/default?lang=en", data={"default-capacity": "7"})
    assert response.status_code == 422
    assert "Tuesday 2 March 09:00 has 8 places taken: the capacity cannot go below 8." in response.get_data(
        as_text=True)
    assert fresh(session, sa.select(Setting)) == []
    assert staff_client.post("/staff/capacity/default", data={"default-capacity": "60"}).status_code == 302
    assert fresh(session, sa.select(Slot.capacity)) == [60]


def test_capacity_pages_say_one_place_in_the_singular(staff_client, book):
    book("2027-03-02T10:00", party_size=1)
    book("2027-03-02T11:00", party_size=1)
    refused = staff_client.post("/staff/capacity/slot?lang=en", data={
        "slot-date": "2027-03-02", "slot-time": "10:00", "slot-capacity": "0"}).get_data(as_text=True)
    assert "Tuesday 2 March 10:00 has 1 place taken: the capacity cannot go below 1." in refused
    refused = staff_client.post("/staff/capacity/slot?lang=fr", data={
        "slot-date": "2027-03-02", "slot-time": "10:00", "slot-capacity": "0"}).get_data(as_text=True)
    assert "1 place est déjà prise\u202f: la capacité ne peut pas descendre sous 1." in refused

    staff_client.post("/staff/capacity/slot?lang=en", data={"slot-date": "2027-03-02", "slot-time": "10:00",
                                                            "slot-capacity": "1"})
    assert "Tuesday 2 March 10:00 now has 1 place." in staff_client.get("/staff/capacity?lang=en").get_data(
        as_text=True)
    staff_client.post("/staff/capacity/default", data={"default-capacity": "1"})
    page = staff_client.get("/staff/capacity?lang=en").get_data(as_text=True)
    assert "The default capacity is now 1 place an hour. 1 slot to come is updated." in page
    assert "Default: 1 place in each hour" in page
    assert "Par défaut\u202f: 1 place par heure" in staff_client.get("/staff/capacity?lang=fr").get_data(as_text=True)
    staff_client.post("/staff/capacity/day?lang=en", data={"day-date": "2027-03-02", "day-capacity": "1"})
    assert "Every hour of Tuesday 2 March 2027 now has 1 place." in staff_client.get(
        "/staff/capacity?lang=en").get_data(as_text=True)


def test_take_places_reads_the_stored_default_in_its_one_statement(session, rules, staff_user, clock, app):
    set_default_capacity(session, rules, clock.now(), staff_user, 3)
    start = schedule.to_utc(local("2027-03-03T10:00"))
    statements = []
    engine = app.extensions["booking"].engine

    def record(_c, _cur, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert take_places(session, start, 3, rules.slot_capacity)
        session.commit()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len([s for s in statements if "INSERT" in s]) == 1
    assert fresh(session, sa.select(Slot.capacity)) == [3]


# --- guides and the roster --------------------------------------------------------------------------

def test_the_roster_sets_who_is_on_duty_and_refuses_to_remove_a_busy_guide(
        session, rules, staff_user, clock, guides, request_tour):
    pieter, marie = guides
    monday = dt.date(2027, 3, 15)
    week = {monday + dt.timedelta(days=i): {pieter.id, marie.id} for i in range(5)}
    week[monday] = {marie.id}
    week[monday + dt.timedelta(days=2)] = set()
    assert set_roster(session, rules, clock.now(), staff_user, week) == [monday, monday + dt.timedelta(days=2)]
    assert [g.name for g in guides_on_duty(session, monday)] == ["Marie Dubois"]
    assert guides_on_duty(session, monday + dt.timedelta(days=2)) == []
    assert len(guides_on_duty(session, monday + dt.timedelta(days=1))) == 2
    assert len(fresh(session, sa.select(GuideDuty))) == 4

    tour = request_tour("2027-03-16T10:00", pupils=10)  # one guide needed
    held = tour.guides[0]
    week[monday + dt.timedelta(days=1)] = {pieter.id, marie.id} - {held.id}
    with pytest.raises(GuideBusy) as refused:
        set_roster(session, rules, clock.now(), staff_user, week)
    assert [(g.name, t.reference, start) for g, t, start in refused.value.busy] == [
        (held.name, tour.reference, tour.start)]
    assert len(guides_on_duty(session, monday + dt.timedelta(days=1))) == 2  # nothing saved
    assert audit_actions(session).count("roster.set") == 2


def test_the_roster_page_shows_the_week_and_names_the_busy_group(staff_client, session, guides, request_tour):
    tour = request_tour("2027-03-16T10:00", pupils=10)
    held = tour.guides[0]
    page = staff_client.get("/staff/capacity?lang=en&week=2027-03-17").get_data(as_text=True)
    assert f'name="duty" value="2027-03-16:{held.id}" id="duty-2027-03-16-{held.id}" checked' in page
    ticked = [f"2027-03-{d}:{g.id}" for d in (15, 16, 17, 18, 19) for g in guides if not (d == 16 and g == held)]
    response = staff_client.post("/staff/roster?lang=en", data={"week": "2027-03-15", "duty": ticked})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f"{held.name} guides {tour.reference} (Sint-Jozefscollege) on Tuesday 16 March at 10:00." in text
    ticked = [f"2027-03-{d}:{g.id}" for d in (15, 16, 17, 18, 19) for g in guides if not (d == 18 and g == held)]
    response = staff_client.post("/staff/roster?lang=en", data={"week": "2027-03-15", "duty": ticked})
    assert response.status_code == 302
    assert [g.name for g in guides_on_duty(session, dt.date(2027, 3, 18))] == [
        g.name for g in guides if g != held]


def test_guides_are_added_and_deactivated_unless_they_hold_a_group(
        session, rules, staff_user, clock, guides, request_tour, staff_client):
    response = staff_client.post("/staff/guides?lang=en", data={"guide-name": "Anna Schmidt",
                                                                "guide-languages": ["de", "en"]})
    assert response.status_code == 302
    anna = [g for g in guides_on_duty(session, dt.date(2027, 3, 16)) if g.name == "Anna Schmidt"][0]
    assert anna.languages == ["de", "en"]
    again = staff_client.post("/staff/guides?lang=en", data={"guide-name": "anna schmidt", "guide-languages": ["de"]})
    assert again.status_code == 422 and "already exists" in again.get_data(as_text=True)
    assert staff_client.post("/staff/guides?lang=en", data={"guide-name": "X"}).status_code == 422

    tour = request_tour("2027-03-16T10:00", pupils=10, tour_language="de")
    assert [g.name for g in tour.guides] == ["Anna Schmidt"]  # the least versatile German speaker
    with pytest.raises(GuideBusy):
        set_guide_active(session, rules, clock.now(), staff_user, anna.id, False)
    response = staff_client.post(f"/staff/guides/{guides[0].id}/deactivate?lang=en")
    assert response.status_code == 302
    assert guides[0].name not in [g.name for g in guides_on_duty(session, dt.date(2027, 3, 16))]
    assert {"guide.add", "guide.deactivate"} <= set(audit_actions(session))
    add_guide(session, clock.now(), staff_user, "Jan Peeters", ["nl"])


def test_the_command_line_adds_a_guide_through_the_audited_roster(runner, session):
    result = runner.invoke(args=["add-guide", " Marie Dubois ", "--languages", "FR, nl"])
    assert result.exit_code == 0 and "Added guide Marie Dubois (fr, nl)." in result.output, result.output
    session.expire_all()
    [entry] = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "guide.add")).all()
    assert (entry.staff_id, entry.actor, entry.details["name"], entry.details["languages"]) == (
        None, "system", "Marie Dubois", ["fr", "nl"])
    session.commit()
    again = runner.invoke(args=["add-guide", "marie dubois", "--languages", "fr"])
    assert again.exit_code != 0 and "guide_exists" in again.output  # the roster's rule, as in the back office
    refused = runner.invoke(args=["add-guide", "Piet", "--languages", "xx"])
    assert refused.exit_code != 0 and "--languages" in refused.output


# --- the closures page --------------------------------------------------------------------------------

def test_the_closures_page_lists_closures_and_holidays(staff_client, session, rules):
    add_closure(session, rules, dt.date(2027, 3, 18), {"en": "Inventory", "fr": "Inventaire"})
    page = staff_client.get("/staff/closures?lang=en").get_data(as_text=True)
    assert "Thursday 18 March 2027" in page and "Inventaire" in page
    assert "Monday 29 March 2027" in page and "Easter Monday" in page
    assert "/staff/holidays/2027-03-29/open" in page


def test_staff_close_a_day_without_bookings_at_once(staff_client, session):
    response = staff_client.post("/staff/closures?lang=en", data={
        "first_day": "2027-03-18", "last_day": "2027-03-19", "reason_en": "Inventory"})
    assert response.status_code == 302
    closure = fresh(session, sa.select(Closure))[0]
    assert closure.end_at - closure.start_at == dt.timedelta(days=2)
    page = staff_client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Thursday 18 March 2027 to Friday 19 March 2027" in page


def test_a_closure_without_a_reason_is_refused_next_to_the_field(staff_client, session):
    response = staff_client.post("/staff/closures?lang=en", data={"first_day": "2027-03-18", "reason_en": ""})
    assert response.status_code == 422
    assert "Give the reason in at least one language." in response.get_data(as_text=True)
    assert fresh(session, sa.select(Closure)) == []


def test_staff_open_and_close_again_a_holiday_from_the_page(staff_client, session):
    assert staff_client.post("/staff/holidays/2027-03-29/open?lang=en").status_code == 302
    page = staff_client.get("/staff/closures?lang=en").get_data(as_text=True)
    assert "/staff/holidays/2027-03-29/close" in page
    assert staff_client.post("/staff/holidays/2027-03-29/close?lang=en").status_code == 302
    assert fresh(session, sa.select(Closure)) == []


def test_a_holidays_status_and_the_button_that_opens_it_are_translated_apart(staff_client):
    """One English text, two meanings: the holiday is open (a state) and "open it" (an action)."""
    page = staff_client.get("/staff/closures?lang=fr").get_data(as_text=True)
    assert "Ouvrir exceptionnellement" in page and "Ouvert exceptionnellement" not in page
    assert staff_client.post("/staff/holidays/2027-03-29/open?lang=fr").status_code == 302
    page = staff_client.get("/staff/closures?lang=fr").get_data(as_text=True)
    assert "<strong>Ouvert exceptionnellement</strong>" in page
    page = staff_client.get("/staff/closures?lang=nl").get_data(as_text=True)
    assert "<strong>Uitzonderlijk open</strong>" in page and "Uitzonderlijk openen" in page  # other holidays


def test_the_closure_confirmation_counts_one_visit_of_one_person_in_the_singular(staff_client, book):
    book("2027-03-16T10:00", party_size=1)
    form = {"first_day": "2027-03-16", "reason_en": "Works", "reason_fr": "Travaux"}
    page = staff_client.post("/staff/closures?lang=en", data=form).get_data(as_text=True)
    assert "1 visit is booked in this period (1 person). Closing cancels it" in page
    page = staff_client.post("/staff/closures?lang=fr", data=form).get_data(as_text=True)
    assert "1 visite est réservée pendant cette période (1 personne)." in page


def test_closing_a_day_with_bookings_emails_each_visitor_once_in_their_language(
        smtp_config, smtp_server, app, session, book, staff_user, client, runner):
    from tests.conftest import signed_in

    staff = signed_in(app, staff_user)
    visitors = [("fr", "claire@example.be"), ("nl", "jan@example.be"), ("de", "anna@example.de")]
    bookings = [book(f"2027-03-16T{9 + i:02d}:00", language=lang, email=email, name=f"Visitor {lang}")
                for i, (lang, email) in enumerate(visitors)]
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0  # the three confirmations
    before = len(smtp_server.wait_for(3))
    assert before == 3
    form = {"first_day": "2027-03-16", **{f"reason_{k}": v for k, v in REASONS.items()}}

    asked = staff.post("/staff/closures?lang=en", data=form)
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Close and cancel these 3 bookings" in text
    for booking in bookings:
        assert booking.reference in text
    confirmed = re.search(r'name="confirmed" value="([^"]+)"', text).group(1)
    assert len(smtp_server.raw) == before and fresh(session, sa.select(Closure)) == []

    done = staff.post("/staff/closures?lang=en", data={**form, "confirmed": confirmed, "message": ""})
    assert done.status_code == 302
    messages = smtp_server.wait_for(before + 3)[before:]
    assert sorted(m["To"] for m in messages) == sorted(email for _lang, email in visitors)
    for lang, email in visitors:
        [message] = [m for m in messages if m["To"] == email]
        body = plain_text(message)
        assert REASONS[lang] in body
        assert all(REASONS[other] not in body for other in REASONS if other != lang)
    for booking in bookings:
        # The test's app context is every request's, and flask-babel keeps the locale it found first.
        g.pop("_flask_babel", None)
        page = client.get(visit_path(booking)).get_data(as_text=True)
        assert f'<html lang="{booking.language}">' in page
        assert "The museum cancelled it." not in page  # (English)
        assert REASONS[booking.language] in page
    assert len(smtp_server.raw) == before + 3


def test_a_group_visit_in_a_closed_day_is_cancelled_and_the_teacher_told_why(
        smtp_config, smtp_server, app, session, guides, request_tour, staff_user, runner):
    from tests.conftest import signed_in

    tour = request_tour("2027-03-16T10:00", language="fr")
    staff = signed_in(app, staff_user)
    form = {"first_day": "2027-03-16", "reason_fr": "Panne de chauffage", "reason_en": "Heating failure"}
    asked = staff.post("/staff/closures?lang=en", data=form).get_data(as_text=True)
    assert tour.reference in asked and "Close and cancel this booking" in asked
    confirmed = re.search(r'name="confirmed" value="([^"]+)"', asked).group(1)
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0
    before = len(smtp_server.raw)
    assert staff.post("/staff/closures?lang=en", data={**form, "confirmed": confirmed}).status_code == 302
    message = smtp_server.wait_for(before + 1)[-1]
    assert message["To"] == "els@school.example"
    assert "Panne de chauffage" in plain_text(message) and "Heating failure" not in plain_text(message)
    assert fresh(session, sa.select(TourRequest.status)) == ["cancelled"]


def test_statement_budget_of_a_booking_is_kept_with_a_stored_default(app, session, rules, staff_user, clock):
    """The booking transaction stays one INSERT for the slot with the default in the setting table."""
    set_default_capacity(session, rules, clock.now(), staff_user, 40)
    booking, _ = book_visit(session, rules, NOW, VisitRequest(
        start=local("2027-03-04T10:00"), party_size=2, name="A", email="a@example.be", language="en"))
    assert fresh(session, sa.select(Slot.capacity).where(Slot.start == booking.start)) == [40]
