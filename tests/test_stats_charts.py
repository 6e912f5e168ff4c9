"""Statistics as pictures: occupancy by weekday and hour, the charts' geometry, and the page's inline SVG,
each chart named and described, with its numbers in a table that says the same as the service."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from booking import charts, schedule
from booking.models import Closure, Slot
from booking.services import reports
from tests import test_staff_reports
from tests.conftest import local
from tests.test_staff_reports import count_statements

seeded = test_staff_reports.seeded  # the statistics tests' data set, bound here so that pytest finds it


def add_slot(session, start: str, booked: int, walk_ins: int = 0, capacity: int = 50) -> None:
    session.add(Slot(start=schedule.to_utc(local(start)), capacity=capacity, capacity_custom=capacity != 50,
                     booked=booked, walk_ins=walk_ins))
    session.commit()


def add_closure(session, first: str, end: str, kind: str = "closed") -> None:
    session.add(Closure(kind=kind, start_at=schedule.to_utc(local(first)), end_at=schedule.to_utc(local(end)),
                        reasons={"en": "Works"} if kind == "closed" else {}))
    session.commit()


@pytest.fixture
def february(session):
    """Slots of February 2027 (four Mondays, Tuesdays, Wednesdays and Thursdays) and Tuesday 9 closed."""
    add_slot(session, "2027-02-01T10:00", 25, walk_ins=5)
    add_slot(session, "2027-02-08T10:00", 50)
    add_slot(session, "2027-02-02T14:00", 10, capacity=40)
    add_slot(session, "2027-02-09T10:00", 20)  # taken before the museum closed that day: not counted
    add_closure(session, "2027-02-09T00:00", "2027-02-10T00:00")
    add_closure(session, "2027-02-12T15:00", "2027-02-12T17:00")  # Friday 12 February, the last two hours


# ---------------------------------------------------------------------------------------------------
# The service


def test_occupancy_sums_places_taken_and_offered_per_weekday_and_hour(app, session, rules, february):
    occupancy = reports.occupancy_by_hour(session, rules, reports.Period(2027, 2))

    assert occupancy.weekdays == [0, 1, 2, 3, 4]
    assert [start.strftime("%H:%M") for start in occupancy.starts] == [
        "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    monday_ten = occupancy.cells[0, dt.time(10)]
    assert (monday_ten.hours, monday_ten.places, monday_ten.taken) == (4, 200, 80)  # walk-ins count as taken
    assert monday_ten.rate == pytest.approx(0.4)
    tuesday_two = occupancy.cells[1, dt.time(14)]
    assert (tuesday_two.hours, tuesday_two.places, tuesday_two.taken) == (3, 140, 10)  # 40 + 50 + 50
    assert occupancy.cells[1, dt.time(10)].taken == 0  # the closed Tuesday's 20 are left out
    assert occupancy.cells[4, dt.time(15)].hours == 3 and occupancy.cells[4, dt.time(14)].hours == 4
    assert occupancy.cells[2, dt.time(9)].rate == 0
    assert (occupancy.taken, occupancy.places) == (90, 20 * 8 * 50 - 8 * 50 - 2 * 50 - 10)


def test_a_public_holiday_offers_no_places_unless_staff_opened_it(app, session, rules):
    easter_monday = reports.Period(2027, 3)  # 29 March 2027
    assert reports.occupancy_by_hour(session, rules, easter_monday).cells[0, dt.time(9)].hours == 4
    add_closure(session, "2027-03-29T00:00", "2027-03-30T00:00", kind="opened")
    assert reports.occupancy_by_hour(session, rules, easter_monday).cells[0, dt.time(9)].hours == 5


def test_a_period_never_open_has_no_rate(app, session, rules):
    add_closure(session, "2027-02-01T00:00", "2027-03-01T00:00")
    occupancy = reports.occupancy_by_hour(session, rules, reports.Period(2027, 2))
    assert all(cell.rate is None and cell.hours == 0 for cell in occupancy.cells.values())


def test_occupancy_takes_two_statements_whatever_the_period(app, session, rules, february):
    statements, stop = count_statements(app.extensions["booking"].engine)
    try:
        reports.occupancy_by_hour(session, rules, reports.Period(2027))
    finally:
        stop()
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


# ---------------------------------------------------------------------------------------------------
# The geometry


def test_an_axis_steps_by_round_numbers():
    assert charts.nice_step(37) == 10
    assert charts.nice_step(3) == 1  # people are never counted in halves
    assert charts.nice_step(0.12, whole=False) == pytest.approx(0.05)
    assert charts.nice_step(1800) == 500


def test_a_heat_map_level_is_a_fifth_of_the_places():
    assert [charts.level(r) for r in (None, 0, 0.01, 0.2, 0.21, 0.8, 0.81, 1.2)] == [None, 0, 1, 1, 2, 4, 5, 5]


def test_columns_stack_their_series_and_scale_to_a_round_top():
    chart = charts.columns(["a", "b"], [[30, 10], [5, None]], str, height=240)
    assert [t.label for t in chart.ticks] == ["0", "10", "20", "30", "40"]
    first, second = chart.columns
    assert [s.series for s in first.segments] == [0, 1]
    assert first.segments[0].height == pytest.approx((chart.bottom - chart.top) * 30 / 40)
    assert first.segments[1].y + first.segments[1].height == pytest.approx(first.segments[0].y)
    assert not second.missing and not chart.empty
    assert charts.columns(["a"], [[None]], str).columns[0].missing
    assert charts.columns(["a", "b"], [[0, 0], [0, 0]], str).empty


# ---------------------------------------------------------------------------------------------------
# The page


class Page(HTMLParser):
    """The tables of a page by their caption's text, and each chart's <title> and <desc> by the svg's id."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svgs: dict[str, dict[str, str]] = {}
        self._rows: list[list[str]] | None = None
        self._text: list[str] | None = None
        self._svg: str | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th", "caption") and self._rows is not None:
            self._text, self._in = [], tag
        elif tag == "svg" and attributes.get("role") == "img":
            self._svg = attributes["id"]
            self.svgs[self._svg] = {"labelledby": attributes.get("aria-labelledby", "")}
        elif tag in ("title", "desc") and self._svg:
            self._text, self._in = [], tag

    def handle_endtag(self, tag):
        if tag != self._in or self._text is None:
            if tag == "table" and self._rows is not None:
                self.tables[self._caption] = self._rows
                self._rows = None
            elif tag == "svg":
                self._svg = None
            return
        text = re.sub(r"[ \t\r\n]+", " ", "".join(self._text)).strip()  # no-break spaces stay
        if tag == "caption":
            self._caption = text
        elif tag in ("title", "desc"):
            self.svgs[self._svg][tag] = text
        else:
            self._rows[-1].append(text)
        self._text = self._in = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def test_each_chart_is_an_image_with_its_title_and_gist(staff_client, session, seeded):
    add_slot(session, "2027-02-01T10:00", 25, walk_ins=5)
    page = Page(staff_client.get("/staff/stats?lang=en&year=2027").get_data(as_text=True))

    assert set(page.svgs) == {"visitors-month-chart", "visitors-week-chart", "occupancy-chart", "no-shows-chart",
                              "kinds-chart", "languages-chart"}
    for name, svg in page.svgs.items():
        assert svg["labelledby"] == f"{name}-title {name}-desc"
        assert svg["title"] and svg["desc"], name
    assert page.svgs["visitors-month-chart"]["title"] == "Visitors per month"
    # 15 visitors and 17 + 22 + 25 in groups; the busiest month is February: 10 + 39 people.
    assert page.svgs["visitors-month-chart"]["desc"] == (
        "Visitors with a booking: 79; walk-ins: 5. The most: February 2027, with 54.")
    assert page.svgs["occupancy-chart"]["desc"].startswith("The fullest hour: Monday 10:00, 1% of the places taken;")
    assert page.svgs["no-shows-chart"]["desc"] == (
        "No-show rate over the period: 33.3%; the highest: February 2027, 40.0%.")
    assert page.svgs["kinds-chart"]["desc"] == "Groups in all: 3; the most: Primary school, 1."


