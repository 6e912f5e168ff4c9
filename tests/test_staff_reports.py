"""Statistics for funders, the bookings CSV for Excel, the private calendar feed and a person's data export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import icalendar
import pytest
import sqlalchemy as sa

from booking import create_app, schedule
from booking.models import AuditEntry, Booking, Setting, TourRequest
from booking.services import reports
from booking.services.bookings import ByMuseum, cancel_booking
from booking.services.closures import add_closure
from booking.services.exports import FEED_SECRET_SETTING, excel_csv, neutralise
from booking.services.tours import confirm_tour
from tests.conftest import local

_counter = iter(range(1, 10_000))


def add_visit(session, start: str, party_size: int = 2, *, status: str = "confirmed", attendance: str | None = None,
              name: str = "Anne Martin", email: str | None = "anne@example.be") -> Booking:
    """A visit written straight into the table: past visits cannot be booked through the service."""
    booking = Booking(reference=f"V{next(_counter):05d}", status=status, start=schedule.to_utc(local(start)),
                      party_size=party_size, name=name, email=email, language="en", attendance=attendance)
    session.add(booking)
    session.commit()
    return booking


def add_group(session, start: str, pupils: int = 20, adults: int = 2, *, status: str = "confirmed",
              guided: bool = True, tour_language: str | None = "fr", group_kind: str = "secondary",
              attendance: str | None = None) -> TourRequest:
    tour = TourRequest(reference=f"G{next(_counter):05d}", status=status, guided=guided,
                       start=schedule.to_utc(local(start)), duration_minutes=120, organisation="Collège Saint-Pierre",
                       contact_name="Els Peeters", email="els@school.example", phone="+32 470 12 34 56",
                       pupils=pupils, adults=adults, group_kind=group_kind,
                       tour_language=tour_language if guided else None, language="nl", attendance=attendance)
    session.add(tour)
    session.commit()
    return tour


@pytest.fixture
def seeded(session):
    """February 2027 with arrivals, no-shows, an unmarked visit, cancelled and declined ones; around it,
    visits that test the edges of the year (1 January is in ISO week 2026-W53) and of Brussels time."""
    add_visit(session, "2026-12-31T10:00", 7)  # the year before
    add_visit(session, "2027-01-01T10:00", 1, attendance="arrived")  # ISO week 53 of 2026
    add_visit(session, "2027-02-01T10:00", 3, attendance="arrived")
    add_visit(session, "2027-02-02T11:00", 2, attendance="no_show")
    add_visit(session, "2027-02-10T10:00", 4)  # started, not marked
    add_visit(session, "2027-02-10T10:00", 1, attendance="arrived")  # the same slot
    add_visit(session, "2027-02-15T14:00", 5, status="cancelled", attendance="no_show")  # never counted
    add_visit(session, "2027-03-01T00:30", 2)  # 28 February 23:30 in UTC: a March visit in Brussels
    add_visit(session, "2027-03-01T10:00", 2)  # not started yet (now is 1 March 09:00): not "unmarked"
    add_group(session, "2027-02-03T10:00", 20, 2, attendance="arrived")
    add_group(session, "2027-02-04T10:00", 15, 2, guided=False, group_kind="primary", attendance="no_show")
    add_group(session, "2027-02-05T10:00", 20, 2, status="declined", tour_language="nl")
    add_group(session, "2027-02-08T10:00", 20, 2, status="cancelled")
    add_group(session, "2027-03-16T10:00", 25, 0, tour_language="nl", group_kind="adults")


def count_statements(engine):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: sa.event.remove(engine, "before_cursor_execute", before)


# ---------------------------------------------------------------------------------------------------
# Statistics


def test_a_month_counts_confirmed_visits_and_groups_and_their_no_shows(app, session, rules, clock, seeded):
    report = reports.visit_statistics(session, rules, clock.now(), reports.Period(2027, 2))

    total = report.total
    assert (total.bookings, total.visitors) == (4, 10)
    assert (total.groups, total.group_people) == (2, 39)
    assert total.people == 49
    visits = total.visit_attendance
    assert (visits.arrived, visits.no_shows, visits.unmarked) == (2, 1, 1)
    assert visits.no_show_rate == pytest.approx(1 / 3)
    assert total.group_attendance.no_show_rate == pytest.approx(0.5)
    assert total.attendance.no_show_rate == pytest.approx(2 / 5)
    assert [m.key for m in report.months] == ["2027-02"]
    assert [w.key for w in report.weeks] == ["2027-W05", "2027-W06", "2027-W07", "2027-W08"]
    week5, week6, week7, _ = report.weeks
    assert (week5.first_day, week5.last_day) == (dt.date(2027, 2, 1), dt.date(2027, 2, 7))
    assert (week5.figures.bookings, week5.figures.visitors, week5.figures.groups, week5.figures.group_people) == (
        2, 5, 2, 39)
    assert (week6.figures.bookings, week6.figures.visitors, week6.figures.visit_attendance.unmarked) == (2, 5, 1)
    assert week7.figures.people == 0  # the cancelled visit of 15 February is not there


def test_a_year_buckets_by_brussels_date_and_iso_week(app, session, rules, clock, seeded):
    report = reports.visit_statistics(session, rules, clock.now(), reports.Period(2027))

    assert len(report.months) == 12
    months = {m.key: m.figures for m in report.months}
    assert months["2027-01"].visitors == 1  # 31 December 2026 belongs to the year before
    assert months["2027-03"].visitors == 4  # 00:30 on 1 March is March in Brussels, February in UTC
    assert months["2027-03"].visit_attendance.unmarked == 1  # the 10:00 visit has not started
    assert (months["2027-03"].groups, months["2027-03"].group_people) == (1, 25)
    assert report.weeks[0].key == "2026-W53"
    assert (report.weeks[0].first_day, report.weeks[0].last_day) == (dt.date(2027, 1, 1), dt.date(2027, 1, 3))
    assert report.weeks[0].figures.visitors == 1
    assert report.weeks[-1].key == "2027-W52"
    assert (report.total.bookings, report.total.visitors) == (7, 15)
    assert {s.key: (s.groups, s.people) for s in report.by_kind} == {
        "primary": (1, 17), "secondary": (1, 22), "higher": (0, 0), "adults": (1, 25)}
    assert [(s.key, s.groups, s.people) for s in report.by_language] == [
        ("fr", 1, 22), ("nl", 1, 25), ("en", 0, 0), ("de", 0, 0), (None, 1, 17)]


def test_statistics_take_two_statements_whatever_the_period(app, session, rules, clock, seeded):
    statements, stop = count_statements(app.extensions["booking"].engine)
    try:
        reports.visit_statistics(session, rules, clock.now(), reports.Period(2027))
    finally:
        stop()
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    assert all("GROUP BY" in s for s in selects)


def test_the_statistics_page_shows_the_current_year_by_default(staff_client, seeded):
    page = staff_client.get("/staff/stats?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Year 2027" in html
    assert "15 people in 7 bookings" in html
    assert "Week 53" in html
    assert 'href="/staff/stats.csv?year=2027' in html


def test_the_statistics_page_shows_a_chosen_month(staff_client, seeded):
    html = staff_client.get("/staff/stats?lang=en&year=2027&month=2").get_data(as_text=True)
    assert "February 2027" in html
    assert "10 people in 4 bookings" in html
    assert "2 groups, 39 people (pupils and adults)" in html
    assert "1 of 3 marked (33.3%); 1 not marked" in html


def test_a_month_of_one_small_visit_is_counted_in_the_singular(staff_client, seeded):
    html = staff_client.get("/staff/stats?lang=en&year=2027&month=1").get_data(as_text=True)
    assert "1 person in 1 booking" in html
    assert "0 groups, 0 people (pupils and adults)" in html
    assert "0 of 1 marked (" in html and "0 not marked" in html
    french = staff_client.get("/staff/stats?lang=fr&year=2027&month=1").get_data(as_text=True)
    assert "1 personne pour 1 réservation" in french
    assert "0 groupe, 0 personne (élèves et adultes)" in french  # French counts 0 in the singular
    assert "0 sur 1 visite pointée (" in french and "\u202f; 0 non pointée" in french


def test_a_wrong_year_is_explained_next_to_the_field(staff_client):
    page = staff_client.get("/staff/stats?lang=en&year=abc&month=13")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="year-error"' in html and 'id="month-error"' in html
    assert 'value="abc"' in html
    assert "Download CSV" not in html


def test_the_statistics_download_has_the_same_figures(staff_client, seeded):
    response = staff_client.get("/staff/stats.csv?lang=en&year=2027&month=2")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "statistics-2027-02.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Period", "2027-02", "2027-02-01", "2027-02-28"]
    total_header = rows.index(next(r for r in rows if r and r[0] == "Total"))
    header, total = rows[total_header], rows[total_header + 1]
    assert dict(zip(header[3:], total[3:], strict=True)) == {
        "Individual bookings": "4", "Individual visitors": "10", "Groups": "2",
        "Group visitors (pupils and adults)": "39", "Visitors in all": "49", "Arrived": "3", "No-shows": "2",
        "No-show rate (%)": "40.0", "Started, attendance not marked": "1",
        "Visitors checked in with a booking": "26", "Walk-ins (visitors without a booking)": "0"}
    weeks = [r[0] for r in rows if r and re.fullmatch(r"\d{4}-W\d\d", r[0])]
    assert weeks == ["2027-W05", "2027-W06", "2027-W07", "2027-W08"]
    assert ["Self-guided", "1", "17"] in rows
    assert ["Secondary school", "1", "22"] in rows


# ---------------------------------------------------------------------------------------------------
# Bookings as CSV for a Belgian Excel

AWKWARD_NAMES = ["Zoë", "Françoise Lefèvre-Dubois", 'Dupont, Jean; dit "Jeannot"', "<b>Bold</b> & co"]
FORMULA = '=HYPERLINK("http://evil.example","Click")'


def test_cells_that_look_like_formulas_are_neutralised():
    assert [neutralise(v) for v in ("=1+1", "+32 2", "-2", "@SUM(A1)", "\tx", "\rx", "Zoë", 3, None)] == [
        "'=1+1", "'+32 2", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Zoë", 3, None]
    assert excel_csv([["a;b", 'c"d', -2]]) == '\ufeff"a;b";"c""d";-2\r\n'.encode()


def test_the_bookings_csv_round_trips_names_for_excel(staff_client, session, book, request_tour, guides, policy,
                                                      clock):
    for name in AWKWARD_NAMES:
        book("2027-03-02T10:00", name=name, note="Wheelchair\nand a guide dog")
    book("2027-03-02T11:00", name=FORMULA)
    book("2027-03-10T10:00", name="Another month")
    tour = request_tour("2027-03-16T10:00", organisation="Athénée Royal; section «A», Uccle")
    confirm_tour(session, policy, clock.now(), tour.id)

    response = staff_client.post("/staff/exports/bookings?lang=en", data={"start": "2027-03-01", "end": "2027-03-31"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset said once
    assert 'filename="bookings-2027-03-01-2027-03-31.csv"' in response.headers["Content-Disposition"]
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.startswith("Type;Reference;Status;Date;Time;People;Name or contact;Organisation;Email;")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    # Every record ends with CRLF; the newline inside a note stays inside its quoted cell.
    assert text.count("\r\n") == len(rows)
    header, body = rows[0], rows[1:]
    records = [dict(zip(header, row, strict=True)) for row in body]
    names = [r["Name or contact"] for r in records]
    assert names[:len(AWKWARD_NAMES)] == AWKWARD_NAMES
    assert "'" + FORMULA in names
    assert FORMULA not in names
    first = records[0]
    assert (first["Type"], first["Status"], first["Date"], first["Time"], first["People"]) == (
        "Individual visit", "confirmed", "2027-03-02", "10:00", "2")
    assert first["Note or needs"] == "Wheelchair\nand a guide dog"
    group = next(r for r in records if r["Type"] == "Group visit")
    assert group["Organisation"] == "Athénée Royal; section «A», Uccle"
    assert group["Time"] == "10:00"  # Brussels time, not UTC
    assert group["People"] == "22"
    assert group["Phone"] == "'+32 470 12 34 56"  # a leading + would start a formula
    assert group["Tour"] == "guided, Français"
    assert group["Guides"]
    assert len(records) == len(AWKWARD_NAMES) + 3


def test_the_bookings_export_is_audited(staff_client, session, staff_user, book):
    book("2027-03-02T10:00")
    staff_client.post("/staff/exports/bookings?lang=en", data={"start": "2027-03-01", "end": "2027-03-07"})
    session.commit()
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export.bookings")).one()
    assert entry.staff_id == staff_user.id
    assert entry.details == {"first_day": "2027-03-01", "last_day": "2027-03-07", "rows": 1}


def test_a_wrong_range_is_explained_and_kept(staff_client):
    page = staff_client.post("/staff/exports/bookings?lang=en", data={"start": "2027-03-31", "end": "2027-03-01"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "The last day must not be before the first day." in html
    assert 'value="2027-03-31"' in html
    page = staff_client.post("/staff/exports/bookings?lang=en", data={"start": "2027-01-01", "end": "2028-06-01"})
    assert "Export at most 366 days at a time." in page.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------------
# The private calendar feed


@pytest.fixture
def calendar_app(config_overrides):
    """A client of a second app on the same database, like a calendar app polling the feed: no cookie,
    and none of the app context that the `session` fixture shares with the test's other clients."""
    other = create_app(config_overrides)
    yield other.test_client()
    other.extensions["booking"].engine.dispose()


