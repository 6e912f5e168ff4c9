"""Dates read one way per language, the same on the pages, in the emails and in the back office."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from booking.links import visit_path

ROOT = Path(__file__).resolve().parent.parent

# Tuesday 2 March 2027, as each language writes a day.
DAY = {"en": "Tuesday 2 March 2027", "fr": "mardi 2 mars 2027", "nl": "dinsdag 2 maart 2027",
       "de": "Dienstag, 2. März 2027"}


@pytest.mark.parametrize("language", DAY)
def test_a_day_reads_the_same_on_the_page_in_the_email_and_in_the_back_office(app, client, staff_client, session,
                                                                           book, language):
    from booking.models import OutboxMessage
    from booking.notifications.emails import render

    booking = book("2027-03-02T10:00", language=language)
    with app.app_context():
        page = client.get(visit_path(booking)).get_data(as_text=True)
        email = render(session.query(OutboxMessage).one())
    assert DAY[language] in page
    assert DAY[language] in email.subject and DAY[language] in email.body and DAY[language] in email.html
    day_sheet = staff_client.get(f"/staff/day/2027-03-02?lang={language}").get_data(as_text=True)
    assert DAY[language] in day_sheet
    staff_client.post(f"/staff/closures?lang={language}", data={
        "first_day": "2027-03-02", "last_day": "", "start_time": "16:00", "end_time": "17:00",
        "reason_fr": "Travaux", "reason_nl": "Werken", "reason_en": "Works", "reason_de": "Arbeiten"})
    closures = staff_client.get(f"/staff/closures?lang={language}").get_data(as_text=True)
    assert DAY[language] in closures


DATE_PATTERN = re.compile(r"\bformat_(?:date|datetime)\b")  # ISO dates for machines (strftime) are fine


def test_no_date_pattern_is_written_outside_the_table_of_formats():
    """A pattern such as "EEEE d MMMM y" typed where a date is shown is how German lost its "2." and
    English its order: every date goes through booking/dates.py."""
    places = [*ROOT.glob("booking/**/*.py"), *ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt")]
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in places if path.name != "dates.py"
                 for match in DATE_PATTERN.finditer(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize("language", DAY)
def test_a_time_and_a_date_read_as_babel_writes_them_across_the_clock_change(app, language):
    """The `hour` filter and `date_as` skip Babel's formatting on hot pages (the week shows forty
    times): they must give what Babel gives, in summer and winter time and on a naive (UTC) value."""
    import datetime as dt

    from flask_babel import force_locale, format_date, format_time

    from booking.dates import date_as, pattern
    from booking.i18n import hour

    moments = [dt.datetime(2027, 3, 28, 0, 59, tzinfo=dt.UTC), dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC),
               dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC), dt.datetime(2027, 10, 31, 1, 30),
               dt.datetime(2027, 7, 1, 23, 30, tzinfo=dt.UTC)]
    with app.test_request_context(), force_locale(language):
        for moment in moments:
            assert hour(moment) == format_time(moment, "HH:mm")
        assert [hour(m) for m in moments[:2]] == ["01:59", "03:00"]  # 2 a.m. never happens that Sunday
        assert hour(dt.time(9, 5)) == "09:05"
        for kind in ("day", "date", "short", "month"):
            day = dt.date(2027, 3, 2)
            assert date_as(day, kind) == format_date(day, pattern(kind, language)) == date_as(day, kind)
        assert date_as(dt.date(2027, 3, 2)) == DAY[language]
