"""The staff calendar: occupancy by slot, the week and day pages, check-in and the day sheet."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask_babel import refresh
from sqlalchemy import event

from booking import schedule
from booking.models import AuditEntry, Booking, Closure, Guide, GuideDuty, Slot, TourRequest
from booking.services.attendance import AttendanceError, mark
from booking.services.bookings import cancel_booking
from booking.services.occupancy import occupancy_between
from booking.services.roster import guides_on_duty
from booking.services.tours import decline_tour
from tests.conftest import local, signed_in

TUESDAY = dt.date(2027, 3, 16)


def day_of(session, rules, day: dt.date):
    return occupancy_between(session, rules, day, day)[0]


def slot_at(day, hour: str):
    return next(slot for slot in day.slots if slot.local_start.strftime("%H:%M") == hour)


def add_closure(session, start: str, end: str, reason: str = "Staff training", kind: str = "closed"):
    session.add(Closure(kind=kind, start_at=schedule.to_utc(local(start)), end_at=schedule.to_utc(local(end)),
                        reasons={"en": reason, "fr": "Formation"} if reason else {}))
    session.commit()


@pytest.fixture
def busy_tuesday(session, rules, clock, book, request_tour, guides):
    """Tuesday 16 March: two bookings (5 people) and a cancelled one at 10:00, a guided group 10:00–12:00."""
    book("2027-03-16T10:00", party_size=3, name="Anne Martin")
    book("2027-03-16T10:00", party_size=2, name="Luc Peeters")
    gone = book("2027-03-16T10:00", party_size=4, name="Gone Visitor")
    cancel_booking(session, rules, clock.now(), gone.id)
    tour = request_tour("2027-03-16T10:00", pupils=20, adults=2, tour_language="nl", organisation="Sint-Lukas")
    return tour


# --- the read service -----------------------------------------------------------------------------

def test_a_slot_counts_individual_visitors_groups_places_and_guides(session, rules, busy_tuesday):
    day = day_of(session, rules, TUESDAY)
    ten = slot_at(day, "10:00")
    assert (ten.individuals, ten.bookings) == (5, 2)
    assert [group.tour.reference for group in ten.groups] == [busy_tuesday.reference]
    assert ten.group_people == 22 and ten.booked == 27 and ten.remaining == 23 and ten.capacity == 50
    assert [g.name for g in ten.guides_used] == ["Pieter Janssens"]
    assert [g.name for g in ten.guides_free] == ["Marie Dubois"]
    eleven = slot_at(day, "11:00")
    assert eleven.individuals == 0 and eleven.remaining == 28
    assert [(g.tour.id, g.continued) for g in eleven.groups] == [(busy_tuesday.id, True)]
    nine = slot_at(day, "09:00")
    assert (nine.remaining, nine.groups, len(nine.guides_free)) == (50, [], 2)
    assert [g.tour.id for g in day.groups] == [busy_tuesday.id]
    assert [g.name for g in day.groups[0].guides] == ["Pieter Janssens"]
    assert (day.individuals, day.bookings) == (5, 2)


def test_a_groups_guides_read_in_the_same_order_whatever_order_they_were_held_in(session, rules, request_tour, guides):
    """The database returns a join's rows in no promised order: a group's guides are listed as the
    roster lists guides (by id), not as the rows happen to come, so the week and the day agree."""
    from booking.models import GuideAssignment

    tour = request_tour("2027-03-16T10:00", pupils=30)  # two guides: one per 20 pupils
    held = session.scalars(sa.select(GuideAssignment).where(GuideAssignment.tour_id == tour.id)).all()
    assert {a.guide_id for a in held} == {guides[0].id, guides[1].id}
    hours = sorted({a.start for a in held})
    session.execute(sa.delete(GuideAssignment).where(GuideAssignment.tour_id == tour.id))
    # Held again, the second guide first: rowid order now lists Marie Dubois before Pieter Janssens.
    session.add_all([GuideAssignment(guide_id=guide.id, tour_id=tour.id, start=hour)
                     for guide in reversed(guides) for hour in hours])
    session.commit()
    groups = day_of(session, rules, TUESDAY).groups
    assert [g.name for g in groups[0].guides] == ["Pieter Janssens", "Marie Dubois"]


def test_a_slot_without_a_row_has_the_default_capacity_and_a_custom_one_its_own(session, rules):
    session.add(Slot(start=schedule.to_utc(local("2027-03-02T14:00")), capacity=30, capacity_custom=True, booked=0))
    session.commit()
    day = day_of(session, rules, dt.date(2027, 3, 2))
    assert slot_at(day, "14:00").remaining == 30
    assert slot_at(day, "15:00").remaining == rules.slot_capacity


def test_declined_groups_hold_nothing(session, rules, policy, clock, busy_tuesday):
    decline_tour(session, policy, clock.now(), busy_tuesday.id, "Sorry")
    ten = slot_at(day_of(session, rules, TUESDAY), "10:00")
    assert ten.groups == [] and ten.guides_used == [] and ten.remaining == 45


def test_closures_holidays_and_weekends_close_their_slots(session, rules):
    add_closure(session, "2027-03-17T12:00", "2027-03-17T14:00")
    add_closure(session, "2027-03-18T00:00", "2027-03-19T00:00", reason="Works")
    days = occupancy_between(session, rules, dt.date(2027, 3, 17), dt.date(2027, 3, 20))
    wednesday, thursday, _friday, saturday = days
    assert [s.local_start.strftime("%H") for s in wednesday.slots if s.closed] == ["12", "13"]
    assert slot_at(wednesday, "12:00").closed_reason == "Staff training" and wednesday.open
    assert (thursday.open, thursday.closed_kind, thursday.closed_reason) == (False, "closure", "Works")
    assert (saturday.open, saturday.closed_kind) == (False, "weekend")
    easter_monday = day_of(session, rules, dt.date(2027, 3, 29))
    assert (easter_monday.open, easter_monday.closed_kind, easter_monday.holiday) == (False, "holiday", "Easter Monday")
    assert slot_at(easter_monday, "10:00").closed_reason == "Easter Monday"


def test_a_holiday_staff_opened_is_open_and_keeps_its_name(session, rules):
    add_closure(session, "2027-03-29T00:00", "2027-03-30T00:00", reason="", kind="opened")
    day = day_of(session, rules, dt.date(2027, 3, 29))
    assert day.open and day.opened_exceptionally and day.holiday == "Easter Monday"
    assert not any(slot.closed for slot in day.slots)


def test_the_roster_decides_who_is_on_duty_each_day_as_the_tour_service_does(session, rules, guides):
    pieter, marie = guides
    retired = Guide(name="Retired Guide", language_codes="fr", active=False)
    session.add(retired)
    session.flush()
    session.add_all([GuideDuty(day=TUESDAY, guide_id=marie.id, on_duty=True),
                     GuideDuty(day=TUESDAY, guide_id=pieter.id, on_duty=False),
                     GuideDuty(day=dt.date(2027, 3, 17), guide_id=retired.id, on_duty=True)])
    session.commit()
    days = occupancy_between(session, rules, dt.date(2027, 3, 15), dt.date(2027, 3, 19))
    assert [[g.name for g in day.guides_on_duty] for day in days] == [
        ["Pieter Janssens", "Marie Dubois"], ["Marie Dubois"], [], ["Pieter Janssens", "Marie Dubois"],
        ["Pieter Janssens", "Marie Dubois"]]
    for day in days:
        assert [g.id for g in day.guides_on_duty] == [g.id for g in guides_on_duty(session, day.date)]
    assert [g.name for g in slot_at(days[1], "10:00").guides_free] == ["Marie Dubois"]


def count_statements(session, action) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_a_week_costs_three_selects_however_many_visits_it_holds(session, rules, book, request_tour, guides):
    week = (dt.date(2027, 3, 15), dt.date(2027, 3, 19))
    session.commit()
    quiet = count_statements(session, lambda: occupancy_between(session, rules, *week))
    session.commit()
    for day in (15, 16, 17, 18, 19):
        for hour in (9, 10, 11, 14):
            book(f"2027-03-{day}T{hour:02d}:00", party_size=2)
    request_tour("2027-03-16T09:00", pupils=20)
    request_tour("2027-03-16T09:00", pupils=18, organisation="Athénée")
    request_tour("2027-03-18T13:00", pupils=30, adults=2, guided=False, duration_minutes=120)
    add_closure(session, "2027-03-19T12:00", "2027-03-19T13:00")
    session.commit()
    busy = count_statements(session, lambda: [slot.groups[0].tour.organisation for day in
                                              occupancy_between(session, rules, *week) for slot in day.slots
                                              if slot.groups])
    session.commit()
    assert quiet == busy <= 4  # three SELECTs (slots with closures, groups, guides), and SQLite's BEGIN


# --- check-in -------------------------------------------------------------------------------------

def test_arrival_today_is_marked_and_audited(session, rules, clock, book, staff_user):
    booking = book("2027-03-01T10:00")
    mark(session, rules, clock.now(), staff_user, booking, "arrived")
    session.expire_all()
    stored = session.get(Booking, booking.id)
    assert stored.attendance == "arrived" and stored.attendance_at == clock.now()
    entry = session.scalars(sa.select(AuditEntry)).one()
    assert (entry.action, entry.booking_id, entry.staff_id, entry.actor) == (
        "booking.attendance", booking.id, staff_user.id, "desk@museum.example")
    assert entry.details == {"attendance": "arrived", "previous": None}


def test_undo_clears_the_mark_and_a_repeated_mark_changes_nothing(session, rules, clock, book, staff_user):
    booking = book("2027-03-01T10:00")
    mark(session, rules, clock.now(), staff_user, booking, "no_show")
    mark(session, rules, clock.now(), staff_user, booking, "no_show")
    mark(session, rules, clock.now(), staff_user, booking, None)
    session.expire_all()
    stored = session.get(Booking, booking.id)
    assert stored.attendance is None and stored.attendance_at is None
    details = session.scalars(sa.select(AuditEntry.details).order_by(AuditEntry.id)).all()
    assert details == [{"attendance": "no_show", "previous": None}, {"attendance": None, "previous": "no_show"}]


def test_a_later_days_visit_cannot_be_marked_but_a_past_days_can(session, rules, clock, book, staff_user):
    tomorrow = book("2027-03-02T10:00")
    for value in ("arrived", "no_show"):
        with pytest.raises(AttendanceError) as refusal:
            mark(session, rules, clock.now(), staff_user, tomorrow, value)
        assert refusal.value.code == "future"
    clock.set(local("2027-03-03T09:00"))
    mark(session, rules, clock.now(), staff_user, tomorrow, "no_show")
    session.expire_all()
    assert session.get(Booking, tomorrow.id).attendance == "no_show"


def test_cancelled_bookings_and_declined_groups_cannot_be_marked(session, rules, policy, clock, book, staff_user,
                                                                  busy_tuesday):
    booking = book("2027-03-01T11:00")
    cancel_booking(session, rules, clock.now(), booking.id)
    with pytest.raises(AttendanceError) as refusal:
        mark(session, rules, clock.now(), staff_user, booking, "arrived")
    assert refusal.value.code == "not_active"
    decline_tour(session, policy, clock.now(), busy_tuesday.id, "Sorry")
    clock.set(local("2027-03-16T10:05"))
    with pytest.raises(AttendanceError):
        mark(session, rules, clock.now(), staff_user, busy_tuesday, "arrived")
    with pytest.raises(AttendanceError):
        mark(session, rules, clock.now(), staff_user, booking, "maybe")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "booking.attendance")) == 0


def test_a_group_is_checked_in_on_its_day(session, rules, clock, staff_user, busy_tuesday):
    clock.set(local("2027-03-16T10:05"))
    mark(session, rules, clock.now(), staff_user, busy_tuesday, "arrived")
    session.expire_all()
    assert session.get(TourRequest, busy_tuesday.id).attendance == "arrived"
    entry = session.scalars(sa.select(AuditEntry)).one()
    assert (entry.action, entry.tour_id) == ("tour.attendance", busy_tuesday.id)


# --- pages ----------------------------------------------------------------------------------------

def test_signing_in_opens_this_weeks_calendar(client, staff_user):
    from tests.conftest import STAFF_PASSWORD

    response = client.post("/staff/login", data={"email": staff_user.email, "password": STAFF_PASSWORD})
    assert client.get(response.headers["Location"]).headers["Location"] == "/staff/calendar"
    page = client.get("/staff/calendar?lang=en").get_data(as_text=True)
    assert "Week of 1 March 2027" in page
    assert re.search(r'href="/staff/calendar\?date=2027-03-01" aria-current="date"', page)
    assert 'href="/staff/calendar?date=2027-02-22"' in page and 'href="/staff/calendar?date=2027-03-08"' in page
    assert page.count('<th scope="col"') == 6  # the hour, then Monday to Friday
    assert page.count('<th scope="row"') == 8  # 09:00 … 16:00


def week_cell(page: str, href: str) -> tuple[str, str]:
    """(the <td>'s class, the text of its link) of the week's cell that links to `href`."""
    before, after = page.split(f'href="{href}"', 1)
    td_class = re.findall(r'<td class="([^"]*)"', before)[-1]
    return td_class, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", after.split(">", 1)[1].split("</a>", 1)[0])).strip()


def test_the_week_shows_each_hours_fill_as_colour_and_numbers_and_names_its_groups(staff_client, busy_tuesday):
    page = staff_client.get("/staff/calendar?date=2027-03-18&lang=en").get_data(as_text=True)
    assert "Week of 15 March 2027" in page and '<body class="wide">' in page  # the whole screen's width
    td_class, ten = week_cell(page, "/staff/day/2027-03-16#slot-1000")
    assert td_class == "fill-mid"  # 27 of 50
    assert ten.startswith("27 / 50 ")
    assert "Sint-Lukas 20 + 2 · NL · Pieter Janssens provisional" in ten and "1 guide free" in ten
    assert 'title="Nederlands">NL</abbr>' in page
    td_class, eleven = week_cell(page, "/staff/day/2027-03-16#slot-1100")
    assert (td_class, eleven.split(" ↳ ")[0]) == ("fill-low", "22 / 50")
    assert "continued: Sint-Lukas" in eleven
    assert week_cell(page, "/staff/day/2027-03-16#slot-0900") == ("fill-low", "0 / 50")
    assert "2 guides on duty" in page and 'href="/staff/day/2027-03-16">Tue 16 Mar</a>' in page
    # The legend says once what the numbers are; no cell repeats a label.
    assert page.count("places taken out of its capacity") == 1
    for label in ("Visitors:", "Groups:", "Left:", "Guides free:"):
        assert label not in page


def test_a_full_hour_says_full_and_today_is_marked(staff_client, session, rules, clock, book):
    session.add(Slot(start=schedule.to_utc(local("2027-03-02T14:00")), capacity=2, capacity_custom=True, booked=0))
    session.commit()
    book("2027-03-02T14:00", party_size=2)
    book("2027-03-02T15:00", party_size=8)
    for hour in ("15", "15", "15", "15", "15"):
        book(f"2027-03-02T{hour}:00", party_size=7)
    page = staff_client.get("/staff/calendar?date=2027-03-02&lang=en").get_data(as_text=True)
    assert week_cell(page, "/staff/day/2027-03-02#slot-1400") == ("fill-full", "2 / 2 Full")
    assert week_cell(page, "/staff/day/2027-03-02#slot-1500") == ("fill-high", "43 / 50")
    assert '<th scope="col" class="today">' in page and page.count('<span class="tag">Today</span>') == 1
    assert week_cell(page, "/staff/day/2027-03-01#slot-0900")[0] == "fill-low today"


def test_the_week_names_holidays_and_shows_closures(staff_client, session):
    add_closure(session, "2027-03-31T12:00", "2027-03-31T13:00", reason="Staff training")
    page = staff_client.get("/staff/calendar?date=2027-03-29&lang=en").get_data(as_text=True)
    # A day closed all day is one shaded cell with its reason, not eight.
    assert page.count("Closed: Easter Monday") == 1
    assert '<td class="closed closed-day" rowspan="8">' in page
    assert '<span class="holiday">Easter Monday</span>' in page
    assert week_cell(page, "/staff/day/2027-03-31#slot-1200") == ("closed", "Closed: Staff training")
    refresh()  # the session fixture's app context is shared with the requests: forget the English locale
    french = staff_client.get("/staff/calendar?date=2027-03-29&lang=fr").get_data(as_text=True)
    assert "Lundi de Pâques" in french and "Fermé\u202f: Formation" in french


def test_a_wrong_date_shows_this_week_and_a_wrong_day_is_not_found(staff_client):
    assert "Week of 1 March 2027" in staff_client.get("/staff/calendar?date=2027-02-30&lang=en").get_data(as_text=True)
    assert staff_client.get("/staff/day/2027-02-30").status_code == 404
    assert staff_client.get("/staff/day/yesterday/sheet").status_code == 404


def test_the_day_lists_bookings_and_groups_with_check_in_from_their_day_on(staff_client, clock, book, busy_tuesday):
    page = staff_client.get("/staff/day/2027-03-16?lang=en").get_data(as_text=True)
    assert "Anne Martin" in page and "Luc Peeters" in page and "Gone Visitor" not in page
    assert "Sint-Lukas" in page and "Continues from 10:00" in page and "Nederlands" in page
    assert "Check-in opens on the day" in page and 'value="arrived"' not in page
    assert 'href="/staff/day/2027-03-15"' in page and 'href="/staff/day/2027-03-17"' in page
    clock.set(local("2027-03-16T09:30"))
    page = staff_client.get("/staff/day/2027-03-16?lang=en").get_data(as_text=True)
    assert page.count('value="arrived"') == 3  # two bookings and the group
    assert f'action="/staff/checkin/tour/{busy_tuesday.id}"' in page


def test_a_monday_links_back_to_the_friday_before(staff_client):
    page = staff_client.get("/staff/day/2027-03-01?lang=en").get_data(as_text=True)
    assert 'href="/staff/day/2027-02-26"' in page and 'href="/staff/day/2027-03-02"' in page


def test_check_in_from_the_day_page_returns_to_the_row(staff_client, session, book, staff_user):
    booking = book("2027-03-01T10:00", name="Anne Martin")
    response = staff_client.post(f"/staff/checkin/booking/{booking.id}", data={"attendance": "arrived"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/day/2027-03-01#booking-{booking.id}"
    page = staff_client.get("/staff/day/2027-03-01?lang=en").get_data(as_text=True)
    assert "Arrived at 09:00" in page and 'name="attendance" value=""' in page
    staff_client.post(f"/staff/checkin/booking/{booking.id}", data={"attendance": ""})
    session.expire_all()
    assert session.get(Booking, booking.id).attendance is None
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "booking.attendance")) == 2


def test_check_in_answers_json_to_the_script(staff_client, session, book):
    booking = book("2027-03-01T10:00")
    response = staff_client.post(f"/staff/checkin/booking/{booking.id}?lang=en", data={"attendance": "no_show"},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["attendance"] == "no_show" and body["error"] is None
    assert "No-show" in body["html"] and 'value=""' in body["html"]


def test_a_refused_check_in_says_why_and_changes_nothing(staff_client, session, book):
    booking = book("2027-03-02T10:00")
    response = staff_client.post(f"/staff/checkin/booking/{booking.id}", data={"attendance": "arrived"},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "A visit on a later day cannot be marked yet."
    response = staff_client.post(f"/staff/checkin/booking/{booking.id}?lang=en", data={"attendance": "arrived"},
                                 follow_redirects=True)
    assert "A visit on a later day cannot be marked yet." in response.get_data(as_text=True)
    assert staff_client.post(f"/staff/checkin/booking/{booking.id}", data={"attendance": "late"}).status_code == 302
    assert staff_client.post("/staff/checkin/booking/999999", data={"attendance": "arrived"}).status_code == 404
    session.expire_all()
    assert session.get(Booking, booking.id).attendance is None
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "booking.attendance")) == 0


def test_the_day_sheet_lists_arrivals_in_time_order_and_the_groups(staff_client, session, book, busy_tuesday):
    book("2027-03-16T09:00", party_size=4, name="Early Bird", note="Pushchair")
    session.execute(sa.update(TourRequest).values(leader_name="Jan Leider", needs="Two wheelchairs"))
    session.execute(sa.update(Booking).where(Booking.name == "Early Bird").values(phone="+32 470 00 00 01"))
    session.commit()
    page = staff_client.get("/staff/day/2027-03-16/sheet?lang=en").get_data(as_text=True)
    assert page.index("Early Bird") < page.index("Anne Martin") < page.index("Luc Peeters")
    assert "Gone Visitor" not in page and "+32 470 00 00 01" in page and "Pushchair" in page
    for text in ("Sint-Lukas", "Els Peeters", "Jan Leider", "20 + 2", "Secondary school", "Guided, Nederlands",
                 "Pieter Janssens", "Two wheelchairs", "10:00–12:00"):
        assert text in page, text
    assert "3 individual visitors" not in page and "9 individual visitors (3 bookings)" in page


def test_references_link_to_the_booking_page(app, staff_user, book, busy_tuesday):
    client = signed_in(app, staff_user)
    page = client.get("/staff/day/2027-03-16?lang=en").get_data(as_text=True)
    assert f'href="/staff/bookings/{busy_tuesday.reference}"' in page
    assert page.count('href="/staff/bookings/NMR-') == 2


def test_at_the_weekend_the_calendar_opens_on_the_coming_week(staff_client, clock):
    clock.set(local("2027-03-07T10:00"))  # a Sunday
    page = staff_client.get("/staff/calendar?lang=en").get_data(as_text=True)
    assert "Week of 8 March 2027" in page


def test_a_group_of_one_pupil_and_one_adult_is_counted_in_the_singular(staff_client, request_tour, guides):
    tour = request_tour("2027-03-16T10:00", pupils=1, adults=1, organisation="Thuisonderwijs")
    for path in ("/staff/day/2027-03-16", "/staff/requests", f"/staff/bookings/{tour.reference}"):
        assert "1 pupil + 1 adult ·" in staff_client.get(f"{path}?lang=en").get_data(as_text=True), path
    assert "1 leerling + 1 volwassene ·" in staff_client.get("/staff/day/2027-03-16?lang=nl").get_data(as_text=True)