def _feed_path(staff_client) -> str:
    html = staff_client.get("/staff/exports?lang=en").get_data(as_text=True)
    url = re.search(r'<code class="feed-url">([^<]+)</code>', html).group(1)
    assert url.startswith("http://museum.test/staff/feed/")
    return url.removeprefix("http://museum.test").replace("&amp;", "&")


def test_the_feed_lists_confirmed_group_visits_and_closures_without_a_session(
        app, calendar_app, staff_client, session, rules, book, request_tour, guides, policy, clock):
    confirmed = request_tour("2027-03-16T10:00", organisation="Athénée <b>Royal</b>", tour_language="nl")
    confirmed.needs = "Two wheelchairs"
    session.commit()
    confirm_tour(session, policy, clock.now(), confirmed.id)
    request_tour("2027-03-17T10:00", organisation="Still pending")
    book("2027-03-02T10:00", name="Individual Visitor")
    add_closure(session, rules, dt.date(2027, 3, 19), {"en": "Staff training", "fr": "Formation"})
    add_closure(session, rules, dt.date(2027, 3, 22), {"en": "Works"}, dt.time(9), dt.time(12))
    add_closure(session, rules, dt.date(2027, 1, 4), {"en": "Long ago"})  # more than 30 days back
    path = _feed_path(staff_client)

    response = calendar_app.get(path)  # a calendar app: no cookie, no sign-in
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        "Athénée <b>Royal</b> · 22 people · guided tour in Nederlands · Pieter Janssens",
        "Museum closed: Staff training", "Museum closed: Works"}
    tour_event = events["Athénée <b>Royal</b> · 22 people · guided tour in Nederlands · Pieter Janssens"]
    assert tour_event.decoded("dtstart") == schedule.to_utc(local("2027-03-16T10:00"))
    assert tour_event.decoded("dtend") == schedule.to_utc(local("2027-03-16T12:00"))
    description = str(tour_event["description"])
    assert "Els Peeters" in description and "els@school.example" in description
    assert "Needs: Two wheelchairs" in description
    assert events["Museum closed: Staff training"].decoded("dtstart") == dt.date(2027, 3, 19)
    assert events["Museum closed: Staff training"].decoded("dtend") == dt.date(2027, 3, 20)
    assert events["Museum closed: Works"].decoded("dtstart") == schedule.to_utc(local("2027-03-22T09:00"))