def test_the_tables_say_what_the_service_says(app, staff_client, session, rules, clock, seeded, february):
    period = reports.Period(2027, 2)
    report = reports.visit_statistics(session, rules, clock.now(), period)
    occupancy = reports.occupancy_by_hour(session, rules, period)
    page = Page(staff_client.get("/staff/stats?lang=en&year=2027&month=2").get_data(as_text=True))

    heat = page.tables["Occupancy by weekday and hour"]
    assert heat[0] == ["Day", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert heat[1][0] == "Monday" and heat[1][2] == "40%"
    expected = [[f"{round(cell.rate * 100)}%" for cell in occupancy.row(weekday)] for weekday in occupancy.weekdays]
    assert [row[1:] for row in heat[1:]] == expected
    month = page.tables["Per month"]
    visitors_in_all = month[0].index("Visitors in all")
    assert month[1][visitors_in_all] == str(report.months[0].figures.people) == "49"
    weeks = page.tables["Per week (ISO weeks, Monday to Sunday)"]
    assert [row[visitors_in_all] for row in weeks[1:]] == [str(b.figures.people) for b in report.weeks]
    no_shows = page.tables["No-show rate per week"]
    assert no_shows[1] == ["Week 5", "2", "2", "50.0%"] and no_shows[2][3] == "0.0%"
    assert page.tables["Groups by kind"][1:] == [["Primary school", "1", "17"], ["Secondary school", "1", "22"],
                                                  ["Higher education", "0", "0"], ["Adults", "0", "0"]]


def test_the_charts_speak_the_staff_members_language(staff_client, session, seeded, february):
    page = Page(staff_client.get("/staff/stats?lang=fr&year=2027&month=2").get_data(as_text=True))
    assert page.svgs["occupancy-chart"]["title"] == "Occupation par jour et par heure"
    assert page.tables["Occupation par jour et par heure"][1][:3] == ["lundi", "0\u00a0%", "40\u00a0%"]
    assert page.svgs["visitors-month-chart"]["desc"].startswith("Visiteurs avec réservation\u202f: 49\u202f;")
    # A no-show rate keeps French's space before "%" with its decimal, as the heat map's whole percents do.
    assert page.tables["Taux d’absence par semaine"][1][3] == "50,0\u00a0%"


def test_an_empty_period_says_no_data_instead_of_a_chart(staff_client):
    html = staff_client.get("/staff/stats?lang=en&year=2030").get_data(as_text=True)
    page = Page(html)
    assert page.svgs == {}
    assert html.count("No data for this period.") == 6
    assert page.tables["Per month"][1][1:] == ["0"] * 6 + ["—", "0", "0", "0"]
    closed = staff_client.get("/staff/stats?lang=en&year=2030&month=8")
    assert closed.status_code == 200


def test_the_page_keeps_to_the_content_security_policy(staff_client, seeded, february):
    html = staff_client.get("/staff/stats?lang=en&year=2027").get_data(as_text=True)
    assert "<svg" in html
    assert " style=" not in html and "<style" not in html and "<script" not in html