def test_the_feed_counts_a_group_of_one_in_the_singular(calendar_app, staff_client, session, request_tour, guides,
                                                       policy, clock):
    tour = request_tour("2027-03-16T10:00", pupils=1, adults=0, group_kind="adults", guided=False,
                        duration_minutes=60, organisation="Thuisonderwijs")
    confirm_tour(session, policy, clock.now(), tour.id)
    path = _feed_path(staff_client)
    for lang, summary, group in [
            ("en", "Thuisonderwijs · 1 person · self-guided", "Group: 1 pupil + 0 adults · "),
            ("fr", "Thuisonderwijs · 1 personne · visite libre", "Groupe\u202f: 1 élève + 0 adulte · ")]:
        calendar = icalendar.Calendar.from_ical(calendar_app.get(path.replace("lang=en", f"lang={lang}")).data)
        [event] = calendar.walk("VEVENT")
        assert str(event["summary"]) == summary
        assert group in str(event["description"])


def test_the_feed_speaks_the_language_of_its_url(calendar_app, staff_client, session, rules):
    add_closure(session, rules, dt.date(2027, 3, 19), {"en": "Staff training", "fr": "Formation"})
    path = _feed_path(staff_client).replace("lang=en", "lang=fr")
    calendar = icalendar.Calendar.from_ical(calendar_app.get(path).data)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")][0].endswith("Formation")


def test_a_wrong_secret_is_not_found(calendar_app, staff_client, session):
    assert calendar_app.get("/staff/feed/anything.ics").status_code == 404  # no secret made yet
    path = _feed_path(staff_client)
    secret = session.scalar(sa.select(Setting.value).where(Setting.key == FEED_SECRET_SETTING))
    assert len(secret) >= 43  # 32 random bytes
    assert calendar_app.get(path.replace(secret, secret[:-1] + ("A" if secret[-1] != "A" else "B"))).status_code == 404
    assert calendar_app.get("/staff/feed/.ics").status_code == 404
    assert calendar_app.get("/staff/feed/guess.ics").status_code == 404


def test_an_admin_rotates_the_secret_and_the_old_address_stops_working(calendar_app, app, admin_client, admin_user,
                                                                        session):
    old = _feed_path(admin_client)
    assert _feed_path(admin_client) == old  # the page shows the same address until it is rotated
    assert "Rotate the secret" in admin_client.get("/staff/exports?lang=en").get_data(as_text=True)
    response = admin_client.post("/staff/feed/rotate")
    assert response.status_code == 302
    new = _feed_path(admin_client)
    assert new != old
    assert calendar_app.get(old).status_code == 404
    assert calendar_app.get(new).status_code == 200
    session.commit()
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "feed.rotate")).one()
    assert entry.staff_id == admin_user.id


def test_staff_who_are_not_admins_cannot_rotate_the_secret(calendar_app, staff_client):
    path = _feed_path(staff_client)
    assert "Rotate the secret" not in staff_client.get("/staff/exports?lang=en").get_data(as_text=True)
    assert staff_client.post("/staff/feed/rotate").status_code == 403
    assert calendar_app.get(path).status_code == 200
    assert calendar_app.post("/staff/feed/rotate").status_code == 302  # not signed in: to the sign-in


# ---------------------------------------------------------------------------------------------------
# Everything held about one email address


def test_the_person_export_holds_their_visits_emails_and_audit(staff_client, session, rules, clock, staff_user,
                                                               book, request_tour, guides):
    kept = book("2027-03-02T10:00", name="<script>x</script> Zoë", email="anne@example.be")
    cancelled = book("2027-03-03T10:00", email="ANNE@Example.be")
    book("2027-03-04T10:00", email="someone.else@example.be")
    cancel_booking(session, rules, clock.now(), cancelled.id, by=ByMuseum(staff_user, "Sorry, works"))
    tour = request_tour("2027-03-16T10:00")
    tour.email = "anne@example.be"
    session.commit()

    response = staff_client.post("/staff/exports/person?lang=en", data={"person_email": " Anne@example.be "})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["email"] == "anne@example.be"
    assert data["exported_at"].startswith("2027-03-01T09:00:00+01:00")
    assert [b["reference"] for b in data["bookings"]] == [kept.reference, cancelled.reference]
    first = data["bookings"][0]
    assert first["name"] == "<script>x</script> Zoë"
    assert first["start"] == "2027-03-02T10:00:00+01:00"
    assert "token_version" not in first and "request_key" not in first
    assert data["bookings"][1]["status"] == "cancelled"
    assert data["bookings"][1]["cancel_message"] == "Sorry, works"
    assert [t["reference"] for t in data["group_visits"]] == [tour.reference]
    assert data["group_visits"][0]["guides"]
    kinds = sorted((m["kind"], m["booking"]) for m in data["emails"])
    assert kinds == sorted([("visit_confirmed", kept.reference), ("visit_confirmed", cancelled.reference),
                            ("visit_cancelled", cancelled.reference)])
    assert all(set(m) >= {"kind", "status", "queued_at", "sent_at"} for m in data["emails"])
    assert not any("body" in m or "payload" in m for m in data["emails"])
    assert [(a["action"], a["booking"], a["by"]) for a in data["audit"]] == [
        ("booking.cancel", cancelled.reference, "staff")]
    assert "desk@museum.example" not in response.get_data(as_text=True)

    session.commit()
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "privacy.export")).one()
    assert entry.staff_id == staff_user.id
    # The visits by reference, not the address: the entry outlives the visits' personal data.
    assert entry.details == {"bookings": 2, "group_visits": 1,
                             "references": [kept.reference, cancelled.reference, tour.reference]}


def test_the_person_export_of_an_unknown_address_is_empty(staff_client):
    data = json.loads(staff_client.post("/staff/exports/person", data={"person_email": "nobody@example.be"}).data)
    assert (data["bookings"], data["group_visits"], data["emails"], data["audit"]) == ([], [], [], [])


def test_a_wrong_address_is_explained_on_the_exports_page(staff_client):
    page = staff_client.post("/staff/exports/person?lang=en", data={"person_email": "not an address"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Please give a valid email address" in html
    assert 'value="not an address"' in html


def test_statistics_and_exports_are_for_staff_only(client):
    assert client.get("/staff/stats").status_code == 302
    assert client.get("/staff/stats.csv").status_code == 302
    assert client.get("/staff/exports").status_code == 302
    assert client.post("/staff/exports/bookings", data={"start": "2027-03-01", "end": "2027-03-02"}).status_code == 302
    assert client.post("/staff/exports/person", data={"person_email": "anne@example.be"}).status_code == 302
